"""The audit trail: every service that changes state records who did what."""

from __future__ import annotations

from typing import Any

from ..models import AuditEvent, Organization, User


def audit_record(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    obj: Any,
    summary: str,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        summary=summary[:300],
        data=data or {},
    )
    _webhooks(organization, action, [obj])
    return event


def audit_record_many(
    *,
    organization: Organization,
    actor: User | None,
    action: str,
    records: list[tuple[Any, str]],
) -> list[AuditEvent]:
    """``audit_record`` for many objects at once (one INSERT): ``records`` holds each object
    and its summary."""
    _webhooks(organization, action, [obj for obj, _ in records])
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            organization=organization,
            actor=actor,
            action=action,
            object_type=type(obj).__name__,
            object_id=str(obj.pk),
            summary=summary[:300],
            data={},
        )
        for obj, summary in records
    )


def _webhooks(organization: Organization, action: str, objects: list[Any]) -> None:
    """The audited changes that the organization's webhooks hear of (badges issued and revoked,
    memberships lapsed), emitted in the same transaction (programs.services.webhook_events)."""
    from .webhook_events import AUDITED

    if action in AUDITED:
        AUDITED[action](organization.pk, objects)
