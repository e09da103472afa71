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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, User
from programs.secrets import SecretUnreadable

from ..errors import SubmissionErrorCode as Code
from ..models import Application, PaymentEntry, PaymentSettings, SeatBatch, WebhookEvent
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
STRIPE_TIMEOUT_MESSAGE = gettext_noop(
    "We could not reach the payment provider. Try again in a minute."
)


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
            _("This organization takes fees by invoice: contact the program to pay."),
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
        raise PaymentError(_("Only the educator can pay this fee."), code=Code.INVALID)
    if application.fee_status != Application.FeeStatus.OWED:
        raise PaymentError(
            _("There is no fee to pay: it is %(status)s.")
            % {"status": application.get_fee_status_display().lower()},
            code=Code.INVALID,
        )
    organization = application.organization
    url = _application_url(application)
    session = checkout_session_create(
        organization=organization,
        reference={"application": str(application.public_id)},
        email=actor.email,
        name=_("Fee: %(title)s") % {"title": application.version.title},
        description=_("%(organization)s, application %(code)s")
        % {"organization": organization.name, "code": application.anonymous_code},
        quantity=1,
        unit_amount=application.fee_amount,
        currency=application.fee_currency,
        return_url=url,
        idempotency_key=f"checkout-{application.public_id}-{timezone.now():%Y%m%d%H%M}",
    )
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


def checkout_session_create(
    *,
    organization: Organization,
    reference: dict[str, str],
    email: str,
    name: str,
    description: str,
    quantity: int,
    unit_amount: Decimal,
    currency: str,
    return_url: str,
    idempotency_key: str,
) -> Any:
    """A Stripe Checkout Session in the organization's own account for ``quantity`` x
    ``unit_amount``: ``reference`` (``{"application": id}`` or ``{"seat_batch": id}``) and the
    organization go in the metadata of the session and of its PaymentIntent (so that the charge's
    ``charge.refunded`` names them too); the opaque id is the ``client_reference_id``."""
    found = _stripe_settings(organization.pk)
    metadata = {**reference, "organization": organization.slug}
    try:
        return stripe.checkout.Session.create(
            api_key=found.secret_key,
            mode="payment",
            client_reference_id=next(iter(reference.values())),
            customer_email=email,
            line_items=[
                {
                    "quantity": quantity,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_minor(unit_amount, currency),
                        "product_data": {"name": name, "description": description},
                    },
                }
            ],
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            success_url=f"{return_url}?payment=returned",
            cancel_url=f"{return_url}?payment=cancelled",
            idempotency_key=idempotency_key,
        )
    except SecretUnreadable as error:
        raise PaymentError(
            _("Online payment is not set up correctly: contact the program."), code=Code.INVALID
        ) from error
    except stripe.StripeError as error:
        logger.warning("Stripe refused a Checkout Session for %s: %s", reference, error)
        raise PaymentError(_(STRIPE_TIMEOUT_MESSAGE), code=Code.INVALID) from error


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


# The Checkout Session events acted on (Stripe's "fulfil orders" guide): completed (paid at once,
# or "unpaid" while a delayed method such as a bank debit settles), the delayed payment's
# success or failure, and a session that expired unpaid.
SESSION_PAID = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
SESSION_UNPAID = {"checkout.session.async_payment_failed", "checkout.session.expired"}
EVENT_TYPES = SESSION_PAID | SESSION_UNPAID | {"charge.refunded"}


def _apply_event(organization: Organization, event: Any) -> WebhookEvent:
    record = WebhookEvent(organization=organization, event_id=event.id, type=event.type)
    obj: dict[str, Any] = event.data.object.to_dict()
    if event.type in SESSION_PAID | SESSION_UNPAID:
        _session_event(organization, event, obj, record)
    elif event.type == "charge.refunded":
        _charge_refunded(organization, event, obj, record)
    else:
        record.outcome = WebhookEvent.Outcome.IGNORED
        record.note = f"not an event type Tessera acts on ({', '.join(sorted(EVENT_TYPES))})"[:300]
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


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _application_of(organization: Organization, public_id: str) -> Application | None:
    """The organization's application with this opaque id (scoped: another organization's is
    none), locked."""
    if not _is_uuid(public_id):
        return None
    return (
        Application.objects.select_for_update()
        .filter(organization=organization, public_id=public_id)
        .select_related("organization", "educator")
        .first()
    )


