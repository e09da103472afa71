"""State changes of reviews: claim, release, expire, save a draft, submit a decision,
double review and adjudication, reminders. Each locks its rows and runs in one transaction; the
outcome is applied to the application through submissions.services.

An expired claim noticed by an action (release, save, submit) is expired in a transaction of its
own before the action runs, so the refusal that follows does not roll the expiry back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import scoped_sql
from programs.models import Organization, RubricCriterion, StaffRole, User
from submissions import services as submission_services
from submissions.decisions import DecidedCriterion
from submissions.models import Application, Submission

from . import calibration, selectors
from .errors import ReviewErrorCode as Code
from .models import Claim, CriterionScore, Review


def _scope(organization: Organization, user: User) -> selectors.ReviewerScope:
    scope = selectors.reviewer_scope(organization=organization, user=user)
    if scope is None:
        raise ApplicationError(
            "You are not a reviewer for this organization.", code=Code.NOT_A_REVIEWER
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
            "Only program admins and senior reviewers adjudicate.", code=Code.NOT_A_REVIEWER
        )
    if not adjudication and scope.calibration_active:
        pending = calibration.calibration_pending(
            organization=organization, reviewer=reviewer, scope=scope
        )
        if pending:
            n = len(pending)
            raise ApplicationError(
                f"Score the {n} calibration example{'s' if n != 1 else ''} before you take live "
                "submissions.",
                code=calibration.CalibrationErrorCode.NOT_CALIBRATED,
            )
    skipped: list[int] = []
    for _ in range(_MAX_LOCK_TRIES):
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
    return ApplicationError("Nothing is waiting for you in the queue.", code=Code.QUEUE_EMPTY)


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
    one, waiting for its lock (see _claim_oldest)."""
    for skip_locked in (True, False):
        found = selectors.queue_oldest_locked(
            organization=organization,
            scope=scope,
            program=program,
            credential=credential,
            adjudication=adjudication,
            skipped=skipped,
            skip_locked=skip_locked,
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
        raise ApplicationError("This is another reviewer's claim.", code=Code.NOT_CLAIMED)
    if claim.status == Claim.Status.EXPIRED or (
        claim.status == Claim.Status.ACTIVE and claim.expires_at <= timezone.now()
    ):
        raise ApplicationError(
            "Your claim expired and the submission went back to the queue. Claim it again to "
            "continue.",
            code=Code.CLAIM_EXPIRED,
        )
    if claim.status == Claim.Status.COMPLETED:
        raise ApplicationError(
            "You have already decided this submission.", code=Code.ALREADY_DECIDED
        )
    if claim.status != Claim.Status.ACTIVE:
        raise ApplicationError(
            f"This claim was {claim.get_status_display().lower()}; claim the submission again.",
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
            "You are not a reviewer for this organization.", code=Code.NOT_A_REVIEWER
        )
    if claim.is_adjudication and not scope.can_adjudicate:
        raise ApplicationError(
            "Only program admins and senior reviewers adjudicate.", code=Code.NOT_A_REVIEWER
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


def _clean_scores(scores: dict[Any, Any]) -> dict[int, dict[str, Any]]:
    """``{criterion_id: {"score": int | None, "comment": str}}`` with integer keys and scores
    (a form's "2" becomes 2, an empty rating None); anything else is refused, not crashed on."""
    cleaned: dict[int, dict[str, Any]] = {}
    bad: dict[str, list[str]] = {}
    for key, values in scores.items():
        try:
            criterion_id = int(key)
        except (TypeError, ValueError):
            bad[f"criterion_{key}"] = ["Not a criterion of this rubric."]
            continue
        if not isinstance(values, dict):
            bad[f"criterion_{key}"] = ["Give a rating and a comment."]
            continue
        entry = dict(values)
        if "score" in entry:
            score = entry["score"]
            if isinstance(score, str):
                score = score.strip()
                score = int(score) if score.isdigit() else (None if score == "" else score)
            if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
                bad[f"criterion_{key}"] = ["Choose one of the criterion's levels."]
                continue
            entry["score"] = score
        cleaned[criterion_id] = entry
    if bad:
        raise ApplicationError(
            "Some ratings are not on the rubric's scale.", code=Code.INVALID, fields=bad
        )
    return cleaned


def _write_scores(review: Review, scores: dict[int, dict[str, Any]]) -> None:
    existing = {s.criterion_id: s for s in CriterionScore.objects.filter(review=review)}
    for criterion_id, values in scores.items():
        row = existing.get(int(criterion_id))
        if row is None:
            continue  # a criterion of another version: ignored
        if "score" in values:
            row.score = values["score"]
        if "comment" in values:
            row.comment = str(values["comment"] or "")[:5000]
        row.save(update_fields=["score", "comment", "updated_at"])


def review_save_draft(
    *,
    claim: Claim,
    reviewer: User,
    scores: dict[int, dict[str, Any]],
    overall_feedback: str = "",
    revision_request: str = "",
    decision: str = "",
) -> Review:
    """Save what the reviewer has so far; nothing is checked for completeness yet."""
    scores = _clean_scores(scores)
    _expire_if_lapsed(claim)
    with transaction.atomic():
        _require_role(claim, reviewer)
        claim = _active_claim(claim, reviewer)
        review = Review.objects.select_for_update().get(claim=claim)
        _validate_levels(review, scores)
        _write_scores(review, scores)
        review.overall_feedback = overall_feedback
        review.revision_request = revision_request
        review.decision = decision if decision in Review.Decision.values else ""
        review.save(
            update_fields=["overall_feedback", "revision_request", "decision", "updated_at"]
        )
    return review


def _validate_levels(review: Review, scores: dict[int, dict[str, Any]]) -> None:
    criteria = {
        c.pk: c
        for c in RubricCriterion.objects.filter(
            version_id=review.submission.application.version_id
        ).prefetch_related("levels")
    }
    errors: dict[str, list[str]] = {}
    for criterion_id, values in scores.items():
        criterion = criteria.get(int(criterion_id))
        score = values.get("score")
        if criterion is None or score is None:
            continue
        allowed = sorted(level.score for level in criterion.levels.all())
        if score not in allowed:
            errors[f"criterion_{criterion_id}"] = [
                f"“{criterion.title}”: choose one of its levels "
                f"({', '.join(str(a) for a in allowed)})."
            ]
    if errors:
        raise ApplicationError(
            "Some ratings are not on the rubric's scale.", code=Code.INVALID, fields=errors
        )


def review_submit(
    *,
    claim: Claim,
    reviewer: User,
    scores: dict[int, dict[str, Any]],
    overall_feedback: str,
    decision: str,
    revision_request: str = "",
) -> Review:
    """Submit the review: every criterion rated, feedback written, a decision made — or nothing
    is saved and every gap is reported. Then the outcome is applied (single review), waits for
    the second reviewer (double review), or goes to an adjudicator when the two disagree."""
    scores = _clean_scores(scores)
    _expire_if_lapsed(claim)
    with transaction.atomic():
        _require_role(claim, reviewer)
        claim = _active_claim(claim, reviewer)
        review = Review.objects.select_for_update().get(claim=claim)
        submission = Submission.objects.select_for_update().get(pk=claim.submission_id)
        application = Application.objects.select_related("version").get(
            pk=submission.application_id
        )
        if application.educator_id == reviewer.pk:
            raise ApplicationError(
                "You cannot review your own submission.", code=Code.OWN_SUBMISSION
            )
        if submission.outcome:
            raise ApplicationError(
                "This submission has already been decided.", code=Code.ALREADY_DECIDED
            )
        _validate_levels(review, scores)
        criteria = list(
            RubricCriterion.objects.filter(version_id=application.version_id).prefetch_related(
                "levels"
            )
        )
        errors: dict[str, list[str]] = {}
        for criterion in criteria:
            if scores.get(criterion.pk, {}).get("score") is None:
                errors[f"criterion_{criterion.pk}"] = [f"Rate “{criterion.title}”."]
        if decision not in Review.Decision.values:
            errors["decision"] = ["Choose approve, needs revision or not awarded."]
        if not overall_feedback.strip():
            errors["overall_feedback"] = ["Write your overall feedback to the educator."]
        if decision == Review.Decision.NEEDS_REVISION:
            if not revision_request.strip():
                errors["revision_request"] = ["Say what the educator should change."]
            if application.attempt >= application.version.max_attempts:
                errors["decision"] = [
                    f"This is attempt {application.attempt} of "
                    f"{application.version.max_attempts}: approve or do not award."
                ]
        if errors:
            raise ApplicationError(
                f"{len(errors)} thing{'s' if len(errors) != 1 else ''} missing before you can "
                "submit this review.",
                code=Code.INCOMPLETE,
                fields=errors,
            )
        if decision == Review.Decision.APPROVE:
            _require_passing(criteria, scores)
        _write_scores(review, scores)
        review.overall_feedback = overall_feedback
        review.revision_request = revision_request
        review.decision = decision
        review.status = Review.Status.SUBMITTED
        review.submitted_at = timezone.now()
        review.save()
        _end_claim(claim, Claim.Status.COMPLETED)
        _resolve(submission, application, review, criteria)
    return review


def _require_passing(criteria: list[RubricCriterion], scores: dict[int, dict[str, Any]]) -> None:
    """Approval follows the rubric: every criterion must reach its passing level, in a single
    review, each of a double review's and an adjudication alike; otherwise nothing is saved and
    each criterion below passing is named."""
    below: dict[str, list[str]] = {}
    for criterion in criteria:
        score: int = scores[criterion.pk]["score"]  # every criterion is rated by now
        if criterion.reaches_passing(score):
            continue
        levels = {level.score: level.label for level in criterion.levels.all()}
        below[f"criterion_{criterion.pk}"] = [
            f"“{criterion.title}” is rated “{levels.get(score, score)}” ({score}); approving "
            f"needs at least “{levels.get(criterion.passing_score, criterion.passing_score)}” "
            f"({criterion.passing_score})."
        ]
    if not below:
        return
    count = len(below)
    below["decision"] = [
        f"Approve needs every criterion at its passing level; {count} "
        f"{'is' if count == 1 else 'are'} below it. Ask for a revision or do not award."
    ]
    raise ApplicationError(
        f"You cannot approve: {count} criteri{'on is' if count == 1 else 'a are'} below the "
        "passing level.",
        code=Code.BELOW_PASSING,
        fields=below,
    )


def _resolve(
    submission: Submission,
    application: Application,
    review: Review,
    criteria: list[RubricCriterion],
) -> None:
    if review.is_adjudication or submission.reviews_required <= 1:
        _apply(application, review, criteria)
        return
    reviews = list(
        Review.objects.filter(
            submission=submission, status=Review.Status.SUBMITTED, is_adjudication=False
        )
    )
    submission_services.application_event_record(
        application=application,
        actor_id=review.reviewer_id,
        kind="review_submitted",
        message=f"Review {len(reviews)} of {submission.reviews_required} submitted",
        data={"decision": review.decision},
    )
    if len(reviews) < submission.reviews_required:
        return
    if len({r.decision for r in reviews}) == 1:
        _apply(application, review, criteria)
        return
    submission_services.submission_mark_for_adjudication(
        submission=submission,
        actor_id=review.reviewer_id,
        decisions=[r.decision for r in reviews],
    )


def _apply(application: Application, review: Review, criteria: list[RubricCriterion]) -> None:
    levels: dict[tuple[int, int | None], str] = {
        (c.pk, level.score): level.label for c in criteria for level in c.levels.all()
    }
    scores = {s.criterion_id: s for s in CriterionScore.objects.filter(review=review)}
    feedback = [
        DecidedCriterion(
            criterion_id=c.pk,
            title=c.title,
            requirement_id=c.requirement_id,
            score=scores[c.pk].score if c.pk in scores else None,
            label=levels.get((c.pk, scores[c.pk].score), "") if c.pk in scores else "",
            comment=scores[c.pk].comment if c.pk in scores else "",
        )
        for c in criteria
    ]
    summary = review.overall_feedback
    if review.decision == Review.Decision.NEEDS_REVISION and review.revision_request:
        summary = f"{summary}\n\nWhat to change: {review.revision_request}"
    submission_services.application_decide(
        application=application,
        outcome=review.decision,
        summary=summary,
        feedback=feedback,
        actor=review.reviewer,
    )


# --- Reminders (Celery beat) ---------------------------------------------------------------------

REMIND_BEFORE_EXPIRY = dt.timedelta(hours=6)


def _queue_url(organization: Organization) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/o/{organization.slug}/review/"


def _when(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def _send_later(messages: list[tuple[str, str, str]]) -> None:
    """Send (subject, body, recipient) e-mails once the transaction has committed."""

    def send() -> None:
        for subject, body, recipient in messages:
            send_mail(
                subject=subject,
                message=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[recipient],
                fail_silently=True,
            )

    transaction.on_commit(send)


def claims_remind(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """E-mail each reviewer whose active claims expire within six hours, once per claim (one
    e-mail per reviewer listing them). Returns how many claims were reminded about.

    The e-mail names the credential and the anonymous code only, never the educator."""
    now = now or timezone.now()
    with transaction.atomic():
        claims = list(
            Claim.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                organization=organization,
                status=Claim.Status.ACTIVE,
                reminded_at__isnull=True,
                expires_at__gt=now,
                expires_at__lte=now + REMIND_BEFORE_EXPIRY,
            )
            .select_related("reviewer", "submission__application__version")
            .order_by("reviewer_id", "expires_at")
        )
        if not claims:
            return 0
        Claim.objects.filter(pk__in=[c.pk for c in claims]).update(reminded_at=now, updated_at=now)
        by_reviewer: dict[int, list[Claim]] = {}
        for claim in claims:
            by_reviewer.setdefault(claim.reviewer_id, []).append(claim)
        label = organization.short_name or organization.name
        messages = []
        for mine in by_reviewer.values():
            lines = [
                f"- “{c.submission.application.version.title}” "
                f"({c.submission.application.anonymous_code}, attempt {c.submission.number}): "
                f"your claim ends {_when(c.expires_at)}"
                for c in mine
            ]
            n = len(mine)
            messages.append(
                (
                    f"{label}: {n} review{'s' if n != 1 else ''} you claimed "
                    f"{'go' if n != 1 else 'goes'} back to the queue soon",
                    "Finish and submit your review, or release the claim, before it ends; "
                    "otherwise the submission goes back to the queue and your draft is "
                    "discarded.\n\n" + "\n".join(lines) + f"\n\n{_queue_url(organization)}\n",
                    mine[0].reviewer.email,
                )
            )
        _send_later(messages)
    return len(claims)


def overdue_notify(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """E-mail the organization's program admins and owners (or, if it has none, its contact
    address) about undecided submissions past their turnaround target, once per submission:
    one e-mail per person listing them. Returns how many submissions were reported."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            Submission.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                organization=organization,
                outcome="",
                due_at__lte=now,
                overdue_notified_at__isnull=True,
                application__attempt=F("number"),
                application__status__in=[
                    Application.Status.SUBMITTED,
                    Application.Status.IN_REVIEW,
                ],
            )
            .select_related("application__version")
            .order_by("due_at", "pk")
        )
        if not overdue:
            return 0
        recipients = sorted(
            set(
                StaffRole.objects.filter(
                    organization=organization,
                    role__in=StaffRole.ADMIN_ROLES,
                    user__is_active=True,
                ).values_list("user__email", flat=True)
            )
        )
        if not recipients and organization.contact_email:
            recipients = [organization.contact_email]
        if not recipients:
            return 0  # nobody to tell: try again on the next run
        Submission.objects.filter(pk__in=[s.pk for s in overdue]).update(
            overdue_notified_at=now, updated_at=now
        )
        lines = []
        for submission in overdue:
            due = submission.due_at or now  # never empty here: filtered on
            late = (now - due).days
            lines.append(
                f"- “{submission.application.version.title}” "
                f"({submission.application.anonymous_code}, attempt {submission.number}): "
                f"submitted {submission.submitted_at:%d %b %Y}, due {due:%d %b %Y}"
                + (f", {late} day{'s' if late != 1 else ''} late" if late >= 1 else "")
                + (", waiting for adjudication" if submission.needs_adjudication else "")
            )
        n = len(overdue)
        label = organization.short_name or organization.name
        subject = f"{label}: {n} submission{'s' if n != 1 else ''} past the turnaround target"
        body = (
            f"{'These submissions have' if n != 1 else 'This submission has'} not been decided "
            "within the program's turnaround target:\n\n"
            + "\n".join(lines)
            + f"\n\nThe review queue: {_queue_url(organization)}\n"
        )
        _send_later([(subject, body, recipient) for recipient in recipients])
    return n
