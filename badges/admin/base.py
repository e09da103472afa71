"""The admin plumbing of badges: records made by the services are read-only here."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from programs.admin.base import RecordAdmin as BaseRecordAdmin
from programs.models import User

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"
REVOKE_TEMPLATE = "admin/badges/badge/revoke.html"
ROTATE_TEMPLATE = "admin/badges/signingkey/rotate.html"
STATE_LABELS = {"valid": _("Valid"), "expired": _("Expired"), "revoked": _("Revoked")}
KEY_STATE_LABELS = {"active": _("active"), "retired": _("retired"), "compromised": _("compromised")}


def person(user: User | None) -> str:
    if user is None:
        return "—"
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def _acting_user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


RecordAdmin = BaseRecordAdmin  # a record of the services: listed and viewed, never changed
