"""Equity views: the program's measures broken down by who the educators are (issue 20).

One statement computes every dimension the page shows (``GROUPING SETS``: each group and each
dimension's total), so the page costs the same few queries at 2 schools or 500. Groups smaller
than the organization's threshold, and the cells from which one could be worked out, are hidden
by ``suppression``; ``gap_sentences`` says in words how each shown group differs from the rest.

Who counts: the organization's members (any status) and everyone who applied in the filtered
applications. A person's school and district are the roster's, else their own profile's; the
optional fields (years of experience, school level, Title I) are the membership's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from credentials_site.tenancy import scoped_sql
from programs.models import Membership, Organization
from programs.models_roster import ProfileField, SchoolLevel

from .suppression import Hidden, suppress_groups


class Dimension(StrEnum):
    SCHOOL = "school"
    DISTRICT = "district"
    POSITION = "position"
    EXPERIENCE = "experience"
    MEMBER_STATUS = "member_status"
    SCHOOL_LEVEL = "school_level"
    TITLE_I = "title_i"


@dataclass(frozen=True)
class DimensionSpec:
    dimension: Dimension
    caption: StrOrPromise  # "By school"
    sql: str  # the group's value, from ``p`` (the people CTE)
    profile_field: str = ""  # shown only when the organization asks for this field
    order: tuple[str, ...] = ()  # the groups' order when it is not alphabetical


EXPERIENCE_BANDS = ("0-2", "3-5", "6-10", "11-20", "21+")
_EXPERIENCE_SQL = (
    "CASE WHEN p.years_experience IS NULL THEN '' WHEN p.years_experience <= 2 THEN '0-2' "
    "WHEN p.years_experience <= 5 THEN '3-5' WHEN p.years_experience <= 10 THEN '6-10' "
    "WHEN p.years_experience <= 20 THEN '11-20' ELSE '21+' END"
)
MEMBER_STATUSES = ("member", "non_member", "lapsed")

DIMENSIONS: dict[Dimension, DimensionSpec] = {
    spec.dimension: spec
    for spec in (
        DimensionSpec(Dimension.SCHOOL, _("By school"), "p.school"),
        DimensionSpec(Dimension.DISTRICT, _("By district"), "p.district"),
        DimensionSpec(Dimension.POSITION, _("By position"), "p.position"),
        DimensionSpec(
            Dimension.EXPERIENCE,
            _("By years of experience"),
            _EXPERIENCE_SQL,
            ProfileField.YEARS_EXPERIENCE,
            EXPERIENCE_BANDS,
        ),
        DimensionSpec(
            Dimension.MEMBER_STATUS, _("By member status"), "p.member_status", "", MEMBER_STATUSES
        ),
        DimensionSpec(
            Dimension.SCHOOL_LEVEL,
            _("By school level"),
            "p.school_level",
            ProfileField.SCHOOL_LEVEL,
            tuple(SchoolLevel.values),
        ),
        DimensionSpec(
            Dimension.TITLE_I,
            _("By Title I school"),
            "CASE WHEN p.title_i THEN 'yes' WHEN NOT p.title_i THEN 'no' ELSE '' END",
            ProfileField.TITLE_I,
            ("yes", "no"),
        ),
    )
}

NOT_RECORDED = _("Not recorded")
_LABELS: dict[Dimension, dict[str, StrOrPromise]] = {
    Dimension.EXPERIENCE: {
        "0-2": _("0-2 years"),
        "3-5": _("3-5 years"),
        "6-10": _("6-10 years"),
        "11-20": _("11-20 years"),
        "21+": _("21 or more years"),
    },
    Dimension.MEMBER_STATUS: {
        "member": _("Members"),
        "non_member": _("Non-members"),
        "lapsed": _("Lapsed members"),
    },
    Dimension.SCHOOL_LEVEL: dict(SchoolLevel.choices),
    Dimension.TITLE_I: {"yes": _("Title I school"), "no": _("Not a Title I school")},
}


def dimensions_for(organization: Organization) -> list[DimensionSpec]:
    """The dimensions this organization's equity views show: the fixed ones, and the optional
    profile fields it asks its members for."""
    enabled = set(organization.profile_fields or [])
    return [s for s in DIMENSIONS.values() if not s.profile_field or s.profile_field in enabled]


@dataclass(frozen=True)
class EquityFilters:
    """What the page narrows the applications to (people are the members either way)."""

    program: str = ""  # a program's slug
    credential: str = ""  # a credential's slug
    start: dt.date | None = None  # applications made on or after
    end: dt.date | None = None  # applications made on or before
    dimension: Dimension | None = None  # only this dimension's table


@dataclass(frozen=True)
class Measures:
    """Counts for one group of people; the rates come from them."""

    people: int = 0
    applicants: int = 0
    applications: int = 0
    submitted: int = 0
    first_decided: int = 0
    first_passed: int = 0
    final_decided: int = 0
    final_passed: int = 0
    badges: int = 0
    median_days: float | None = None

    @property
    def application_rate(self) -> float | None:
        return self.applications / self.people if self.people else None

    @property
    def first_pass_rate(self) -> float | None:
        return self.first_passed / self.first_decided if self.first_decided else None

    @property
    def final_pass_rate(self) -> float | None:
        return self.final_passed / self.final_decided if self.final_decided else None

    def minus(self, other: Measures) -> Measures:
        """Everyone else: these counts less ``other``'s (no median: it does not subtract)."""
        return Measures(**{n: getattr(self, n) - getattr(other, n) for n in COUNT_NAMES})

    def plus(self, other: Measures) -> Measures:
        """Both groups together (no median: it does not add)."""
        return Measures(**{n: getattr(self, n) + getattr(other, n) for n in COUNT_NAMES})


