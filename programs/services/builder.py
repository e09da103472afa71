"""The credential builder: a draft version as one document, read and saved whole.

The builder page (programs.admin.builder) edits everything a draft holds on one page and saves
it continuously. A save sends the whole document; ``credential_version_builder_save`` validates
all of it (each part with its model's own field rules, errors keyed by where they are:
``requirements.1.title``, ``rubric.criteria.0.levels.2.descriptor``) and applies it in one
transaction, or changes nothing. What still keeps the draft from the catalog is not a save error:
it is ``credential_version_problems``, the one rule publishing applies, shown beside the form.

The document::

    {"version": {"title": …, "title_es": …, "summary_es": …,  # the Spanish edition, optional
                 "focus_area": id | None, "categories": [id], …},
     "requirements": [{"key", "title", "kind", "instructions", "required", …,
                       "questions": [{"prompt", "choices": [{"text", "is_correct"}]}]}],
     "rubric": {"scores": [1, 2, 3],
                "criteria": [{"title", "description", "requirement": key | None,
                              "passing": column | None,
                              "levels": [{"label", "descriptor"}]}]},  # one per score column
     "resources": [{"kind", "title", "url", "description", "file"}]}

A draft's parts are rewritten on each save (positions are their order in the document): nothing
refers to a draft's requirements or criteria until it is published and people apply.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from credentials_site.exceptions import ApplicationError

from .. import selectors
from ..errors import ProgramErrorCode
from ..models import (
    Audience,
    AuditEvent,
    Category,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    QuizChoice,
    QuizQuestion,
    Resource,
    RubricCriterion,
    RubricLevel,
    User,
)
from .audit import audit_record

VERSION_FIELDS = (
    "title",
    "summary",
    "competency",
    "key_method",
    "method_components",
    "learning_objectives",
    "research",
    "level",
    "estimated_hours",
    "credit_hours",
    "members_only",
    "member_fee",
    "non_member_fee",
    "expiry_policy",
    "expiry_months",
    "reviewers_required",
    "max_attempts",
)
# The Spanish edition of the title and summary (decision 0037): optional, both or neither
# (CredentialVersion.clean, run by _fill with the overview's other fields).
EDITION_FIELDS = ("title_es", "summary_es")
REQUIREMENT_FIELDS = (
    "title",
    "kind",
    "instructions",
    "required",
    "accepted_file_kinds",
    "max_file_size_mb",
    "max_files",
    "word_min",
    "word_max",
    "pass_mark_percent",
)
# what each kind of requirement uses; the others go back to their defaults when saved
KIND_FIELDS = {
    EvidenceRequirement.Kind.FILE: ("accepted_file_kinds", "max_file_size_mb", "max_files"),
    EvidenceRequirement.Kind.TEXT: ("word_min", "word_max"),
    EvidenceRequirement.Kind.LINK: (),
    EvidenceRequirement.Kind.QUIZ: ("pass_mark_percent",),
}
CRITERION_FIELDS = ("title", "description")
LEVEL_FIELDS = ("label", "descriptor")
RESOURCE_FIELDS = ("kind", "title", "url", "description")
DEFAULT_SCORES = (1, 2, 3)
# autosave writes often: one audit entry per person and draft for each sitting of this length
AUDIT_SITTING = dt.timedelta(minutes=30)

Errors = dict[str, list[str]]


# --- Reading -----------------------------------------------------------------------------------


def credential_version_builder_document(*, version: CredentialVersion) -> dict[str, Any]:
    """The draft as the builder edits it (a fixed number of queries, whatever its size)."""
    requirements = list(version.requirements.prefetch_related("questions__choices"))
    criteria = list(version.criteria.prefetch_related("levels"))
    scores = sorted({level.score for c in criteria for level in c.levels.all()}) or list(
        DEFAULT_SCORES
    )
    keys = {r.pk: f"r{r.pk}" for r in requirements}
    return {
        "version": {
            **{name: getattr(version, name) for name in (*VERSION_FIELDS, *EDITION_FIELDS)},
            "focus_area": version.focus_area_id,
            "categories": [c.pk for c in version.categories.all()],
            "audiences": [a.pk for a in version.audiences.all()],
        },
        "requirements": [
            {
                "key": keys[r.pk],
                **{name: getattr(r, name) for name in REQUIREMENT_FIELDS},
                "questions": [
                    {
                        "prompt": q.prompt,
                        "choices": [
                            {"text": c.text, "is_correct": c.is_correct} for c in q.choices.all()
                        ],
                    }
                    for q in r.questions.all()
                ],
            }
            for r in requirements
        ],
        "rubric": {
            "scores": scores,
            "criteria": [_criterion_document(c, scores, keys) for c in criteria],
        },
        "resources": [
            {
                **{name: getattr(r, name) for name in RESOURCE_FIELDS},
                "file": r.file.name if r.file else "",
            }
            for r in version.resources.all()
        ],
    }


def _criterion_document(
    criterion: RubricCriterion, scores: list[int], keys: dict[int, str]
) -> dict[str, Any]:
    levels = {level.score: level for level in criterion.levels.all()}
    cells = [levels.get(score) for score in scores]
    return {
        "title": criterion.title,
        "description": criterion.description,
        "requirement": keys.get(criterion.requirement_id) if criterion.requirement_id else None,
        "passing": scores.index(criterion.passing_score)
        if criterion.passing_score in scores
        else None,
        "levels": [
            {"label": cell.label if cell else "", "descriptor": cell.descriptor if cell else ""}
            for cell in cells
        ],
    }


# --- Validating --------------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _fill(
    instance: models.Model, data: Any, names: tuple[str, ...], path: str, errors: Errors
) -> None:
    """Set ``names`` from ``data`` on ``instance`` and validate them with the model's own field
    rules (converted to Python values); errors go under ``path``."""
    data = _dict(data)
    for name in names:
        if name not in data:
            continue
        value = data[name]
        field: Any = instance._meta.get_field(name)
        if value in ("", None) and field.null:
            value = None
        elif value is None and isinstance(field, models.CharField | models.TextField):
            value = ""
        setattr(instance, field.attname, value)
    exclude = [f.name for f in instance._meta.fields if f.name not in names]
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(f"{path}.{name}", []).extend(messages)


def _ids(value: Any, path: str, errors: Errors) -> list[int]:
    try:
        return [int(item) for item in _items(value) if item not in ("", None)]
    except (TypeError, ValueError):
        errors.setdefault(path, []).append(gettext("Choose from the list."))
        return []


def _scoped(
    model: type[models.Model], ids: list[int], version: CredentialVersion, path: str, errors: Errors
) -> list[Any]:
    """The organization's rows with these ids; any other id is an error (not a silent drop)."""
    if not ids:
        return []
    found = list(model.objects.filter(organization_id=version.organization_id, pk__in=ids))  # type: ignore[attr-defined]
    if len(found) != len(set(ids)):
        errors.setdefault(path, []).append(
            gettext("Choose one of your organization's own entries.")
        )
    return found


