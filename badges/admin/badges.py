"""Issued badges: read-only, revoked with a reason (one or several at once)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from programs.admin_site import admin_site, organization_chosen
from programs.models import Organization

from .. import services
from ..errors import BadgeError
from ..forms import RevokeForm
from ..insights.exports import stream_csv
from ..models import Badge
from .base import (
    OBJECT_ACTIONS_TEMPLATE,
    REVOKE_TEMPLATE,
    STATE_LABELS,
    RecordAdmin,
    _acting_user,
    person,
)


class BadgeStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(state, str(label)) for state, label in STATE_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Badge]) -> QuerySet[Badge]:
        now = timezone.now()
        value = self.value()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, valid_until__lte=now)
        if value == "valid":
            return queryset.filter(
                Q(valid_until__isnull=True) | Q(valid_until__gt=now), revoked_at__isnull=True
            )
        return queryset


CREDIT_HOURS_TEMPLATE = "admin/badges/badge/credit_hours.html"


class CreditHoursForm(forms.Form):
    """Parses the period only: its rule (first day not after the last) is the service's."""

    start = forms.DateField(label=_("First day"), help_text=_("YYYY-MM-DD, included."))
    end = forms.DateField(label=_("Last day"), help_text=_("YYYY-MM-DD, included."))


def _credit_hours_csv(
    organization: Organization, start: dt.date, end: dt.date
) -> StreamingHttpResponse:
    """The CSV streamed: its rows are read, a chunk of the query at a time, while the body is
    sent, in the organization's scope (``stream_csv``: the view has returned by then)."""
    rows = services.credit_hours_rows(organization=organization, start=start, end=end)
    name = f"{organization.slug}-credit-hours-{start.isoformat()}-to-{end.isoformat()}.csv"
    response = stream_csv(rows, name, organization=organization)
    response["Cache-Control"] = "private, no-store"
    return response