COUNT_NAMES = tuple(f.name for f in fields(Measures) if f.name != "median_days")


@dataclass(frozen=True)
class Cell:
    """One shown value: its text, its number (None when hidden or not applicable) and, when
    hidden, why."""

    text: str
    number: float | None = None
    hidden: Hidden | None = None


# The table's columns. A group is shown or hidden whole (by its number of people); a shown
# group's rate needs a base of at least the threshold.
COLUMNS = (
    _("People"),
    _("Applications"),
    _("Applications per person"),
    _("Submitted"),
    _("First-attempt pass rate"),
    _("Final pass rate"),
    _("Median days to badge"),
)


@dataclass(frozen=True)
class Row:
    value: str  # the group's value ("" for not recorded)
    label: str
    measures: Measures
    cells: tuple[Cell, ...]
    hidden: Hidden | None = None


@dataclass(frozen=True)
class Breakdown:
    dimension: Dimension
    caption: str
    threshold: int
    rows: tuple[Row, ...]
    total: Row
    notes: tuple[str, ...] = field(default=())

    @property
    def hidden_count(self) -> int:
        return sum(1 for row in self.rows if row.hidden)


def fewer_than(threshold: int) -> str:
    return str(_("fewer than %(threshold)s") % {"threshold": threshold})


SUPPRESSED = _("not shown")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def _cells(m: Measures, hidden: Hidden | None, threshold: int) -> tuple[Cell, ...]:
    """A row's cells. ``hidden``: the row is not shown (its size reads "fewer than 10" when it
    is itself small, every other cell "not shown")."""
    if hidden is not None:
        small = hidden is Hidden.SMALL
        size = Cell(fewer_than(threshold) if small else str(SUPPRESSED), None, hidden)
        rest = Cell(str(SUPPRESSED), None, Hidden.COMPLEMENT)
        return (size, *(rest for _column in COLUMNS[1:]))

    def rate(value: float | None, base: int, text: str) -> Cell:
        if base == 0 or value is None:
            return Cell("—")
        if base < threshold:  # a rate over 3 decisions tells about 3 people
            return Cell(str(_("%(fewer)s to compare") % {"fewer": fewer_than(threshold)}))
        return Cell(text, value)

    application_rate = m.application_rate
    median = m.median_days
    return (
        Cell(str(m.people), m.people),
        Cell(str(m.applications), m.applications),
        rate(application_rate, m.people, f"{application_rate or 0:.2f}"),
        Cell(str(m.submitted), m.submitted),
        rate(m.first_pass_rate, m.first_decided, _percent(m.first_pass_rate)),
        rate(m.final_pass_rate, m.final_decided, _percent(m.final_pass_rate)),
        rate(median, m.badges, f"{median or 0:.0f}"),
    )


def _label(dimension: Dimension, value: str) -> str:
    if not value:
        return str(NOT_RECORDED)
    return str(_LABELS.get(dimension, {}).get(value, value))


