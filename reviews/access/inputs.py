"""What the reviewer's forms carry once parsed (reviews.forms parses them): the queue's filters
and the scores, feedback and decision of the review form (the calibration form posts the same
shape, without comments or feedback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credentials_site.exceptions import ApplicationError


@dataclass(frozen=True)
class QueueFilters:
    program: str = ""
    credential: str = ""
    newest_first: bool = False

    @property
    def sort(self) -> str:
        return "newest" if self.newest_first else "oldest"


@dataclass
class ReviewInput:
    """What the review form posted (or the saved draft): scores keyed by criterion pk."""

    scores: dict[int, dict[str, Any]] = field(default_factory=dict)
    overall_feedback: str = ""
    decision: str = ""
    revision_request: str = ""


@dataclass(frozen=True)
class Refusal:
    """A refused review or calibration form, shown again: what it sent, and the refusal (its
    message above the form, its ``fields`` beside theirs)."""

    posted: ReviewInput
    error: ApplicationError
