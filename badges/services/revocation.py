"""Revoking a badge (its status bit, the educator told) and the educator's public/private choice."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from programs import services as program_services
from programs.models import User

from .. import documents
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import (
    Badge,
    StatusList,
)
from .mail import REVOKED, mail_on_commit
from .signing import _status_list_sign


def badge_revoke(*, badge: Badge, reason: str, actor: User | None) -> Badge:
    """Revoke: set the badge's bit in the status list and re-sign the list; tell the educator."""
    reason = (reason or "").strip()
    if not reason:
        raise BadgeError(
            "Give a reason: the educator is told why.",
            code=Code.REASON_REQUIRED,
            fields={"reason": ["Give a reason: the educator is told why."]},
        )
    with transaction.atomic():
        badge = Badge.objects.select_for_update().select_related("organization").get(pk=badge.pk)
        if badge.revoked_at is not None:
            raise BadgeError("This badge is already revoked.", code=Code.ALREADY_REVOKED)
        status_list = StatusList.objects.select_for_update().get(pk=badge.status_list_id)
        status_list.organization = badge.organization
        status_list.bits = documents.with_bit(bytes(status_list.bits), badge.status_index, True)
        status_list.save(update_fields=["bits", "updated_at"])
        _status_list_sign(status_list)
        badge.revoked_at = timezone.now()
        badge.revocation_reason = reason[:500]
        badge.revoked_by = actor
        badge.save(update_fields=["revoked_at", "revocation_reason", "revoked_by", "updated_at"])
        program_services.audit_record(
            organization=badge.organization,
            actor=actor,
            action="badge.revoked",
            obj=badge,
            summary=f"Badge “{badge.name}” revoked: {reason}",
        )
        mail_on_commit(badge, REVOKED)
    return badge


@transaction.atomic
def badge_visibility_set(*, badge: Badge, user: User, is_public: bool) -> Badge:
    badge = Badge.objects.select_for_update().get(pk=badge.pk)
    if badge.recipient_id != user.pk:
        raise BadgeError("Only the badge's earner can change who sees it.", code=Code.NOT_ALLOWED)
    badge.is_public = is_public
    badge.save(update_fields=["is_public", "updated_at"])
    return badge
