"""State changes of reviews: claim, release, expire, save a draft, submit a decision,
double review and adjudication. Each locks its rows and runs in one transaction; the outcome is
applied to the application through submissions.services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, Program, RubricCriterion, User
from submissions import services as submission_services
from submissions.models import Application, Submission

from . import selectors
from .errors import ReviewErrorCode as Code
from .models import Claim, CriterionScore, Review


def _scope(organization: Organization, user: User) -> selectors.ReviewerScope:
    scope = selectors.reviewer_scope(organization=organization, user=user)
    if scope is None:
        raise ApplicationError(
            "You are not a reviewer for this organization.", code=Code.NOT_A_REVIEWER
        )
    return scope


def _claim_hours(submission: Submission) -> int:
    program_id = Application.objects.filter(pk=submission.application_id).values_list(
        "credential__program_id", flat=True
    )[0]
    return int(Program.objects.filter(pk=program_id).values_list("claim_hours", flat=True)[0])


@transaction.atomic
def review_claim_next(
    *,
    organization: Organization,
    reviewer: User,
    program: str = "",
    credential: str = "",
    adjudication: bool = False,
) -> Claim:
    """Reserve the oldest submission this reviewer may take. Concurrent callers never get the
    same one: the row is locked and locked rows are skipped (SELECT ... FOR UPDATE SKIP LOCKED)."""
    scope = _scope(organization, reviewer)
    if adjudication and not scope.can_adjudicate:
        raise ApplicationError(
            "Only program admins and senior reviewers adjudicate.", code=Code.NOT_A_REVIEWER
        )
    submission = (
        selectors.queue_list(
            organization=organization,
            scope=scope,
            program=program,
            credential=credential,
            adjudication=adjudication,
        )
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if submission is None:
        raise ApplicationError("Nothing is waiting for you in the queue.", code=Code.QUEUE_EMPTY)
    now = timezone.now()
    claim = Claim.objects.create(
        organization=organization,
        submission=submission,
        reviewer=reviewer,
        is_adjudication=adjudication,
        expires_at=now + dt.timedelta(hours=_claim_hours(submission)),
    )
    review = Review.objects.create(
        organization=organization,
        submission=submission,
        claim=claim,
        reviewer=reviewer,
        is_adjudication=adjudication,
    )
    criteria = RubricCriterion.objects.filter(
        version_id=submission.application.version_id
    ).values_list("pk", flat=True)
    CriterionScore.objects.bulk_create(
        CriterionScore(organization=organization, review=review, criterion_id=pk) for pk in criteria
    )
    submission_services.application_review_started(
        application=submission.application, actor=reviewer
    )
    return claim


def _active_claim(claim: Claim, reviewer: User) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.reviewer_id != reviewer.pk:
        raise ApplicationError("This is another reviewer's claim.", code=Code.NOT_CLAIMED)
    if claim.status == Claim.Status.ACTIVE and claim.expires_at <= timezone.now():
        _end_claim(claim, Claim.Status.EXPIRED)
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


def _end_claim(claim: Claim, status: str) -> None:
    claim.status = status
    claim.ended_at = timezone.now()
    claim.save(update_fields=["status", "ended_at", "updated_at"])
    if status != Claim.Status.COMPLETED:
        Review.objects.filter(claim=claim, status=Review.Status.DRAFT).delete()
    still_reviewed = (
        Claim.objects.filter(submission_id=claim.submission_id, status=Claim.Status.ACTIVE).exists()
        or Review.objects.filter(
            submission_id=claim.submission_id, status=Review.Status.SUBMITTED
        ).exists()
    )
    if not still_reviewed:
        application_id = Submission.objects.filter(pk=claim.submission_id).values_list(
            "application_id", flat=True
        )[0]
        submission_services.application_review_paused(
            application=Application.objects.get(pk=application_id)
        )


@transaction.atomic
def review_claim_release(*, claim: Claim, reviewer: User) -> Claim:
    """Give the submission back to the queue (the draft review is discarded)."""
    claim = _active_claim(claim, reviewer)
    _end_claim(claim, Claim.Status.RELEASED)
    return claim


def claims_expire(*, organization: Organization, now: dt.datetime | None = None) -> int:
    """Beat: claims past their time go back to the queue."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        for claim in Claim.objects.select_for_update(skip_locked=True).filter(
            organization=organization, status=Claim.Status.ACTIVE, expires_at__lte=now
        ):
            _end_claim(claim, Claim.Status.EXPIRED)
            expired += 1
    return expired


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


@transaction.atomic
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
    claim = _active_claim(claim, reviewer)
    review = Review.objects.select_for_update().get(claim=claim)
    _validate_levels(review, scores)
    _write_scores(review, scores)
    review.overall_feedback = overall_feedback
    review.revision_request = revision_request
    review.decision = decision if decision in Review.Decision.values else ""
    review.save(update_fields=["overall_feedback", "revision_request", "decision", "updated_at"])
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
        allowed = {level.score for level in criterion.levels.all()}
        if score not in allowed:
            errors[f"criterion_{criterion_id}"] = [
                f"“{criterion.title}”: choose one of its levels."
            ]
    if errors:
        raise ApplicationError(
            "Some ratings are not on the rubric's scale.", code=Code.INVALID, fields=errors
        )


@transaction.atomic
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
    scores = {int(k): v for k, v in scores.items()}
    claim = _active_claim(claim, reviewer)
    review = Review.objects.select_for_update().get(claim=claim)
    submission = Submission.objects.select_for_update().get(pk=claim.submission_id)
    application = Application.objects.select_related("version").get(pk=submission.application_id)
    if application.educator_id == reviewer.pk:
        raise ApplicationError("You cannot review your own submission.", code=Code.OWN_SUBMISSION)
    if submission.outcome:
        raise ApplicationError(
            "This submission has already been decided.", code=Code.ALREADY_DECIDED
        )
    _validate_levels(review, scores)
    criteria = list(
        RubricCriterion.objects.filter(version_id=application.version_id).prefetch_related("levels")
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
                f"This is attempt {application.attempt} of {application.version.max_attempts}: "
                "approve or do not award."
            ]
    if errors:
        raise ApplicationError(
            f"{len(errors)} thing{'s' if len(errors) != 1 else ''} missing before you can submit "
            "this review.",
            code=Code.INCOMPLETE,
            fields=errors,
        )
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
    if len(reviews) < submission.reviews_required:
        return
    if len({r.decision for r in reviews}) == 1:
        _apply(application, review, criteria)
        return
    submission.needs_adjudication = True
    submission.save(update_fields=["needs_adjudication", "updated_at"])


def _apply(application: Application, review: Review, criteria: list[RubricCriterion]) -> None:
    levels: dict[tuple[int, int | None], str] = {
        (c.pk, level.score): level.label for c in criteria for level in c.levels.all()
    }
    scores = {s.criterion_id: s for s in CriterionScore.objects.filter(review=review)}
    feedback = [
        {
            "criterion_id": c.pk,
            "title": c.title,
            "requirement_id": c.requirement_id,
            "score": scores[c.pk].score if c.pk in scores else None,
            "label": levels.get((c.pk, scores[c.pk].score), "") if c.pk in scores else "",
            "comment": scores[c.pk].comment if c.pk in scores else "",
        }
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
