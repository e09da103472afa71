"""Seat codes (issue 22): batches of single-use codes that let an educator apply owing nothing.

A code is 12 symbols of 32 (60 bits, ``models.new_seat_code``), typed in any case, with or
without dashes. Using one locks its row (``select_for_update``) in the applying transaction, so
two people typing the same code at once admit exactly one application."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from programs import services as program_services
from programs.models import Credential, Organization, School, User
from programs.models_schools import SchoolAssignment

from ..errors import SubmissionErrorCode as Code
from ..models import Application, SeatBatch, SeatCode, normalized_seat_code
from .payments import PaymentError

MAX_BATCH = 5000


def seat_batch_problems(
    *, organization_id: int, size: int, expires_at: dt.datetime, credential: Credential | None
) -> dict[str, str]:
    """What is wrong with a batch asked for, by field (none: it can be made)."""
    problems = {}
    if not 1 <= size <= MAX_BATCH:
        problems["size"] = f"A batch has 1 to {MAX_BATCH} codes."
    if expires_at <= timezone.now():
        problems["expires_at"] = "The expiry must be in the future."
    if credential is not None and credential.organization_id != organization_id:
        problems["credential"] = "Choose one of this organization's credentials."
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
) -> SeatBatch:
    problems = seat_batch_problems(
        organization_id=organization.pk, size=size, expires_at=expires_at, credential=credential
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
            f"“{typed.strip()}” is not a seat code of this program: check it and try again.",
            code=Code.INVALID,
            fields={"seat_code": ["Not a seat code of this program."]},
        )
    if seat.application_id is not None or seat.used_at is not None:
        raise PaymentError(
            "This seat code has already been used.",
            code=Code.INVALID,
            fields={"seat_code": ["Already used."]},
        )
    if seat.batch.expires_at <= timezone.now():
        raise PaymentError(
            f"This seat code expired on {seat.batch.expires_at:%d %B %Y}.",
            code=Code.INVALID,
            fields={"seat_code": ["Expired."]},
        )
    if seat.batch.credential_id not in (None, credential.pk):
        raise PaymentError(
            "This seat code is for another micro-credential.",
            code=Code.INVALID,
            fields={"seat_code": ["For another micro-credential."]},
        )
    return seat


def seat_code_use(seat: SeatCode, *, application: Application) -> None:
    seat.application = application
    seat.used_by = application.educator
    seat.used_at = timezone.now()
    seat.save(update_fields=["application", "used_by", "used_at", "updated_at"])


def seat_batch_csv(batch: SeatBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "credential", "expires", "used by", "used at", "application"])
    credential = batch.credential.slug if batch.credential else "(any)"
    for seat in batch.codes.select_related("used_by", "application").order_by("pk"):
        writer.writerow(
            [
                seat.display,
                credential,
                f"{batch.expires_at:%Y-%m-%d %H:%M}",
                seat.used_by.email if seat.used_by else "",
                f"{seat.used_at:%Y-%m-%d %H:%M}" if seat.used_at else "",
                seat.application.anonymous_code if seat.application else "",
            ]
        )
    return out.getvalue()


def seat_batch_list_for_assigning(*, organization_id: int) -> list[SeatBatch]:
    """The organization's batches a school leader may hand codes from: not expired, with their
    credential, newest first."""
    return list(
        SeatBatch.objects.filter(organization_id=organization_id, expires_at__gt=timezone.now())
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
        organization_id=school.organization_id, pk=batch_id, expires_at__gt=timezone.now()
    ).first()
    if batch is None:
        raise _seat_refusal("Choose a seat-code batch of your organization that has not expired.")
    credentials = {a.credential_id for a in done.made}
    own = set(
        Credential.objects.filter(
            organization_id=school.organization_id, pk__in=credentials
        ).values_list("pk", flat=True)
    )
    if own != credentials or (batch.credential_id and credentials != {batch.credential_id}):
        raise _seat_refusal("That batch's codes are not for the credential you are assigning.")
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
            f"That batch has {len(codes)} unused code(s) left; {len(done.made)} are needed."
        )
    for assignment, code in zip(done.made, codes, strict=True):
        assignment.seat_code = code
    SchoolAssignment.objects.bulk_update(done.made, ["seat_code"])
    return done


def _seat_refusal(message: str) -> PaymentError:
    return PaymentError(message, code=Code.INVALID, fields={"seat_batch": [message]})
