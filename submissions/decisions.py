"""A decision's scores, as they travel from the review that decided an attempt to its badge.

``Submission.feedback`` stores one row per rubric criterion (JSON, as it always has):
``{"criterion_id", "title", "requirement_id", "score", "label", "comment"}``. The review
services build the rows (``DecidedCriterion``), the submission services store them, and every
reader (the badge's results, the list of badges approved below passing) parses them here, once:
a malformed row raises ``MalformedDecision`` instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


class MalformedDecision(ValueError):
    """A stored decision row that is not a DecidedCriterion; the message names the row and field."""


@dataclass(frozen=True)
class DecidedCriterion:
    """One rubric criterion of a decided attempt: the level the deciding review gave it (None
    when it was not rated) with that level's label, and the reviewer's comment."""

    criterion_id: int
    title: str
    requirement_id: int | None  # the evidence step the criterion is about, if any
    score: int | None
    label: str
    comment: str

    def as_json(self) -> dict[str, Any]:
        """The row as ``Submission.feedback`` stores it (the keys in this order)."""
        return asdict(self)


_FIELDS = frozenset(f.name for f in fields(DecidedCriterion))
# A row must hold the criterion and its score; the texts may be missing (seeded data carries
# only those two) and other keys are not read.
_DEFAULTS: dict[str, Any] = {"title": "", "requirement_id": None, "label": "", "comment": ""}


def _integer(value: Any, *, optional: bool) -> bool:
    if value is None:
        return optional
    return isinstance(value, int) and not isinstance(value, bool)


def decided_criterion_parse(row: Any, *, index: int = 0) -> DecidedCriterion:
    """One stored row as a DecidedCriterion; MalformedDecision when it is not one."""
    if isinstance(row, DecidedCriterion):
        return row
    where = f"decision row {index}"
    if not isinstance(row, Mapping):
        raise MalformedDecision(f"{where} is {type(row).__name__}, not an object.")
    for key in ("criterion_id", "score"):
        if key not in row:
            raise MalformedDecision(f"{where} has no {key}.")
    values = {**_DEFAULTS, **{key: row[key] for key in row if key in _FIELDS}}
    if not _integer(values["criterion_id"], optional=False):
        raise MalformedDecision(f"{where}: criterion_id {values['criterion_id']!r} is not an id.")
    for key in ("requirement_id", "score"):
        if not _integer(values[key], optional=True):
            raise MalformedDecision(f"{where}: {key} {values[key]!r} is not a whole number.")
    for key in ("title", "label", "comment"):
        if not isinstance(values[key], str):
            raise MalformedDecision(f"{where}: {key} {values[key]!r} is not text.")
    return DecidedCriterion(**values)


def decided_criteria_parse(rows: Any) -> list[DecidedCriterion]:
    """A decided attempt's stored rows (``Submission.feedback``), every one of them parsed;
    MalformedDecision on the first that is not a DecidedCriterion."""
    if not isinstance(rows, list | tuple):
        raise MalformedDecision(f"The decision is {type(rows).__name__}, not a list of rows.")
    return [decided_criterion_parse(row, index=n) for n, row in enumerate(rows)]


def decided_criteria_json(criteria: Iterable[DecidedCriterion | Mapping[str, Any]]) -> list[Any]:
    """The rows as ``Submission.feedback`` stores them, each checked on the way in."""
    return [decided_criterion_parse(c, index=n).as_json() for n, c in enumerate(criteria)]


def decided_scores(rows: Any) -> dict[int, int | None]:
    """Criterion id → the score it was given (None when it was not rated)."""
    return {c.criterion_id: c.score for c in decided_criteria_parse(rows)}