def _batch_of(organization: Organization, public_id: str) -> SeatBatch | None:
    """The organization's seat batch with this opaque id, locked."""
    if not _is_uuid(public_id):
        return None
    return (
        SeatBatch.objects.select_for_update()
        .filter(organization=organization, public_id=public_id)
        .first()
    )


# What a payment or refund is for: an application's fee, or a batch of seat codes.
Payable = Application | SeatBatch


def _target_of(organization: Organization, obj: dict[str, Any]) -> Payable | None:
    """The application or seat batch a session or charge names in its metadata (the session's
    ``client_reference_id`` names an application too), locked; none if it is not this
    organization's."""
    metadata = _metadata(obj)
    if metadata.get("seat_batch"):
        return _batch_of(organization, metadata["seat_batch"])
    public_id = metadata.get("application") or str(obj.get("client_reference_id") or "")
    return _application_of(organization, public_id) if public_id else None


def _ledger_of(target: Payable) -> dict[str, Any]:
    return {"seat_batch": target} if isinstance(target, SeatBatch) else {"application": target}


def _session_event(
    organization: Organization, event: Any, session: dict[str, Any], record: WebhookEvent
) -> None:
    if _metadata(session).get("organization", organization.slug) != organization.slug:
        record.outcome, record.note = WebhookEvent.Outcome.UNMATCHED, "another organization's"
        return
    target = _target_of(organization, session)
    if target is None:
        record.outcome = WebhookEvent.Outcome.UNMATCHED
        record.note = f"no application or seat batch for session {session['id']}"
        return
    if isinstance(target, Application):
        record.application = target
    else:
        record.note = f"seat batch {target.public_id}"
    if event.type in SESSION_UNPAID:
        _session_unpaid(target, event, session, record)
        return
    if session.get("payment_status") != "paid":  # a delayed method: its async_* event follows
        record.outcome, record.note = WebhookEvent.Outcome.IGNORED, "not paid yet"
        return
    currency = str(session.get("currency") or _currency_of(target)).upper()
    intent = str(session.get("payment_intent") or session["id"])
    payer = target.educator if isinstance(target, Application) else target.created_by
    entry, made = PaymentEntry.objects.get_or_create(
        organization=organization,
        kind=PaymentEntry.Kind.PAYMENT,
        provider_id=intent,
        defaults={
            **_ledger_of(target),
            "amount": from_minor(int(session.get("amount_total") or 0), currency),
            "currency": currency,
            "checkout_session_id": session["id"],
            "payment_intent_id": intent if intent.startswith("pi_") else "",
            "event_id": event.id,
            "payer": payer,
        },
    )
    record.outcome = WebhookEvent.Outcome.APPLIED
    if made and isinstance(target, Application):
        _event(
            target,
            actor=None,
            kind="fee_payment",
            message=f"Paid {entry.amount:.2f} {entry.currency} online (receipt {entry.reference})",
        )
        transaction.on_commit(lambda: _mail_receipt(entry.pk))
    _status_from_ledger(target)


def _session_unpaid(
    target: Payable, event: Any, session: dict[str, Any], record: WebhookEvent
) -> None:
    """A delayed payment that failed, or a session that expired unpaid: nothing is owed less and
    nothing becomes usable; said on the application's timeline or the batch. Arriving after the
    payment (Stripe promises no order), it changes nothing: the ledger decides."""
    what = (
        "The payment failed"
        if event.type == "checkout.session.async_payment_failed"
        else "The checkout expired unpaid"
    )
    record.outcome = WebhookEvent.Outcome.APPLIED
    paid, _refunded = _totals(**_ledger_of(target))
    if paid > 0:
        record.note = (record.note + "; " if record.note else "") + "already paid"
        return
    if isinstance(target, Application):
        _event(target, actor=None, kind="checkout_unpaid", message=f"{what}: the fee is owed")
    else:
        target.payment_note = f"{what} ({session['id']}): pay again to use the codes."
        target.save(update_fields=["payment_note", "updated_at"])


def _currency_of(target: Payable) -> str:
    return target.fee_currency if isinstance(target, Application) else target.currency


