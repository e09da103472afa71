"""Claims: claim-next, release, expiry (on access, on claim-next and by the beat), and the
checks every action on a claim makes (its holder, its time, the holder's role).

An expired claim noticed by an action (release, save, submit) is expired in a transaction of its
own before the action runs, so the refusal that follows does not roll the expiry back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import scoped_sql
from programs.models import Organization, User
from submissions import services as submission_services
from submissions.models import Application, Submission

from .. import calibration, selectors
from ..errors import ReviewErrorCode as Code
from ..models import Claim, Review


def _scope(organization: Organization, user: User) -> selectors.ReviewerScope:
    scope = selectors.reviewer_scope(organization=organization, user=user)
    if scope is None:
        raise ApplicationError(
            _("You are not a reviewer for this organization."), code=Code.NOT_A_REVIEWER
        )
    return scope


# A few rows may turn out to be taken between finding them and locking them; past this many, the
# caller is told the queue is empty (they can simply try again).
_MAX_LOCK_TRIES = 20


def review_claim_next(
    *,
    organization: Organization,
    reviewer: User,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
) -> Claim:
    """Reserve the oldest submission this reviewer may take. Concurrent callers never get the
    same one: the row is locked and locked rows are skipped (SELECT ... FOR UPDATE SKIP LOCKED).

    A claim past its time no longer holds a submission back (the queue ignores it); the one on
    the submission taken here is expired on the way (the beat expires the others). A reviewer
    with calibration examples still to score may only adjudicate.

    A fixed number of statements, whatever the size of the queue or of the reviewer's limits
    and conflicts: the scope with the calibration gate's first look (selectors.reviewer_scope);
    then, in one transaction, the oldest eligible row, locked, with the program's claim time and
    the rubric's criteria (selectors.claimable_sql: the queue's one rule, selectors.queue_sql);
    the claim, its draft review and its empty scores, inserted only if the claims on the row
    still allow it (claim_insert); and the application's state (submissions.services). Those
    three are written in SQL because the ORM alone cost claim-next three times as long
    (benchmarks/README.md)."""
    scope = _scope(organization, reviewer)
    if adjudication and not scope.can_adjudicate:
        raise ApplicationError(
            _("Only program admins and senior reviewers adjudicate."), code=Code.NOT_A_REVIEWER
        )
    if not adjudication:
        calibration.calibration_require(organization=organization, scope=scope)
    skipped: list[int] = []
    for _attempt in range(_MAX_LOCK_TRIES):
        try:
            with transaction.atomic():
                return _claim_oldest(
                    organization=organization,
                    scope=scope,
                    program=program,
                    credential=credential,
                    adjudication=adjudication,
                    skipped=skipped,
                )
        except _Taken as taken:  # rolled back: the row is unlocked, and nothing was written
            skipped.append(taken.pk)
    raise _queue_empty()


def _queue_empty() -> ApplicationError:
    return ApplicationError(_("Nothing is waiting for you in the queue."), code=Code.QUEUE_EMPTY)


class _Taken(Exception):
    """The locked row was claimed by someone else in the meantime (internal to claim-next)."""

    def __init__(self, pk: int) -> None:
        self.pk = pk


def _claim_oldest(
    *,
    organization: Organization,
    scope: selectors.ReviewerScope,
    program: str,
    credential: str,
    adjudication: bool,
    skipped: list[int],
) -> Claim:
    """One try, in the caller's transaction: lock the oldest eligible submission (skipping rows
    other reviewers hold locked) and claim it, if it is still open once locked; raises _Taken
    when it is not, and the caller rolls this try back.

    Two races are handled here, on PostgreSQL's READ COMMITTED:

    - The statement that finds and locks a row reads a snapshot taken when it started. When
      another reviewer claimed the row and committed between that snapshot and our lock, the row
      is ours to lock but no longer eligible: PostgreSQL re-checks the conditions of a row that
      was updated meanwhile, not of one that was only locked, and never the claim subqueries.
      So the statement that inserts the claim asks again (selectors.claims_allow_sql): it is a
      statement of its own, which sees every claim committed before the lock was granted, and
      no claim can be added after that but ours, since every claimer locks the row first. When
      it no longer qualifies, nothing is inserted, and the row is skipped.
    - When every eligible row is locked by reviewers claiming it at this moment, SKIP LOCKED
      finds nothing, yet with double review the row may still need a second reviewer once they
      commit. Then we wait for the oldest one (a plain FOR UPDATE) and check it again.

    A row found taken is unlocked at once, because the whole try is rolled back (a
    transaction, or a savepoint inside the caller's): we never wait while holding another
    row's lock, and two claimers cannot deadlock. The common case, the first row found is
    still open, needs no savepoint."""
    reviewer = scope.user
    found = _lock_oldest(
        organization=organization,
        scope=scope,
        program=program,
        credential=credential,
        adjudication=adjudication,
        skipped=skipped,
    )
    if found is None:
        raise _queue_empty()
    submission = found.submission
    now = timezone.now()
    if found.lapsed_claims:
        for lapsed in Claim.objects.select_for_update(skip_locked=True).filter(
            submission=submission, status=Claim.Status.ACTIVE, expires_at__lte=now
        ):
            _end_claim(lapsed, Claim.Status.EXPIRED)
    claim = claim_insert(
        organization=organization,
        submission=submission,
        reviewer=reviewer,
        adjudication=adjudication,
        expires_at=now + dt.timedelta(hours=found.claim_hours),
        criterion_ids=found.criterion_ids,
    )
    if claim is None:  # someone else's claim on it committed before we locked it
        raise _Taken(submission.pk)
    # the service locks the application by its key and hands back the whole row, which the
    # caller shows (claim.submission.application): no query of our own for it
    submission.application = submission_services.application_review_started(
        application=Application(pk=submission.application_id, organization=organization),
        actor=reviewer,
    )
    if adjudication:
        submission_services.application_event_record(
            application=submission.application,
            actor_id=reviewer.pk,
            kind="adjudication_started",
            message="A senior reviewer started the final decision",
        )
    return claim


# The claim, its draft review and the review's empty scores (one per criterion of the rubric),
# written by one statement, and only while the claims on the locked submission still allow it
# (see _claim_oldest): the three ORM inserts and the separate check cost claim-next about 2 ms
# more (see benchmarks/README.md). The values not given here come from the model instances
# built in claim_insert, so the models' defaults stay the ones that apply.
_CLAIM_FIELDS: list[Any] = list(Claim._meta.concrete_fields)  # Any: see selectors.from_row
_CLAIM_COLUMNS = ", ".join(field.column for field in _CLAIM_FIELDS)
_CLAIM_INSERT_TEMPLATE = """
WITH claim AS (
    INSERT INTO reviews_claim
        (organization_id, public_id, submission_id, reviewer_id, status, is_adjudication,
         expires_at, created_at, updated_at)
    SELECT %(organization)s, %(claim_public_id)s, s.id, %(user)s, %(claim_status)s,
           %(adjudication)s, %(expires_at)s, %(now)s, %(now)s
    FROM submissions_submission s
    WHERE s.id = %(submission)s AND {{tenant}} AND {claims_allow}
    RETURNING {columns}
), review AS (
    INSERT INTO reviews_review
        (organization_id, public_id, submission_id, claim_id, reviewer_id, status,
         is_adjudication, decision, overall_feedback, revision_request, created_at, updated_at)
    SELECT %(organization)s, %(review_public_id)s, %(submission)s, claim.id, %(user)s,
           %(review_status)s, %(adjudication)s, %(decision)s, %(overall_feedback)s,
           %(revision_request)s, %(now)s, %(now)s
    FROM claim
    RETURNING id
), scores AS (
    INSERT INTO reviews_criterionscore
        (organization_id, review_id, criterion_id, comment, created_at, updated_at)
    SELECT %(organization)s, review.id, criterion_id, '', %(now)s, %(now)s
    FROM review, unnest(%(criterion_ids)s::bigint[]) AS criterion_id
)
SELECT {columns} FROM claim"""
_CLAIM_INSERT_SQL = {
    adjudication: _CLAIM_INSERT_TEMPLATE.format(
        claims_allow=selectors.claims_allow_sql(adjudication=adjudication),
        columns=_CLAIM_COLUMNS,
    )
    for adjudication in (False, True)
}


def claim_insert(
    *,
    organization: Organization,
    submission: Submission,
    reviewer: User,
    adjudication: bool,
    expires_at: dt.datetime,
    criterion_ids: list[int],
) -> Claim | None:
    """Insert the claim, its draft review and the review's empty scores, and return the claim;
    or insert nothing and return None when the claims on the submission no longer let this
    reviewer take it (selectors.claims_allow_sql). One statement; the caller holds the
    submission's row lock (claim-next). The tenant scope must allow the organization."""
    now = timezone.now()
    claim = Claim(organization=organization, reviewer=reviewer, is_adjudication=adjudication)
    review = Review(organization=organization, reviewer=reviewer, is_adjudication=adjudication)
    sql, params = scoped_sql(
        _CLAIM_INSERT_SQL[adjudication],
        {
            "organization": organization.pk,
            "submission": submission.pk,
            **selectors.claim_params(user=reviewer),
            "adjudication": adjudication,
            "expires_at": expires_at,
            "now": now,
            "claim_public_id": claim.public_id,
            "claim_status": claim.status,
            "review_public_id": review.public_id,
            "review_status": review.status,
            "decision": review.decision,
            "overall_feedback": review.overall_feedback,
            "revision_request": review.revision_request,
            "criterion_ids": criterion_ids,
        },
        tenant="s.organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    claim = selectors.from_row(Claim, _CLAIM_FIELDS, inserted)
    claim.organization, claim.submission, claim.reviewer = organization, submission, reviewer
    return claim


def _lock_oldest(
    *,
    organization: Organization,
    scope: selectors.ReviewerScope,
    program: str,
    credential: str,
    adjudication: bool,
    skipped: list[int],
) -> selectors.Claimable | None:
    """The oldest eligible row, locked: one skipping rows held by others, else the oldest held
    one, waiting for its lock (see _claim_oldest). The submissions assigned to the reviewer
    come first: they are looked for on their own before the rest, only by a reviewer who has
    some (the scope says so), so claim-next costs everyone else no more."""
    first = (True, None) if scope.has_assignments and not adjudication else (None,)
    for assigned in first:
        for skip_locked in (True, False):
            found = selectors.queue_oldest_locked(
                organization=organization,
                scope=scope,
                program=program,
                credential=credential,
                adjudication=adjudication,
                skipped=skipped,
                skip_locked=skip_locked,
                assigned=assigned,
            )
            if found is not None:
                return found
    return None


def _expire_if_lapsed(claim: Claim) -> None:
    """On access: a claim past its time is expired now, in its own transaction, so the
    submission is back in the queue even though the action that noticed it is refused."""
    with transaction.atomic():
        lapsed = (
            Claim.objects.select_for_update()
            .filter(pk=claim.pk, status=Claim.Status.ACTIVE, expires_at__lte=timezone.now())
            .first()
        )
        if lapsed is not None:
            _end_claim(lapsed, Claim.Status.EXPIRED)


def _active_claim(claim: Claim, reviewer: User) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.reviewer_id != reviewer.pk:
        raise ApplicationError(_("This is another reviewer's claim."), code=Code.NOT_CLAIMED)
    if claim.status == Claim.Status.EXPIRED or (
        claim.status == Claim.Status.ACTIVE and claim.expires_at <= timezone.now()
    ):
        raise ApplicationError(
            _(
                "Your claim expired and the submission went back to the queue. Claim it again to "
                "continue."
            ),
            code=Code.CLAIM_EXPIRED,
        )
    if claim.status == Claim.Status.COMPLETED:
        raise ApplicationError(
            _("You have already decided this submission."), code=Code.ALREADY_DECIDED
        )
    if claim.status != Claim.Status.ACTIVE:
        raise ApplicationError(
            _("This claim was %(status)s; claim the submission again.")
            % {"status": str(claim.get_status_display()).lower()},
            code=Code.NOT_CLAIMED,
        )
    return claim


def _require_role(claim: Claim, reviewer: User) -> None:
    """The person still holds a reviewer role here (roles can be withdrawn mid-claim), and an
    adjudication is decided only by someone who may adjudicate."""
    organization = Organization.objects.get(pk=claim.organization_id)
    scope = selectors.reviewer_scope(organization=organization, user=reviewer)
    if scope is None:
        raise ApplicationError(
            _("You are not a reviewer for this organization."), code=Code.NOT_A_REVIEWER
        )
    if claim.is_adjudication and not scope.can_adjudicate:
        raise ApplicationError(
            _("Only program admins and senior reviewers adjudicate."), code=Code.NOT_A_REVIEWER
        )


def _end_claim(claim: Claim, status: str) -> None:
    claim.status = status
    claim.ended_at = timezone.now()
    claim.save(update_fields=["status", "ended_at", "updated_at"])
    # the submission's lock orders this with a concurrent claim-next on it (which skips it)
    application_id = (
        Submission.objects.select_for_update()
        .filter(pk=claim.submission_id)
        .values_list("application_id", flat=True)[0]
    )
    if status != Claim.Status.COMPLETED:
        Review.objects.filter(claim=claim, status=Review.Status.DRAFT).delete()
        released = status == Claim.Status.RELEASED
        submission_services.application_event_record(
            application=Application(pk=application_id, organization_id=claim.organization_id),
            actor_id=claim.reviewer_id,
            kind="claim_released" if released else "claim_expired",
            message=(
                "A reviewer released the submission; it is back in the queue"
                if released
                else "A reviewer's claim expired; the submission is back in the queue"
            ),
            data={"adjudication": claim.is_adjudication},
        )
    still_reviewed = (
        Claim.objects.filter(submission_id=claim.submission_id, status=Claim.Status.ACTIVE).exists()
        or Review.objects.filter(
            submission_id=claim.submission_id, status=Review.Status.SUBMITTED
        ).exists()
    )
    if not still_reviewed:
        submission_services.application_review_paused(
            application=Application.objects.get(pk=application_id)
        )


def review_claim_release(*, claim: Claim, reviewer: User) -> Claim:
    """Give the submission back to the queue (the draft review is discarded)."""
    _expire_if_lapsed(claim)
    with transaction.atomic():
        claim = _active_claim(claim, reviewer)
        _end_claim(claim, Claim.Status.RELEASED)
    return claim


def claims_expire(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Beat (and every claim-next): claims past their time go back to the queue."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        for claim in Claim.objects.select_for_update(skip_locked=True).filter(
            organization=organization, status=Claim.Status.ACTIVE, expires_at__lte=now
        ):
            _end_claim(claim, Claim.Status.EXPIRED)
            expired += 1
    return expired
