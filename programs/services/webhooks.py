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
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from credentials_site.mail import mail_send

from .. import webhook_http
from ..errors import ProgramErrorCode
from ..models import (
    Organization,
    StaffRole,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from ..models_webhooks import TEST_EVENT_TYPE
from ..secrets import SecretUnreadable, secret_decrypt, secret_encrypt
from .audit import audit_record

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
RETRY_WINDOW = dt.timedelta(days=3)
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(hours=6)
EVENT_TYPES = frozenset(WebhookEventType.values)
USER_AGENT = "Tessera-Webhooks/1"
UNREADABLE_SECRET = (
    "The signing secret cannot be read (the encryption keys changed): replace it in the admin."  # noqa: S105
)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … doubling, at
    most 6 hours (about 20 attempts over the three days)."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


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
        problems["events"] = [f"Unknown event type {', '.join(unknown)}: choose among {known}."]
    elif not events:
        problems["events"] = ["Choose at least one event."]
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
        transaction.on_commit(lambda: _queue_due(organization_id))
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
        action="webhook_endpoint.secret_rotated",
        obj=endpoint,
        summary=f"Signing secret of webhook endpoint {endpoint.url} replaced",
    )
    return NewSecret(endpoint=endpoint, secret=secret)


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
    _queue_on_commit(organization_id, [d.pk for d in deliveries])
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
        _queue_on_commit(endpoint.organization_id, [delivery.pk])
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
        _queue_on_commit(delivery.organization_id, [again.pk])
    return again


def _queue_on_commit(organization_id: int, delivery_ids: list[int]) -> None:
    from ..tasks import webhook_delivery_attempt

    def queue() -> None:
        for delivery_id in delivery_ids:
            webhook_delivery_attempt.delay(organization_id=organization_id, delivery_id=delivery_id)

    # a broker down is logged, not the caller's error: beat's sweep sends the pending ones
    transaction.on_commit(queue, robust=True)


def _queue_due(organization_id: int) -> None:
    from ..tasks import webhook_deliveries_due

    webhook_deliveries_due.delay(organization_id=organization_id)


# --- Delivering ---------------------------------------------------------------------------------


def webhook_body(event: WebhookEvent, organization: Organization) -> bytes:
    """The JSON every delivery of ``event`` sends (the same bytes on every attempt)."""
    document = {
        "id": str(event.public_id),
        "type": event.type,
        "created": event.created_at.isoformat(),
        "organization": {"slug": organization.slug, "name": organization.name},
        "data": event.data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def webhook_headers(
    *, event: WebhookEvent, secret: str, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        webhook_http.EVENT_ID_HEADER: str(event.public_id),
        webhook_http.EVENT_TYPE_HEADER: event.type,
        webhook_http.SIGNATURE_HEADER: webhook_http.signature_header(
            secret=secret, timestamp=timestamp, body=body
        ),
    }


@dataclass(frozen=True)
class AttemptOutcome:
    """What ``webhook_delivery_attempt`` did: ``sent`` (an HTTP request was made), and the
    delivery's state after it; ``waiting`` says why nothing was sent."""

    sent: bool
    state: str
    waiting: str = ""
    retry_in: dt.timedelta | None = None


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    if not delivery.ordering_key:
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        ordering_key=delivery.ordering_key,
        state=WebhookDelivery.State.PENDING,
        event_id__lt=delivery.event_id,
    ).exists()


