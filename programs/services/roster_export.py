"""The roster out as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ..models import Membership, Organization

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_HEADER = (
    "email",
    "given_name",
    "family_name",
    "full_name",
    "school",
    "district",
    "position",
    "member_number",
    "membership_start",
    "membership_expiry",
    "status",
    "source",
)


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @, a tab or a
    carriage return gets a leading apostrophe (OWASP's CSV injection advice)."""
    text = "" if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def roster_export_rows(*, organization: Organization) -> Iterator[list[str]]:
    """The organization's roster as CSV rows (header first), in e-mail order, streamed in one
    query; the columns an import reads back."""
    yield list(EXPORT_HEADER)
    memberships = (
        Membership.objects.filter(organization=organization)
        .order_by("user__email")
        .values_list(
            "user__email",
            "user__full_name",
            "school",
            "district",
            "position",
            "member_number",
            "member_since",
            "member_until",
            "status",
            "source",
        )
    )
    for email, full_name, *rest in memberships.iterator(chunk_size=2000):
        given, _, family = (full_name or "").partition(" ")
        yield [csv_safe(v) for v in (email, given, family, full_name, *rest)]
