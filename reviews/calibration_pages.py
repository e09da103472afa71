"""Pages of calibration for reviewers: the list of exemplars to score and scored, and one
exemplar with its evidence (always blind) and the rubric, built as the review page's (see
reviews.access.rubric). Who may open them: reviews.access. The rules (what must be scored,
agreement) live in reviews.calibration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from programs.models import Organization, Program, RubricCriterion, User
from submissions.models import EvidenceItem

from . import access, selectors
from .access.permissions import EXEMPLAR_RELATED
from .calibration import _exemplars_for
from .models import CalibrationAttempt, CalibrationExemplar, Review


def calibration_attempt_get(
    *, exemplar: CalibrationExemplar, reviewer: User
) -> CalibrationAttempt | None:
    return CalibrationAttempt.objects.filter(exemplar=exemplar, reviewer=reviewer).first()


@dataclass
class PendingExemplar:
    exemplar: CalibrationExemplar
    credential: str
    program: str


@dataclass
class CriterionComparison:
    title: str
    yours: str
    agreed: str

    @property
    def same(self) -> bool:
        return self.yours == self.agreed


@dataclass
class ScoredExemplar:
    attempt: CalibrationAttempt
    exemplar: CalibrationExemplar
    credential: str
    percent: float | None  # criteria scored as agreed, 0 to 100, one decimal
    decision: str
    agreed_decision: str
    criteria: list[CriterionComparison]

    @property
    def same_decision(self) -> bool:
        return self.attempt.decision == self.exemplar.agreed_decision


@dataclass
class CalibrationListPage:
    pending: list[PendingExemplar]
    scored: list[ScoredExemplar]


def _level_text(levels: dict[int, str], score: Any) -> str:
    if score is None:
        return "—"
    label = levels.get(score, "")
    return f"{label} ({score})" if label else str(score)


def calibration_list_page(
    *, organization: Organization, scope: selectors.ReviewerScope
) -> CalibrationListPage:
    """The exemplars the reviewer still has to score (oldest first), and those they scored with
    their agreement with the agreed scores: four queries, whatever the number of exemplars."""
    reviewer = scope.user
    pending = (
        _exemplars_for(organization=organization, reviewer=reviewer, scope=scope)
        .exclude(attempts__reviewer=reviewer)
        .select_related(*EXEMPLAR_RELATED)
        .order_by("created_at", "pk")
    )
    attempts = list(
        CalibrationAttempt.objects.filter(organization=organization, reviewer=reviewer)
        .select_related("exemplar__submission__application__version")
        .order_by("created_at", "pk")
    )
    by_version: dict[int, list[RubricCriterion]] = defaultdict(list)
    if attempts:
        versions = {a.exemplar.submission.application.version_id for a in attempts}
        for criterion in (
            RubricCriterion.objects.filter(version_id__in=versions)
            .prefetch_related("levels")
            .order_by("position", "pk")
        ):
            by_version[criterion.version_id].append(criterion)
    decisions = dict(Review.Decision.choices)
    scored = []
    for attempt in attempts:
        exemplar = attempt.exemplar
        agreed = {str(k): v for k, v in exemplar.agreed_scores.items()}
        yours = {str(k): v for k, v in attempt.scores.items()}
        comparisons = []
        for criterion in by_version.get(exemplar.submission.application.version_id, []):
            levels = {level.score: level.label for level in criterion.levels.all()}
            key = str(criterion.pk)
            comparisons.append(
                CriterionComparison(
                    title=criterion.title,
                    yours=_level_text(levels, yours.get(key)),
                    agreed=_level_text(levels, agreed.get(key)),
                )
            )
        scored.append(
            ScoredExemplar(
                attempt=attempt,
                exemplar=exemplar,
                credential=exemplar.submission.application.version.title,
                percent=attempt_percent(attempt),
                decision=str(decisions.get(attempt.decision, attempt.decision)),
                agreed_decision=str(
                    decisions.get(exemplar.agreed_decision, exemplar.agreed_decision)
                ),
                criteria=comparisons,
            )
        )
    return CalibrationListPage(
        pending=[
            PendingExemplar(
                exemplar=exemplar,
                credential=exemplar.submission.application.version.title,
                program=exemplar.submission.application.credential.program.name,
            )
            for exemplar in pending
        ],
        scored=scored,
    )


def attempt_percent(attempt: CalibrationAttempt) -> float | None:
    """Percent of the criteria scored as agreed, one decimal (as reviews.agreement rounds)."""
    if not attempt.total:
        return None
    return round(100 * attempt.matching / attempt.total, 1)


@dataclass
class ExemplarPage:
    """What the exemplar's page shows: the evidence and the rubric as on the review page (always
    blind, no comments to write), with what a refused form sent."""

    exemplar: CalibrationExemplar
    code: str
    title: str
    program: Program
    form: access.RubricForm


def exemplar_page(
    *,
    exemplar: CalibrationExemplar,
    file_url: Callable[[EvidenceItem], str] | None = None,
    refusal: access.Refusal | None = None,
) -> ExemplarPage:
    """The exemplar's evidence, step by step with the criteria scoring each, in four queries
    (the exemplar comes with its application, version and program). ``file_url(item)``: the
    address of an evidence file; ``refusal``: a refused form, shown again."""
    application = exemplar.submission.application
    return ExemplarPage(
        exemplar=exemplar,
        code=application.anonymous_code,
        title=application.version.title,
        program=application.credential.program,
        form=access.rubric_form(
            submission=exemplar.submission,
            criteria=access.rubric_criteria(version_id=application.version_id),
            saved=access.ReviewInput(),
            refusal=refusal,
            editable=True,
            blind=True,
            file_url=file_url,
        ),
    )
