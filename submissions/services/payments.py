"""Fees paid online (issue 22; docs/decisions/0022-payments.md).

An organization takes fees by hand (``PaymentSettings.Provider.MANUAL``, today's "record paid")
or with its own Stripe account. With Stripe, applying makes the application at once and sends
the educator to a Checkout Session; only Stripe's signed webhook records money. Every payment
and refund Stripe reports is one row of the ledger (``PaymentEntry``), unique by Stripe's id, and
the application's fee status is computed from its rows (``_fee_status_from_ledger``): so
duplicated, replayed or out-of-order events all end in the same state.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, User
from programs.secrets import SecretUnreadable

from ..errors import SubmissionErrorCode as Code
from ..models import Application, PaymentEntry, PaymentSettings, WebhookEvent
from ._common import _event, _locked

logger = logging.getLogger(__name__)

# Stripe's amounts are in the currency's smallest unit, except for these (Stripe's list).
ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
}  # fmt: skip
# Where a "Pay" or "Apply" form's submission is redirected: the page's Content-Security-Policy
# must allow it in ``form-action`` (browsers enforce it on a form's redirect too).
CHECKOUT_ORIGIN = "https://checkout.stripe.com"
STRIPE_TIMEOUT_MESSAGE = "We could not reach the payment provider. Try again in a minute."


class PaymentError(ApplicationError):
    """A payment action refused, with a message for the person."""


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount if currency.upper() in ZERO_DECIMAL else (amount * 100).quantize(1))


def from_minor(amount: int, currency: str) -> Decimal:
    value = Decimal(int(amount))
    return value if currency.upper() in ZERO_DECIMAL else (value / 100).quantize(Decimal("0.01"))


# --- Settings ------------------------------------------------------------------------------------


def payment_settings_for(*, organization_id: int) -> PaymentSettings | None:
    return PaymentSettings.objects.filter(organization_id=organization_id).first()


def uses_stripe(*, organization_id: int) -> bool:
    found = payment_settings_for(organization_id=organization_id)
    return found is not None and found.uses_stripe


def _stripe_settings(organization_id: int) -> PaymentSettings:
    found = payment_settings_for(organization_id=organization_id)
    if found is None or not found.uses_stripe:
        raise PaymentError(
            "This organization takes fees by invoice: contact the program to pay.",
            code=Code.INVALID,
        )
    return found


# --- Checkout ------------------------------------------------------------------------------------


def _application_url(application: Application) -> str:
    path = reverse(
        "submissions:application",
        kwargs={"org_slug": application.organization.slug, "public_id": application.public_id},
    )
    return settings.SITE_URL.rstrip("/") + path


def checkout_start(*, application: Application, actor: User) -> str:
    """A Stripe Checkout Session for the fee owed on ``application``, at the amount decided when
    applying; its URL. Coming back from it marks nothing paid: the webhook does."""
    if application.educator_id != actor.pk:
        raise PaymentError("Only the educator can pay this fee.", code=Code.INVALID)
    if application.fee_status != Application.FeeStatus.OWED:
        raise PaymentError(
            f"There is no fee to pay: it is {application.get_fee_status_display().lower()}.",
            code=Code.INVALID,
        )
    found = _stripe_settings(application.organization_id)
    organization = application.organization
    url = _application_url(application)
    metadata = {
        "application": str(application.public_id),
        "organization": organization.slug,
    }
    try:
        session = stripe.checkout.Session.create(
            api_key=found.secret_key,
            mode="payment",
            client_reference_id=str(application.public_id),
            customer_email=actor.email,
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": application.fee_currency.lower(),
                        "unit_amount": to_minor(application.fee_amount, application.fee_currency),
                        "product_data": {
                            "name": f"Fee: {application.version.title}",
                            "description": f"{organization.name}, application "
                            f"{application.anonymous_code}",
                        },
                    },
                }
            ],
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            success_url=f"{url}?payment=returned",
            cancel_url=f"{url}?payment=cancelled",
            idempotency_key=f"checkout-{application.public_id}-{timezone.now():%Y%m%d%H%M}",
        )
    except SecretUnreadable as error:
        raise PaymentError(
            "Online payment is not set up correctly: contact the program.", code=Code.INVALID
        ) from error
    except stripe.StripeError as error:
        logger.warning("Stripe refused a Checkout Session for %s: %s", application.pk, error)
        raise PaymentError(STRIPE_TIMEOUT_MESSAGE, code=Code.INVALID) from error
    Application.objects.filter(pk=application.pk).update(checkout_session_id=session["id"])
    _event(
        application,
        actor=actor,
        kind="checkout_started",
        message=f"Went to pay {application.fee_amount:.2f} {application.fee_currency} online",
        session=session["id"],
    )
    return str(session.url)


# --- Webhooks ------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """A request that is not a genuine, fresh Stripe event for this organization (answer 400)."""


def webhook_receive(*, organization: Organization, payload: bytes, signature: str) -> WebhookEvent:
    """A Stripe event posted to the organization's endpoint: verified with its endpoint secret
    (``WebhookRefused`` otherwise), then applied once (a known event id changes nothing)."""
    found = payment_settings_for(organization_id=organization.pk)
    if found is None or not found.webhook_secret_encrypted:
        raise WebhookRefused("This organization takes no online payments.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, found.webhook_secret)
    except (ValueError, stripe.SignatureVerificationError, SecretUnreadable) as error:
        raise WebhookRefused(f"Refused: {error}") from None
    known = WebhookEvent.objects.filter(organization=organization, event_id=event.id).first()
    if known is not None:
        return known
    try:
        with transaction.atomic():
            return _apply_event(organization, event)
    except IntegrityError:  # the same event delivered twice at once: the other one applied it
        return WebhookEvent.objects.get(organization=organization, event_id=event.id)


def _apply_event(organization: Organization, event: Any) -> WebhookEvent:
    record = WebhookEvent(organization=organization, event_id=event.id, type=event.type)
    obj: dict[str, Any] = event.data.object.to_dict()
    if event.type == "checkout.session.completed":
        _session_completed(organization, event, obj, record)
    elif event.type == "charge.refunded":
        _charge_refunded(organization, event, obj, record)
    else:
        record.outcome = WebhookEvent.Outcome.IGNORED
    record.save()
    if record.outcome == WebhookEvent.Outcome.UNMATCHED:
        logger.warning(
            "Stripe event %s (%s) for %s matched nothing: %s",
            event.id,
            event.type,
            organization.slug,
            record.note,
        )
    return record


def _metadata(obj: Any) -> dict[str, str]:
    return {key: str(value) for key, value in (obj.get("metadata") or {}).items()}


def _application_of(organization: Organization, public_id: str) -> Application | None:
    """The organization's application with this opaque id (scoped: another organization's is
    none), locked."""
    try:
        uuid.UUID(public_id)
    except ValueError:
        return None
    return (
        Application.objects.select_for_update()
        .filter(organization=organization, public_id=public_id)
        .select_related("organization", "educator")
        .first()
    )


def _session_completed(
    organization: Organization, event: Any, session: dict[str, Any], record: WebhookEvent
) -> None:
    metadata = _metadata(session)
    public_id = session.get("client_reference_id") or metadata.get("application", "")
    if metadata.get("organization", organization.slug) != organization.slug:
        record.outcome, record.note = WebhookEvent.Outcome.UNMATCHED, "another organization's"
        return
    application = _application_of(organization, public_id) if public_id else None
    if application is None:
        record.outcome = WebhookEvent.Outcome.UNMATCHED
        record.note = f"no application {public_id or '(none named)'} for session {session['id']}"
        return
    record.application = application
    if session.get("payment_status") != "paid":
        record.outcome, record.note = WebhookEvent.Outcome.IGNORED, "not paid yet"
        return
    currency = str(session.get("currency") or application.fee_currency).upper()
    intent = str(session.get("payment_intent") or session["id"])
    entry, made = PaymentEntry.objects.get_or_create(
        organization=organization,
        kind=PaymentEntry.Kind.PAYMENT,
        provider_id=intent,
        defaults={
            "application": application,
            "amount": from_minor(int(session.get("amount_total") or 0), currency),
            "currency": currency,
            "checkout_session_id": session["id"],
            "payment_intent_id": intent if intent.startswith("pi_") else "",
            "event_id": event.id,
            "payer": application.educator,
        },
    )
    record.outcome = WebhookEvent.Outcome.APPLIED
    if made:
        _event(
            application,
            actor=None,
            kind="fee_payment",
            message=f"Paid {entry.amount:.2f} {entry.currency} online (receipt {entry.reference})",
        )
        transaction.on_commit(lambda: _mail_receipt(entry.pk))
    _fee_status_from_ledger(application)


def _charge_refunded(
    organization: Organization, event: Any, charge: dict[str, Any], record: WebhookEvent
) -> None:
    intent = str(charge.get("payment_intent") or "")
    metadata = _metadata(charge)
    if metadata.get("organization", organization.slug) != organization.slug:
        record.outcome, record.note = WebhookEvent.Outcome.UNMATCHED, "another organization's"
        return
    application = None
    paid = PaymentEntry.objects.filter(
        organization=organization, kind=PaymentEntry.Kind.PAYMENT, provider_id=intent
    ).first()
    if paid is not None:
        application = _application_of(organization, str(paid.application.public_id))
    elif metadata.get("application"):
        application = _application_of(organization, metadata["application"])
    if application is None:
        record.outcome = WebhookEvent.Outcome.UNMATCHED
        record.note = f"no payment or application for charge {charge['id']}"
        return
    record.application = application
    currency = str(charge.get("currency") or application.fee_currency).upper()
    refunds = list((charge.get("refunds") or {}).get("data") or [])
    if not refunds:  # the charge without its refunds listed: its refunded total, as one row
        refunds = [{"id": f"{charge['id']}:refunded", "amount": charge.get("amount_refunded") or 0}]
    for refund in refunds:
        PaymentEntry.objects.get_or_create(
            organization=organization,
            kind=PaymentEntry.Kind.REFUND,
            provider_id=str(refund["id"]),
            defaults={
                "application": application,
                "amount": from_minor(int(refund.get("amount") or 0), currency),
                "currency": currency,
                "payment_intent_id": intent,
                "charge_id": charge["id"],
                "event_id": event.id,
                "payer": application.educator,
            },
        )
    record.outcome = WebhookEvent.Outcome.APPLIED if paid else WebhookEvent.Outcome.HELD
    _fee_status_from_ledger(application)


def ledger_totals(application: Application) -> tuple[Decimal, Decimal]:
    """(paid, refunded) on the ledger for this application."""
    sums = dict(
        PaymentEntry.objects.filter(application=application)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    return sums.get(PaymentEntry.Kind.PAYMENT) or Decimal(0), sums.get(
        PaymentEntry.Kind.REFUND
    ) or Decimal(0)


def _fee_status_from_ledger(application: Application) -> None:
    """The application's fee status, from its ledger rows alone (whatever order they came in):
    nothing paid → as it was (owed, or waived by an admin); paid and refunded in full →
    refunded; paid at least the fee, less any part refunded → paid."""
    paid, refunded = ledger_totals(application)
    F = Application.FeeStatus
    if paid <= 0:
        return
    status = F.REFUNDED if refunded >= paid else F.PAID if paid >= application.fee_amount else None
    if status is None or status == application.fee_status:
        return
    application.fee_status = status
    application.fee_note = (
        f"Refunded {refunded:.2f} {application.fee_currency} of {paid:.2f}"
        if refunded
        else f"Paid {paid:.2f} {application.fee_currency} online"
    )
    application.fee_updated_at = timezone.now()
    application.save(update_fields=["fee_status", "fee_note", "fee_updated_at", "updated_at"])
    if status == F.REFUNDED:
        _event(
            application,
            actor=None,
            kind="fee_refunded",
            message=f"Refunded {refunded:.2f} {application.fee_currency}",
        )


# --- Refunds and waivers (program admins) ---------------------------------------------------------


def payment_refund(
    *, application: Application, amount: Decimal | None, reason: str, actor: User
) -> None:
    """Ask Stripe to refund (part of) the fee paid; the ledger and the application follow the
    ``charge.refunded`` webhook. Refused, with nothing changed, beyond what is left to refund."""
    reason = reason.strip()
    if not reason:
        raise PaymentError(
            "Give a reason for the refund: the educator reads it.", code=Code.INVALID
        )
    found = _stripe_settings(application.organization_id)
    payment = (
        PaymentEntry.objects.filter(application=application, kind=PaymentEntry.Kind.PAYMENT)
        .order_by("-created_at")
        .first()
    )
    if payment is None:
        raise PaymentError("No online payment of this fee is on the ledger.", code=Code.INVALID)
    paid, refunded = ledger_totals(application)
    left = paid - refunded
    amount = left if amount is None else amount
    if amount <= 0:
        raise PaymentError("The amount to refund must be more than zero.", code=Code.INVALID)
    if amount > left:
        raise PaymentError(
            f"You can refund at most {left:.2f} {payment.currency}: {paid:.2f} was paid"
            + (f" and {refunded:.2f} already refunded." if refunded else "."),
            code=Code.INVALID,
        )
    try:
        stripe.Refund.create(
            api_key=found.secret_key,
            payment_intent=payment.provider_id,
            amount=to_minor(amount, payment.currency),
            reason="requested_by_customer",
            metadata={
                "application": str(application.public_id),
                "organization": application.organization.slug,
                "reason": reason[:450],
            },
        )
    except stripe.StripeError as error:
        logger.warning("Stripe refused a refund for %s: %s", application.pk, error)
        message = getattr(error, "user_message", None) or STRIPE_TIMEOUT_MESSAGE
        raise PaymentError(f"Stripe refused the refund: {message}", code=Code.INVALID) from error
    _event(
        application,
        actor=actor,
        kind="refund_requested",
        message=f"Refund of {amount:.2f} {payment.currency} asked of Stripe: {reason}",
    )
    application_pk = application.pk
    transaction.on_commit(
        lambda: _mail_fee_change(application_pk, what="refund", amount=amount, reason=reason)
    )


@transaction.atomic
def fee_waive(*, application: Application, reason: str, actor: User) -> Application:
    """A program admin waives the fee owed, with a reason the educator is e-mailed."""
    from .applications import application_fee_record

    reason = reason.strip()
    if not reason:
        raise PaymentError(
            "Give a reason for waiving the fee: the educator reads it.", code=Code.INVALID
        )
    if _locked(application).fee_status != Application.FeeStatus.OWED:
        raise PaymentError("Only a fee still owed can be waived.", code=Code.INVALID)
    application = application_fee_record(
        application=application, status=Application.FeeStatus.WAIVED, actor=actor, note=reason
    )
    transaction.on_commit(
        lambda: _mail_fee_change(application.pk, what="waiver", amount=None, reason=reason)
    )
    return application


# --- E-mails -------------------------------------------------------------------------------------


def _mail_receipt(entry_pk: int) -> None:
    from .applications import _notify

    entry = PaymentEntry.objects.select_related("application").get(pk=entry_pk)
    _notify(
        entry.application_id,
        template="payment_receipt",
        subject="Your receipt: fee for “{title}”",
        entry=entry,
        receipt_url=settings.SITE_URL.rstrip("/") + receipt_path(entry.application),
    )


def _mail_fee_change(
    application_pk: int, *, what: str, amount: Decimal | None, reason: str
) -> None:
    from .applications import _notify

    _notify(
        application_pk,
        template="fee_changed",
        subject=("A refund of your fee" if what == "refund" else "Your fee is waived")
        + " for “{title}”",
        what=what,
        amount=amount,
        reason=reason,
    )


def receipt_path(application: Application) -> str:
    return reverse(
        "submissions:receipt",
        kwargs={"org_slug": application.organization.slug, "public_id": application.public_id},
    )