@admin.register(Badge, site=admin_site)
class BadgeAdmin(RecordAdmin):
    list_display = (
        "name",
        "recipient_email",
        "kind",
        "issued_at",
        "valid_until",
        "state_label",
    )
    list_filter = (
        BadgeStateFilter,
        "kind",
        ("version__credential", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("recipient__email", "recipient__full_name", "name")
    list_select_related = ("recipient", "organization")
    date_hierarchy = "issued_at"
    actions = ("revoke_selected",)
    _details = (
        "name",
        "kind",
        "recipient_email",
        "state_label",
        "issued_at",
        "valid_until",
        "verification_link",
        "application_link",
        "version",
        "pathway",
        "is_public",
        "expiry_notified_at",
    )
    _revocation = ("revoked_at", "revocation_reason", "revocation_note", "revoked_by_person")
    _signed = ("public_id", "status_entry", "signing_key_id", "credential_json")
    fieldsets = (
        (None, {"fields": _details}),
        (_("Revocation"), {"fields": _revocation}),
        (_("Signed credential"), {"fields": _signed}),
    )
    # every field is shown read-only (badges change only through the services)
    readonly_fields = (*_details, *_revocation, *_signed)
    change_form_template = OBJECT_ACTIONS_TEMPLATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Badge]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_revoke_permission(self, request: HttpRequest, obj: Badge | None = None) -> bool:
        """Owners and program admins of the badge's organization (``_allowed``)."""
        return self._allowed(request, obj)

    # --- Columns and read-only fields ---

    @admin.display(description=_("Recipient"), ordering="recipient__email")
    def recipient_email(self, obj: Badge) -> str:
        return person(obj.recipient)

    @admin.display(description=_("State"))
    def state_label(self, obj: Badge) -> str:
        return str(STATE_LABELS[obj.state])

    @admin.display(description=_("Verification page"))
    def verification_link(self, obj: Badge) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("badges:verify", args=[obj.public_id]),
            services.badge_url(obj),
        )

    @admin.display(description=_("Application"))
    def application_link(self, obj: Badge) -> str:
        if obj.application_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:submissions_application_change", args=[obj.application_id]),
            gettext("Application and its evidence"),
        )

    @admin.display(description=_("Revoked by"))
    def revoked_by_person(self, obj: Badge) -> str:
        return person(obj.revoked_by) if obj.revoked_at else "—"

    @admin.display(description=_("Status list entry"))
    def status_entry(self, obj: Badge) -> str:
        return gettext("list %(number)s, bit %(index)s") % {
            "number": obj.status_list.number,
            "index": obj.status_index,
        }

    @admin.display(description=_("Signing key"))
    def signing_key_id(self, obj: Badge) -> str:
        return obj.signing_key.key_id

    @admin.display(description=_("Credential (as signed)"))
    def credential_json(self, obj: Badge) -> str:
        text = json.dumps(obj.credential, indent=2, ensure_ascii=False, sort_keys=False)
        return format_html(
            '<pre class="badge-credential" tabindex="0" aria-label="{}" '
            'style="max-height: 40em; overflow: auto; white-space: pre-wrap;">{}</pre>',
            gettext("The signed credential"),
            text,
        )

    # --- The change page's buttons ---

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            actions = [
                {
                    "label": gettext("Verification page"),
                    "url": reverse("badges:verify", args=[obj.public_id]),
                }
            ]
            if not obj.is_revoked and self.has_revoke_permission(request, obj):
                actions.insert(
                    0,
                    {
                        "label": gettext("Revoke this badge"),
                        "url": reverse("admin:badges_badge_revoke", args=[obj.pk]),
                    },
                )
            context["object_actions"] = actions
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.revoke_view))
        credit_hours = self.admin_site.admin_view(require_safe(self.credit_hours_view))
        return [
            path("credit-hours/", credit_hours, name="badges_credit_hours"),
            path("<path:object_id>/revoke/", view, name="badges_badge_revoke"),
            *super().get_urls(),
        ]

    # --- Credit hours, as CSV ---

    def credit_hours_view(self, request: HttpRequest) -> HttpResponseBase:
        """The credit hours an organization's members earned in a period, as CSV
        (``services.credit_hours_rows``): the form, then, with ``download``, the file, streamed.
        ``?org=<slug>`` picks among the organizations the user administers; any other
        organization answers 404."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen, organizations = organization_chosen(request)
        today = timezone.localdate()
        form = CreditHoursForm(
            request.GET if "download" in request.GET else None,
            initial={"start": today.replace(month=1, day=1), "end": today},
        )
        status = 200
        if form.is_bound:
            if form.is_valid():
                start, end = form.cleaned_data["start"], form.cleaned_data["end"]
                try:
                    services.credit_hours_period_check(start, end)
                except BadgeError as error:
                    for field, errors in error.fields.items():
                        for message in errors:
                            form.add_error(field, message)
                else:
                    return _credit_hours_csv(chosen, start, end)
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Credit hours earned — %(organization)s")
            % {"organization": chosen.name},
            "form": form,
            "organization": chosen,
            "organizations": organizations if len(organizations) > 1 else [],
            "columns": services.CREDIT_HOURS_HEADER,
        }
        return TemplateResponse(request, CREDIT_HOURS_TEMPLATE, context, status=status)

    # --- Revoking ---

    def _change_url(self, badge: Badge) -> str:
        return reverse("admin:badges_badge_change", args=[badge.pk])

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the confirmation page (the public reason, the private note, and the pathway
        certificates that require the badge); POST: revoke."""
        badge = self.get_object(request, unquote(object_id))
        if badge is None or not self.has_revoke_permission(request, badge):
            raise Http404("No such badge.")
        if badge.is_revoked:
            self.message_user(
                request,
                gettext("“%(name)s” was already revoked; nothing changed.") % {"name": badge.name},
                messages.WARNING,
            )
            return HttpResponseRedirect(self._change_url(badge))
        form = RevokeForm(request.POST if request.method == "POST" else None)
        done = self._revoke(request, [badge], form) if form.is_valid() else []
        if done:
            self.message_user(
                request,
                gettext(
                    "“%(name)s” of %(email)s is revoked; verification now reports it revoked and "
                    "the educator has been e-mailed the reason."
                )
                % {"name": badge.name, "email": badge.recipient.email}
                + _certificates_said(done),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(self._change_url(badge))
        return self._revoke_page(request, [badge], form, bulk=False)

    @admin.action(description=_("Revoke selected badges"), permissions=["revoke"])
    def revoke_selected(
        self, request: HttpRequest, queryset: QuerySet[Badge]
    ) -> HttpResponse | None:
        """The same reason form for several badges (already revoked ones are left out)."""
        badges = list(
            queryset.filter(revoked_at__isnull=True).select_related("recipient", "organization")
        )
        if not badges:
            self.message_user(
                request, gettext("The selected badges are already revoked."), messages.INFO
            )
            return None
        form = RevokeForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            done = self._revoke(request, badges, form, per_badge_errors=True)
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "Revoked %(count)s badge(s); their holders have been e-mailed the reason.",
                        "Revoked %(count)s badge(s); their holders have been e-mailed the reason.",
                        len(done),
                    )
                    % {"count": len(done)}
                    + _certificates_said(done),
                    messages.SUCCESS,
                )
            return None
        return self._revoke_page(request, badges, form, bulk=True)

    def _revoke(
        self,
        request: HttpRequest,
        badges: list[Badge],
        form: RevokeForm,
        *,
        per_badge_errors: bool = False,
    ) -> list[services.Revocation]:
        """Revoke each badge (selected certificates first, with the admin's own reason; then
        the badges, whose other certificates follow unless kept); a refusal becomes a form
        error (one badge) or a message (bulk). Returns what was revoked."""
        done: list[services.Revocation] = []
        followed: set[int] = set()  # certificates already revoked with a badge of this batch
        for badge in sorted(badges, key=lambda b: b.kind != Badge.Kind.PATHWAY):
            if badge.pk in followed:
                continue
            try:
                revocation = services.badge_revoke(
                    badge=badge,
                    reason=form.cleaned_data["reason"],
                    private_note=form.cleaned_data["private_note"],
                    keep_certificates=form.cleaned_data["keep_certificates"],
                    actor=_acting_user(request),
                )
            except BadgeError as error:
                if per_badge_errors:
                    self.message_user(request, f"“{badge}”: {error.message}", messages.ERROR)
                    continue
                if error.fields:
                    for name, problems in error.fields.items():
                        for problem in problems if isinstance(problems, list) else [problems]:
                            form.add_error(name if name in form.fields else None, str(problem))
                else:
                    form.add_error(None, error.message)
            else:
                followed.update(c.pk for c in revocation.certificates)
                done.append(revocation)
        return done

    def _revoke_page(
        self, request: HttpRequest, badges: list[Badge], form: RevokeForm, *, bulk: bool
    ) -> HttpResponse:
        title = (
            gettext("Revoke badges")
            if bulk
            else gettext("Revoke “%(name)s”") % {"name": badges[0].name}
        )
        selected = {b.pk for b in badges}
        by_badge = {b.pk: b for b in badges}
        certificates: dict[int, dict[str, Any]] = {}
        for badge_pk, required_by in services.certificates_requiring(badges=badges).items():
            for certificate in required_by:
                if certificate.pk in selected:
                    continue  # revoked as selected, with the admin's own reason
                row = certificates.setdefault(
                    certificate.pk,
                    {"badge": certificate, "url": self._change_url(certificate), "requires": []},
                )
                row["requires"].append(by_badge[badge_pk].name)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "badges": badges,
            "certificates": list(certificates.values()),
            "bulk": bulk,
            "action_url": "" if bulk else reverse("admin:badges_badge_revoke", args=[badges[0].pk]),
            "back_url": reverse("admin:badges_badge_changelist")
            if bulk
            else self._change_url(badges[0]),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, REVOKE_TEMPLATE, context)


def _certificates_said(revocations: list[services.Revocation]) -> str:
    """What happened to the pathway certificates that required the revoked badges."""
    revoked = [f"“{c.name}”" for r in revocations for c in r.certificates]
    kept = [f"“{c.name}”" for r in revocations for c in r.kept]
    said = ""
    if revoked:
        said += " " + ngettext(
            "The pathway certificate(s) that required it were revoked too, and the educator "
            "e-mailed: %(names)s.",
            "The pathway certificate(s) that required it were revoked too, and the educator "
            "e-mailed: %(names)s.",
            len(revoked),
        ) % {"names": ", ".join(revoked)}
    if kept:
        said += " " + gettext("Kept valid, as you asked: %(names)s.") % {"names": ", ".join(kept)}
    return said
