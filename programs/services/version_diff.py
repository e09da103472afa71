"""What changes for educators when a draft replaces the published version: a pure comparison of
two versions already loaded with their contents (``selectors.credential_version_with_contents``
prefetches them, so the comparison runs no query whatever the number of requirements).

Parts of the two versions are paired by name (a requirement's or criterion's title, a quiz
question's prompt, a choice's text, a level's score); what is left is paired by position, so a
renamed part shows as changed rather than as removed and added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeVar

from django.db import models
from django.utils.translation import gettext

from ..models import (
    CredentialVersion,
    EvidenceRequirement,
    FileKind,
    QuizQuestion,
    RubricCriterion,
)
from .builder import REQUIREMENT_FIELDS as AUTHORED_REQUIREMENT_FIELDS

Kind = Literal["added", "removed", "changed"]
Item = TypeVar("Item", bound=models.Model)

# the fields an educator reads, in the order of the version's admin page
VERSION_FIELDS = (
    "title",
    "summary",
    "title_es",  # the Spanish edition (decision 0037)
    "summary_es",
    "focus_area",
    "categories",
    "audiences",
    "level",
    "competency",
    "key_method",
    "method_components",
    "learning_objectives",
    "research",
    "members_only",
    "member_fee",
    "non_member_fee",
    "estimated_hours",
    "credit_hours",
    "ceus",
    "badge_image_alt",
    "expiry_policy",
    "expiry_months",
    "reviewers_required",
    "max_attempts",
)
# what a program admin authors of a requirement (the builder's list, one place), and its place
REQUIREMENT_FIELDS = (
    "title",
    "position",
    *(f for f in AUTHORED_REQUIREMENT_FIELDS if f != "title"),
)
CRITERION_FIELDS = ("title", "position", "description", "requirement", "passing_score")
LEVEL_FIELDS = ("label", "descriptor")
QUESTION_FIELDS = ("prompt", "position")
CHOICE_FIELDS = ("text", "position", "is_correct")
RESOURCE_FIELDS = ("title", "position", "kind", "url", "file", "description")


@dataclass(frozen=True)
class Change:
    """One difference: ``section`` (the part of the page), ``subject`` (which item), ``kind``;
    for a change, the field's label and its old and new values as an educator reads them."""

    section: str
    subject: str
    kind: Kind
    field: str = ""
    old: str = ""
    new: str = ""


def credential_version_diff(
    *, old: CredentialVersion | None, new: CredentialVersion
) -> list[Change]:
    """The differences from ``old`` (the published version) to ``new`` (the draft); none when
    there is no published version yet."""
    if old is None:
        return []
    page, credential = gettext("Catalog page"), gettext("The credential")
    changes = _fields(page, credential, old, new, VERSION_FIELDS)
    if _artwork(old) != _artwork(new):
        changes.append(Change(page, credential, "changed", gettext("Badge artwork")))
    changes += _compare(
        gettext("Evidence requirements"),
        list(old.requirements.all()),
        list(new.requirements.all()),
        name=lambda r: r.title,
        subject=lambda r: f"“{r.title}”",
        fields=REQUIREMENT_FIELDS,
        within=_quiz,
    )
    changes += _compare(
        gettext("Rubric"),
        list(old.criteria.all()),
        list(new.criteria.all()),
        name=lambda c: c.title,
        subject=lambda c: gettext("Criterion “%(title)s”") % {"title": c.title},
        fields=CRITERION_FIELDS,
        within=_levels,
    )
    changes += _compare(
        gettext("Resources"),
        list(old.resources.all()),
        list(new.resources.all()),
        name=lambda r: r.title,
        subject=lambda r: f"“{r.title}”",
        fields=RESOURCE_FIELDS,
    )
    return changes


