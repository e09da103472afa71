"""Outgoing webhooks (docs/decisions/0028): endpoints, events emitted by the services, and their
delivery.

- **Outbox.** ``webhook_event_emit`` writes the event and one pending delivery per subscribed,
  enabled endpoint in the caller's transaction, and queues the deliveries once it commits; a
  crash between the commit and the queue loses nothing, since beat's sweep
  (``webhook_deliveries_due``) sends every pending delivery that is due.
- **One attempt at a time** (``webhook_delivery_attempt``): under the delivery's row lock, only
  a pending, due delivery is sent, so a delivered event is never sent again (except by an
  explicit resend, a new delivery of the same event id). A failure is retried with exponential
  backoff (``backoff``); the last attempt is made ``RETRY_WINDOW`` after the delivery was made,
  and if it fails too the delivery is given up.
- **In order per application**: a delivery waits while an earlier event of the same
  application to the same endpoint is pending; when that one is delivered or given up, the next
  is queued.
- **An endpoint failing for ``RETRY_WINDOW``** without one success is disabled, and the
  organization's owners and program admins are e-mailed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from credentials_site.exceptions import ApplicationError

from .. import webhook_http
from ..errors import ProgramErrorCode
from ..models import (
    Organization,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from ..models_webhooks import TEST_EVENT_TYPE
from ..secrets import secret_encrypt
from .audit import audit_record
from .webhook_delivery import (
    RETRY_WINDOW,
    AttemptOutcome,
    backoff,
    deliveries_due_queue,
    deliveries_queue_on_commit,
    webhook_body,
    webhook_deliveries_due,
    webhook_delivery_attempt,
)

__all__ = [
    "RETRY_WINDOW",
    "AttemptOutcome",
    "NewSecret",
    "backoff",
    "webhook_body",
    "webhook_deliveries_due",
    "webhook_delivery_attempt",
    "webhook_delivery_resend",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_problems",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_event_emit",
    "webhook_event_emit_many",
    "webhook_test_send",
]


SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
EVENT_TYPES = frozenset(WebhookEventType.values)


# --- Endpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSecret:
    """An endpoint with its signing secret: the only time the secret is shown."""

    endpoint: WebhookEndpoint
    secret: str


def _new_secret() -> tuple[str, str, str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    return secret, secret_encrypt(secret), secret[: len(SECRET_PREFIX) + 4]


def webhook_endpoint_problems(*, url: str, events: Iterable[str]) -> dict[str, list[str]]:
    """What is wrong with an endpoint's URL and events, by field (empty: nothing)."""
    problems: dict[str, list[str]] = {}
    url_problem = webhook_http.url_refusal(url.strip())
    if url_problem is not None:
        problems["url"] = [url_problem]
    events = list(events)
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        known = ", ".join(sorted(EVENT_TYPES))
        problems["events"] = [
            gettext("Unknown event type %(unknown)s: choose among %(known)s.")
            % {"unknown": ", ".join(unknown), "known": known}
        ]
    elif not events:
        problems["events"] = [gettext("Choose at least one event.")]
    return problems


def _refuse(problems: dict[str, list[str]]) -> None:
    if problems:
        first = next(iter(problems.values()))[0]
        raise ApplicationError(first, code=ProgramErrorCode.INVALID, fields=problems)


