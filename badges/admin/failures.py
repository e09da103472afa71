"""Failed issuing attempts, retried with an action."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from programs.admin_site import admin_site, administered_org_ids

from .. import tasks
from ..models import IssueFailure
from .base import RecordAdmin, person


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", gettext("Not yet")), ("yes", gettext("Resolved"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[IssueFailure]
    ) -> QuerySet[IssueFailure]:
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _queue_issue(organization_id: int, application_id: int) -> None:
    tasks.badge_issue_queue(organization_id=organization_id, application_id=application_id)


def _queue_pathways(organization_id: int, user_id: int) -> None:
    tasks.pathways_check.delay(organization_id=organization_id, user_id=user_id)


@admin.register(IssueFailure, site=admin_site)
class IssueFailureAdmin(RecordAdmin):
    """Failed attempts stay listed (the task retries on its own, with backoff); a badge issued
    later marks its application's failures resolved."""

    list_display = (
        "created_at",
        "application_link",
        "recipient_email",
        "attempt",
        "error_summary",
        "is_resolved",
    )
    list_filter = (ResolvedFilter, "created_at")
    search_fields = (
        "application__educator__email",
        "recipient__email",
        "application__anonymous_code",
        "error",
    )
    list_select_related = ("application__educator", "application__version", "recipient")
    fields = (
        "created_at",
        "application_link",
        "recipient_email",
        "pathway",
        "attempt",
        "error",
        "resolved_at",
    )
    readonly_fields = fields
    actions = ("retry_now",)
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[IssueFailure]:
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related, "organization", "pathway")
        )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    @admin.display(description=_("Application"))
    def application_link(self, obj: IssueFailure) -> str:
        if obj.application is None:
            if obj.pathway is None:
                return "—"
            return gettext("Pathway certificate: %(pathway)s") % {"pathway": obj.pathway}
        application = obj.application
        return format_html(
            '<a href="{}">{} ({})</a>',
            reverse("admin:submissions_application_change", args=[application.pk]),
            application.version.title,
            application.anonymous_code,
        )

    @admin.display(description=_("Recipient"))
    def recipient_email(self, obj: IssueFailure) -> str:
        user = obj.recipient or (obj.application.educator if obj.application else None)
        return person(user)

    @admin.display(description=_("Error"))
    def error_summary(self, obj: IssueFailure) -> str:
        return obj.error if len(obj.error) <= 160 else f"{obj.error[:160]}…"

    @admin.display(description=_("Resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, obj: IssueFailure) -> bool:
        return obj.resolved_at is not None

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[IssueFailure]) -> None:
        """Queue the issuing again (after commit) for the unresolved failures; each application
        or person once, however many of their failures are selected."""
        unresolved = list(
            queryset.filter(resolved_at__isnull=True).values_list(
                "organization_id", "application_id", "recipient_id"
            )
        )
        applications = {(org, app) for org, app, _user in unresolved if app is not None}
        people = {(org, user) for org, app, user in unresolved if app is None and user is not None}
        for organization_id, application_id in sorted(applications):
            transaction.on_commit(partial(_queue_issue, organization_id, application_id))
        for organization_id, user_id in sorted(people):
            transaction.on_commit(partial(_queue_pathways, organization_id, user_id))
        queued = len(applications) + len(people)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "Queued %(count)s badge(s) for issuing again. A badge issued marks its "
                    "failures resolved; a new failure appears here if it fails again.",
                    "Queued %(count)s badge(s) for issuing again. A badge issued marks its "
                    "failures resolved; a new failure appears here if it fails again.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, gettext("The selected failures are already resolved."), messages.INFO
            )
