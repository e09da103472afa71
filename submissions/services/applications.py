"""Applying, fees, submitting and returning for revision."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from credentials_site.exceptions import ApplicationError
from credentials_site.mail import in_language_of, mail_send
from credentials_site.tenancy import scoped_sql
from programs import services as program_services
from programs.models import (
    Credential,
    EvidenceRequirement,
    Organization,
    Program,
    User,
)

from ..decisions import DecidedCriterion, decided_criteria_json
from ..errors import SubmissionErrorCode as Code
from ..models import Application, EvidenceItem, QuizResponse, Submission
from ..signals import application_approved
from . import seats
from ._common import _event, _locked, add_business_days, word_count
from .evidence import _purge_quietly

logger = logging.getLogger(__name__)


# --- Applying ------------------------------------------------------------------------------------


@transaction.atomic
def application_apply(
    *, credential: Credential, educator: User, seat_code: str = ""
) -> Application:
    """Apply for a published credential: members-only and fees are decided here, once. A seat
    code (``services.seats``), when given, is used up and nothing is owed."""
    credential = (
        Credential.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=credential.pk)
    )
    version = credential.current_version
    if credential.status != Credential.Status.PUBLISHED or version is None:
        raise ApplicationError(
            _("This micro-credential is not open for applications."), code=Code.NOT_PUBLISHED
        )
    organization = Organization.objects.get(pk=credential.organization_id)
    # the membership on record, or one made now from a verified address at a listed domain
    membership = program_services.membership_join_by_domain(
        organization=organization, user=educator
    )
    is_member = membership is not None and membership.is_current()
    label = organization.short_name or organization.name
    if version.members_only and not is_member:
        if membership is not None:
            why = _("Your membership record says: %(record)s.") % {"record": membership.describe()}
        else:
            why = _("We have no %(label)s membership on record for %(email)s.") % {
                "label": label,
                "email": educator.email,
            }
        contact = organization.contact_email
        if not contact:
            ask = ""
        elif membership is not None:
            ask = " " + _("To renew it, or if this is wrong, email %(contact)s.") % {
                "contact": contact
            }
        else:
            ask = " " + _("If you are a member, email %(contact)s to have it added.") % {
                "contact": contact
            }
        raise ApplicationError(
            _("“%(title)s” is open to %(label)s members only.")
            % {"title": version.title, "label": label}
            + f" {why}{ask}",
            code=Code.MEMBERS_ONLY,
        )
    existing = Application.objects.filter(credential=credential, educator=educator).exclude(
        status__in=Application.CLOSED
    )
    if existing.exists():
        raise ApplicationError(
            _("You already have an application for “%(title)s”.") % {"title": version.title},
            code=Code.ALREADY_APPLIED,
        )
    fee = version.member_fee if is_member else (version.non_member_fee or Decimal("0"))
    seat = None
    if seat_code.strip():
        seat = seats.seat_code_take(
            organization_id=organization.pk,
            typed=seat_code,
            credential=credential,
            educator=educator,
        )
        fee = Decimal("0")
    try:
        with transaction.atomic():
            application = Application.objects.create(
                organization=organization,
                educator=educator,
                credential=credential,
                version=version,
                was_member=is_member,
                fee_amount=fee,
                fee_currency=organization.currency,
                fee_status=Application.FeeStatus.OWED if fee > 0 else Application.FeeStatus.NONE,
                fee_note=f"Seat code {seat.display}" if seat else "",
            )
            if seat is not None:
                seats.seat_code_use(seat, application=application)
    except IntegrityError:
        raise ApplicationError(
            _("You already have an application for “%(title)s”.") % {"title": version.title},
            code=Code.ALREADY_APPLIED,
        ) from None
    _event(
        application,
        actor=educator,
        kind="applied",
        message=f"Applied for “{version.title}”"
        + (f"; fee {fee:.2f} {organization.currency}" if fee > 0 else "")
        + (f"; seat code {seat.display}" if seat else ""),
    )
    return application


@transaction.atomic
def application_fee_record(
    *, application: Application, status: str, actor: User | None, note: str = ""
) -> Application:
    """A program admin records the fee as paid or waived (the seam for a payment processor)."""
    if status not in (Application.FeeStatus.PAID, Application.FeeStatus.WAIVED):
        raise ApplicationError(_("A fee can be recorded as paid or waived."), code=Code.INVALID)
    application = _locked(application)
    if application.fee_status == Application.FeeStatus.NONE:
        raise ApplicationError(_("This application has no fee."), code=Code.INVALID)
    application.fee_status = status
    application.fee_note = note[:300]
    application.fee_updated_at = timezone.now()
    application.save(update_fields=["fee_status", "fee_note", "fee_updated_at", "updated_at"])
    _event(
        application,
        actor=actor,
        kind=f"fee_{status}",
        # the timeline's record, in the one language of the database (the status's value is its
        # label in lower case)
        message=f"Fee of {application.fee_amount:.2f} {application.fee_currency} recorded as "
        f"{application.fee_status}",
    )
    return application


# --- Submitting --------------------------------------------------------------------------------


def application_gaps(*, application: Application) -> list[dict[str, str]]:
    """Everything that keeps the application from being submitted, each tied to its step."""
    requirements = list(EvidenceRequirement.objects.filter(version_id=application.version_id))
    items = list(
        EvidenceItem.objects.filter(
            application=application,
            status__in=[EvidenceItem.Status.READY, EvidenceItem.Status.PENDING],
        )
    )
    quizzes = {q.requirement_id: q for q in QuizResponse.objects.filter(application=application)}
    return gaps_of(application, requirements=requirements, items=items, quizzes=quizzes)


def gaps_of(
    application: Application,
    *,
    requirements: list[EvidenceRequirement],
    items: list[EvidenceItem],
    quizzes: dict[int, QuizResponse],
) -> list[dict[str, str]]:
    """application_gaps from rows already read: the version's requirements (in order), the
    application's ready and pending evidence items (a pending one, an upload that never arrived,
    is no evidence: it only explains why a required step is still empty), its quiz responses by
    requirement. The educator's dashboard reads them for all their applications at once
    (``selectors.evidence_state_for_applications``)."""
    gaps: list[dict[str, str]] = []
    for step, requirement in enumerate(requirements, start=1):
        mine = [i for i in items if i.requirement_id == requirement.pk]
        ready = [i for i in mine if i.status == EvidenceItem.Status.READY]

        def gap(
            message: str, requirement: EvidenceRequirement = requirement, step: int = step
        ) -> None:
            gaps.append({"step": str(step), "requirement": requirement.title, "message": message})

        kind = requirement.kind
        if kind == EvidenceRequirement.Kind.FILE:
            # An upload that never arrived (refused by storage, or the page left mid-upload) is
            # no evidence: it only says why a required step is still empty.
            unfinished = [i for i in mine if i.status == EvidenceItem.Status.PENDING]
            if requirement.required and not ready:
                gap(
                    _unfinished_message(unfinished)
                    if unfinished
                    else _("Upload at least one file.")
                )
            for item in ready:
                if not item.privacy_complete:
                    gap(
                        (
                            _(
                                "“%(name)s”: say whether students can be identified and "
                                "confirm consent is on file."
                            )
                            if item.students_identifiable
                            else _("“%(name)s”: say whether students can be identified.")
                        )
                        % {"name": item.display_name}
                    )
        elif kind == EvidenceRequirement.Kind.TEXT:
            text = ready[0].text if ready else ""
            words = word_count(text)
            if requirement.required and words == 0:
                gap(_("Write your answer."))
            elif words:
                if requirement.word_min and words < requirement.word_min:
                    gap(
                        _("Your answer has %(words)s words; write at least %(min)s.")
                        % {"words": words, "min": requirement.word_min}
                    )
                if requirement.word_max and words > requirement.word_max:
                    gap(
                        _("Your answer has %(words)s words; the limit is %(max)s.")
                        % {"words": words, "max": requirement.word_max}
                    )
        elif kind == EvidenceRequirement.Kind.LINK:
            if requirement.required and not (ready and ready[0].url):
                gap(_("Add the link."))
        elif kind == EvidenceRequirement.Kind.QUIZ:
            response = quizzes.get(requirement.pk)
            if requirement.required and (response is None or not response.passed):
                gap(
                    _("Pass the quiz (at least %(mark)s%%).")
                    % {"mark": requirement.pass_mark_percent}
                    + (
                        " "
                        + _("Your best so far: %(score)s%%.") % {"score": response.score_percent}
                        if response
                        else ""
                    )
                )
    if application.fee_status == Application.FeeStatus.OWED:
        gaps.append(
            {
                "step": "",
                "requirement": "Fee",
                "message": _(
                    "The fee of %(amount)s %(currency)s is not yet recorded as paid. Your work is "
                    "saved; contact the program to pay."
                )
                % {"amount": f"{application.fee_amount:.2f}", "currency": application.fee_currency},
            }
        )
    return gaps


def _unfinished_names(items: list[EvidenceItem]) -> str:
    names = [f"“{item.display_name}”" for item in items]
    if len(names) == 1:
        return names[0]
    return _("%(names)s and %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


def _unfinished_message(items: list[EvidenceItem]) -> str:
    return ngettext(
        "%(names)s did not finish uploading: upload it again.",
        "%(names)s did not finish uploading: upload them again.",
        len(items),
    ) % {"names": _unfinished_names(items)}


@transaction.atomic
def application_submit(*, application: Application, actor: User) -> Submission:
    """Submit (or resubmit) for review: every gap is reported at once, nothing changes if any."""
    application = _locked(application)
    if application.educator_id != actor.pk:
        raise ApplicationError(
            _("Only the educator can submit this application."), code=Code.INVALID
        )
    if application.status not in Application.EDITABLE:
        raise ApplicationError(
            _("This application is already %(status)s.")
            % {"status": application.get_status_display().lower()},
            code=Code.NOT_EDITABLE,
        )
    if actor.needs_badge_name:  # the badge this may earn names its earner (programs.accounts)
        raise ApplicationError(
            _("Tell us the name your badge will carry before you submit (My badges → Profile)."),
            code=Code.NAME_REQUIRED,
            fields={"full_name": [_("Your name as it will appear on your badges is required.")]},
        )
    gaps = application_gaps(application=application)
    if gaps:
        fields: dict[str, list[str]] = {}
        for g in gaps:  # one step can have several gaps (an unfinished upload and too few files)
            fields.setdefault(f"step_{g['step'] or 'fee'}", []).append(g["message"])
        raise ApplicationError(
            ngettext(
                "%(count)s thing to finish before you submit.",
                "%(count)s things to finish before you submit.",
                len(gaps),
            )
            % {"count": len(gaps)},
            code=Code.INCOMPLETE,
            fields=fields,
        )
    now = timezone.now()
    # Uploads that never arrived are not part of the attempt: given up, their slots deleted.
    unfinished = list(
        EvidenceItem.objects.select_for_update(of=("self",)).filter(
            application=application, status=EvidenceItem.Status.PENDING
        )
    )
    EvidenceItem.objects.filter(pk__in=[item.pk for item in unfinished]).update(
        status=EvidenceItem.Status.REMOVED, updated_at=now
    )
    for item in unfinished:
        transaction.on_commit(functools.partial(_purge_quietly, item.pk))
    resubmission = application.status == Application.Status.NEEDS_REVISION
    application.status = Application.Status.SUBMITTED
    application.submitted_at = now
    application.save(update_fields=["status", "submitted_at", "updated_at"])
    program = Program.objects.get(pk=application.credential.program_id)
    submission = Submission.objects.create(
        organization_id=application.organization_id,
        application=application,
        number=application.attempt,
        submitted_at=now,
        reviews_required=application.version.reviewers_required,
        due_at=add_business_days(now, program.turnaround_business_days),
    )
    submission.items.set(
        EvidenceItem.objects.filter(application=application, status=EvidenceItem.Status.READY)
    )
    _event(
        application,
        actor=actor,
        kind="resubmitted" if resubmission else "submitted",
        message=f"{'Resubmitted' if resubmission else 'Submitted'} for review "
        f"(attempt {application.attempt} of {application.version.max_attempts})"
        + (
            f"; left out {_unfinished_names(unfinished)}, which did not finish uploading"
            if unfinished
            else ""
        ),
    )
    transaction.on_commit(lambda: _notify_submitted(application.pk))
    return submission


def _notify_submitted(application_pk: int) -> None:
    _notify(
        application_pk,
        template="application_submitted",
        subject=gettext_noop("We received your evidence for “%(title)s”"),
    )


def _application_mail_get(application_pk: int) -> Application:
    return Application.objects.select_related("educator", "version", "organization").get(
        pk=application_pk
    )


def _notify(application_pk: int, *, template: str, subject: str, **context: Any) -> None:
    """The e-mail ``template`` (templates/mail/) to the application's educator, in the
    organization's colours and the educator's language, linking to the application; a mail
    server down is logged. ``subject``: a message id (``gettext_noop``) with ``%(title)s``."""
    application = _application_mail_get(application_pk)
    path = reverse(
        "submissions:application",
        kwargs={"org_slug": application.organization.slug, "public_id": application.public_id},
    )
    with in_language_of(application.educator):
        mail_send(
            template=template,
            subject=_(subject) % {"title": application.version.title},
            to=[application.educator.email],
            context={
                "application": application,
                "title": application.version.title,
                "application_url": settings.SITE_URL.rstrip("/") + path,
                **context,
            },
            organization=application.organization,
            fail_silently=True,
        )


@transaction.atomic
def application_return_for_revision(
    *,
    application: Application,
    summary: str,
    feedback: Sequence[DecidedCriterion | Mapping[str, Any]],
    actor: User | None,
) -> Application:
    """Called by the review decision: the educator revises and resubmits, evidence carries over.

    At the last allowed attempt the reviewer must decide instead (approve or not awarded).
    """
    rows = decided_criteria_json(feedback)
    application = _locked(application)
    if application.status not in (Application.Status.SUBMITTED, Application.Status.IN_REVIEW):
        raise ApplicationError(
            _("Only a submitted application can be returned for revision."), code=Code.NOT_EDITABLE
        )
    if application.attempt >= application.version.max_attempts:
        raise ApplicationError(
            _("This was attempt %(attempt)s of %(max)s; decide to approve or not award.")
            % {"attempt": application.attempt, "max": application.version.max_attempts},
            code=Code.ATTEMPTS_EXHAUSTED,
        )
    submission = Submission.objects.select_for_update().get(
        application=application, number=application.attempt
    )
    submission.outcome = "needs_revision"
    submission.feedback_summary = summary
    submission.feedback = rows
    submission.decided_at = timezone.now()
    submission.save(
        update_fields=["outcome", "feedback_summary", "feedback", "decided_at", "updated_at"]
    )
    application.status = Application.Status.NEEDS_REVISION
    application.attempt += 1
    application.save(update_fields=["status", "attempt", "updated_at"])
    _event(application, actor=actor, kind="needs_revision", message="Returned for revision")
    transaction.on_commit(lambda: _notify_revision(application.pk))
    return application


def _notify_revision(application_pk: int) -> None:
    application = _application_mail_get(application_pk)
    _notify(
        application_pk,
        template="application_needs_revision",
        subject=gettext_noop("Please revise your evidence for “%(title)s”"),
        left=application.version.max_attempts - application.attempt + 1,
    )


# --- Review outcomes (called by the reviews app) --------------------------------------------------


@transaction.atomic(savepoint=False)
def application_review_started(*, application: Application, actor: User) -> Application:
    """A reviewer claimed the current attempt: it can no longer be withdrawn or changed."""
    application = _locked(application)
    if application.status == Application.Status.SUBMITTED:
        application.status = Application.Status.IN_REVIEW
        application.save(update_fields=["status", "updated_at"])
        _event(application, actor=None, kind="in_review", message="A reviewer started the review")
    return application


@transaction.atomic
def application_review_paused(*, application: Application) -> Application:
    """Every claim on the attempt ended without a decision: it waits in the queue again."""
    application = _locked(application)
    if application.status == Application.Status.IN_REVIEW:
        application.status = Application.Status.SUBMITTED
        application.save(update_fields=["status", "updated_at"])
    return application


@transaction.atomic
def application_decide(
    *,
    application: Application,
    outcome: str,
    summary: str,
    feedback: Sequence[DecidedCriterion | Mapping[str, Any]],
    actor: User | None,
) -> Application:
    """Record the review's outcome on the current attempt: approve → APPROVED (the badge issue
    listens for it), not awarded → NOT_AWARDED (closed with feedback), needs revision → the
    educator revises (see application_return_for_revision). ``feedback`` is the rubric's
    criteria as decided (submissions.decisions), stored as ``Submission.feedback``."""
    if outcome == "needs_revision":
        return application_return_for_revision(
            application=application, summary=summary, feedback=feedback, actor=actor
        )
    if outcome not in ("approve", "not_awarded"):
        raise ApplicationError(
            _("Choose approve, needs revision or not awarded."), code=Code.INVALID
        )
    rows = decided_criteria_json(feedback)
    application = _locked(application)
    if application.status not in (Application.Status.SUBMITTED, Application.Status.IN_REVIEW):
        raise ApplicationError(
            _("This application is %(status)s; it cannot be decided now.")
            % {"status": application.get_status_display().lower()},
            code=Code.NOT_EDITABLE,
        )
    submission = Submission.objects.select_for_update().get(
        application=application, number=application.attempt
    )
    now = timezone.now()
    submission.outcome = outcome
    submission.feedback_summary = summary
    submission.feedback = rows
    submission.decided_at = now
    submission.save(
        update_fields=["outcome", "feedback_summary", "feedback", "decided_at", "updated_at"]
    )
    approved = outcome == "approve"
    application.status = Application.Status.APPROVED if approved else Application.Status.NOT_AWARDED
    application.save(update_fields=["status", "updated_at"])
    _event(
        application,
        actor=actor,
        kind="approved" if approved else "not_awarded",
        message="Approved: the badge will be issued" if approved else "Not awarded",
    )
    transaction.on_commit(lambda: _notify_decision(application.pk, approved=approved))
    if approved:
        organization_id, application_id = application.organization_id, application.pk
        # a listener that fails (the broker is down) is logged, not the reviewer's error: the
        # approval is committed and beat's sweep issues its badge (robust)
        transaction.on_commit(
            lambda: application_approved.send(
                sender=Application, organization_id=organization_id, application_id=application_id
            ),
            robust=True,
        )
    return application


def application_mark_awarded(*, application: Application, locked: bool = False) -> Application:
    """The badge of an approved application was issued: APPROVED → AWARDED (idempotent).

    ``locked=True``: the caller already holds ``application``'s row lock (``select_for_update``
    in its own transaction, as ``badges.services.badge_issue`` does), so the row is neither
    locked nor read again and no savepoint is made."""
    if locked:
        if not transaction.get_connection().in_atomic_block:
            raise ApplicationError(
                _("Marking an application awarded under its lock needs the locking transaction."),
                code=Code.INVALID,
            )
        return _mark_awarded(application)
    with transaction.atomic():
        return _mark_awarded(_locked(application))


def _mark_awarded(application: Application) -> Application:
    if application.status == Application.Status.AWARDED:
        return application
    if application.status != Application.Status.APPROVED:
        raise ApplicationError(
            _("This application is %(status)s; only an approved application is awarded a badge.")
            % {"status": application.get_status_display().lower()},
            code=Code.NOT_EDITABLE,
        )
    application.status = Application.Status.AWARDED
    application.save(update_fields=["status", "updated_at"])
    _event(application, actor=None, kind="awarded", message="Badge issued")
    return application


# Marking approved applications awarded, in one statement: the UPDATE and their "awarded"
# events (as ``_mark_awarded`` and ``_event`` make them). ``{tenant}`` is the tenant scope's
# filter, applied by scoped_sql.
_MARK_AWARDED_SQL = """
    WITH awarded AS (
        UPDATE submissions_application
           SET status = %(awarded)s, updated_at = %(now)s
         WHERE id = ANY(%(applications)s) AND status = %(approved)s AND {tenant}
     RETURNING id, organization_id
    )
    INSERT INTO submissions_applicationevent
           (created_at, updated_at, organization_id, application_id, actor_id, kind, message,
            data)
    SELECT %(now)s, %(now)s, organization_id, id, NULL, 'awarded', 'Badge issued', '{{}}'::jsonb
      FROM awarded
