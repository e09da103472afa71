"""Pages of calibration for reviewers: the list of exemplars to score and scored, one exemplar
with its evidence (always blind) and the rubric, and access to the exemplar's files. The rules
(what must be scored, agreement) live in reviews.calibration."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from programs.models import (
    EvidenceRequirement,
    Organization,
    Program,
    RubricCriterion,
    User,
)
from submissions.models import EvidenceItem, QuizResponse

from . import access, selectors
from .calibration import _exemplars_for
from .models import CalibrationAttempt, CalibrationExemplar, Review

_EXEMPLAR_RELATED = (
    "submission__application__version",
    "submission__application__credential__program",
)


def access_exemplar_by_public_id(
    *, organization: Organization, user: User, public_id: str
) -> CalibrationExemplar:
    """An active exemplar this reviewer is asked to score (scored already or not), or 404: for
    someone who is not a reviewer here, another organization's exemplar, one outside their
    programs, of their own work, that they agreed the scores of, or no longer in use."""
    scope = selectors.reviewer_scope(organization=organization, user=user)
    if scope is None:
        raise Http404("No such page.")
    exemplar = (
        _exemplars_for(organization=organization, reviewer=user, scope=scope)
        .filter(public_id=public_id)
        .select_related(*_EXEMPLAR_RELATED)
        .first()
    )
    if exemplar is None:
        raise Http404("No such calibration example.")
    return exemplar


def calibration_attempt_get(
    *, exemplar: CalibrationExemplar, reviewer: User
) -> CalibrationAttempt | None:
    return CalibrationAttempt.objects.filter(exemplar=exemplar, reviewer=reviewer).first()


def _file_items(submission_id: int) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.filter(
        submissions=submission_id, kind=EvidenceItem.Kind.FILE
    ).order_by("created_at", "pk")


def access_exemplar_file_by_ids(
    *, organization: Organization, user: User, exemplar_public_id: str, item_public_id: str
) -> tuple[CalibrationExemplar, EvidenceItem, int]:
    """A file of an exemplar, for a reviewer asked to score it, with its number on the page;
    404 for anyone else, another organization or a removed file."""
    exemplar = access_exemplar_by_public_id(
        organization=organization, user=user, public_id=exemplar_public_id
    )
    numbers = {
        pk: n
        for n, pk in enumerate(
            _file_items(exemplar.submission_id).values_list("pk", flat=True), start=1
        )
    }
    item = (
        _file_items(exemplar.submission_id)
        .filter(organization=organization, public_id=item_public_id, purged_at__isnull=True)
        .exclude(storage_key="")
        .first()
    )
    if item is None:
        raise Http404("No such file.")
    return exemplar, item, numbers.get(item.pk, 1)


def exemplar_filename(exemplar: CalibrationExemplar, item: EvidenceItem, number: int) -> str:
    """The blind name of an exemplar's file (its own name may carry its author's)."""
    return access.evidence_filename(
        item, blind=True, code=exemplar.submission.application.anonymous_code, number=number
    )


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
        .select_related(*_EXEMPLAR_RELATED)
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
                decision=decisions.get(attempt.decision, attempt.decision),
                agreed_decision=decisions.get(exemplar.agreed_decision, exemplar.agreed_decision),
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
    """What the exemplar's page shows: the evidence as on the review page, blind, and the
    rubric (``editable`` for the review page's criterion partial)."""

    exemplar: CalibrationExemplar
    code: str
    title: str
    program: Program
    requirements: list[access.RequirementView]
    general_criteria: list[access.CriterionView]
    values: access.ReviewInput
    errors: dict[str, str]
    editable: bool = True

    @property
    def criteria(self) -> list[access.CriterionView]:
        return [c for r in self.requirements for c in r.criteria] + self.general_criteria


def exemplar_page(
    *,
    exemplar: CalibrationExemplar,
    posted: access.ReviewInput | None = None,
    errors: dict[str, list[str]] | None = None,
    file_url: Callable[[EvidenceItem], str] | None = None,
) -> ExemplarPage:
    """The exemplar's evidence, step by step with the criteria scoring each, in four queries
    (the exemplar comes with its application, version and program). ``posted``: what a refused
    form sent. ``file_url(item)``: the address of an evidence file."""
    submission = exemplar.submission
    application = submission.application
    version = application.version
    code = application.anonymous_code
    flat_errors = {key: " ".join(messages) for key, messages in (errors or {}).items()}
    values = posted or access.ReviewInput()

    requirements = list(
        EvidenceRequirement.objects.filter(version_id=version.pk).order_by("position", "pk")
    )
    criteria = list(
        RubricCriterion.objects.filter(version_id=version.pk)
        .prefetch_related("levels")
        .order_by("position", "pk")
    )
    items = list(_all_items(submission.pk))
    quiz_requirements = [r.pk for r in requirements if r.kind == EvidenceRequirement.Kind.QUIZ]
    quizzes = (
        {
            q.requirement_id: q
            for q in QuizResponse.objects.filter(
                application_id=application.pk, requirement__in=quiz_requirements
            )
        }
        if quiz_requirements
        else {}
    )

    by_requirement: dict[int | None, list[access.CriterionView]] = defaultdict(list)
    for criterion in criteria:
        # the review page's own builder: the same levels, checks and errors
        by_requirement[criterion.requirement_id].append(
            access._criterion_view(criterion, values, flat_errors)
        )
    files: dict[int, list[access.EvidenceView]] = defaultdict(list)
    texts: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[str]] = defaultdict(list)
    number = 0
    for item in items:
        if item.kind == EvidenceItem.Kind.FILE:
            number += 1
            if item.purged_at is not None or not item.storage_key:
                continue
            files[item.requirement_id].append(
                access.EvidenceView(
                    item=item,
                    number=number,
                    name=access.evidence_filename(item, blind=True, code=code, number=number),
                    media=access._media(item),
                    url=file_url(item) if file_url else "",
                )
            )
        elif item.kind == EvidenceItem.Kind.TEXT and item.text:
            texts[item.requirement_id].append(item.text)
        elif item.kind == EvidenceItem.Kind.LINK and item.url:
            links[item.requirement_id].append(item.url)

    return ExemplarPage(
        exemplar=exemplar,
        code=code,
        title=version.title,
        program=application.credential.program,
        requirements=[
            access.RequirementView(
                number=n,
                requirement=requirement,
                files=files.get(requirement.pk, []),
                texts=texts.get(requirement.pk, []),
                links=links.get(requirement.pk, []),
                quiz=quizzes.get(requirement.pk),
                criteria=by_requirement.get(requirement.pk, []),
            )
            for n, requirement in enumerate(requirements, start=1)
        ],
        general_criteria=by_requirement.get(None, []),
        values=values,
        errors=flat_errors,
    )


def _all_items(submission_id: int) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.filter(submissions=submission_id).order_by("created_at", "pk")
