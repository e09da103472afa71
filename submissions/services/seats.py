"""Seat codes (issue 22): batches of single-use codes that let an educator apply owing nothing.

A code is 12 symbols of 32 (60 bits, ``models.new_seat_code``), typed in any case, with or
without dashes. Using one locks its row (``select_for_update``) in the applying transaction, so
two people typing the same code at once admit exactly one application.

A batch is issued free, or bought by card: one Checkout payment of N x the price each, after
which only Stripe's signed webhook (``payments``) makes its codes usable; a checkout abandoned
or expired leaves them unusable."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from programs import services as program_services
from programs.models import Credential, Organization, School, User
from programs.models_schools import SchoolAssignment
from programs.services.roster_export import csv_safe

from ..errors import SubmissionErrorCode as Code
from ..models import Application, SeatBatch, SeatCode, normalized_seat_code
from . import payments
from .payments import PaymentError

MAX_BATCH = 5000


def seat_batch_problems(
    *,
    organization_id: int,
    size: int,
    expires_at: dt.datetime,
    credential: Credential | None,
    price_each: Decimal | None = None,
) -> dict[str, str]:
    """What is wrong with a batch asked for, by field (none: it can be made). ``price_each``:
    the batch is to be paid by card (checked: the organization takes payments with Stripe)."""
    problems = {}
    if price_each is not None:
        if price_each <= 0:
            problems["price_each"] = _("A batch paid by card needs a price per seat above zero.")
        elif not payments.uses_stripe(organization_id=organization_id):
            problems["price_each"] = _(
                "This organization takes no card payments (Payment settings): issue the batch "
                "free and invoice it."
            )
    if not 1 <= size <= MAX_BATCH:
        problems["size"] = _("A batch has 1 to %(max)s codes.") % {"max": MAX_BATCH}
    if expires_at <= timezone.now():
        problems["expires_at"] = _("The expiry must be in the future.")
    if credential is not None and credential.organization_id != organization_id:
        problems["credential"] = _("Choose one of this organization's credentials.")
    return problems


@transaction.atomic
def seat_batch_create(
    *,
    organization: Organization,
    size: int,
    expires_at: dt.datetime,
    credential: Credential | None,
    actor: User | None,
    note: str = "",
    price_each: Decimal | None = None,
    buyer_organization: Organization | None = None,
) -> SeatBatch:
    """N codes at once. Free (``price_each`` None): usable now. Paid by card: unusable until
    Stripe's webhook records the payment of N x ``price_each`` (``seat_batch_checkout_start``)."""
    problems = seat_batch_problems(
        organization_id=organization.pk,
        size=size,
        expires_at=expires_at,
        credential=credential,
        price_each=price_each,
    )
    if problems:
        raise PaymentError(
            " ".join(problems.values()),
            code=Code.INVALID,
            fields={k: [v] for k, v in problems.items()},
        )
    batch = SeatBatch.objects.create(
        organization=organization,
        credential=credential,
        size=size,
        expires_at=expires_at,
        note=note,
        created_by=actor,
        buyer_organization=buyer_organization,
        payment=SeatBatch.Payment.FREE if price_each is None else SeatBatch.Payment.UNPAID,
        price_each=price_each,
        currency=organization.currency if price_each is not None else "",
    )
    made = 0
    while made < size:  # a clash of 60-bit codes is all but impossible; retried if it happens
        try:
            with transaction.atomic():
                SeatCode.objects.bulk_create(
                    SeatCode(organization=organization, batch=batch) for _ in range(size - made)
                )
            made = size
        except IntegrityError:
            continue
    return batch


BOUGHT_SEATS_VALID_DAYS = 365


