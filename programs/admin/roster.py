"""Roster import and export in the admin.

Upload (the add page) → the import's page: map the columns (guessed from the headers), tick
whether missing members lapse, run the dry run, then apply. Both run in the worker; the page
shows a progress bar that polls ``<id>/status/`` and the results, with the report of the last run
at ``<id>/report/``. The members' list links here and to the export (``membership/export/``).
The rules are the services' (``programs.services.roster``); these views parse and render.
"""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError

from ..admin_site import admin_site, administered_org_ids, organization_chosen
from ..models import Organization, RosterApplyReport, RosterImport
from ..services import roster
from ..services.members import FIELD_LABELS, ROW_FIELDS
from .base import OrganizationFileForm, TenantAdmin

NOT_IN_FILE = ""


class UploadForm(OrganizationFileForm):
    file = forms.FileField(
        label=_("Roster file"),
        help_text=format_lazy(
            _(
                "CSV (UTF-8) or Excel .xlsx, at most {megabytes} MB. The first row names the "
                "columns: e-mail, given and family name, school, district, role / position, "
                "member number, membership start and expiry (dates as YYYY-MM-DD)."
            ),
            megabytes=roster.ROSTER_MAX_BYTES // 1024 // 1024,
        ),
    )


class MappingForm(forms.Form):
    """One choice of column per roster field, and the lapse box."""

    def __init__(self, *args: Any, roster_import: RosterImport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NOT_IN_FILE, gettext("— not in this file —"))] + [
            (str(i), header) for i, header in enumerate(roster_import.headers)
        ]
        for name in ROW_FIELDS:
            current = roster_import.mapping.get(name)
            self.fields[name] = forms.ChoiceField(
                label=FIELD_LABELS[name],
                choices=choices,
                required=False,
                initial=NOT_IN_FILE if current is None else str(current),
            )
        self.fields["lapse_missing"] = forms.BooleanField(
            label=gettext("Members missing from this file lapse"),
            required=False,
            initial=roster_import.lapse_missing,
            help_text=gettext(
                "Active members whose e-mail is not in the file lapse (their membership "
                "ends today). Nobody is deleted."
            ),
        )

    def mapping(self) -> dict[str, int | None]:
        return {
            name: None if self.cleaned_data[name] == NOT_IN_FILE else int(self.cleaned_data[name])
            for name in ROW_FIELDS
        }