def webhook_delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None) -> AttemptOutcome:
    """Send a pending, due delivery once and record the attempt; schedule the retry or the next
    event of the same application. Safe to call any number of times (idempotent): a delivery
    that is not pending, not due, locked by another worker, behind an earlier event of its
    application, or whose endpoint is disabled is left alone."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event", "organization")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return AttemptOutcome(sent=False, state="", waiting="locked or gone")
        now = now or timezone.now()
        if delivery.state != WebhookDelivery.State.PENDING:
            return AttemptOutcome(sent=False, state=delivery.state, waiting="not pending")
        if delivery.endpoint.disabled_at is not None:
            return AttemptOutcome(sent=False, state=delivery.state, waiting="endpoint disabled")
        if delivery.next_attempt_at > now:
            return AttemptOutcome(sent=False, state=delivery.state, waiting="not due")
        if _earlier_pending(delivery):
            return AttemptOutcome(sent=False, state=delivery.state, waiting="earlier event")
        return _attempt(delivery, now)


def _attempt(delivery: WebhookDelivery, now: dt.datetime) -> AttemptOutcome:
    endpoint, event = delivery.endpoint, delivery.event
    body = webhook_body(event, delivery.organization)
    try:
        secret = secret_decrypt(endpoint.secret_encrypted)
    except SecretUnreadable:  # the encryption keys changed: nothing unsigned is sent
        response = webhook_http.Response(None, "", UNREADABLE_SECRET, 0)
    else:
        headers = webhook_headers(
            event=event, secret=secret, body=body, timestamp=int(now.timestamp())
        )
        response = webhook_http.post(url=endpoint.url, body=body, headers=headers)
    delivery.attempts += 1
    WebhookAttempt.objects.create(
        organization_id=delivery.organization_id,
        delivery=delivery,
        number=delivery.attempts,
        started_at=now,
        duration_ms=response.duration_ms,
        status_code=response.status,
        error=response.error[:300],
    )
    delivery.last_status = response.status
    succeeded = response.status is not None and 200 <= response.status < 300
    retry_in: dt.timedelta | None = None
    if succeeded:
        delivery.state, delivery.delivered_at = WebhookDelivery.State.DELIVERED, now
    else:
        if now >= delivery.give_up_after:  # this was the last attempt, at the window's end
            delivery.state = WebhookDelivery.State.GIVEN_UP
        else:
            delivery.next_attempt_at = min(now + backoff(delivery.attempts), delivery.give_up_after)
            retry_in = delivery.next_attempt_at - now
    delivery.save(
        update_fields=["attempts", "last_status", "state", "delivered_at", "next_attempt_at"]
    )
    _endpoint_health(endpoint.pk, succeeded=succeeded, now=now)
    organization_id = delivery.organization_id
    if retry_in is not None:
        _retry_on_commit(organization_id, delivery.pk, retry_in)
    elif delivery.ordering_key:
        following = (
            WebhookDelivery.objects.filter(
                endpoint_id=delivery.endpoint_id,
                ordering_key=delivery.ordering_key,
                state=WebhookDelivery.State.PENDING,
                event_id__gt=delivery.event_id,
            )
            .order_by("event_id")
            .values_list("pk", flat=True)
            .first()
        )
        if following is not None:
            _queue_on_commit(organization_id, [following])
    return AttemptOutcome(sent=True, state=delivery.state, retry_in=retry_in)


def _retry_on_commit(organization_id: int, delivery_id: int, wait: dt.timedelta) -> None:
    from ..tasks import webhook_delivery_attempt

    transaction.on_commit(
        lambda: webhook_delivery_attempt.apply_async(
            kwargs={"organization_id": organization_id, "delivery_id": delivery_id},
            countdown=wait.total_seconds(),
        ),
        robust=True,
    )


def _endpoint_health(endpoint_id: int, *, succeeded: bool, now: dt.datetime) -> None:
    """A success clears the endpoint's failing streak; a failure starts it, and one lasting
    ``RETRY_WINDOW`` disables the endpoint and e-mails its organization's admins."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .select_related("organization")
        .get(pk=endpoint_id)
    )
    if succeeded:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since", "updated_at"])
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since", "updated_at"])
        return
    if endpoint.disabled_at is None and now - endpoint.failing_since >= RETRY_WINDOW:
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
        )
        endpoint.save(update_fields=["disabled_at", "disabled_reason", "updated_at"])
        audit_record(
            organization=endpoint.organization,
            actor=None,
            action="webhook_endpoint.disabled",
            obj=endpoint,
            summary=f"Webhook endpoint {endpoint.url} disabled: failing for 3 days",
        )
        endpoint_id = endpoint.pk
        transaction.on_commit(lambda: _mail_disabled(endpoint_id))


def _mail_disabled(endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)
    organization = endpoint.organization
    to = sorted(
        set(
            StaffRole.objects.filter(
                organization=organization, role__in=StaffRole.ADMIN_ROLES, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    )
    if not to:
        return
    mail_send(
        template="webhook_endpoint_disabled",
        subject=f"Webhook endpoint disabled: {endpoint.url}",
        to=to,
        context={
            "endpoint": endpoint,
            "link": settings.SITE_URL.rstrip("/")
            + f"/admin/programs/webhookendpoint/{endpoint.pk}/change/",
        },
        organization=organization,
        fail_silently=True,
    )


def webhook_deliveries_due(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Queue every pending delivery that is due to an enabled endpoint (beat, every minute):
    what a lost message or a crash between commit and queue left behind. Returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            organization=organization,
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=now,
            endpoint__disabled_at__isnull=True,
        )
        .order_by("event_id")
        .values_list("pk", flat=True)[:500]
    )
    from ..tasks import webhook_delivery_attempt

    for delivery_id in due:
        webhook_delivery_attempt.delay(organization_id=organization.pk, delivery_id=delivery_id)
    return len(due)