def _quiz(old: EvidenceRequirement, new: EvidenceRequirement, subject: str) -> list[Change]:
    """The questions of a quiz requirement, and their choices."""

    def choices(
        old_question: QuizQuestion, new_question: QuizQuestion, question: str
    ) -> list[Change]:
        return _compare(
            gettext("Quiz"),
            list(old_question.choices.all()),
            list(new_question.choices.all()),
            name=lambda c: c.text,
            subject=lambda c: (
                gettext("%(question)s, choice “%(text)s”") % {"question": question, "text": c.text}
            ),
            fields=CHOICE_FIELDS,
        )

    return _compare(
        gettext("Quiz"),
        list(old.questions.all()),
        list(new.questions.all()),
        name=lambda q: q.prompt,
        subject=lambda q: (
            gettext("%(requirement)s, question “%(prompt)s”")
            % {"requirement": subject, "prompt": _short(q.prompt)}
        ),
        fields=QUESTION_FIELDS,
        within=choices,
    )


def _levels(old: RubricCriterion, new: RubricCriterion, subject: str) -> list[Change]:
    """The levels of a rubric criterion, paired by score."""
    return _compare(
        gettext("Rubric"),
        list(old.levels.all()),
        list(new.levels.all()),
        name=lambda level: str(level.score),
        subject=lambda level: (
            gettext("%(criterion)s, level %(score)s “%(label)s”")
            % {"criterion": subject, "score": level.score, "label": level.label}
        ),
        fields=LEVEL_FIELDS,
        by_position=False,
    )


def _compare(
    section: str,
    old: Sequence[Item],
    new: Sequence[Item],
    *,
    name: Callable[[Item], str],
    subject: Callable[[Item], str],
    fields: Iterable[str],
    within: Callable[[Item, Item, str], list[Change]] | None = None,
    by_position: bool = True,
) -> list[Change]:
    """Items removed, added, and the changes of the items in both (with ``within``: of their
    own parts too)."""
    pairs, removed, added = _pair(old, new, name=name, by_position=by_position)
    changes = [Change(section, subject(item), "removed") for item in removed]
    changes += [Change(section, subject(item), "added") for item in added]
    for before, after in pairs:
        changes += _fields(section, subject(after), before, after, fields)
        if within is not None:
            changes += within(before, after, subject(after))
    return changes


def _pair(
    old: Sequence[Item],
    new: Sequence[Item],
    *,
    name: Callable[[Item], str],
    by_position: bool = True,
) -> tuple[list[tuple[Item, Item]], list[Item], list[Item]]:
    """(pairs, removed, added): by name first, then what is left at the same position."""

    def key(item: Item) -> str:
        return " ".join(name(item).split()).casefold()

    left = list(old)
    pairs: list[tuple[Item, Item]] = []
    added: list[Item] = []
    for item in new:
        match = next((o for o in left if key(o) == key(item)), None)
        if match is None:
            added.append(item)
        else:
            left.remove(match)
            pairs.append((match, item))
    if by_position:
        for item in list(added):
            match = next((o for o in left if _position(o) == _position(item)), None)
            if match is not None:
                left.remove(match)
                added.remove(item)
                pairs.append((match, item))
    return pairs, left, added


def _position(item: models.Model) -> Any:
    return getattr(item, "position", None)


def _fields(
    section: str, subject: str, old: models.Model, new: models.Model, names: Iterable[str]
) -> list[Change]:
    changes = []
    for name in names:
        before, after = _display(old, name), _display(new, name)
        if before != after:
            label = str(_field(old, name).verbose_name)
            changes.append(
                Change(section, subject, "changed", label[:1].upper() + label[1:], before, after)
            )
    return changes


def _field(obj: models.Model, name: str) -> models.Field[Any, Any]:
    field = obj._meta.get_field(name)
    assert isinstance(field, models.Field)  # noqa: S101 - the names above are concrete fields
    return field


def _display(obj: models.Model, name: str) -> str:
    """A field's value as the public page words it."""
    field = _field(obj, name)
    if field.many_to_many:
        return ", ".join(sorted(str(item) for item in getattr(obj, name).all())) or "—"
    if field.is_relation:
        related = getattr(obj, name)
        return str(related) if related is not None else "—"
    value = getattr(obj, name)
    if name == "accepted_file_kinds":
        labels = dict(FileKind.choices)
        return ", ".join(str(labels.get(kind, kind)) for kind in value or []) or "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value)) if value else "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or "—"
    if value is None or value == "":
        return "—"
    return str(value)


def _artwork(version: CredentialVersion) -> tuple[str, Any]:
    return (version.badge_image.name or "", version.badge_design)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["Change", "credential_version_diff"]