@admin.register(RosterImport, site=admin_site)
class RosterImportAdmin(TenantAdmin):
    list_display = ("file_name", "state", "summary", "uploaded_by", "created_at")
    list_select_related = ("uploaded_by", "organization")
    list_filter = ("state",)
    add_form_template = "admin/programs/rosterimport/upload.html"
    change_form_template = "admin/programs/rosterimport/import.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RosterImport]:
        return super().get_queryset(request).defer("file_data", "report")

    @admin.display(description=_("Result"))
    def summary(self, obj: RosterImport) -> str:
        counts = obj.counts or {}
        if not counts:
            return ""
        labels = {
            "created": gettext("%(count)s created"),
            "updated": gettext("%(count)s updated"),
            "unchanged": gettext("%(count)s unchanged"),
            "errors": gettext("%(count)s errors"),
        }
        if obj.lapse_missing:
            labels["lapsed"] = gettext("%(count)s lapsed")
        parts = [label % {"count": counts.get(key, 0)} for key, label in labels.items()]
        return ", ".join(parts)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="roster_export"),
            path("<path:object_id>/status/", view(self.status_view), name="roster_import_status"),
            path("<path:object_id>/report/", view(self.report_view), name="roster_import_report"),
            path(
                "applied/<int:report_id>/",
                view(self.applied_report_view),
                name="roster_apply_report",
            ),
            *super().get_urls(),
        ]

    def _organizations(self, request: HttpRequest) -> list[Organization]:
        return list(
            Organization.objects.filter(pk__in=administered_org_ids(request)).order_by("name")
        )

    def _import(self, request: HttpRequest, object_id: str) -> RosterImport:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404("No such roster import.")
        return obj

    # --- Upload ---

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        organizations = self._organizations(request)
        form = UploadForm(request.POST or None, request.FILES or None, organizations=organizations)
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data.get("organization") or organizations[0]
            upload = form.cleaned_data["file"]
            if upload.size > roster.ROSTER_MAX_BYTES:
                form.add_error(
                    "file",
                    gettext(
                        "The file is %(size).1f MB; a roster can be at most %(limit)d MB. "
                        "Split it into several files."
                    )
                    % {
                        "size": upload.size / 1024 / 1024,
                        "limit": roster.ROSTER_MAX_BYTES // 1024 // 1024,
                    },
                )
            else:
                try:
                    roster_import = roster.roster_import_create(
                        organization=organization,
                        actor=request.user,  # type: ignore[arg-type]
                        file_name=upload.name or "roster",
                        data=upload.read(),
                    )
                except ApplicationError as error:
                    form.add_error("file", error.message)
                else:
                    return HttpResponseRedirect(self._change_url(roster_import))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import a roster"),
            "form": form,
            "has_view_permission": True,
        }
        return TemplateResponse(request, self.add_form_template or "", context)

    def _change_url(self, roster_import: RosterImport) -> str:
        return reverse(
            "admin:programs_rosterimport_change",
            args=[roster_import.pk],
            current_app=self.admin_site.name,
        )

    # --- Map, dry run, apply ---

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        roster_import = self._import(request, object_id)
        form = MappingForm(request.POST or None, roster_import=roster_import)
        if request.method == "POST":
            try:
                if "_apply" in request.POST:
                    roster.roster_import_start(
                        roster_import=roster_import,
                        apply=True,
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    messages.info(
                        request, gettext("Applying the roster: the results appear below.")
                    )
                    return HttpResponseRedirect(request.path)
                if form.is_valid():
                    roster_import = roster.roster_import_map(
                        roster_import=roster_import,
                        mapping=form.mapping(),
                        lapse_missing=form.cleaned_data["lapse_missing"],
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    roster.roster_import_start(
                        roster_import=roster_import,
                        apply=False,
                        actor=request.user,  # type: ignore[arg-type]
                    )
                    messages.info(request, gettext("Dry run started: nothing is changed yet."))
                    return HttpResponseRedirect(request.path)
            except ApplicationError as error:
                for name, errors in error.fields.items():
                    for message in errors:
                        form.add_error(name if name in form.fields else None, message)
                if not error.fields:
                    form.add_error(None, error.message)
        progress = roster.roster_import_progress(roster_import=roster_import)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Roster import: %(file)s") % {"file": roster_import.file_name},
            "original": roster_import,
            "roster_import": roster_import,
            "form": form,
            "progress": progress,
            "status_url": reverse(
                "admin:roster_import_status",
                args=[roster_import.pk],
                current_app=self.admin_site.name,
            ),
            "report_url": reverse(
                "admin:roster_import_report",
                args=[roster_import.pk],
                current_app=self.admin_site.name,
            ),
            "may_apply": roster_import.state
            in (RosterImport.State.CHECKED, RosterImport.State.APPLIED),
            "has_view_permission": True,
        }
        return TemplateResponse(request, self.change_form_template or "", context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The roster of one organization as CSV (``?org=<slug>`` picks among several). Written
        whole inside the request's tenant scope (a streamed body would be read after it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen, _chose = organization_chosen(request)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        csv.writer(response).writerows(roster.roster_export_rows(organization=chosen))
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="{chosen.slug}-roster-{stamp}.csv"'
        return response

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        roster_import = self._import(request, object_id)
        return JsonResponse(roster.roster_import_progress(roster_import=roster_import))

    def report_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._import(request, object_id)
        report = RosterImport.objects.filter(pk=obj.pk).values_list("report", flat=True).get()
        if not report:
            raise Http404("No report yet: run the dry run first.")
        name = obj.file_name.rsplit(".", 1)[0] or "roster"
        response = HttpResponse(report, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{_safe_name(name)}-{obj.state}-report.csv"'
        )
        return response

    def applied_report_view(self, request: HttpRequest, report_id: int) -> HttpResponse:
        """The report one apply wrote, as it was (the apply's audit entry links here)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = RosterApplyReport.objects.filter(
            pk=report_id, organization__in=administered_org_ids(request)
        ).first()
        if found is None:
            raise Http404("No such report.")
        name = found.file_name.rsplit(".", 1)[0] or "roster"
        stamp = timezone.localtime(found.created_at).strftime("%Y-%m-%d-%H%M")
        response = HttpResponse(found.report, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{_safe_name(name)}-applied-{stamp}-report.csv"'
        )
        return response


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60] or "roster"