class _Plan:
    """The validated document: unsaved rows, each child knowing its parent by position."""

    def __init__(self) -> None:
        self.requirements: list[EvidenceRequirement] = []
        self.questions: list[tuple[int, QuizQuestion]] = []  # (requirement index, question)
        self.choices: list[tuple[int, QuizChoice]] = []  # (question index, choice)
        self.criteria: list[tuple[int | None, RubricCriterion]] = []  # (requirement index, …)
        self.levels: list[tuple[int, RubricLevel]] = []  # (criterion index, level)
        self.resources: list[Resource] = []
        self.focus_area: FocusArea | None = None
        self.categories: list[Category] = []
        self.audiences: list[Audience] = []


def _validate(version: CredentialVersion, data: dict[str, Any]) -> tuple[_Plan, Errors]:
    errors: Errors = {}
    plan = _Plan()
    org = version.organization_id
    overview = _dict(data.get("version"))
    _fill(version, overview, (*VERSION_FIELDS, *EDITION_FIELDS), "version", errors)
    focus = _ids([overview.get("focus_area")], "version.focus_area", errors)
    found = _scoped(FocusArea, focus, version, "version.focus_area", errors)
    plan.focus_area = found[0] if found else None
    for name in ("categories", "audiences"):
        model = Category if name == "categories" else Audience
        ids = _ids(overview.get(name), f"version.{name}", errors)
        setattr(plan, name, _scoped(model, ids, version, f"version.{name}", errors))

    keys: dict[str, int] = {}
    for i, item in enumerate(map(_dict, _items(data.get("requirements")))):
        path = f"requirements.{i}"
        requirement = EvidenceRequirement(organization_id=org, position=i + 1)
        _fill(requirement, item, REQUIREMENT_FIELDS, path, errors)
        _keep_kind_fields(requirement)
        if (requirement.pass_mark_percent or 0) > 100:
            errors.setdefault(f"{path}.pass_mark_percent", []).append(gettext("At most 100."))
        plan.requirements.append(requirement)
        key = item.get("key")
        if key:
            keys[str(key)] = i
        if requirement.kind != EvidenceRequirement.Kind.QUIZ:
            continue
        for j, q in enumerate(map(_dict, _items(item.get("questions")))):
            question = QuizQuestion(organization_id=org, position=j + 1)
            _fill(question, q, ("prompt",), f"{path}.questions.{j}", errors)
            plan.questions.append((i, question))
            for k, c in enumerate(_items(q.get("choices"))):
                choice = QuizChoice(organization_id=org, position=k + 1)
                _fill(
                    choice, c, ("text", "is_correct"), f"{path}.questions.{j}.choices.{k}", errors
                )
                plan.choices.append((len(plan.questions) - 1, choice))

    rubric = _dict(data.get("rubric"))
    scores = _scores(rubric.get("scores"), errors)
    for i, item in enumerate(map(_dict, _items(rubric.get("criteria")))):
        path = f"rubric.criteria.{i}"
        criterion = RubricCriterion(organization_id=org, version=version, position=i + 1)
        _fill(criterion, item, CRITERION_FIELDS, path, errors)
        # a requirement removed in the same save unlinks its criteria (as deleting it would)
        linked = keys.get(str(item.get("requirement")))
        passing = item.get("passing")
        try:
            criterion.passing_score = scores[int(str(passing))]
        except (TypeError, ValueError, IndexError):
            errors.setdefault(f"{path}.passing", []).append(gettext("Mark the level that passes."))
        plan.criteria.append((linked, criterion))
        for column, cell in enumerate(map(_dict, _items(item.get("levels"))[: len(scores)])):
            if not any(str(cell.get(name) or "").strip() for name in LEVEL_FIELDS):
                continue  # an empty cell: this criterion has no level at this score
            level = RubricLevel(organization_id=org, score=scores[column])
            _fill(level, cell, LEVEL_FIELDS, f"{path}.levels.{column}", errors)
            plan.levels.append((i, level))

    for i, item in enumerate(_items(data.get("resources"))):
        resource = Resource(organization_id=org, version=version, position=i + 1)
        _fill(resource, item, RESOURCE_FIELDS, f"resources.{i}", errors)
        resource.file = _dict(item).get("file") or ""
        plan.resources.append(resource)
    files = set(version.resources.exclude(file="").values_list("file", flat=True))
    for i, resource in enumerate(plan.resources):
        if resource.file and resource.file.name not in files:
            errors.setdefault(f"resources.{i}.file", []).append(
                gettext("Upload the file on its own page.")
            )
    return plan, errors