def _charge_refunded(
    organization: Organization, event: Any, charge: dict[str, Any], record: WebhookEvent
) -> None:
    intent = str(charge.get("payment_intent") or "")
    if _metadata(charge).get("organization", organization.slug) != organization.slug:
        record.outcome, record.note = WebhookEvent.Outcome.UNMATCHED, "another organization's"
        return
    target: Payable | None
    paid = PaymentEntry.objects.filter(
        organization=organization, kind=PaymentEntry.Kind.PAYMENT, provider_id=intent
    ).first()
    if paid is not None and paid.seat_batch_id is not None:
        target = SeatBatch.objects.select_for_update().get(pk=paid.seat_batch_id)
    elif paid is not None:
        target = _application_of(organization, str(paid.application.public_id))  # type: ignore[union-attr]
    else:
        target = _target_of(organization, charge)
    if target is None:
        record.outcome = WebhookEvent.Outcome.UNMATCHED
        record.note = f"no payment, application or seat batch for charge {charge['id']}"
        return
    if isinstance(target, Application):
        record.application = target
    currency = str(charge.get("currency") or _currency_of(target)).upper()
    refunds = list((charge.get("refunds") or {}).get("data") or [])
    if not refunds:  # the charge without its refunds listed: its refunded total, as one row
        refunds = [{"id": f"{charge['id']}:refunded", "amount": charge.get("amount_refunded") or 0}]
    for refund in refunds:
        PaymentEntry.objects.get_or_create(
            organization=organization,
            kind=PaymentEntry.Kind.REFUND,
            provider_id=str(refund["id"]),
            defaults={
                **_ledger_of(target),
                "amount": from_minor(int(refund.get("amount") or 0), currency),
                "currency": currency,
                "payment_intent_id": intent,
                "charge_id": charge["id"],
                "event_id": event.id,
                "payer": target.educator if isinstance(target, Application) else None,
            },
        )
    record.outcome = WebhookEvent.Outcome.APPLIED if paid else WebhookEvent.Outcome.HELD
    _status_from_ledger(target)


def _totals(**owner: Any) -> tuple[Decimal, Decimal]:
    sums = dict(
        PaymentEntry.objects.filter(**owner)
        .values_list("kind")
        .annotate(total=Sum("amount"))
        .values_list("kind", "total")
    )
    return sums.get(PaymentEntry.Kind.PAYMENT) or Decimal(0), sums.get(
        PaymentEntry.Kind.REFUND
    ) or Decimal(0)


def ledger_totals(application: Application) -> tuple[Decimal, Decimal]:
    """(paid, refunded) on the ledger for this application."""
    return _totals(application=application)


def seat_batch_totals(batch: SeatBatch) -> tuple[Decimal, Decimal]:
    """(paid, refunded) on the ledger for this seat batch."""
    return _totals(seat_batch=batch)


def _status_from_ledger(target: Payable) -> None:
    if isinstance(target, Application):
        _fee_status_from_ledger(target)
    else:
        _batch_payment_from_ledger(target)


def _ledger_says(*, paid: Decimal, refunded: Decimal, price: Decimal) -> tuple[str | None, str]:
    """The one rule of what a ledger's rows mean, whatever order they came in: nothing paid →
    None (as it was: owed, waived, not paid yet, free); refunded in full → "refunded"; paid at
    least the price, less any part refunded → "paid". And the note that says so."""
    if paid <= 0:
        return None, ""
    status = "refunded" if refunded >= paid else "paid" if paid >= price else None
    return status, (
        f"Refunded {refunded:.2f} of {paid:.2f}" if refunded else f"Paid {paid:.2f} online"
    )


def _batch_payment_from_ledger(batch: SeatBatch) -> None:
    """The batch's payment, from its ledger rows alone (``_ledger_says``): paid → its codes are
    usable; refunded in full → they are not."""
    paid, refunded = seat_batch_totals(batch)
    status, note = _ledger_says(paid=paid, refunded=refunded, price=batch.amount)
    if status is None or status == batch.payment:
        return
    batch.payment = status
    batch.payment_note = f"{note} ({batch.currency})"
    batch.save(update_fields=["payment", "payment_note", "updated_at"])


