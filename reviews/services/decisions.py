"""Decisions: a reviewer's draft, their submitted review, and what it decides (a single review,
two that agree or disagree, an adjudication), applied to the application through
submissions.services with the decided scores as a typed record (submissions.decisions)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials_site.exceptions import ApplicationError
from programs.models import RubricCriterion, User
from submissions import services as submission_services
from submissions.decisions import DecidedCriterion
from submissions.models import Application, Submission

from ..errors import ReviewErrorCode as Code
from ..models import Claim, CriterionScore, Review
from .claims import _active_claim, _end_claim, _expire_if_lapsed, _require_role


def _clean_scores(scores: dict[Any, Any]) -> dict[int, dict[str, Any]]:
    """``{criterion_id: {"score": int | None, "comment": str}}`` with integer keys and scores
    (a form's "2" becomes 2, an empty rating None); anything else is refused, not crashed on."""
    cleaned: dict[int, dict[str, Any]] = {}
    bad: dict[str, list[str]] = {}
    for key, values in scores.items():
        try:
            criterion_id = int(key)
        except (TypeError, ValueError):
            bad[f"criterion_{key}"] = [_("Not a criterion of this rubric.")]
            continue
        if not isinstance(values, dict):
            bad[f"criterion_{key}"] = [_("Give a rating and a comment.")]
            continue
        entry = dict(values)
        if "score" in entry:
            score = entry["score"]
            if isinstance(score, str):
                score = score.strip()
                score = int(score) if score.isdigit() else (None if score == "" else score)
            if score is not None and (isinstance(score, bool) or not isinstance(score, int)):
                bad[f"criterion_{key}"] = [_("Choose one of the criterion's levels.")]
                continue
            entry["score"] = score
        cleaned[criterion_id] = entry
    if bad:
        raise ApplicationError(
            _("Some ratings are not on the rubric's scale."), code=Code.INVALID, fields=bad
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
                _("“%(criterion)s”: choose one of its levels (%(levels)s).")
                % {"criterion": criterion.title, "levels": ", ".join(str(a) for a in allowed)}
            ]
    if errors:
        raise ApplicationError(
            _("Some ratings are not on the rubric's scale."), code=Code.INVALID, fields=errors
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
                _("You cannot review your own submission."), code=Code.OWN_SUBMISSION
            )
        if submission.outcome:
            raise ApplicationError(
                _("This submission has already been decided."), code=Code.ALREADY_DECIDED
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
                errors[f"criterion_{criterion.pk}"] = [
                    _("Rate “%(criterion)s”.") % {"criterion": criterion.title}
                ]
        if decision not in Review.Decision.values:
            errors["decision"] = [_("Choose approve, needs revision or not awarded.")]
        if not overall_feedback.strip():
            errors["overall_feedback"] = [_("Write your overall feedback to the educator.")]
        if decision == Review.Decision.NEEDS_REVISION:
            if not revision_request.strip():
                errors["revision_request"] = [_("Say what the educator should change.")]
            if application.attempt >= application.version.max_attempts:
                errors["decision"] = [
                    _("This is attempt %(attempt)s of %(most)s: approve or do not award.")
                    % {"attempt": application.attempt, "most": application.version.max_attempts}
                ]
        if errors:
            raise ApplicationError(
                ngettext(
                    "%(count)s thing missing before you can submit this review.",
                    "%(count)s things missing before you can submit this review.",
                    len(errors),
                )
                % {"count": len(errors)},
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
            _(
                "“%(criterion)s” is rated “%(level)s” (%(score)s); approving needs at least "
                "“%(passing_level)s” (%(passing)s)."
            )
            % {
                "criterion": criterion.title,
                "level": levels.get(score, score),
                "score": score,
                "passing_level": levels.get(criterion.passing_score, criterion.passing_score),
                "passing": criterion.passing_score,
            }
        ]
    if not below:
        return
    count = len(below)
    below["decision"] = [
        ngettext(
            "Approve needs every criterion at its passing level; %(count)s is below it. Ask for "
            "a revision or do not award.",
            "Approve needs every criterion at its passing level; %(count)s are below it. Ask for "
            "a revision or do not award.",
            count,
        )
        % {"count": count}
    ]
    raise ApplicationError(
        ngettext(
            "You cannot approve: %(count)s criterion is below the passing level.",
            "You cannot approve: %(count)s criteria are below the passing level.",
            count,
        )
        % {"count": count},
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