def breakdown_build(
    *,
    dimension: Dimension,
    groups: Sequence[tuple[str, Measures]],
    total: Measures,
    threshold: int,
) -> Breakdown:
    """A dimension's table from its groups' measures: ordered, suppressed, as text."""
    spec = DIMENSIONS[dimension]
    if spec.order:
        position = {value: i for i, value in enumerate(spec.order)}
        ordered = sorted(groups, key=lambda g: (g[0] == "", position.get(g[0], len(position))))
    else:
        ordered = sorted(groups, key=lambda g: (g[0] == "", g[0].casefold()))
    # the threshold is about people: a group is hidden by its size, with the groups that
    # protect it; its other counts go with it (the total less the rest gives only their sum)
    suppression = suppress_groups([m.people for _, m in ordered], threshold=threshold)
    rows = []
    for i, (value, measures) in enumerate(ordered):
        hidden = suppression.cell(i, 0)
        label = _label(dimension, value)
        rows.append(Row(value, label, measures, _cells(measures, hidden, threshold), hidden))
    total_hidden = Hidden.COMPLEMENT if suppression.column_totals else None
    total_row = Row(
        "", str(_("All educators")), total, _cells(total, total_hidden, threshold), total_hidden
    )
    notes = []
    if any(row.hidden for row in rows):
        notes.append(
            str(
                _(
                    "Groups of %(fewer)s people are not shown, nor the cells from which one "
                    "could be worked out."
                )
                % {"fewer": fewer_than(threshold)}
            )
        )
    return Breakdown(dimension, str(spec.caption), threshold, tuple(rows), total_row, tuple(notes))


# --- The statement ---------------------------------------------------------------------------

# No join between two large sets (the planner, blind to row-level security's selectivity,
# would loop over them): memberships and applications are stacked and grouped by person, then
# each person's attributes are looked up by index, unnested by dimension and aggregated once.
_PEOPLE_SQL = """
WITH app AS (
    SELECT
        a.educator_id AS user_id,
        a.submitted_at,
        a.status,
        (SELECT s.outcome FROM submissions_submission s
         WHERE s.application_id = a.id AND s.number = 1 AND {tenant_s}) AS first_outcome,
        (SELECT EXTRACT(EPOCH FROM b.issued_at - a.created_at) / 86400 FROM badges_badge b
         WHERE b.application_id = a.id AND {tenant_b}) AS days
    FROM submissions_application a
    WHERE a.organization_id = %(org)s AND {tenant_a} {app_filter}
),
person AS (
    SELECT
        e.user_id,
        COUNT(*) FILTER (WHERE e.is_app) AS applications,
        COUNT(e.submitted_at) AS submitted,
        COUNT(*) FILTER (WHERE e.first_outcome IN ('approve', 'needs_revision', 'not_awarded'))
            AS first_decided,
        COUNT(*) FILTER (WHERE e.first_outcome = 'approve') AS first_passed,
        COUNT(*) FILTER (WHERE e.status IN ('approved', 'awarded', 'not_awarded'))
            AS final_decided,
        COUNT(*) FILTER (WHERE e.status IN ('approved', 'awarded')) AS final_passed,
        COUNT(e.days) AS badges,
        ARRAY_AGG(e.days) FILTER (WHERE e.days IS NOT NULL) AS days
    FROM (
        SELECT m.user_id, FALSE AS is_app, NULL::timestamptz AS submitted_at, '' AS status,
               NULL::varchar AS first_outcome, NULL::numeric AS days
        FROM programs_membership m
        WHERE m.organization_id = %(org)s AND {tenant_m}
        UNION ALL
        SELECT app.user_id, TRUE, app.submitted_at, app.status, app.first_outcome, app.days
        FROM app
    ) AS e
    GROUP BY e.user_id
),
p AS (
    SELECT
        person.*,
        COALESCE(NULLIF(TRIM(m.school), ''), NULLIF(TRIM(u.school), ''), '') AS school,
        COALESCE(NULLIF(TRIM(m.district), ''), NULLIF(TRIM(u.district), ''), '') AS district,
        COALESCE(TRIM(m.position), '') AS position,
        m.years_experience,
        COALESCE(m.school_level, '') AS school_level,
        m.title_i,
        CASE
            WHEN m.id IS NULL OR m.status = %(cancelled)s THEN 'non_member'
            WHEN m.status = %(active)s AND (m.member_until IS NULL OR m.member_until >= %(today)s)
                THEN 'member'
            ELSE 'lapsed'
        END AS member_status
    FROM person
    JOIN programs_user u ON u.id = person.user_id
    LEFT JOIN programs_membership m
        ON m.user_id = person.user_id AND m.organization_id = %(org)s AND {tenant_m2}
),
d AS (
    SELECT
        p.applications, p.submitted, p.first_decided, p.first_passed, p.final_decided,
        p.final_passed, p.badges, p.days, v.dimension, v.value COLLATE "C" AS value
    FROM p CROSS JOIN LATERAL (VALUES {dimension_values}) AS v(dimension, value)
)
SELECT
    d.dimension,
    GROUPING(d.value) AS is_total,
    COALESCE(d.value, '') AS value,
    -- a person with several badges has a row per badge (for the median): count them once
    COUNT(*) FILTER (WHERE once) AS people,
    COUNT(*) FILTER (WHERE once AND d.applications > 0) AS applicants,
    COALESCE(SUM(d.applications) FILTER (WHERE once), 0) AS applications,
    COALESCE(SUM(d.submitted) FILTER (WHERE once), 0) AS submitted,
    COALESCE(SUM(d.first_decided) FILTER (WHERE once), 0) AS first_decided,
    COALESCE(SUM(d.first_passed) FILTER (WHERE once), 0) AS first_passed,
    COALESCE(SUM(d.final_decided) FILTER (WHERE once), 0) AS final_decided,
    COALESCE(SUM(d.final_passed) FILTER (WHERE once), 0) AS final_passed,
    COALESCE(SUM(d.badges) FILTER (WHERE once), 0) AS badges,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY day.value) AS median_days
FROM d
LEFT JOIN LATERAL UNNEST(d.days) WITH ORDINALITY AS day(value, n) ON TRUE
CROSS JOIN LATERAL (SELECT day.n IS NULL OR day.n = 1 AS once) AS o
GROUP BY GROUPING SETS ((d.dimension, d.value), (d.dimension))
"""