@transaction.atomic
def webhook_endpoint_create(
    *,
    organization: Organization,
    url: str,
    events: Sequence[str],
    description: str = "",
    actor: User | None,
) -> NewSecret:
    _refuse(webhook_endpoint_problems(url=url, events=events))
    secret, encrypted, prefix = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url.strip(),
        description=description.strip(),
        events=sorted(set(events)),
        secret_encrypted=encrypted,
        secret_prefix=prefix,
        created_by=actor,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="webhook_endpoint.created",
        obj=endpoint,
        summary=f"Webhook endpoint {endpoint.url} added ({', '.join(endpoint.events)})",
    )
    return NewSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    events: Sequence[str],
    description: str,
    enabled: bool,
    actor: User | None,
) -> WebhookEndpoint:
    """Change the URL, events or description; enable a disabled endpoint again (its pending
    deliveries then resume) or disable it."""
    _refuse(webhook_endpoint_problems(url=url, events=events))
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.url, endpoint.description = url.strip(), description.strip()
    endpoint.events = sorted(set(events))
    if enabled and endpoint.disabled_at is not None:
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
    elif not enabled and endpoint.disabled_at is None:
        endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), "Disabled by an admin."
    endpoint.save(
        update_fields=[
            "url",
            "description",
            "events",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "updated_at",
        ]
    )
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_endpoint.changed",
        obj=endpoint,
        summary=f"Webhook endpoint {endpoint.url} changed"
        + ("" if endpoint.is_enabled else " (disabled)"),
    )
    if endpoint.is_enabled:
        organization_id = endpoint.organization_id
        transaction.on_commit(lambda: deliveries_due_queue(organization_id))
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: User | None) -> NewSecret:
    """A new signing secret, in force at once (the old one signs nothing more)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret, endpoint.secret_encrypted, endpoint.secret_prefix = _new_secret()
    endpoint.save(update_fields=["secret_encrypted", "secret_prefix", "updated_at"])
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_secret.rotated",
        obj=endpoint,
        summary=f"Signing secret of webhook endpoint {endpoint.url} replaced",
    )
    return NewSecret(endpoint=endpoint, secret=secret)


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User | None) -> None:
    """Remove the endpoint with its deliveries and their log (the audit trail keeps its URL)."""
    audit_record(
        organization=endpoint.organization,
        actor=actor,
        action="webhook_endpoint.deleted",
        obj=endpoint,
        summary=f"Webhook endpoint {endpoint.url} removed",
    )
    WebhookDelivery.objects.filter(endpoint=endpoint).delete()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


# --- Emitting events (the outbox) -------------------------------------------------------------


def _delivery(
    endpoint: WebhookEndpoint, event: WebhookEvent, now: dt.datetime, *, resend: bool = False
) -> WebhookDelivery:
    return WebhookDelivery(
        organization_id=endpoint.organization_id,
        endpoint=endpoint,
        event=event,
        ordering_key="" if resend else event.ordering_key,
        next_attempt_at=now,
        give_up_after=now + RETRY_WINDOW,
        resend=resend,
    )


EventData = dict[str, Any] | Callable[[], dict[str, Any]]


def webhook_event_emit(
    *,
    organization_id: int,
    type: str,
    data: EventData,
    application_id: int | None = None,
    now: dt.datetime | None = None,
) -> WebhookEvent | None:
    """Called by a service inside the transaction of its change: the event and its deliveries
    are written with it (or not at all), and queued once it commits. Nothing is written when no
    enabled endpoint of the organization subscribes to ``type`` (None); ``data`` may be a
    function, then called only when one does (the payload's reads cost nothing otherwise)."""
    made = webhook_event_emit_many(
        organization_id=organization_id, type=type, items=[(data, application_id)], now=now
    )
    return made[0] if made else None


def webhook_event_emit_many(
    *,
    organization_id: int,
    type: str,
    items: Sequence[tuple[EventData, int | None]],
    now: dt.datetime | None = None,
) -> list[WebhookEvent]:
    """``webhook_event_emit`` for many events of one type (a batch of badges): one query for
    the subscribers, one INSERT for the events and one for their deliveries."""
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}.")
    if not items:
        return []
    endpoints = list(
        WebhookEndpoint.objects.filter(
            organization_id=organization_id, disabled_at__isnull=True, events__contains=[type]
        ).order_by("pk")
    )
    if not endpoints:
        return []
    now = now or timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                organization_id=organization_id,
                type=type,
                data=data() if callable(data) else data,
                ordering_key=f"application:{application_id}" if application_id is not None else "",
            )
            for data, application_id in items
        ]
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        [_delivery(endpoint, event, now) for event in events for endpoint in endpoints]
    )
    deliveries_queue_on_commit(organization_id, [d.pk for d in deliveries])
    return events


def webhook_test_send(*, endpoint: WebhookEndpoint, actor: User | None) -> WebhookDelivery:
    """A ``webhook.test`` event to this endpoint alone, whatever it subscribes to."""
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            organization_id=endpoint.organization_id,
            type=TEST_EVENT_TYPE,
            data={"message": "A test event sent from the Tessera admin."},
        )
        delivery = _delivery(endpoint, event, timezone.now())
        delivery.save()
        deliveries_queue_on_commit(endpoint.organization_id, [delivery.pk])
    return delivery


def webhook_delivery_resend(*, delivery: WebhookDelivery, actor: User | None) -> WebhookDelivery:
    """Send the delivery's event again, with the same event id (the receiver's dedupe key), as a
    new delivery with its own log. The one explicit way an event is sent twice."""
    with transaction.atomic():
        again = _delivery(delivery.endpoint, delivery.event, timezone.now(), resend=True)
        again.save()
        audit_record(
            organization=delivery.endpoint.organization,
            actor=actor,
            action="webhook_delivery.resent",
            obj=again,
            summary=f"Event {delivery.event.public_id} sent again to {delivery.endpoint.url}",
        )
        deliveries_queue_on_commit(delivery.organization_id, [again.pk])
    return again
