"""Delivering outgoing webhook events (docs/decisions/0028; the rules in
``programs.services.webhooks``): one attempt at a time under the delivery's row lock, backoff on
the delivery's own schedule, order per application, the endpoint's health, and beat's sweep."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from credentials_site.mail import language_of, mail_send

from .. import webhook_http
from ..models import (
    Organization,
    StaffRole,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ..secrets import SecretUnreadable, secret_decrypt
from .audit import audit_record

logger = logging.getLogger(__name__)

RETRY_WINDOW = dt.timedelta(days=3)
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(hours=6)
USER_AGENT = "Tessera-Webhooks/1"
UNREADABLE_SECRET = (
    "The signing secret cannot be read (the encryption keys changed): replace it in the admin."  # noqa: S105
)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … doubling, at
    most 6 hours (about 20 attempts over the three days)."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def deliveries_queue_on_commit(organization_id: int, delivery_ids: list[int]) -> None:
    from ..tasks import webhook_delivery_attempt

    def queue() -> None:
        for delivery_id in delivery_ids:
            webhook_delivery_attempt.delay(organization_id=organization_id, delivery_id=delivery_id)

    # a broker down is logged, not the caller's error: beat's sweep sends the pending ones
    transaction.on_commit(queue, robust=True)


def deliveries_due_queue(organization_id: int) -> None:
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
            deliveries_queue_on_commit(organization_id, [following])
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
    """Tell the organization's admins, one e-mail per language (each in theirs)."""
    endpoint = WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)
    organization = endpoint.organization
    admins = (
        StaffRole.objects.filter(
            organization=organization, role__in=StaffRole.ADMIN_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__email")
    )
    by_language: dict[str, set[str]] = {}
    for role in admins:
        by_language.setdefault(language_of(role.user), set()).add(role.user.email)
    for language, to in sorted(by_language.items()):
        mail_send(
            template="webhook_endpoint_disabled",
            subject=lambda: gettext("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url},
            to=sorted(to),
            context={
                "endpoint": endpoint,
                "link": settings.SITE_URL.rstrip("/")
                + f"/admin/programs/webhookendpoint/{endpoint.pk}/change/",
            },
            organization=organization,
            fail_silently=True,
            language=language,
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
