"""Bulk award in the admin, as the roster import: upload a CSV (the add page) → its page shows
the dry run (rows to award, already awarded, errors by row and column) → Apply → a progress bar
that polls ``<id>/status/`` while the worker issues the badges. The rules are the services'
(``badges.services.award``); these views parse and render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError
from programs.admin import OrganizationFileForm, TenantAdmin
from programs.admin_site import admin_site, administered_org_ids
from programs.models import Organization

from .. import services
from ..models import BulkAward
from ..services.award import MAX_BYTES, too_big
from .base import _acting_user

UPLOAD_TEMPLATE = "admin/badges/bulkaward/upload.html"
AWARD_TEMPLATE = "admin/badges/bulkaward/award.html"


class UploadForm(OrganizationFileForm):
    file = forms.FileField(
        label=_("Awards file"),
        help_text=format_lazy(
            _(
                "CSV (UTF-8), at most {max} MB. The first row names the columns: email, name, "
                "credential (its slug), date (YYYY-MM-DD), and optionally evidence_url and "
                "narrative."
            ),
            max=MAX_BYTES // 1024 // 1024,
        ),
    )


@admin.register(BulkAward, site=admin_site)
class BulkAwardAdmin(TenantAdmin):
    list_display = ("file_name", "state", "summary", "uploaded_by", "created_at")
    list_select_related = ("uploaded_by", "organization")
    list_filter = ("state",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BulkAward]:
        return super().get_queryset(request).defer("file_data")

    @admin.display(description=_("Result"))
    def summary(self, obj: BulkAward) -> str:
        c = obj.counts or {}
        return gettext("%(award)s to award, %(already)s already, %(errors)s errors") % {
            "award": c.get("award", 0),
            "already": c.get("already", 0),
            "errors": c.get("errors", 0),
        }

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/status/", view(self.status_view), name="bulk_award_status"),
            *super().get_urls(),
        ]

    def _award(self, request: HttpRequest, object_id: str) -> BulkAward:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404("No such bulk award.")
        return obj

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        organizations = list(
            Organization.objects.filter(pk__in=administered_org_ids(request)).order_by("name")
        )
        form = UploadForm(request.POST or None, request.FILES or None, organizations=organizations)
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data.get("organization") or organizations[0]
            upload = form.cleaned_data["file"]
            if upload.size > MAX_BYTES:
                form.add_error("file", too_big(upload.size))
            else:
                try:
                    award = services.bulk_award_create(
                        organization=organization,
                        actor=_acting_user(request),
                        file_name=upload.name or "awards.csv",
                        data=upload.read(),
                    )
                except ApplicationError as error:
                    form.add_error("file", error.message)
                else:
                    return HttpResponseRedirect(
                        reverse(
                            "admin:badges_bulkaward_change",
                            args=[award.pk],
                            current_app=self.admin_site.name,
                        )
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Award a credential in bulk"),
            "form": form,
            "has_view_permission": True,
        }
        return TemplateResponse(request, UPLOAD_TEMPLATE, context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        award = self._award(request, object_id)
        if request.method == "POST" and "_apply" in request.POST:
            try:
                services.bulk_award_apply(award=award, actor=_acting_user(request))
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.info(request, gettext("Applied: the badges are being issued."))
            return HttpResponseRedirect(request.path)
        award.refresh_from_db(fields=["state", "counts", "errors", "applied_at"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Bulk award: %(file)s") % {"file": award.file_name},
            "original": award,
            "award": award,
            "progress": services.bulk_award_progress(award=award),
            "status_url": reverse(
                "admin:bulk_award_status", args=[award.pk], current_app=self.admin_site.name
            ),
            "has_view_permission": True,
        }
        return TemplateResponse(request, AWARD_TEMPLATE, context)

    def status_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        award = self._award(request, object_id)
        return JsonResponse(services.bulk_award_progress(award=award))
