"""The evidence and the rubric of a submission, step by step, as a form to score: what the
review page and a calibration exemplar's page share (one builder, one set of read models, one
partial: templates/reviews/_steps.html with _evidence.html and _criterion.html).

Each step shows the educator's evidence (files shown inline by type, answers, links, the quiz)
beside the criteria that score it; the criteria that score the whole submission come last. In
blind review nothing names the educator, not even their files' names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from programs.models import EvidenceRequirement, RubricCriterion
from submissions import storage
from submissions.models import EvidenceItem, QuizResponse, Submission

from .inputs import Refusal, ReviewInput
from .permissions import evidence_filename


@dataclass
class LevelView:
    score: int
    label: str
    descriptor: str
    passing: bool  # the criterion's passing level (tagged on the form)
    meets: bool  # at or above it (RubricCriterion.reaches_passing)
    checked: bool


@dataclass
class CriterionView:
    criterion: RubricCriterion
    levels: list[LevelView]
    comment: str
    error: str = ""

    @property
    def field(self) -> str:
        return f"criterion_{self.criterion.pk}"

    @property
    def at_passing(self) -> bool:
        return any(level.checked and level.meets for level in self.levels)


@dataclass
class EvidenceView:
    item: EvidenceItem
    number: int
    name: str
    media: str  # storage.evidence_media_kind: video, audio, image, pdf, download
    url: str

    @property
    def viewer_url(self) -> str:
        """Where the page's inline viewer opens the file: a PDF at the width of the page (PDF
        open parameters: ``view`` for Chromium's viewer and Acrobat, ``zoom`` for Firefox's).
        A fragment is never sent to the server, so the signed address it leads to stays valid."""
        return f"{self.url}#view=FitH&zoom=page-width" if self.media == "pdf" else self.url


@dataclass
class RequirementView:
    number: int
    requirement: EvidenceRequirement
    files: list[EvidenceView]
    texts: list[str]
    links: list[str]
    quiz: QuizResponse | None
    criteria: list[CriterionView]

    @property
    def anchor(self) -> str:
        return f"requirement-{self.number}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.files or self.texts or self.links or self.quiz)


@dataclass
class RubricForm:
    """The steps with their evidence and criteria, what was entered (``values``), the errors of
    a refused form (keyed as the fields' ids), and whether it can still be changed."""

    requirements: list[RequirementView]
    general_criteria: list[CriterionView]
    values: ReviewInput
    errors: dict[str, str]
    editable: bool

    @property
    def criteria(self) -> list[CriterionView]:
        return [c for r in self.requirements for c in r.criteria] + self.general_criteria

    @property
    def at_passing(self) -> int:
        """How many criteria are rated at or above their passing level (the review form's
        summary; static/js/review.js keeps it live as ratings change)."""
        return sum(1 for c in self.criteria if c.at_passing)

    @property
    def all_passing(self) -> bool:
        """Approve is offered only when every criterion is at its passing level."""
        return self.at_passing == len(self.criteria)


def criterion_view(
    criterion: RubricCriterion, values: ReviewInput, errors: dict[str, str]
) -> CriterionView:
    entry = values.scores.get(criterion.pk, {})
    chosen = entry.get("score")
    return CriterionView(
        criterion=criterion,
        levels=[
            LevelView(
                score=level.score,
                label=level.label,
                descriptor=level.descriptor,
                passing=level.score == criterion.passing_score,
                meets=criterion.reaches_passing(level.score),
                checked=chosen is not None and str(chosen) == str(level.score),
            )
            for level in criterion.levels.all()
        ],
        comment=str(entry.get("comment") or ""),
        error=errors.get(f"criterion_{criterion.pk}", ""),
    )


def rubric_criteria(*, version_id: int) -> list[RubricCriterion]:
    """The version's rubric, in order, with its levels: two queries."""
    return list(RubricCriterion.objects.filter(version_id=version_id).prefetch_related("levels"))


def rubric_form(
    *,
    submission: Submission,
    criteria: list[RubricCriterion],
    saved: ReviewInput,
    refusal: Refusal | None,
    editable: bool,
    blind: bool,
    file_url: Callable[[EvidenceItem], str] | None = None,
) -> RubricForm:
    """The submission's evidence step by step with the ``criteria`` scoring each, in two
    queries (the requirements, the evidence) and one more when a step is a quiz. It shows what
    was ``saved``, or what a refused form sent with the refusal's errors beside their fields.
    ``file_url(item)``: the address the page links an evidence file to."""
    application = submission.application
    values = refusal.posted if refusal is not None else saved
    errors = {
        key: " ".join(messages)
        for key, messages in (refusal.error.fields if refusal is not None else {}).items()
    }
    requirements = list(EvidenceRequirement.objects.filter(version_id=application.version_id))
    items = list(
        EvidenceItem.objects.filter(submissions=submission.pk).order_by("created_at", "pk")
    )
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

    by_requirement: dict[int | None, list[CriterionView]] = defaultdict(list)
    for criterion in criteria:
        by_requirement[criterion.requirement_id].append(criterion_view(criterion, values, errors))
    files: dict[int, list[EvidenceView]] = defaultdict(list)
    texts: dict[int, list[str]] = defaultdict(list)
    links: dict[int, list[str]] = defaultdict(list)
    number = 0
    for item in items:
        if item.kind == EvidenceItem.Kind.FILE:
            number += 1  # removed files keep their number: the others' names do not move
            if item.purged_at is not None or not item.storage_key:
                continue
            files[item.requirement_id].append(
                EvidenceView(
                    item=item,
                    number=number,
                    name=evidence_filename(
                        item, blind=blind, code=application.anonymous_code, number=number
                    ),
                    media=storage.evidence_media_kind(item),
                    url=file_url(item) if file_url else "",
                )
            )
        elif item.kind == EvidenceItem.Kind.TEXT and item.text:
            texts[item.requirement_id].append(item.text)
        elif item.kind == EvidenceItem.Kind.LINK and item.url:
            links[item.requirement_id].append(item.url)

    return RubricForm(
        requirements=[
            RequirementView(
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
        errors=errors,
        editable=editable,
    )
