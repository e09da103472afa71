"""The revocation status lists."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from programs.admin_site import admin_site

from .. import documents
from ..models import StatusList
from .base import KEY_STATE_LABELS, RecordAdmin


@admin.register(StatusList, site=admin_site)
class StatusListAdmin(RecordAdmin):
    """The organization's revocation lists, without their bits (the signed list is public at its
    URL)."""

    list_display = (
        "number",
        "purpose",
        "size",
        "used_bits",
        "revoked_count",
        "signed_at",
        "valid_until",
        "signed_with",
    )
    fields = (*list_display, "public_url")
    readonly_fields = fields
    list_select_related = ("organization", "signing_key")
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusList]:
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "signing_key")
            .defer("bits", "credential", "signing_key__private_key_encrypted")
            .annotate(revoked=Count("badges", filter=Q(badges__revoked_at__isnull=False)))
        )

    @admin.display(description=_("Bits used"), ordering="next_index")
    def used_bits(self, obj: StatusList) -> int:
        return obj.next_index

    @admin.display(description=_("Revoked badges"), ordering="revoked")
    def revoked_count(self, obj: StatusList) -> int:
        return int(getattr(obj, "revoked", 0))

    @admin.display(description=_("Signed with key"))
    def signed_with(self, obj: StatusList) -> str:
        key = obj.signing_key
        return f"{key.key_id[:16]}… ({KEY_STATE_LABELS[key.state]})" if key else "—"

    @admin.display(description=_("Public URL"))
    def public_url(self, obj: StatusList) -> str:
        path_ = reverse("badges:status_list", args=[obj.organization.slug, obj.number])
        return format_html('<a href="{}">{}</a>', path_, documents.site_url(path_))
