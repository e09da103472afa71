"""Forms of the reviewer's pages: they only parse what was posted; every rule (a rating on the
rubric's scale, feedback written, what to change for a revision, conflicts) is the services'.
The templates render the fields by hand, to tie labels, hints and errors together
(aria-describedby)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .access import QueueFilters, ReviewInput
from .models import ConflictOfInterest

SCORE_PREFIX = "score_"
COMMENT_PREFIX = "comment_"
MAX_TEXT = 20_000


def queue_filters(query: QueryDict) -> QueueFilters:
    return QueueFilters(
        program=query.get("program", "").strip()[:100],
        credential=query.get("credential", "").strip()[:100],
        newest_first=query.get("sort", "") == "newest",
    )


def _criterion_id(key: str, prefix: str) -> int | None:
    raw = key.removeprefix(prefix)
    return int(raw) if raw.isdigit() else None


def _score(raw: str) -> Any:
    """A level's score as an integer; anything else is passed on for the service to refuse."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() else raw[:20]


def review_input(data: QueryDict) -> ReviewInput:
    """The review form: ``score_<criterion>`` (a level's score), ``comment_<criterion>``,
    ``overall_feedback``, ``decision``, ``revision_request``. A criterion whose radios were left
    alone keeps its saved rating in a draft (radios cannot be cleared) and is reported as
    missing on submit."""
    scores: dict[int, dict[str, Any]] = {}
    for key in data:
        if key.startswith(SCORE_PREFIX):
            pk = _criterion_id(key, SCORE_PREFIX)
            if pk is not None:
                scores.setdefault(pk, {})["score"] = _score(data.get(key, ""))
        elif key.startswith(COMMENT_PREFIX):
            pk = _criterion_id(key, COMMENT_PREFIX)
            if pk is not None:
                scores.setdefault(pk, {})["comment"] = data.get(key, "")[:MAX_TEXT]
    return ReviewInput(
        scores=scores,
        overall_feedback=data.get("overall_feedback", "")[:MAX_TEXT],
        decision=data.get("decision", "").strip()[:20],
        revision_request=data.get("revision_request", "")[:MAX_TEXT],
    )


class ConflictForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ConflictOfInterest.Kind.choices,
        error_messages={"required": _("Choose what the conflict is about.")},
    )
    email = forms.CharField(required=False, max_length=254, strip=True)
    note = forms.CharField(required=False, max_length=200, strip=True)
