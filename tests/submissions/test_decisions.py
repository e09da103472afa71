"""A decision's scores as a typed record (submissions.decisions): stored as the same JSON rows as
ever, parsed in one place, and a malformed row is an error, never skipped."""

from __future__ import annotations

from typing import Any

import pytest

from submissions.decisions import (
    DecidedCriterion,
    MalformedDecision,
    decided_criteria_json,
    decided_criteria_parse,
    decided_scores,
)

ROW: dict[str, Any] = {
    "criterion_id": 7,
    "title": "Plan aligns with the method",
    "requirement_id": 3,
    "score": 2,
    "label": "Meets",
    "comment": "Every component is there.",
}


class TestTheStoredRows:
    def test_a_record_is_stored_as_the_row_it_always_was(self) -> None:
        # given a criterion as a review decided it
        decided = DecidedCriterion(**ROW)
        # when it is stored
        rows = decided_criteria_json([decided])
        # then the JSON is the same six keys, in the same order, with the same values
        assert rows == [ROW]
        assert list(rows[0]) == list(ROW)
        # and it reads back as the same record
        assert decided_criteria_parse(rows) == [decided]

    def test_an_unrated_criterion_and_no_step_are_kept(self) -> None:
        row = dict(ROW, score=None, requirement_id=None, label="")
        assert decided_criteria_parse([row]) == [DecidedCriterion(**row)]
        assert decided_scores([row]) == {7: None}

    def test_seeded_rows_with_only_the_criterion_and_its_score_are_read(self) -> None:
        # given a row as benchmarks and older data carry it (no texts, an extra key)
        row = {"criterion_id": 7, "score": 1, "feedback": "Meets."}
        # then the criterion and its score are what counts; the texts are empty
        (parsed,) = decided_criteria_parse([row])
        assert (parsed.criterion_id, parsed.score, parsed.title, parsed.comment) == (7, 1, "", "")


class TestMalformedRows:
    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ({"criterion_id": 7, "score": 1}, "not a list of rows"),
            (["7:1"], "decision row 0 is str, not an object"),
            ([ROW, {"score": 1}], "decision row 1 has no criterion_id"),
            ([{"criterion_id": 7}], "decision row 0 has no score"),
            ([dict(ROW, criterion_id="7")], "criterion_id '7' is not an id"),
            ([dict(ROW, criterion_id=None)], "criterion_id None is not an id"),
            ([dict(ROW, score="2")], "score '2' is not a whole number"),
            ([dict(ROW, score=True)], "score True is not a whole number"),
            ([dict(ROW, score=1.5)], "score 1.5 is not a whole number"),
            ([dict(ROW, requirement_id="step")], "requirement_id 'step' is not a whole number"),
            ([dict(ROW, comment=None)], "comment None is not text"),
        ],
    )
    def test_each_is_an_error_naming_the_row_and_the_field(self, rows: Any, message: str) -> None:
        with pytest.raises(MalformedDecision, match=message):
            decided_criteria_parse(rows)
        with pytest.raises(MalformedDecision):
            decided_scores(rows)

    def test_a_malformed_row_is_refused_before_it_is_stored(self) -> None:
        with pytest.raises(MalformedDecision, match="decision row 0 has no score"):
            decided_criteria_json([{"criterion_id": 7}])
