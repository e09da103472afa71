"""Program admins see their organization's applications: status, fee, evidence and timeline.
States change only through services (the fee actions here; reviews decide the rest)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError
from programs.admin import TenantAdmin
from programs.admin.base import ReadOnlyInline
from programs.admin_site import admin_site

from . import services
from .admin_payments import FeeChangeAdminMixin, fee_change_link
from .models import Application, ApplicationEvent, EvidenceItem


class EvidenceItemInline(ReadOnlyInline):
    model = EvidenceItem
    fields = (
        "requirement",
        "kind",
        "display_name",
        "status",
        "size",
        "content_type",
        "visibility",
        "students_identifiable",
        "consent_on_file",
        "rejection_reason",
    )
    readonly_fields = fields
    verbose_name_plural = _("evidence")

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvidenceItem]:
        return super().get_queryset(request).select_related("requirement")


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "actor", "kind", "message")
    readonly_fields = fields
    ordering = ("created_at",)
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApplicationEvent]:
        return super().get_queryset(request).select_related("actor")


@admin.register(Application, site=admin_site)
class ApplicationAdmin(FeeChangeAdminMixin, TenantAdmin):
    list_display = (
        "educator_email",
        "credential_title",
        "status",
        "attempt",
        "fee",
        "submitted_at",
        "updated_at",
    )
    list_filter = ("status", "fee_status", "credential__program")
    search_fields = ("educator__email", "educator__full_name", "anonymous_code", "version__title")
    list_select_related = ("educator", "version", "organization")
    readonly_fields = (
        "educator",
        "credential",
        "version",
        "status",
        "attempt",
        "anonymous_code",
        "submitted_at",
        "was_member",
        "fee_amount",
        "fee_currency",
        "fee_status",
        "fee_note",
        "fee_updated_at",
        "fee_change",
    )
    fields = readonly_fields
    inlines = (EvidenceItemInline, ApplicationEventInline)
    actions = ("mark_fee_paid", "waive_fee")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a record: states change through services (fee actions, reviews)

    @admin.display(description=_("Educator"), ordering="educator__email")
    def educator_email(self, obj: Application) -> str:
        name = obj.educator.full_name
        return f"{name} <{obj.educator.email}>" if name else obj.educator.email

    @admin.display(description=_("Credential"), ordering="version__title")
    def credential_title(self, obj: Application) -> str:
        return f"{obj.version.title} (v{obj.version.number})"

    @admin.display(description=_("Refund or waive"))
    def fee_change(self, obj: Application) -> str:
        return fee_change_link(obj)

    @admin.display(description=_("Fee"), ordering="fee_status")
    def fee(self, obj: Application) -> str:
        if obj.fee_status == Application.FeeStatus.NONE:
            return "—"
        return f"{obj.fee_amount:.2f} {obj.fee_currency} ({obj.get_fee_status_display().lower()})"

    def _record_fee(
        self, request: HttpRequest, queryset: QuerySet[Application], status: str
    ) -> None:
        for application in queryset:
            try:
                services.application_fee_record(
                    application=application,
                    status=status,
                    actor=request.user,  # type: ignore[arg-type]
                    note=f"Recorded in the admin by {request.user}",
                )
            except ApplicationError as error:
                self.message_user(request, f"{application}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(application)s: fee recorded as %(status)s.")
                    % {
                        "application": application,
                        "status": str(Application.FeeStatus(status).label).lower(),
                    },
                )

    @admin.action(description=_("Record the fee as paid"))
    def mark_fee_paid(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        self._record_fee(request, queryset, Application.FeeStatus.PAID)

    @admin.action(description=_("Waive the fee"))
    def waive_fee(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        self._record_fee(request, queryset, Application.FeeStatus.WAIVED)