def _fee_status_from_ledger(application: Application) -> None:
    """The application's fee status, from its ledger rows alone (``_ledger_says``): nothing
    paid → as it was (owed, or waived by an admin)."""
    paid, refunded = ledger_totals(application)
    F = Application.FeeStatus
    status, note = _ledger_says(paid=paid, refunded=refunded, price=application.fee_amount)
    if status is None or status == application.fee_status:
        return
    application.fee_status = status
    application.fee_note = f"{note} ({application.fee_currency})"
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
    *,
    application: Application,
    amount: Decimal | None,
    reason: str,
    actor: User,
    idempotency_key: str | None = None,
) -> None:
    """Ask Stripe to refund (part of) the fee paid; the ledger and the application follow the
    ``charge.refunded`` webhook. Refused, with nothing changed, beyond what is left to refund."""
    reason = reason.strip()
    if not reason:
        raise PaymentError(
            _("Give a reason for the refund: the educator reads it."), code=Code.INVALID
        )
    found = _stripe_settings(application.organization_id)
    payment = (
        PaymentEntry.objects.filter(application=application, kind=PaymentEntry.Kind.PAYMENT)
        .order_by("-created_at")
        .first()
    )
    if payment is None:
        raise PaymentError(_("No online payment of this fee is on the ledger."), code=Code.INVALID)
    paid, refunded = ledger_totals(application)
    left = paid - refunded
    amount = left if amount is None else amount
    if amount <= 0:
        raise PaymentError(_("The amount to refund must be more than zero."), code=Code.INVALID)
    if amount > left:
        raise PaymentError(
            (
                _(
                    "You can refund at most %(left)s %(currency)s: %(paid)s was paid and "
                    "%(refunded)s already refunded."
                )
                if refunded
                else _("You can refund at most %(left)s %(currency)s: %(paid)s was paid.")
            )
            % {
                "left": f"{left:.2f}",
                "currency": payment.currency,
                "paid": f"{paid:.2f}",
                "refunded": f"{refunded:.2f}",
            },
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
            idempotency_key=idempotency_key,
        )
    except stripe.StripeError as error:
        logger.warning("Stripe refused a refund for %s: %s", application.pk, error)
        message = getattr(error, "user_message", None) or _(STRIPE_TIMEOUT_MESSAGE)
        raise PaymentError(
            _("Stripe refused the refund: %(message)s") % {"message": message}, code=Code.INVALID
        ) from error
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


WITHDRAWAL_REFUND_REASON = "Withdrawn before a review started (the program refunds the fee)"


def withdrawal_refund_offer(*, application: Application) -> Decimal | None:
    """What withdrawing ``application`` now would refund, by its program's policy
    (``Program.withdrawal_refund``): everything paid online and not yet refunded, if the policy
    refunds before a review starts and none has (never decided, not claimed); else None."""
    from programs.models import Program

    from ..models import Submission

    S = Application.Status
    policy = (
        Program.objects.filter(credentials__pk=application.credential_id)
        .values_list("withdrawal_refund", flat=True)
        .first()
    )
    if (
        policy != Program.WithdrawalRefund.BEFORE_REVIEW
        or application.status not in (S.APPLIED, S.SUBMITTED)
        or application.fee_status != Application.FeeStatus.PAID
        or not uses_stripe(organization_id=application.organization_id)
        or Submission.objects.filter(application=application, decided_at__isnull=False).exists()
    ):
        return None
    paid, refunded = ledger_totals(application)
    return paid - refunded if paid > refunded else None


@transaction.atomic
def fee_waive(*, application: Application, reason: str, actor: User) -> Application:
    """A program admin waives the fee owed, with a reason the educator is e-mailed."""
    from .applications import application_fee_record

    reason = reason.strip()
    if not reason:
        raise PaymentError(
            _("Give a reason for waiving the fee: the educator reads it."), code=Code.INVALID
        )
    if _locked(application).fee_status != Application.FeeStatus.OWED:
        raise PaymentError(_("Only a fee still owed can be waived."), code=Code.INVALID)
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
    if entry.application is None:  # a seat batch's payment: its page is the buyer's record
        return
    _notify(
        entry.application.pk,
        template="payment_receipt",
        subject=gettext_noop("Your receipt: fee for “%(title)s”"),
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
        subject=gettext_noop("A refund of your fee for “%(title)s”")
        if what == "refund"
        else gettext_noop("Your fee is waived for “%(title)s”"),
        what=what,
        amount=amount,
        reason=reason,
    )


def receipt_path(application: Application) -> str:
    return reverse(
        "submissions:receipt",
        kwargs={"org_slug": application.organization.slug, "public_id": application.public_id},
    )
