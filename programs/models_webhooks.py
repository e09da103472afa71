"""Outgoing webhooks: an organization's HTTPS endpoints, the events its services emit (an
outbox: written in the transaction of the change), one delivery per endpoint and event, and a
log of every attempt (docs/decisions/0028).

Imported at the end of ``programs.models`` (so Django registers them in ``programs``)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

from .models import User


class WebhookEventType(models.TextChoices):
    """What an endpoint may subscribe to (``webhook.test`` is sent on request only)."""

    APPLICATION_SUBMITTED = "application.submitted", _("Application submitted")
    DECISION_MADE = "decision.made", _("Decision made")
    BADGE_ISSUED = "badge.issued", _("Badge issued")
    BADGE_REVOKED = "badge.revoked", _("Badge revoked")
    MEMBERSHIP_CHANGED = "membership.changed", _("Membership changed")
    PAYMENT_RECORDED = "payment.recorded", _("Payment recorded")


TEST_EVENT_TYPE = "webhook.test"


class WebhookEndpoint(TenantModel):
    """An HTTPS URL of the organization's own system and the events it receives, signed with
    a secret only it and Tessera hold (stored encrypted, shown once)."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    events = ArrayField(
        models.CharField(max_length=40, choices=WebhookEventType.choices), verbose_name=_("events")
    )
    secret_encrypted = models.TextField(editable=False, verbose_name=_("secret encrypted"))
    secret_prefix = models.CharField(max_length=16, editable=False, verbose_name=_("secret prefix"))
    # failing continuously since (None: the last attempt succeeded, or none failed yet)
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(
        max_length=200, blank=True, verbose_name=_("disabled reason")
    )
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None


class WebhookEvent(TenantModel):
    """One event, as emitted by a service in the transaction of its change (the outbox). Its
    ``public_id`` is the id receivers deduplicate on."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    type = models.CharField(max_length=40, verbose_name=_("type"))
    data = models.JSONField(default=dict, verbose_name=_("data"))
    # events of one application are delivered in order (``ordering_key``: "application:<id>")
    ordering_key = models.CharField(max_length=60, blank=True, verbose_name=_("ordering key"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outgoing webhook event")
        verbose_name_plural = _("outgoing webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class WebhookDelivery(TenantModel):
    """The event on its way to one endpoint: pending (retried with backoff), delivered, or
    given up after the retry window. A resend is a new delivery of the same event."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        GIVEN_UP = "given_up", _("Given up")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="+", verbose_name=_("endpoint")
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    ordering_key = models.CharField(max_length=60, blank=True, verbose_name=_("ordering key"))
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"))
    # retried until then (the retry window from when it was made), then given up
    give_up_after = models.DateTimeField(verbose_name=_("give up after"))
    last_status = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("last status"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    resend = models.BooleanField(default=False, verbose_name=_("resend"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"],
                condition=Q(resend=False),
                name="one_webhook_delivery_per_endpoint_event",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "ordering_key", "event"]),
        ]
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(TenantModel):
    """One HTTP request of a delivery: what answered and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="+", verbose_name=_("delivery")
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration ms"))
    status_code = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("status code"))
    error = models.CharField(max_length=300, blank=True, verbose_name=_("error"))

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"#{self.number}: {self.status_code or self.error}"
