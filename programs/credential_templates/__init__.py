"""The library of credential templates: complete credentials to start from, so that a new one
begins mostly built (title, competency, method, evidence requirements with their instructions,
quizzes with their answers, a rubric with descriptors, resources) and the admin adapts it.

Each template is plain data in a module of its own, in the spec format that
``programs.services.credential_content`` reads, plus the rubric's ``scale`` (score, label) and
``passing_score``. Nothing here depends on an organization: focus areas, categories and audiences
are chosen after creation. ``programs.services.templates`` turns a template into a draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import (
    accessible_materials,
    coaching_cycle,
    crucial_conversation,
    formative_assessment,
    lesson_and_video,
    reflective_leadership,
    shared_leadership,
    tool_quiz,
)


@dataclass(frozen=True)
class CredentialTemplate:
    key: str
    spec: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.spec["title"])

    @property
    def summary(self) -> str:
        return str(self.spec["summary"])

    @property
    def kind_label(self) -> str:
        """What sort of credential it is, for the gallery card."""
        return str(self.spec["kind_label"])

    @cached_property
    def includes(self) -> list[str]:
        """What the template holds, for its card: ["3 requirements", "20-question quiz",
        "4 by 3 rubric" (criteria by levels, written with a times sign), "3 resources"]."""
        requirements = self.spec["requirements"]
        criteria = sum(len(item.get("criteria", [])) for item in requirements)
        parts = [_count(len(requirements), "requirement")]
        parts += [
            f"{len(item['questions'])}-question quiz"
            for item in requirements
            if item["kind"] == "quiz"
        ]
        if criteria:
            parts.append(f"{criteria}\u00d7{len(self.spec['scale'])} rubric")
        parts.append(_count(len(self.spec.get("resources", [])), "resource"))
        return parts


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


TEMPLATES: dict[str, CredentialTemplate] = {
    module.KEY: CredentialTemplate(key=module.KEY, spec=module.TEMPLATE)
    for module in (
        coaching_cycle,
        lesson_and_video,
        tool_quiz,
        reflective_leadership,
        formative_assessment,
        accessible_materials,
        crucial_conversation,
        shared_leadership,
    )
}


def template_get(key: str) -> CredentialTemplate | None:
    return TEMPLATES.get(key)


__all__ = ["TEMPLATES", "CredentialTemplate", "template_get"]