"""


def applications_mark_awarded(*, applications: Sequence[Application]) -> None:
    """``application_mark_awarded(locked=True)`` for one or many at once (``badges`` issuing):
    the caller holds every row's lock in its own transaction. The same state check (each
    APPROVED, or AWARDED already, else nothing changes), then one statement marks those still
    APPROVED awarded and records their events."""
    if not transaction.get_connection().in_atomic_block:
        raise ApplicationError(
            _("Marking applications awarded under their locks needs the locking transaction."),
            code=Code.INVALID,
        )
    for application in applications:
        if application.status not in (Application.Status.APPROVED, Application.Status.AWARDED):
            raise ApplicationError(
                _(
                    "This application is %(status)s; only an approved application is awarded "
                    "a badge."
                )
                % {"status": application.get_status_display().lower()},
                code=Code.NOT_EDITABLE,
            )
    approved = [a for a in applications if a.status == Application.Status.APPROVED]
    if not approved:
        return
    sql, params = scoped_sql(
        _MARK_AWARDED_SQL,
        {
            "awarded": Application.Status.AWARDED,
            "approved": Application.Status.APPROVED,
            "applications": [a.pk for a in approved],
            "now": timezone.now(),
        },
        tenant="organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for application in approved:
        application.status = Application.Status.AWARDED


def _notify_decision(application_pk: int, *, approved: bool) -> None:
    _notify(
        application_pk,
        template="application_approved" if approved else "application_not_awarded",
        subject=gettext_noop("“%(title)s”: approved")
        if approved
        else gettext_noop("“%(title)s”: not awarded this time"),
    )