def seat_batch_buy(
    *,
    organization: Organization,
    credential: Credential,
    size: int,
    buyer_organization: Organization,
    actor: User,
) -> SeatBatch:
    """A district (or any organization) buys N seats of one of ``organization``'s credentials
    for its staff, at the credential's non-member fee each, valid a year: an unpaid batch, to
    pay with ``seat_batch_checkout_start``. Only its administrators buy for it."""
    from programs import selectors as program_selectors

    if buyer_organization.pk not in program_selectors.organization_ids_administered_by(user=actor):
        raise PaymentError(
            _("You can buy seats only for an organization you administer."),
            code=Code.INVALID,
            fields={"buyer_organization": [_("Choose an organization you administer.")]},
        )
    version = credential.current_version
    if (
        credential.organization_id != organization.pk
        or credential.status != Credential.Status.PUBLISHED
        or version is None
        or not version.non_member_fee
    ):
        raise PaymentError(
            _(
                "Seats can be bought for this organization's published micro-credentials with "
                "a fee."
            ),
            code=Code.INVALID,
            fields={"credential": [_("Choose one of the micro-credentials listed.")]},
        )
    return seat_batch_create(
        organization=organization,
        size=size,
        expires_at=timezone.now() + dt.timedelta(days=BOUGHT_SEATS_VALID_DAYS),
        credential=credential,
        actor=actor,
        note=f"Bought for {buyer_organization.name}",
        price_each=version.non_member_fee,
        buyer_organization=buyer_organization,
    )


def seat_batch_checkout_start(*, batch: SeatBatch, actor: User, return_url: str) -> str:
    """One Stripe Checkout Session for the whole unpaid batch (N x the price each); its URL.
    The codes become usable when the signed ``checkout.session.completed`` (or
    ``async_payment_succeeded``) arrives, never on the way back from Checkout."""
    if batch.payment != SeatBatch.Payment.UNPAID:
        raise PaymentError(
            _("There is nothing to pay for this batch: %(payment)s.")
            % {"payment": batch.get_payment_display().lower()},
            code=Code.INVALID,
        )
    if batch.expires_at <= timezone.now():
        raise PaymentError(
            _("This batch has expired: make a new one rather than pay for it."), code=Code.INVALID
        )
    organization = Organization.objects.get(pk=batch.organization_id)
    what = (
        str(batch.credential)
        if batch.credential
        else _("any %(organization)s credential") % {"organization": organization.name}
    )
    session = payments.checkout_session_create(
        organization=organization,
        reference={"seat_batch": str(batch.public_id)},
        email=actor.email,
        name=ngettext("%(count)s seat code: %(what)s", "%(count)s seat codes: %(what)s", batch.size)
        % {"count": batch.size, "what": what},
        description=_("%(organization)s, valid until %(date)s")
        % {"organization": organization.name, "date": date_format(batch.expires_at, "j F Y")},
        quantity=batch.size,
        unit_amount=batch.price_each or Decimal(0),
        currency=batch.currency,
        return_url=settings.SITE_URL.rstrip("/") + return_url,
        idempotency_key=f"seats-{batch.public_id}-{timezone.now():%Y%m%d%H%M}",
    )
    SeatBatch.objects.filter(pk=batch.pk).update(
        checkout_session_id=session["id"], updated_at=timezone.now()
    )
    return str(session.url)


def seat_code_take(
    *, organization_id: int, typed: str, credential: Credential, educator: User
) -> SeatCode:
    """The code typed, locked, checked (this organization's, unused, not expired, for this
    credential). Call inside the applying transaction; ``seat_code_use`` then marks it."""
    code = normalized_seat_code(typed)
    seat = (
        SeatCode.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(organization_id=organization_id, code=code)
        .first()
        if code
        else None
    )
    if seat is None:
        raise PaymentError(
            _("“%(typed)s” is not a seat code of this program: check it and try again.")
            % {"typed": typed.strip()},
            code=Code.INVALID,
            fields={"seat_code": [_("Not a seat code of this program.")]},
        )
    if not seat.batch.usable:
        raise PaymentError(
            _("This seat code is not paid for yet: ask whoever gave it to you.")
            if seat.batch.payment == SeatBatch.Payment.UNPAID
            else _("This seat code was refunded and can no longer be used."),
            code=Code.INVALID,
            fields={
                "seat_code": [
                    _("Not usable: %(payment)s")
                    % {"payment": seat.batch.get_payment_display().lower()}
                ]
            },
        )
    if seat.application_id is not None or seat.used_at is not None:
        raise PaymentError(
            _("This seat code has already been used."),
            code=Code.INVALID,
            fields={"seat_code": [_("Already used.")]},
        )
    if seat.batch.expires_at <= timezone.now():
        raise PaymentError(
            _("This seat code expired on %(date)s.")
            % {"date": date_format(seat.batch.expires_at, "d F Y")},
            code=Code.INVALID,
            fields={"seat_code": [_("Expired.")]},
        )
    if seat.batch.credential_id not in (None, credential.pk):
        raise PaymentError(
            _("This seat code is for another micro-credential."),
            code=Code.INVALID,
            fields={"seat_code": [_("For another micro-credential.")]},
        )
    return seat


