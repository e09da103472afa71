"""What templates share: the rubric scales ((score, label) from the lowest level up) and the
adaptation of a demo credential into a template."""

from __future__ import annotations

from typing import Any

from ..services.credential_content import FOUR_LEVEL_PASSING, FOUR_LEVEL_SCALE

# A shorter scale for practice credentials: three levels, 2 passes.
THREE_LEVELS: tuple[tuple[int, str], ...] = (
    (1, "Developing"),
    (2, "Proficient"),
    (3, "Exemplary"),
)
THREE_LEVELS_PASSING = 2

# The keys a demo credential has that belong to its organization, not to a template.
_ORGANIZATION_KEYS = ("slug", "focus_area", "categories", "audiences", "revisions")


def from_demo(spec: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A demo credential (``programs.demo_data``) as a template: without what belongs to its
    organization, open to everyone and free until the admin sets a fee; on the demo's scale."""
    template = {key: value for key, value in spec.items() if key not in _ORGANIZATION_KEYS}
    template.update(
        members_only=False,
        member_fee="0",
        non_member_fee="0",
        scale=FOUR_LEVEL_SCALE,
        passing_score=FOUR_LEVEL_PASSING,
    )
    template.update(changes)
    return template
