"""The organization's signing keys: public halves only, rotated with a button."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from programs.admin_site import admin_site, administered_org_ids
from programs.models import Organization

from .. import documents, services
from ..forms import RotateKeyForm
from ..models import SigningKey
from .base import ROTATE_TEMPLATE, RecordAdmin, _acting_user


@admin.register(SigningKey, site=admin_site)
class SigningKeyAdmin(RecordAdmin):
    """Public halves only: the encrypted private key is in no list, field or page."""

    list_display = ("key_short", "key_state", "created_at", "retired_at")
    list_filter = ("is_active",)
    fields = (
        "key_id",
        "public_key_multibase",
        "key_state",
        "created_at",
        "retired_at",
        "verification_method",
    )
    readonly_fields = fields
    exclude = ("private_key_encrypted",)
    list_select_related = ("organization",)
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningKey]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization")
            .defer("private_key_encrypted")
            .order_by("-is_active", "-created_at")
        )

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return bool(administered_org_ids(request))

    @admin.display(description="Key", ordering="key_id")
    def key_short(self, obj: SigningKey) -> str:
        return f"{obj.key_id[:16]}…"

    @admin.display(description="State", ordering="-is_active")
    def key_state(self, obj: SigningKey) -> str:
        return "Active (signs new badges)" if obj.is_active else "Retired (still verifies)"

    @admin.display(description="Verification method")
    def verification_method(self, obj: SigningKey) -> str:
        return documents.verification_method_id(obj.organization, obj.key_id)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.rotate_view))
        return [
            path("rotate/", view, name="badges_signingkey_rotate"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_rotate": self.has_rotate_permission(request)}
        return super().changelist_view(request, extra)

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        """GET: what rotating does, and which organization; POST: rotate."""
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        organizations = Organization.objects.filter(pk__in=administered_org_ids(request)).order_by(
            "name"
        )
        form = RotateKeyForm(
            request.POST if request.method == "POST" else None, organizations=organizations
        )
        if form.is_valid():
            organization = form.cleaned_data["organization"]
            key = services.signing_key_rotate(
                organization=organization, actor=_acting_user(request)
            )
            self.message_user(
                request,
                f"{organization.name} now signs new badges with key {key.key_id[:16]}…; the "
                "retired key stays published, so badges it signed keep verifying.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:badges_signingkey_changelist"))
        active = dict(
            SigningKey.objects.filter(organization__in=organizations, is_active=True).values_list(
                "organization_id", "key_id"
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Rotate the signing key",
            "form": form,
            "organizations": [
                {
                    "organization": organization,
                    "active_key": active.get(organization.pk, ""),
                    "did_url": reverse("badges:did_document", args=[organization.slug]),
                }
                for organization in organizations
            ],
        }
        return TemplateResponse(request, ROTATE_TEMPLATE, context)
