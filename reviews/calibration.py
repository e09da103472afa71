"""Calibration: program admins turn decided submissions into exemplars with agreed scores; every
reviewer scores the active exemplars before taking live submissions, and their agreement with
the agreed scores is measured (reviews.agreement).

This module must not import reviews.services (services imports it for the claim-next gate)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials_site.exceptions import ApplicationError
from programs import services as program_services
from programs.models import (
    Organization,
    RubricCriterion,
    StaffRole,
    User,
)
from submissions.models import Submission

from . import selectors
from .models import CalibrationAttempt, CalibrationExemplar, Review


class CalibrationErrorCode(StrEnum):
    NOT_CALIBRATED = "not_calibrated"
    NOT_ALLOWED = "not_allowed"
    NOT_DECIDED = "not_decided"
    ALREADY_EXEMPLAR = "already_exemplar"
    ALREADY_ATTEMPTED = "already_attempted"
    INACTIVE = "inactive"
    INCOMPLETE = "incomplete"
    INVALID = "invalid"


Code = CalibrationErrorCode


def _criteria(submission: Submission) -> list[RubricCriterion]:
    version_id = Submission.objects.filter(pk=submission.pk).values_list(
        "application__version_id", flat=True
    )[0]
    return list(
        RubricCriterion.objects.filter(version_id=version_id)
        .prefetch_related("levels")
        .order_by("position", "pk")
    )


def _score_of(value: Any) -> Any:
    """A score given as ``2``, ``"2"`` or ``{"score": 2, ...}`` (the review form's shape)."""
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isdigit() else (None if value == "" else value)
    return value


def _checked_scores(
    criteria: list[RubricCriterion], scores: dict[Any, Any]
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Every criterion needs a score that is one of its levels; criteria of another rubric are
    refused. Returns the scores keyed by criterion id as a string (as JSON stores them), and
    the problems keyed ``criterion_<id>``."""
    given: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in scores.items():
        try:
            given[int(key)] = _score_of(value)
        except (TypeError, ValueError):
            errors[f"criterion_{key}"] = [_("Not a criterion of this rubric.")]
    known = {c.pk for c in criteria}
    for criterion_id in given.keys() - known:
        errors[f"criterion_{criterion_id}"] = [_("Not a criterion of this rubric.")]
    cleaned: dict[str, int] = {}
    for criterion in criteria:
        score = given.get(criterion.pk)
        allowed = sorted(level.score for level in criterion.levels.all())
        if score is None:
            errors[f"criterion_{criterion.pk}"] = [
                _("Rate “%(criterion)s”.") % {"criterion": criterion.title}
            ]
        elif isinstance(score, bool) or not isinstance(score, int) or score not in allowed:
            errors[f"criterion_{criterion.pk}"] = [
                _("“%(criterion)s”: choose one of its levels (%(levels)s).")
                % {"criterion": criterion.title, "levels": ", ".join(str(a) for a in allowed)}
            ]
        else:
            cleaned[str(criterion.pk)] = score
    return cleaned, errors


def _incomplete(errors: dict[str, list[str]]) -> ApplicationError:
    n = len(errors)
    return ApplicationError(
        ngettext(
            "%(count)s thing to fix: every criterion needs one of its levels.",
            "%(count)s things to fix: every criterion needs one of its levels.",
            n,
        )
        % {"count": n},
        code=Code.INCOMPLETE,
        fields=errors,
    )


@transaction.atomic
def exemplar_create(
    *,
    organization: Organization,
    submission: Submission,
    title: str,
    agreed_decision: str,
    agreed_scores: dict[Any, Any],
    rationale: str,
    actor: User | None,
) -> CalibrationExemplar:
    """Mark a decided submission as a calibration exemplar with the scores the program agreed
    on (every criterion of its rubric, each on its scale). Program admins and owners only."""
    if actor is not None and not actor.is_superuser:
        is_admin = StaffRole.objects.filter(
            organization=organization, user=actor, role__in=StaffRole.ADMIN_ROLES
        ).exists()
        if not is_admin:
            raise ApplicationError(
                _("Only program admins choose calibration exemplars."), code=Code.NOT_ALLOWED
            )
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.organization_id != organization.pk:
        raise ApplicationError(_("No such submission."), code=Code.INVALID)
    if not submission.outcome:
        raise ApplicationError(
            _("Only a decided submission can be a calibration exemplar."), code=Code.NOT_DECIDED
        )
    if CalibrationExemplar.objects.filter(submission=submission).exists():
        raise ApplicationError(
            _("This submission is already a calibration exemplar."), code=Code.ALREADY_EXEMPLAR
        )
    errors: dict[str, list[str]] = {}
    title = title.strip()
    if not title:
        errors["title"] = ["Give the exemplar a title (reviewers see it instead of any name)."]
    if agreed_decision not in Review.Decision.values:
        errors["agreed_decision"] = ["Choose approve, needs revision or not awarded."]
    scores, score_errors = _checked_scores(_criteria(submission), agreed_scores)
    errors.update(score_errors)
    if errors:
        raise _incomplete(errors)
    exemplar = CalibrationExemplar.objects.create(
        organization=organization,
        submission=submission,
        title=title[:200],
        agreed_decision=agreed_decision,
        agreed_scores=scores,
        rationale=rationale.strip(),
        created_by=actor,
    )
    program_services.audit_record(
        organization=organization,
        actor=actor,
        action="calibration_exemplar.created",
        obj=exemplar,
        summary=f"Calibration exemplar “{exemplar.title}” created",
        data={"submission_id": submission.pk, "agreed_decision": agreed_decision},
    )
    return exemplar


def _exemplars_for(
    *, organization: Organization, reviewer: User, scope: selectors.ReviewerScope
) -> QuerySet[CalibrationExemplar]:
    """The active exemplars this reviewer is asked to score: within their programs and
    credentials, never of their own work, and not those they set the agreed scores for."""
    qs = (
        CalibrationExemplar.objects.filter(organization=organization, is_active=True)
        .exclude(submission__application__educator=reviewer)
        .exclude(created_by=reviewer)
    )
    if scope.program_ids:
        qs = qs.filter(submission__application__credential__program_id__in=scope.program_ids)
    if scope.credential_ids:
        qs = qs.filter(submission__application__credential_id__in=scope.credential_ids)
    return qs


def calibration_pending(
    *,
    organization: Organization,
    reviewer: User,
    scope: selectors.ReviewerScope | None = None,
) -> list[CalibrationExemplar]:
    """Active exemplars the reviewer has not scored yet, oldest first (see _exemplars_for for
    which exemplars a reviewer is asked to score). Someone who is not a reviewer here has
    nothing pending. ``scope``: the reviewer's, when the caller has it already."""
    scope = scope or selectors.reviewer_scope(organization=organization, user=reviewer)
    if scope is None:
        return []
    # most organizations have no exemplars: a cheap look first (claim-next asks every time)
    if not CalibrationExemplar.objects.filter(organization=organization, is_active=True).exists():
        return []
    return list(
        _exemplars_for(organization=organization, reviewer=reviewer, scope=scope)
        .exclude(attempts__reviewer=reviewer)
        .order_by("created_at", "pk")
    )


def calibration_require(
    *, organization: Organization, scope: selectors.ReviewerScope, who: str = ""
) -> None:
    """The calibration gate: a reviewer with calibration examples still to score takes no live
    submission, by claim-next or by assignment. ``who``: the reviewer as the message names
    them to someone else (a program admin assigning work); empty, the reviewer is told."""
    if not scope.calibration_active:
        return
    pending = calibration_pending(organization=organization, reviewer=scope.user, scope=scope)
    if pending:
        n = len(pending)
        raise ApplicationError(
            ngettext(
                "%(who)s has %(count)s calibration example to score before taking live "
                "submissions.",
                "%(who)s has %(count)s calibration examples to score before taking live "
                "submissions.",
                n,
            )
            % {"who": who, "count": n}
            if who
            else ngettext(
                "Score the %(count)s calibration example before you take live submissions.",
                "Score the %(count)s calibration examples before you take live submissions.",
                n,
            )
            % {"count": n},
            code=Code.NOT_CALIBRATED,
        )


def reviewer_is_calibrated(*, organization: Organization, reviewer: User) -> bool:
    """No calibration exemplar is waiting for this reviewer."""
    return not calibration_pending(organization=organization, reviewer=reviewer)


def calibration_attempt_list(
    *, organization: Organization, reviewer: User
) -> QuerySet[CalibrationAttempt]:
    """The reviewer's scored exemplars with the agreed scores and rationale to compare."""
    return (
        CalibrationAttempt.objects.filter(organization=organization, reviewer=reviewer)
        .select_related("exemplar")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def calibration_submit(
    *,
    organization: Organization,
    exemplar: CalibrationExemplar,
    reviewer: User,
    scores: dict[Any, Any],
    decision: str,
) -> CalibrationAttempt:
    """Score one exemplar: every criterion on its scale and a decision, once per exemplar.
    ``matching`` counts the criteria scored exactly as agreed, out of ``total``."""
    scope = selectors.reviewer_scope(organization=organization, user=reviewer)
    if scope is None:
        raise ApplicationError(
            _("You are not a reviewer for this organization."), code=Code.NOT_ALLOWED
        )
    exemplar = CalibrationExemplar.objects.select_related("submission").get(pk=exemplar.pk)
    if exemplar.organization_id != organization.pk:
        raise ApplicationError(_("No such calibration example."), code=Code.INVALID)
    if not exemplar.is_active:
        raise ApplicationError(
            _("This calibration example is no longer in use."), code=Code.INACTIVE
        )
    if (
        not _exemplars_for(organization=organization, reviewer=reviewer, scope=scope)
        .filter(pk=exemplar.pk)
        .exists()
    ):
        raise ApplicationError(
            _("This calibration example is not one you are asked to score."), code=Code.NOT_ALLOWED
        )
    if CalibrationAttempt.objects.filter(exemplar=exemplar, reviewer=reviewer).exists():
        raise ApplicationError(
            _("You have already scored this calibration example."), code=Code.ALREADY_ATTEMPTED
        )
    cleaned, errors = _checked_scores(_criteria(exemplar.submission), scores)
    if decision not in Review.Decision.values:
        errors["decision"] = ["Choose approve, needs revision or not awarded."]
    if errors:
        raise _incomplete(errors)
    agreed = {str(k): v for k, v in exemplar.agreed_scores.items()}
    matching = sum(1 for key, score in cleaned.items() if agreed.get(key) == score)
    try:
        with transaction.atomic():
            return CalibrationAttempt.objects.create(
                organization=organization,
                exemplar=exemplar,
                reviewer=reviewer,
                scores=cleaned,
                decision=decision,
                matching=matching,
                total=len(cleaned),
            )
    except IntegrityError:  # a double click that passed the check above at the same moment
        raise ApplicationError(
            _("You have already scored this calibration example."), code=Code.ALREADY_ATTEMPTED
        ) from None


# --- The reviewer's calibration pages -----------------------------------------------------------
# Read models for reviews/views.py, in a fixed number of queries each. Calibration is always
# blind, whatever the program's setting: an exemplar shows its title and the anonymous code,
# never the educator, and its files are named after the code.
