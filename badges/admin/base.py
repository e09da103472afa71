"""The admin plumbing of badges: records made by the services are read-only here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from programs.admin import TenantAdmin
from programs.models import User

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"
REVOKE_TEMPLATE = "admin/badges/badge/revoke.html"
ROTATE_TEMPLATE = "admin/badges/signingkey/rotate.html"
STATE_LABELS = {"valid": "Valid", "expired": "Expired", "revoked": "Revoked"}


def person(user: User | None) -> str:
    if user is None:
        return "—"
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def _acting_user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class RecordAdmin(TenantAdmin):
    """A record of the services: listed and viewed, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
