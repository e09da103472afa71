"""The admin panel: program admins (by role, not ``is_staff``) see only their organizations."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from . import selectors


def administered_org_ids(request: HttpRequest) -> list[int]:
    """Organizations this request's user administers, computed once per request."""
    cached: list[int] | None = getattr(request, "_administered_org_ids", None)
    if cached is None:
        cached = selectors.organization_ids_administered_by(user=request.user)
        request._administered_org_ids = cached  # type: ignore[attr-defined]
    return cached


class TesseraAdminSite(admin.AdminSite):
    site_header = "Tessera administration"
    site_title = "Tessera admin"
    index_title = "Your organization's programs"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False
        return bool(user.is_superuser or administered_org_ids(request))


admin_site = TesseraAdminSite(name="admin")