def _keep_kind_fields(requirement: EvidenceRequirement) -> None:
    """A requirement keeps only what its kind uses: the form hides the rest."""
    used = KIND_FIELDS.get(requirement.kind, ())  # type: ignore[call-overload]
    for name in ("accepted_file_kinds", "max_file_size_mb", "max_files", "word_min", "word_max"):
        if name not in used:
            field: Any = EvidenceRequirement._meta.get_field(name)
            setattr(requirement, name, field.get_default())
    if "pass_mark_percent" not in used:
        requirement.pass_mark_percent = None


def _scores(value: Any, errors: Errors) -> list[int]:
    scores: list[int] = []
    for i, raw in enumerate(_items(value)):
        try:
            score = int(raw)
            if score < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors.setdefault(f"rubric.scores.{i}", []).append(
                gettext("A whole number, 0 or more.")
            )
            score = -1 - i
        if score in scores:
            errors.setdefault(f"rubric.scores.{i}", []).append(
                gettext("Each level needs its own score.")
            )
        scores.append(score)
    return scores


# --- Saving ------------------------------------------------------------------------------------


@transaction.atomic
def credential_version_builder_save(
    *, version: CredentialVersion, data: dict[str, Any], actor: User | None
) -> CredentialVersion:
    """Validate the whole document and apply it to the draft, or change nothing.

    Refuses a version that is no longer a draft, and a person who does not administer its
    organization; field errors come back in ``ApplicationError.fields`` keyed by their path."""
    version = (
        CredentialVersion.objects.select_for_update()
        .select_related("organization")
        .get(pk=version.pk)
    )
    if actor is not None and version.organization_id not in (
        selectors.organization_ids_administered_by(user=actor)
    ):
        raise ApplicationError(
            gettext("You do not administer this credential's organization."),
            code=ProgramErrorCode.NOT_ALLOWED,
        )
    if not version.is_editable:
        raise ApplicationError(
            gettext(
                "Version %(number)s is %(state)s: published versions are frozen. Edit the "
                "credential as a new version to change it."
            )
            % {"number": version.number, "state": version.get_state_display().lower()},
            code=ProgramErrorCode.NOT_EDITABLE,
        )
    if not isinstance(data, dict):
        raise ApplicationError(
            gettext("Send the draft as a document."), code=ProgramErrorCode.INVALID
        )
    plan, errors = _validate(version, data)
    if errors:
        count = sum(len(messages) for messages in errors.values())
        raise ApplicationError(
            ngettext(
                "Not saved: %(count)d field to correct.",
                "Not saved: %(count)d fields to correct.",
                count,
            )
            % {"count": count},
            code=ProgramErrorCode.INVALID,
            fields=errors,
        )
    version.focus_area = plan.focus_area
    version.save(update_fields=[*VERSION_FIELDS, *EDITION_FIELDS, "focus_area", "updated_at"])
    version.categories.set(plan.categories)
    version.audiences.set(plan.audiences)
    _replace_parts(version, plan)
    _audit(version, actor)
    return version


