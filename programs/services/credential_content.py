"""A version's content from plain data: its fields, evidence requirements (with quizzes and the
rubric criteria that score them) and resources.

The one reader of that data, shared by the demo content (``programs.demo_data``) and the
template library (``programs.credential_templates``). A spec is a dict:

- the version's text and settings: ``key_method``, ``research``, ``level``,
  ``estimated_hours`` …, with ``method_components`` and ``learning_objectives`` as lists;
- ``resources``: dicts of ``kind``, ``title``, ``description``, ``url``;
- ``requirements``: dicts of an ``EvidenceRequirement``'s fields, with ``questions`` for a quiz
  (``prompt``, ``choices`` and ``answer``, the index of the correct choice) and ``criteria``
  (``title``, ``description``, ``levels``: one descriptor per level of the ``scale``);
- a criterion may also have ``passing_score``; the rubric's default comes with the scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..models import (
    CredentialVersion,
    EvidenceRequirement,
    QuizChoice,
    QuizQuestion,
    Resource,
    RubricCriterion,
    RubricLevel,
)

Scale = Sequence[tuple[int, str]]

# The four-level scale of the demo content (and of templates made from it): 2 passes.
FOUR_LEVEL_SCALE: tuple[tuple[int, str], ...] = (
    (0, "Not yet evident"),
    (1, "Developing"),
    (2, "Proficient"),
    (3, "Exemplary"),
)
FOUR_LEVEL_PASSING = 2


def version_fields(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``CredentialVersion`` a spec sets (beyond title, summary, competency and
    what depends on an organization: focus area, categories, audiences)."""
    expiry_months = spec.get("expiry_months")
    non_member_fee = spec.get("non_member_fee")
    credit_hours = spec.get("credit_hours")
    return {
        "key_method": spec.get("key_method", ""),
        "method_components": "\n".join(spec.get("method_components", [])),
        "learning_objectives": "\n".join(spec.get("learning_objectives", [])),
        "research": spec.get("research", ""),
        "level": spec.get("level", CredentialVersion.Level.FOUNDATIONAL),
        "estimated_hours": Decimal(spec.get("estimated_hours", "5")),
        "credit_hours": Decimal(credit_hours) if credit_hours else None,
        "members_only": spec.get("members_only", False),
        "member_fee": Decimal(spec.get("member_fee", "0")),
        "non_member_fee": Decimal(non_member_fee) if non_member_fee is not None else None,
        "expiry_policy": (
            CredentialVersion.ExpiryPolicy.MONTHS
            if expiry_months
            else CredentialVersion.ExpiryPolicy.NEVER
        ),
        "expiry_months": expiry_months,
        "reviewers_required": spec.get("reviewers_required", 1),
    }


def resources_add(
    version: CredentialVersion, resources: list[dict[str, Any]], start: int = 0
) -> None:
    Resource.objects.bulk_create(
        Resource(
            organization_id=version.organization_id,
            version=version,
            position=position,
            kind=item["kind"],
            title=item["title"],
            description=item.get("description", ""),
            url=item.get("url", ""),
        )
        for position, item in enumerate(resources, start=start + 1)
    )


def requirements_add(
    version: CredentialVersion,
    requirements: list[dict[str, Any]],
    *,
    scale: Scale,
    passing_score: int,
) -> None:
    """The requirements in order, each with its quiz and the rubric criteria that score it."""
    criterion_position = 0
    for position, item in enumerate(requirements, start=1):
        kind = item["kind"]
        requirement = EvidenceRequirement.objects.create(
            organization_id=version.organization_id,
            version=version,
            position=position,
            title=item["title"],
            instructions=item["instructions"],
            kind=kind,
            required=item.get("required", True),
            accepted_file_kinds=item.get("accepted_file_kinds", []),
            max_file_size_mb=item.get("max_file_size_mb", 100),
            max_files=item.get("max_files", 1),
            word_min=item.get("word_min"),
            word_max=item.get("word_max"),
            pass_mark_percent=item.get("pass_mark_percent"),
        )
        if kind == EvidenceRequirement.Kind.QUIZ:
            _quiz_add(requirement, item["questions"])
        for criterion in item.get("criteria", []):
            criterion_position += 1
            _criterion_add(
                version,
                criterion,
                requirement=requirement,
                position=criterion_position,
                scale=scale,
                passing_score=passing_score,
            )


def _quiz_add(requirement: EvidenceRequirement, questions: list[dict[str, Any]]) -> None:
    for number, item in enumerate(questions, start=1):
        if not 0 <= item["answer"] < len(item["choices"]):
            raise ValueError(f"Quiz question {number} of “{requirement}” has no valid answer.")
    created = QuizQuestion.objects.bulk_create(
        QuizQuestion(
            organization_id=requirement.organization_id,
            requirement=requirement,
            position=number,
            prompt=item["prompt"],
        )
        for number, item in enumerate(questions, start=1)
    )
    QuizChoice.objects.bulk_create(
        QuizChoice(
            organization_id=requirement.organization_id,
            question=question,
            position=index + 1,
            text=text,
            is_correct=index == item["answer"],
        )
        for question, item in zip(created, questions, strict=True)
        for index, text in enumerate(item["choices"])
    )


def _criterion_add(
    version: CredentialVersion,
    item: dict[str, Any],
    *,
    requirement: EvidenceRequirement | None,
    position: int,
    scale: Scale,
    passing_score: int,
) -> None:
    descriptors = item["levels"]
    if len(descriptors) != len(scale):
        raise ValueError(f"Rubric criterion “{item['title']}” needs one descriptor per level.")
    criterion = RubricCriterion.objects.create(
        organization_id=version.organization_id,
        version=version,
        requirement=requirement,
        position=position,
        title=item["title"],
        description=item.get("description", ""),
        passing_score=item.get("passing_score", passing_score),
    )
    RubricLevel.objects.bulk_create(
        RubricLevel(
            organization_id=version.organization_id,
            criterion=criterion,
            score=score,
            label=label,
            descriptor=descriptor,
        )
        for (score, label), descriptor in zip(scale, descriptors, strict=True)
    )