def _app_filter(filters: EquityFilters, params: dict[str, Any]) -> str:
    parts = []
    if filters.program:
        parts.append(
            "AND a.credential_id IN (SELECT c.id FROM programs_credential c JOIN programs_program"
            " pr ON pr.id = c.program_id WHERE pr.slug = %(program)s AND pr.organization_id = "
            "%(org)s)"
        )
        params["program"] = filters.program
    if filters.credential:
        parts.append(
            "AND a.credential_id IN (SELECT c.id FROM programs_credential c WHERE c.slug = "
            "%(credential)s AND c.organization_id = %(org)s)"
        )
        params["credential"] = filters.credential
    tz = timezone.get_current_timezone()
    if filters.start:
        parts.append("AND a.created_at >= %(start)s")
        params["start"] = dt.datetime.combine(filters.start, dt.time.min, tzinfo=tz)
    if filters.end:
        parts.append("AND a.created_at < %(end)s")
        params["end"] = dt.datetime.combine(
            filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        )
    return " ".join(parts)


def equity_breakdowns(
    *, organization: Organization, filters: EquityFilters | None = None
) -> list[Breakdown]:
    """Every dimension's table for this organization (or the one ``filters`` names), in one
    query whatever the number of groups."""
    filters = filters or EquityFilters()
    specs = [
        s
        for s in dimensions_for(organization)
        if filters.dimension is None or s.dimension == filters.dimension
    ]
    if not specs:
        return []
    params: dict[str, Any] = {
        "org": organization.pk,
        "active": Membership.Status.ACTIVE,
        "cancelled": Membership.Status.CANCELLED,
        "today": timezone.localdate(),
    }
    # the dimensions' names and expressions are this module's constants, never input
    values = ", ".join(f"('{s.dimension.value}', {s.sql})" for s in specs)
    sql = _PEOPLE_SQL.replace("{dimension_values}", values).replace(
        "{app_filter}", _app_filter(filters, params)
    )
    sql, params = scoped_sql(
        sql,
        params,
        tenant_m="m.organization_id",
        tenant_m2="m.organization_id",
        tenant_a="a.organization_id",
        tenant_s="s.organization_id",
        tenant_b="b.organization_id",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    groups: dict[str, list[tuple[str, Measures]]] = {s.dimension.value: [] for s in specs}
    totals: dict[str, Measures] = {}
    for dimension, is_total, value, *counts, median in rows:
        people, applicants, applications, submitted, *decided, badges = map(int, counts)
        first_decided, first_passed, final_decided, final_passed = decided
        measures = Measures(
            people=people,
            applicants=applicants,
            applications=applications,
            submitted=submitted,
            first_decided=first_decided,
            first_passed=first_passed,
            final_decided=final_decided,
            final_passed=final_passed,
            badges=badges,
            median_days=None if median is None else float(median),
        )
        if is_total:
            totals[dimension] = measures
        else:
            groups[dimension].append((value, measures))
    threshold = organization.suppression_threshold
    return [
        breakdown_build(
            dimension=s.dimension,
            groups=groups[s.dimension.value],
            total=totals.get(s.dimension.value, Measures()),
            threshold=threshold,
        )
        for s in specs
    ]