def _replace_parts(version: CredentialVersion, plan: _Plan) -> None:
    version.criteria.all().delete()
    version.resources.all().delete()
    version.requirements.all().delete()  # their questions and choices with them
    for requirement in plan.requirements:
        requirement.version = version
    requirements = EvidenceRequirement.objects.bulk_create(plan.requirements)
    for i, question in plan.questions:
        question.requirement = requirements[i]
    questions = QuizQuestion.objects.bulk_create([q for _, q in plan.questions])
    for i, choice in plan.choices:
        choice.question = questions[i]
    QuizChoice.objects.bulk_create([c for _, c in plan.choices])
    for i, criterion in plan.criteria:  # type: ignore[assignment]
        criterion.requirement = requirements[i] if i is not None else None  # type: ignore[index]
    criteria = RubricCriterion.objects.bulk_create([c for _, c in plan.criteria])
    for i, level in plan.levels:
        level.criterion = criteria[i]
    RubricLevel.objects.bulk_create([level for _, level in plan.levels])
    Resource.objects.bulk_create(plan.resources)


def _audit(version: CredentialVersion, actor: User | None) -> None:
    """One entry per sitting: a save within ``AUDIT_SITTING`` of the same person's last one on
    this draft updates that entry's time instead of adding another."""
    recent = AuditEvent.objects.filter(
        organization_id=version.organization_id,
        actor=actor,
        action="credential.built",
        object_type=CredentialVersion.__name__,
        object_id=str(version.pk),
        updated_at__gte=timezone.now() - AUDIT_SITTING,
    ).update(updated_at=timezone.now())
    if recent:
        return
    audit_record(
        organization=version.organization,
        actor=actor,
        action="credential.built",
        obj=version,
        summary=f"Draft version {version.number} of “{version.title}” edited in the builder",
    )
