"""Withdrawing an application, and what becomes of its evidence (kept a grace period when an
attempt was waiting for review: see ``housekeeping.evidence_sweep``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from credentials_site.exceptions import ApplicationError
from programs.models import User

from ..errors import SubmissionErrorCode as Code
from ..models import Application, EvidenceItem, Submission
from . import payments
from ._common import _event, _locked


def withdrawn_evidence_delete_after(*, now: dt.datetime) -> dt.datetime:
    """When the files of an attempt still waiting for review are deleted, if the application is
    withdrawn at ``now`` (``EVIDENCE_WITHDRAWN_RETENTION_DAYS``)."""
    return now + dt.timedelta(days=settings.EVIDENCE_WITHDRAWN_RETENTION_DAYS)


def _day(moment: dt.datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "j F Y")


KEPT_FOR_RECORD = gettext_noop(
    "The evidence of an attempt a reviewer already decided is kept as the record of that review."
)


def withdrawal_evidence_note(
    *, application: Application, decided_attempts: bool | None = None
) -> str:
    """What becomes of the evidence, in the educator's words: of this application if it is
    withdrawn now (the confirmation page), or of a withdrawn one (the message after withdrawing,
    the application page). ``decided_attempts``: whether a reviewer decided an attempt (read
    when not given)."""
    S = Application.Status
    if decided_attempts is None:
        decided_attempts = Submission.objects.filter(
            application=application, decided_at__isnull=False
        ).exists()
    kept = " " + _(KEPT_FOR_RECORD) if decided_attempts else ""
    if application.status == S.WITHDRAWN and application.evidence_deleted_at is not None:
        return (
            _("Your evidence was deleted on %(date)s.")
            % {"date": _day(application.evidence_deleted_at)}
            + kept
        )
    if application.status == S.WITHDRAWN and application.evidence_delete_after is not None:
        delete_after: dt.datetime | None = application.evidence_delete_after
    elif application.status == S.SUBMITTED:
        delete_after = withdrawn_evidence_delete_after(now=timezone.now())
    else:
        delete_after = None
    if delete_after is not None:
        return (
            _(
                "Your evidence will be deleted on %(date)s; download anything you want to keep "
                "before then."
            )
            % {"date": _day(delete_after)}
            + kept
        )
    if application.status == S.WITHDRAWN:
        return _("Files you had uploaded are deleted within an hour of withdrawing.") + kept
    if decided_attempts:
        return _("Files you added since your last attempt will be deleted within the hour.") + kept
    return _("Any files you uploaded will be deleted within the hour.")


@transaction.atomic
def application_withdraw(
    *, application: Application, actor: User, refund: bool = False
) -> Application:
    """Withdraw an application before a review starts. Its evidence:

    - an attempt waiting for review (SUBMITTED): its files stay, and the educator may download
      them, until ``evidence_delete_after`` (``withdrawn_evidence_delete_after``); then the
      hourly evidence sweep deletes them (``housekeeping.evidence_sweep``);
    - a draft, or a revision in progress: its items are removed, and the same sweep deletes their
      files within the hour.

    Either way, files sent with an attempt a reviewer decided stay: they are that decision's
    record (as when such a file is removed).

    ``refund``: the educator accepts the refund their program's policy offers
    (``payments.withdrawal_refund_offer``); Stripe is asked for it in the same transaction (if
    Stripe refuses, nothing is withdrawn), and the ledger follows Stripe's ``charge.refunded``."""
    application = _locked(application)
    if application.status not in Application.WITHDRAWABLE:
        raise ApplicationError(
            _("A review has started, so this application can no longer be withdrawn."),
            code=Code.NOT_EDITABLE,
        )
    offer = payments.withdrawal_refund_offer(application=application) if refund else None
    if refund and offer is None:
        raise ApplicationError(
            _(
                "No refund is offered for this application: its program does not refund the fee "
                "once a review has started, or nothing paid online is left to refund."
            ),
            code=Code.INVALID,
        )
    now = timezone.now()
    waiting = application.status == Application.Status.SUBMITTED
    application.status = Application.Status.WITHDRAWN
    fields = ["status", "updated_at"]
    if waiting:
        application.evidence_delete_after = withdrawn_evidence_delete_after(now=now)
        fields.append("evidence_delete_after")
    application.save(update_fields=fields)
    removed = [EvidenceItem.Status.PENDING]
    if not waiting:
        removed.append(EvidenceItem.Status.READY)
    EvidenceItem.objects.filter(application=application, status__in=removed).update(
        status=EvidenceItem.Status.REMOVED, updated_at=now
    )
    if application.evidence_delete_after is not None:
        _event(
            application,
            actor=actor,
            kind="withdrawn",
            message="Application withdrawn; its evidence will be deleted on "
            + _day(application.evidence_delete_after),
            evidence_delete_after=application.evidence_delete_after.isoformat(),
        )
    else:
        _event(application, actor=actor, kind="withdrawn", message="Application withdrawn")
    if offer is not None:
        payments.payment_refund(
            application=application,
            amount=offer,
            reason=payments.WITHDRAWAL_REFUND_REASON,
            actor=actor,
            idempotency_key=f"withdrawal-refund-{application.public_id}",
        )
    return application
