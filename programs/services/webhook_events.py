"""What each webhook event says (its ``data``), for the changes the audit trail records.

The services of badges and of memberships already write an audit event in the transaction of
their change; ``audit_record`` hands the ones named in ``AUDITED`` here, so every path that
issues or revokes a badge (one, a batch, a pathway certificate) or changes a membership emits
its webhook event without the issuing code knowing of webhooks. The application events
(submitted, decided, paid) are emitted by the submissions app's own event writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..models import WebhookEventType
from .webhooks import webhook_event_emit_many


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else None


def badge_data(badge: Any) -> dict[str, Any]:
    """A badge (badges.Badge, read by its attributes: programs does not import badges)."""
    application = badge.application if badge.application_id is not None else None
    return {
        "badge": {
            "id": str(badge.public_id),
            "name": badge.name,
            "kind": badge.kind,
            "issued_at": _iso(badge.issued_at),
            "revoked_at": _iso(badge.revoked_at),
            "revocation_reason": badge.revocation_reason or None,
        },
        "recipient": {"email": badge.recipient.email, "name": badge.recipient.full_name},
        "application": {"id": str(application.public_id)} if application is not None else None,
    }


def membership_data(
    *, email: str, change: str, source: str = "", values: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"membership": {"email": email, "change": change, "source": source, **(values or {})}}


def _badges(event_type: str) -> Callable[[int, Sequence[Any]], None]:
    def emit(organization_id: int, badges: Sequence[Any]) -> None:
        webhook_event_emit_many(
            organization_id=organization_id,
            type=event_type,
            items=[(partial(badge_data, b), b.application_id) for b in badges],
        )

    return emit


def _lapsed_data(membership: Any) -> dict[str, Any]:
    return membership_data(
        email=membership.user.email,
        change="lapsed",
        values={"status": membership.status, "member_until": _iso(membership.member_until)},
    )


def _lapsed(organization_id: int, memberships: Sequence[Any]) -> None:
    webhook_event_emit_many(
        organization_id=organization_id,
        type=WebhookEventType.MEMBERSHIP_CHANGED,
        items=[(partial(_lapsed_data, m), None) for m in memberships],
    )


def memberships_changed(
    organization_id: int, rows: Sequence[tuple[str, str, str, dict[str, Any]]]
) -> None:
    """Members made or changed by ``member_upsert_many`` (every path: the admin, the API, a
    roster, a domain, single sign-on, an approved request): (change, e-mail, source, values)."""
    webhook_event_emit_many(
        organization_id=organization_id,
        type=WebhookEventType.MEMBERSHIP_CHANGED,
        items=[
            (membership_data(email=email, change=change, source=source, values=values), None)
            for change, email, source, values in rows
        ],
    )


AUDITED: dict[str, Callable[[int, Sequence[Any]], None]] = {
    "badge.issued": _badges(WebhookEventType.BADGE_ISSUED),
    "badge.revoked": _badges(WebhookEventType.BADGE_REVOKED),
    "membership.lapsed": _lapsed,
}
