"""Small-cell suppression, as education agencies publish data about people.

A count under the threshold (10 people unless the organization sets another) is never shown: it
reads "fewer than 10" (*primary* suppression). That alone is not enough: a published total minus
the other published cells gives the hidden one back. So every line that has a published total (a
column with its total row, a row with its total column) is protected by *complementary*
suppression: when a line hides exactly one cell, or hides cells that together hold fewer than the
threshold, the next smallest cell of the line is hidden too, until the hidden cells are at least
two and hold at least the threshold; a line that cannot be protected that way hides its total.
Hiding a cell can break another line, so the rule runs until nothing changes.

Pure functions over plain numbers: the equity views (``equity.py``) and any other table use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_THRESHOLD = 10


class Hidden(StrEnum):
    """Why a cell is not shown."""

    SMALL = "small"  # under the threshold itself: "fewer than 10"
    COMPLEMENT = "complement"  # hidden so that a small cell cannot be worked out from totals


# A cell of a table: ("cell", row, column); a row's total ("row", row); a column's total
# ("column", column); the grand total ("grand",).
Key = tuple[str | int, ...]


@dataclass(frozen=True)
class Suppression:
    """What to hide in a table of counts: its cells, row totals, column totals, grand total."""

    cells: dict[tuple[int, int], Hidden]
    row_totals: frozenset[int] = frozenset()
    column_totals: frozenset[int] = frozenset()
    grand_total: bool = False

    def cell(self, row: int, column: int) -> Hidden | None:
        return self.cells.get((row, column))

    def rows(self) -> frozenset[int]:
        """The rows with at least one hidden cell."""
        return frozenset(row for row, _ in self.cells)


def is_small(count: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """A count that identifies people: more than none, fewer than the threshold."""
    return 0 < count < threshold


def _protect(
    members: Sequence[Key], total: Key, values: dict[Key, int], hidden: dict[Key, Hidden], t: int
) -> bool:
    """Protect one line (its members add up to its published total): hide the next smallest
    members until the hidden ones are two or more and hold at least ``t``; hide the total when
    that cannot be done. True when something new was hidden."""
    changed = False
    while True:
        shown_hidden = [k for k in members if k in hidden and values[k] > 0]
        if not shown_hidden:
            return changed
        if len(shown_hidden) >= 2 and sum(values[k] for k in shown_hidden) >= t:
            return changed
        candidates = sorted(
            (k for k in members if k not in hidden and values[k] > 0), key=lambda k: values[k]
        )
        if not candidates:
            if total in values and total not in hidden:
                hidden[total] = Hidden.COMPLEMENT
                changed = True
            return changed
        hidden[candidates[0]] = Hidden.COMPLEMENT
        changed = True


def suppress_table(
    counts: Sequence[Sequence[int]],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    column_totals: bool = True,
    row_totals: bool = False,
    whole_rows: bool = False,
) -> Suppression:
    """Which cells of ``counts`` (a row per group, a column per count) to hide when the table is
    published with its column totals and/or row totals (a grand total goes with both).

    ``whole_rows``: a row with any hidden cell is hidden entirely, for tables whose row is one
    group and whose columns are measures of it (hiding a group's size but showing its
    applications would still describe it).
    """
    if threshold < 1:
        raise ValueError("The threshold is a number of people, 1 or more.")
    n_rows = len(counts)
    n_cols = len(counts[0]) if n_rows else 0
    if any(len(row) != n_cols for row in counts):
        raise ValueError("Every row needs the same number of columns.")
    if any(v < 0 for row in counts for v in row):
        raise ValueError("Counts are never negative.")
    values: dict[Key, int] = {
        ("cell", r, c): counts[r][c] for r in range(n_rows) for c in range(n_cols)
    }
    lines: list[tuple[list[Key], Key]] = []
    if column_totals:
        for c in range(n_cols):
            values[("column", c)] = sum(counts[r][c] for r in range(n_rows))
            lines.append(([("cell", r, c) for r in range(n_rows)], ("column", c)))
    if row_totals:
        for r in range(n_rows):
            values[("row", r)] = sum(counts[r])
            lines.append(([("cell", r, c) for c in range(n_cols)], ("row", r)))
    if column_totals and row_totals:
        values[("grand",)] = sum(sum(row) for row in counts)
        lines.append(([("column", c) for c in range(n_cols)], ("grand",)))
        lines.append(([("row", r) for r in range(n_rows)], ("grand",)))

    hidden: dict[Key, Hidden] = {
        key: Hidden.SMALL
        for key, value in values.items()
        if key[0] == "cell" and is_small(value, threshold)
    }
    changed = True
    while changed:
        changed = False
        if whole_rows:
            for row in {key[1] for key in hidden if key[0] == "cell"}:
                for c in range(n_cols):
                    if ("cell", row, c) not in hidden:
                        hidden[("cell", row, c)] = Hidden.COMPLEMENT
                        changed = True
        for members, total in lines:
            changed = _protect(members, total, values, hidden, threshold) or changed
    return Suppression(
        cells={(int(k[1]), int(k[2])): why for k, why in hidden.items() if k[0] == "cell"},
        row_totals=frozenset(int(k[1]) for k in hidden if k[0] == "row"),
        column_totals=frozenset(int(k[1]) for k in hidden if k[0] == "column"),
        grand_total=("grand",) in hidden,
    )


def suppress_groups(sizes: Sequence[int], *, threshold: int = DEFAULT_THRESHOLD) -> Suppression:
    """One column of group sizes published with its total: which groups to hide."""
    return suppress_table([[size] for size in sizes], threshold=threshold)