def seat_code_use(seat: SeatCode, *, application: Application) -> None:
    seat.application = application
    seat.used_by = application.educator
    seat.used_at = timezone.now()
    seat.save(update_fields=["application", "used_by", "used_at", "updated_at"])


def seat_batch_csv(batch: SeatBatch) -> str:
    """The batch's codes, who used each and for which application; every cell made safe to
    open in a spreadsheet (``csv_safe``: an e-mail or note starting with = + - @ runs nothing)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["code", "credential", "expires", "used by", "used at", "application", "usable"]
    )
    credential = batch.credential.slug if batch.credential else "(any)"
    usable = "yes" if batch.usable else batch.get_payment_display()
    for seat in batch.codes.select_related("used_by", "application").order_by("pk"):
        writer.writerow(
            csv_safe(value)
            for value in (
                seat.display,
                credential,
                f"{batch.expires_at:%Y-%m-%d %H:%M}",
                seat.used_by.email if seat.used_by else "",
                f"{seat.used_at:%Y-%m-%d %H:%M}" if seat.used_at else "",
                seat.application.anonymous_code if seat.application else "",
                usable,
            )
        )
    return out.getvalue()


def seat_batch_list_for_assigning(*, organization_id: int) -> list[SeatBatch]:
    """The organization's batches a school leader may hand codes from: not expired, usable (free
    or paid for), with their credential, newest first."""
    return list(
        SeatBatch.objects.filter(
            organization_id=organization_id,
            expires_at__gt=timezone.now(),
            payment__in=SeatBatch.USABLE,
        )
        .select_related("credential__current_version")
        .order_by("-created_at")
    )


@transaction.atomic
def school_assign_with_seats(
    *, school: School, batch_id: int | None, **assign: Any
) -> program_services.Assigned:
    """``programs.services.school_assign``, and with ``batch_id`` each new assignment gets one
    unused seat code of that batch (the educator types it when applying and owes nothing). Not
    enough codes, an expired batch or one for another credential: refused, nothing assigned."""
    done = program_services.school_assign(school=school, **assign)
    if not batch_id or not done.made:
        return done
    batch = SeatBatch.objects.filter(
        organization_id=school.organization_id,
        pk=batch_id,
        expires_at__gt=timezone.now(),
        payment__in=SeatBatch.USABLE,
    ).first()
    if batch is None:
        raise _seat_refusal(
            _("Choose a seat-code batch of your organization that is paid for and has not expired.")
        )
    credentials = {a.credential_id for a in done.made}
    own = set(
        Credential.objects.filter(
            organization_id=school.organization_id, pk__in=credentials
        ).values_list("pk", flat=True)
    )
    if own != credentials or (batch.credential_id and credentials != {batch.credential_id}):
        raise _seat_refusal(_("That batch's codes are not for the credential you are assigning."))
    given = SchoolAssignment.objects.filter(organization_id=school.organization_id).exclude(
        seat_code=""
    )
    codes = list(
        SeatCode.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, application__isnull=True, used_at__isnull=True)
        .exclude(code__in=given.values("seat_code"))
        .order_by("pk")
        .values_list("code", flat=True)[: len(done.made)]
    )
    if len(codes) < len(done.made):
        raise _seat_refusal(
            _("That batch has %(left)s unused code(s) left; %(needed)s are needed.")
            % {"left": len(codes), "needed": len(done.made)}
        )
    for assignment, code in zip(done.made, codes, strict=True):
        assignment.seat_code = code
    SchoolAssignment.objects.bulk_update(done.made, ["seat_code"])
    return done


def _seat_refusal(message: str) -> PaymentError:
    return PaymentError(message, code=Code.INVALID, fields={"seat_batch": [message]})
