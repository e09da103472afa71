"""What the program dashboard shows, read from the fact tables (``aggregates``) and, for what
must be current (the backlog, reviewers' load, badges), from the live tables.

Every function runs a fixed number of queries, whatever the number of applications, credentials,
criteria or reviewers: each table is one aggregate, grouped in PostgreSQL (medians with
``percentile_cont``, ``reviews.health.Median``), and the names beside it one more query.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from programs.models import (
    Credential,
    Membership,
    Organization,
    Program,
    RubricCriterion,
    RubricLevel,
    StaffRole,
)
from reviews import health
from reviews.health import Median, duration_text
from submissions.models import Application, Submission

from ..models import Badge
from .aggregates import (
    ApplicationFact,
    CriterionFact,
    InsightBuild,
    InsightSection,
    SubmissionFact,
)

EXPIRING_DAYS = 60
AGE_BUCKETS: tuple[tuple[StrOrPromise, int, int | None], ...] = (
    (gettext_lazy("Under 2 days"), 0, 2),
    (gettext_lazy("2 to 7 days"), 2, 7),
    (gettext_lazy("7 to 14 days"), 7, 14),
    (gettext_lazy("14 to 30 days"), 14, 30),
    (gettext_lazy("Over 30 days"), 30, None),
)


@dataclass(frozen=True)
class InsightFilters:
    """What the dashboard is narrowed to; empty: everything."""

    program: Program | None = None
    credential: Credential | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    school: str = ""
    district: str = ""

    @property
    def any(self) -> bool:
        return bool(
            self.program
            or self.credential
            or self.date_from
            or self.date_to
            or self.school
            or self.district
        )


def _start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(queryset: QuerySet[Any], filters: InsightFilters, when: str) -> QuerySet[Any]:
    """A fact queryset narrowed by the filters; ``when``: the field the date range applies to
    (a datetime, or the criterion facts' ``day``)."""
    is_day = when == "day"
    if filters.program is not None:
        queryset = queryset.filter(program_id=filters.program.pk)
    if filters.credential is not None:
        queryset = queryset.filter(credential_id=filters.credential.pk)
    if filters.school:
        queryset = queryset.filter(school=filters.school)
    if filters.district:
        queryset = queryset.filter(district=filters.district)
    if filters.date_from:
        start = filters.date_from if is_day else _start(filters.date_from)
        queryset = queryset.filter(**{f"{when}__gte": start})
    if filters.date_to:
        end = filters.date_to + dt.timedelta(days=1)
        queryset = queryset.filter(**{f"{when}__lt": end if is_day else _start(end)})
    return queryset


class MedianSeconds(Aggregate):
    """The median of a duration the rebuild stored in whole seconds (a number; NULL over no
    rows): ``reviews.health.Median`` over integers instead of intervals."""

    function = "percentile_cont"
    name = "MedianSeconds"
    template = Median.template
    output_field: FloatField[float, float] = FloatField()


def _seconds(value: float | None) -> dt.timedelta | None:
    return None if value is None else dt.timedelta(seconds=value)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def rate_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


# --- The funnel ---------------------------------------------------------------------------------


FUNNEL_STEPS = (
    ("applied", gettext_lazy("Applied"), None),
    ("submitted", gettext_lazy("Submitted evidence"), "to_submit"),
    ("approved", gettext_lazy("Approved"), "to_approve"),
    ("awarded", gettext_lazy("Badge awarded"), "to_award"),
)


@dataclass(frozen=True)
class FunnelStep:
    key: str
    count: int
    of_previous: float | None  # percent of the previous step that reached this one
    median_from_previous: dt.timedelta | None

    @property
    def label(self) -> str:
        return str(next(label for key, label, _ in FUNNEL_STEPS if key == self.key))

    @property
    def drop_off(self) -> float | None:
        return None if self.of_previous is None else round(100 - self.of_previous, 1)

    @property
    def median_text(self) -> str:
        return duration_text(self.median_from_previous)


def _funnel_aggregates() -> dict[str, Any]:
    return {
        "applied": Count("pk"),
        "submitted": Count("submitted_at"),
        "approved": Count("passed_attempt"),
        "awarded": Count("awarded_at"),
        "to_submit": MedianSeconds("to_submit_s"),
        "to_approve": MedianSeconds("to_approve_s"),  # NULL unless approved
        "to_award": MedianSeconds("to_award_s"),
        "views": Sum("badge_views"),
        "shares": Sum("badge_shares"),
    }


def _funnel_from(rows: list[dict[str, Any]]) -> list[FunnelStep]:
    row = rows[0] if rows else {}
    result: list[FunnelStep] = []
    previous: int | None = None
    for key, _, median in FUNNEL_STEPS:
        count = row.get(key) or 0
        result.append(
            FunnelStep(
                key=key,
                count=count,
                of_previous=None if previous is None else _rate(count, previous),
                median_from_previous=_seconds(row.get(median)) if median else None,
            )
        )
        previous = count
    return result


def funnel(*, organization: Organization, filters: InsightFilters) -> list[FunnelStep]:
    """Applied → submitted → approved → awarded for the applications made in the date range
    (a cohort): one query. Views of a credential's page are not recorded anywhere."""
    return _funnel_from(section_figures("funnel", organization=organization, filters=filters))


@dataclass(frozen=True)
class Engagement:
    """Views of the verification pages and shares of the badges of the applications in the
    filters, as recorded up to the last rebuild (``BadgeEngagement``)."""

    views: int
    shares: int


def _engagement_from(rows: list[dict[str, Any]]) -> Engagement:
    row = rows[0] if rows else {}
    return Engagement(views=row.get("views") or 0, shares=row.get("shares") or 0)


# --- Per credential -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialRow:
    credential_id: int
    title: str
    program: str
    applications: int
    first_decided: int
    first_passed: int
    final_decided: int
    final_passed: int
    attempts_to_pass: float | None
    median_to_badge: dt.timedelta | None

    @property
    def first_pass_rate(self) -> float | None:
        return _rate(self.first_passed, self.first_decided)

    @property
    def final_pass_rate(self) -> float | None:
        return _rate(self.final_passed, self.final_decided)

    @property
    def median_to_badge_text(self) -> str:
        return duration_text(self.median_to_badge)


def _credential_aggregates() -> dict[str, Any]:
    return {
        "applications": Count("pk"),
        "first_decided": Count("pk", filter=~Q(first_outcome="")),
        "first_passed": Count("pk", filter=Q(first_outcome="approve")),
        "final_decided": Count("pk", filter=Q(final_outcome__in=["approve", "not_awarded"])),
        "final_passed": Count("passed_attempt"),
        "attempts_to_pass": Avg("passed_attempt"),
        "median_to_badge": MedianSeconds("to_badge_s"),
    }


def _credentials_from(
    rows: list[dict[str, Any]], organization: Organization
) -> list[CredentialRow]:
    figures = {row["credential_id"]: row for row in rows}
    result = []
    for credential in _credentials(organization, figures):
        row = figures[credential.pk]
        attempts = row["attempts_to_pass"]
        result.append(
            CredentialRow(
                credential_id=credential.pk,
                title=str(credential),
                program=credential.program.name,
                applications=row["applications"],
                first_decided=row["first_decided"],
                first_passed=row["first_passed"],
                final_decided=row["final_decided"],
                final_passed=row["final_passed"],
                attempts_to_pass=None if attempts is None else round(float(attempts), 2),
                median_to_badge=_seconds(row["median_to_badge"]),
            )
        )
    return result


def credential_rows(*, organization: Organization, filters: InsightFilters) -> list[CredentialRow]:
    """Per credential (of the applications made in the date range): applications, first-attempt
    and final pass rates (of the attempts decided), mean attempts to pass and the median time
    from applying to the badge. Two queries: the figures, and the credentials' titles."""
    rows = section_figures("credentials", organization=organization, filters=filters)
    return _credentials_from(rows, organization)


def _credentials(organization: Organization, ids: Any = None) -> list[Credential]:
    """The organization's credentials (these ids only, unless None), with names: one query."""
    credentials = Credential.objects.filter(organization=organization)
    if ids is not None:
        credentials = credentials.filter(pk__in=list(ids))
    return list(
        credentials.select_related("current_version", "program").order_by(
            "program__name", "position", "slug"
        )
    )


# --- Rubric analytics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    criterion_id: int
    title: str
    credential: str
    levels: list[tuple[int | None, str, int]]  # (score, label, how many ratings)
    ratings: int
    revision_ratings: int  # ratings in reviews that asked for revision
    below_in_revision: int  # ... of which below this criterion's passing level

    @property
    def below_in_revision_rate(self) -> float | None:
        return _rate(self.below_in_revision, self.revision_ratings)


def _criterion_aggregates() -> dict[str, Any]:
    return {
        "ratings": Sum("n"),
        "revision": Sum("n", filter=Q(needs_revision=True)),
        "below": Sum("n", filter=Q(needs_revision=True, below_passing=True)),
    }


def _criteria_from(rows: list[dict[str, Any]], organization: Organization) -> list[CriterionRow]:
    by_criterion: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_criterion[row["criterion_id"]].append(row)
    criteria = (
        RubricCriterion.objects.filter(organization=organization, pk__in=list(by_criterion))
        .select_related("version")
        .prefetch_related(Prefetch("levels", queryset=RubricLevel.objects.order_by("score")))
    )
    result = []
    for criterion in criteria:
        rows = by_criterion[criterion.pk]
        reached = {row["score"]: row["ratings"] for row in rows}
        levels: list[tuple[int | None, str, int]] = [
            (level.score, level.label, reached.pop(level.score, 0))
            for level in criterion.levels.all()
        ]
        # a score no level has any more: its number; no score: "" (shown as "Not rated")
        levels += [(score, "" if score is None else str(score), n) for score, n in reached.items()]
        result.append(
            CriterionRow(
                criterion_id=criterion.pk,
                title=criterion.title,
                credential=criterion.version.title,
                levels=levels,
                ratings=sum(row["ratings"] for row in rows),
                revision_ratings=sum(row["revision"] or 0 for row in rows),
                below_in_revision=sum(row["below"] or 0 for row in rows),
            )
        )
    result.sort(key=lambda row: (-(row.below_in_revision_rate or 0), row.credential, row.title))
    return result


def criterion_rows(*, organization: Organization, filters: InsightFilters) -> list[CriterionRow]:
    """Per rubric criterion (of the reviews submitted in the date range): how many ratings
    reached each level, and how often, in a review asking for revision, the criterion was below
    passing — where a program's resources or rubric need work. Three queries: the counts, the
    criteria and their levels. Most often below passing first."""
    rows = section_figures("criteria", organization=organization, filters=filters)
    return _criteria_from(rows, organization)


# --- Review -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnaroundMonth:
    month: dt.date
    decided: int
    with_target: int
    within_target: int
    median: dt.timedelta | None

    @property
    def within_rate(self) -> float | None:
        return _rate(self.within_target, self.with_target)

    @property
    def median_text(self) -> str:
        return duration_text(self.median)


def _turnaround_aggregates() -> dict[str, Any]:
    return {
        "decided": Count("pk"),
        "with_target": Count("within_target"),
        "within_target": Count("pk", filter=Q(within_target=True)),
        "median": MedianSeconds("turnaround_s"),
    }


def _turnaround_from(rows: list[dict[str, Any]]) -> list[TurnaroundMonth]:
    months = [
        TurnaroundMonth(
            month=_day(row["month"]),
            decided=row["decided"],
            with_target=row["with_target"],
            within_target=row["within_target"],
            median=_seconds(row["median"]),
        )
        for row in rows
    ]
    return sorted(months, key=lambda month: month.month)


def turnaround_months(
    *, organization: Organization, filters: InsightFilters
) -> list[TurnaroundMonth]:
    """Per month of decision: attempts decided, the share decided by their target (the program's
    turnaround in business days, as the review service set ``due_at``) and the median time from
    submission to decision. One query."""
    rows = section_figures("turnaround", organization=organization, filters=filters)
    return _turnaround_from(rows)


@dataclass(frozen=True)
class AgeBucket:
    label: StrOrPromise
    waiting: int
    past_target: int


def _member_filter(filters: InsightFilters, organization: Organization, user: str) -> Q:
    """Q for the live tables: the person's membership here is at the school / district."""
    if not (filters.school or filters.district):
        return Q()
    members = Membership.objects.filter(organization=organization, user=OuterRef(user))
    if filters.school:
        members = members.filter(school=filters.school)
    if filters.district:
        members = members.filter(district=filters.district)
    return Q(Exists(members))


def _ageing_queryset(organization: Organization) -> QuerySet[Submission]:
    """The undecided current attempts (as queue health counts them)."""
    return Submission.objects.filter(
        organization=organization,
        outcome="",
        application__attempt=F("number"),
        application__status__in=[Application.Status.SUBMITTED, Application.Status.IN_REVIEW],
    ).order_by()


def _ageing_aggregates(now: dt.datetime) -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for index, (_, low, high) in enumerate(AGE_BUCKETS):
        window = Q(submitted_at__lte=now - dt.timedelta(days=low))
        if high is not None:
            window &= Q(submitted_at__gt=now - dt.timedelta(days=high))
        aggregates[f"w{index}"] = Count("pk", filter=window)
        aggregates[f"p{index}"] = Count("pk", filter=window & Q(due_at__lt=now))
    return aggregates


def _ageing_from(row: dict[str, Any]) -> list[AgeBucket]:
    return [
        AgeBucket(
            label=label, waiting=row.get(f"w{index}") or 0, past_target=row.get(f"p{index}") or 0
        )
        for index, (label, _, _) in enumerate(AGE_BUCKETS)
    ]


def backlog_ageing(
    *, organization: Organization, filters: InsightFilters, now: dt.datetime
) -> list[AgeBucket]:
    """The undecided current attempts now (as queue health counts them), by how long they have
    waited, and how many of each are past their target. One query, live."""
    queryset = _ageing_queryset(organization).filter(
        _member_filter(filters, organization, "application__educator")
    )
    if filters.program is not None:
        queryset = queryset.filter(application__credential__program=filters.program)
    if filters.credential is not None:
        queryset = queryset.filter(application__credential=filters.credential)
    return _ageing_from(queryset.aggregate(**_ageing_aggregates(now)))


# --- Badges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeSummary:
    issued: int
    revoked: int
    active: int
    expiring_soon: int
    expiring_days: int = EXPIRING_DAYS


def _badge_aggregates(filters: InsightFilters, now: dt.datetime) -> dict[str, Any]:
    def in_range(name: str) -> Q:
        condition = Q(**{f"{name}__isnull": False})
        if filters.date_from:
            condition &= Q(**{f"{name}__gte": _start(filters.date_from)})
        if filters.date_to:
            condition &= Q(**{f"{name}__lt": _start(filters.date_to + dt.timedelta(days=1))})
        return condition

    live = Q(revoked_at__isnull=True) & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    return {
        "issued": Count("pk", filter=in_range("issued_at")),
        "revoked": Count("pk", filter=in_range("revoked_at")),
        "active": Count("pk", filter=live),
        "expiring": Count(
            "pk",
            filter=live & Q(valid_until__lte=now + dt.timedelta(days=EXPIRING_DAYS)),
        ),
    }


def _badges_from(row: dict[str, Any]) -> BadgeSummary:
    return BadgeSummary(
        issued=row.get("issued") or 0,
        revoked=row.get("revoked") or 0,
        active=row.get("active") or 0,
        expiring_soon=row.get("expiring") or 0,
    )


def badge_summary(
    *, organization: Organization, filters: InsightFilters, now: dt.datetime
) -> BadgeSummary:
    """Badges issued and revoked in the date range, active now, and expiring in the next
    ``EXPIRING_DAYS`` days. One query, live."""
    queryset = Badge.objects.filter(organization=organization).filter(
        _member_filter(filters, organization, "recipient")
    )
    if filters.program is not None:
        queryset = queryset.filter(version__credential__program=filters.program)
    if filters.credential is not None:
        queryset = queryset.filter(version__credential=filters.credential)
    return _badges_from(queryset.order_by().aggregate(**_badge_aggregates(filters, now)))


# --- The queue's figures the rebuild stores beside the facts ------------------------------------


def _roster_field(organization: Organization, user: str, name: str) -> Subquery:
    """The person's roster field (``school``, ``district``) in this organization."""
    return Subquery(
        Membership.objects.filter(organization=organization, user=OuterRef(user))
        .order_by()
        .values(name)[:1]
    )


def queue_figures_to_store(
    *, organization: Organization, now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """The backlog's ageing and the badges as of ``now``, by stored view's key (as
    ``figures_to_store``): each live read grouped once more by each filter's column (ten
    statements, whatever the number of schools or credentials), and, beside the unfiltered
    ones, the whole organization's backlog and reviewers (queue health's own two statements).
    The same rules as the live reads (``backlog_ageing``, ``badge_summary``)."""
    stored: dict[str, dict[str, Any]] = defaultdict(dict)
    reads: dict[str, tuple[QuerySet[Any], dict[str, Any], str, str]] = {
        "ageing": (
            _ageing_queryset(organization),
            _ageing_aggregates(now),
            "application__educator",
            "application__credential",
        ),
        "badges": (
            Badge.objects.filter(organization=organization).order_by(),
            _badge_aggregates(InsightFilters(), now),
            "recipient",
            "version__credential",
        ),
    }
    for name, (queryset, aggregates, user, credential) in reads.items():
        stored[UNFILTERED][name] = queryset.aggregate(**aggregates)
        columns = {
            "program": F(f"{credential}__program_id"),
            "credential": F(f"{credential}_id"),
            "school": _roster_field(organization, user, "school"),
            "district": _roster_field(organization, user, "district"),
        }
        for filter_name, column in columns.items():
            rows = queryset.annotate(filter_value=column).values("filter_value")
            for row in rows.annotate(**aggregates):
                value = row.pop("filter_value")
                if value not in ("", None):
                    stored[f"{filter_name}:{value}"][name] = row
    backlog = health.queue_backlog(organization=organization, now=now)
    stored[UNFILTERED]["queue"] = {
        "now": now.isoformat(),
        "backlog": {
            "waiting": backlog.waiting,
            "in_review": backlog.in_review,
            "awaiting_adjudication": backlog.awaiting_adjudication,
            "past_target": backlog.past_target,
            "oldest": _iso(backlog.oldest_submitted_at),
        },
        "reviewers": [
            {
                "user_id": reviewer.user_id,
                "name": reviewer.name,
                "email": reviewer.email,
                "roles": list(reviewer.role_values),
                "active_claims": reviewer.active_claims,
                "reviews_recent": reviewer.reviews_recent,
                "last_review_at": _iso(reviewer.last_review_at),
            }
            for reviewer in health.reviewer_load_list(organization=organization, now=now)
        ],
    }
    return dict(stored)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _queue_from(queue: dict[str, Any]) -> dict[str, Any]:
    """The backlog and the reviewers as the rebuild stored them (as of ``queue_as_of``)."""
    now = dt.datetime.fromisoformat(queue["now"])
    backlog = queue["backlog"]
    labels = dict(StaffRole.Role.choices)
    return {
        "queue_as_of": now,
        "backlog": health.Backlog(
            waiting=backlog["waiting"],
            in_review=backlog["in_review"],
            awaiting_adjudication=backlog["awaiting_adjudication"],
            past_target=backlog["past_target"],
            oldest_submitted_at=_when(backlog["oldest"]),
            now=now,
        ),
        "reviewers": [
            health.ReviewerLoad(
                user_id=row["user_id"],
                name=row["name"],
                email=row["email"],
                roles=tuple(labels.get(value, value) for value in row["roles"]),
                active_claims=row["active_claims"],
                reviews_recent=row["reviews_recent"],
                last_review_at=_when(row["last_review_at"]),
                role_values=tuple(row["roles"]),
            )
            for row in queue["reviewers"]
        ],
    }


# --- The fact sections' figures: computed for any filters, stored by the rebuild for some ------


@dataclass(frozen=True)
class _Section:
    model: type[ApplicationFact | SubmissionFact | CriterionFact]
    when: str  # the field the date range applies to
    groups: tuple[str, ...]  # what the section is grouped by (none: one row)
    aggregates: Callable[[], dict[str, Any]]
    where: dict[str, Any] = field(default_factory=dict)


SECTIONS: dict[str, _Section] = {
    "funnel": _Section(ApplicationFact, "applied_at", (), _funnel_aggregates),
    "credentials": _Section(
        ApplicationFact, "applied_at", ("credential_id",), _credential_aggregates
    ),
    "criteria": _Section(CriterionFact, "day", ("criterion_id", "score"), _criterion_aggregates),
    "turnaround": _Section(
        SubmissionFact, "decided_at", ("month",), _turnaround_aggregates, {"month__isnull": False}
    ),
}
# The filters whose single views the rebuild stores: (name, fact column)
STORED_FILTERS = (
    ("program", "program_id"),
    ("credential", "credential_id"),
    ("school", "school"),
    ("district", "district"),
)
Figures = dict[str, list[dict[str, Any]]]  # section name -> its aggregate rows


def section_figures(
    name: str, *, organization: Organization, filters: InsightFilters
) -> list[dict[str, Any]]:
    """One fact section's aggregate rows for these filters (one statement): the rule each
    section's figures follow, whether computed for a view or stored by the rebuild."""
    section = SECTIONS[name]
    queryset = _filtered(
        section.model.objects.filter(organization=organization, **section.where),
        filters,
        section.when,
    ).order_by()
    if not section.groups:
        return [queryset.aggregate(**section.aggregates())]
    return list(queryset.values(*section.groups).annotate(**section.aggregates()))


def stored_key(filters: InsightFilters) -> str | None:
    """The key of these filters' stored sections (``InsightSection``): "" unfiltered,
    ``"<filter>:<value>"`` with one filter; None for a period or a combination (computed)."""
    if filters.date_from or filters.date_to:
        return None
    chosen = [
        f"{name}:{getattr(value, 'pk', value)}"
        for name, value in (
            ("program", filters.program),
            ("credential", filters.credential),
            ("school", filters.school),
            ("district", filters.district),
        )
        if value
    ]
    if len(chosen) > 1:
        return None
    return chosen[0] if chosen else ""


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def figures_to_store(*, organization: Organization) -> dict[str, dict[str, Any]]:
    """Every stored view's figures, by key: each section grouped once more by each filter's
    column (one statement per section and filter, whatever the number of schools or
    credentials: twenty), through ``section_figures``'s own aggregates. A filter value without
    facts gets no key (its sections are empty)."""
    stored: dict[str, dict[str, Any]] = defaultdict(lambda: {name: [] for name in SECTIONS})
    stored[""] = {}
    for name, section in SECTIONS.items():
        stored[""][name] = [
            _jsonable(row)
            for row in section_figures(name, organization=organization, filters=InsightFilters())
        ]
        base = section.model.objects.filter(organization=organization, **section.where).order_by()
        for filter_name, column in STORED_FILTERS:
            rows = base.values(column, *section.groups).annotate(**section.aggregates())
            for row in rows:
                value = row[column] if column in section.groups else row.pop(column)
                if value in ("", None):
                    continue  # no school recorded: not a filter of the page
                stored[f"{filter_name}:{value}"][name].append(_jsonable(row))
    return dict(stored)


UNFILTERED = ""


def stored_figures(
    *, organization: Organization, filters: InsightFilters
) -> tuple[Figures | None, dict[str, Any]]:
    """The stored figures of these filters (None when they are computed: a period, a
    combination, or facts built before sections were stored) and the rebuild's organization-wide
    extras (the reviewers' agreement), from one statement."""
    key = stored_key(filters)
    rows = dict(
        InsightSection.objects.filter(
            organization=organization, key__in={UNFILTERED, key or UNFILTERED}
        ).values_list("key", "figures")
    )
    unfiltered = rows.get(UNFILTERED)
    if unfiltered is None:
        return None, {}
    extras: dict[str, Any] = {"agreement": unfiltered.get("agreement", {})}
    queue = unfiltered.get("queue")  # the backlog and reviewers, as of the rebuild
    if queue is not None:
        extras.update(_queue_from(queue))
    if key is None:
        return None, extras
    figures = rows.get(key) or {name: [] for name in SECTIONS}
    if queue is not None:  # this view's ageing and badges then too (none stored: zero)
        extras["ageing"] = _ageing_from(figures.get("ageing") or {})
        extras["badges"] = _badges_from(figures.get("badges") or {})
    return {name: figures[name] for name in SECTIONS}, extras


# --- The filters' choices and the whole dashboard ---------------------------------------------


@dataclass(frozen=True)
class FilterChoices:
    programs: list[Program]
    credentials: list[Credential]
    schools: list[str]
    districts: list[str]


def filter_choices(*, organization: Organization) -> FilterChoices:
    """The programs, credentials, schools and districts to filter by: three queries."""
    places = set(
        Membership.objects.filter(organization=organization)
        .order_by()
        .values_list("school", "district")
        .distinct()
    )
    return FilterChoices(
        programs=list(Program.objects.filter(organization=organization).order_by("name")),
        credentials=list(
            Credential.objects.filter(organization=organization)
            .select_related("current_version")
            .order_by("position", "slug")
        ),
        schools=sorted({school for school, _ in places if school}),
        districts=sorted({district for _, district in places if district}),
    )


MIN_PAIRS = 10  # double-scored criteria below which an agreement figure is not shown


@dataclass(frozen=True)
class AgreementFigure:
    """Agreement between reviewers (``reviews.agreement``: percent and Cohen's kappa over the
    criteria both reviewers of a double-reviewed submission scored), as of the last rebuild.
    Not shown over fewer than ``MIN_PAIRS`` pairs: too few to mean anything."""

    percent: float | None
    kappa: float | None
    n: int  # pairs compared
    min_pairs: int = MIN_PAIRS

    @property
    def shown(self) -> bool:
        return self.n >= self.min_pairs and self.percent is not None

    @classmethod
    def of(cls, figure: dict[str, Any] | None) -> AgreementFigure:
        figure = figure or {}
        return cls(figure.get("percent"), figure.get("kappa"), figure.get("n") or 0)


@dataclass(frozen=True)
class Dashboard:
    organization: Organization
    filters: InsightFilters
    built: InsightBuild | None
    funnel: list[FunnelStep]
    engagement: Engagement
    credentials: list[CredentialRow]
    criteria: list[CriterionRow]
    turnaround: list[TurnaroundMonth]
    backlog: health.Backlog
    ageing: list[AgeBucket]
    reviewers: list[health.ReviewerLoad]
    badges: BadgeSummary
    now: dt.datetime
    agreement: dict[str, Any] = field(default_factory=dict)  # stored by the rebuild
    # when the backlog, reviewers (and, for a stored view, ageing and badges) were read: the
    # rebuild's time when it stored them, None when they were read live for this page
    queue_as_of: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def turnaround_total(self) -> TurnaroundMonth | None:
        if not self.turnaround:
            return None
        return TurnaroundMonth(
            month=self.turnaround[0].month,
            decided=sum(m.decided for m in self.turnaround),
            with_target=sum(m.with_target for m in self.turnaround),
            within_target=sum(m.within_target for m in self.turnaround),
            median=None,
        )

    @property
    def agreement_overall(self) -> AgreementFigure:
        return AgreementFigure.of(self.agreement.get("overall"))

    @property
    def reviewers_agreement(self) -> list[tuple[health.ReviewerLoad, AgreementFigure]]:
        by_reviewer = self.agreement.get("reviewers", {})
        return [(r, AgreementFigure.of(by_reviewer.get(str(r.user_id)))) for r in self.reviewers]


CACHE_SECONDS = 24 * 60 * 60
SORT_MEMORY = "32MB"  # per sort of the fact sections' statements (PostgreSQL's default: 4MB)


def _cache_key(
    organization: Organization, build: InsightBuild | None, filters: InsightFilters
) -> str:
    parts = [
        organization.pk,
        build.pk if build else "",
        build.built_at.isoformat() if build else "",
        filters.program.pk if filters.program else "",
        filters.credential.pk if filters.credential else "",
        filters.date_from or "",
        filters.date_to or "",
        filters.school,
        filters.district,
    ]
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"insights1:{organization.pk}:{digest}"


def _sections_from(figures: Figures, organization: Organization) -> dict[str, Any]:
    """The fact sections from their figures (three queries: the credentials', the criteria's
    and their levels' names)."""
    return {
        "funnel": _funnel_from(figures["funnel"]),
        "engagement": _engagement_from(figures["funnel"]),
        "credentials": _credentials_from(figures["credentials"], organization),
        "criteria": _criteria_from(figures["criteria"], organization),
        "turnaround": _turnaround_from(figures["turnaround"]),
    }


def fact_sections(
    *, organization: Organization, filters: InsightFilters, build: InsightBuild | None
) -> dict[str, Any]:
    """The sections read from the fact tables: the funnel (with the badges' views and shares),
    credentials, criteria and turnaround, and what the rebuild stored beside them: the
    reviewers' agreement, the backlog and reviewers, and a stored view's ageing and badges.

    They change only when the facts are rebuilt, so they are cached under the build's time and
    the filters (exact: a rebuild makes a new key); a cached view runs no statement. Uncached,
    the stored figures are read (one statement: the unfiltered view and each single filter's,
    ``InsightSection``) and named (three); a period or a combination of filters is computed
    (four more statements, in a transaction with sort memory: two)."""
    key = None if build is None else _cache_key(organization, build, filters)
    cached = None if key is None else cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    figures, extras = stored_figures(organization=organization, filters=filters)
    if figures is None:
        with sort_memory():
            figures = {
                name: section_figures(name, organization=organization, filters=filters)
                for name in SECTIONS
            }
    sections = {**_sections_from(figures, organization), **extras}
    if key is not None:
        cache.set(key, sections, CACHE_SECONDS)
    return sections


LIVE_SECONDS = 60
LIVE_PARTS = ("backlog", "reviewers", "ageing", "badges")


def live_sections(
    *,
    organization: Organization,
    filters: InsightFilters,
    now: dt.datetime,
    parts: Collection[str] = LIVE_PARTS,
) -> dict[str, Any]:
    """What is read from the live tables when the rebuild stored no figure for it (facts built
    before it stored them; the ageing and badges of a period or a combination of filters): the
    backlog now and the reviewers' load (the whole organization's: kept once for every filter),
    the backlog's ageing and the badges (per filters): up to four queries, each part kept for
    ``LIVE_SECONDS``: an overview a minute old at most, where queue health is the live page."""
    result: dict[str, Any] = {}
    if {"backlog", "reviewers"} & set(parts):
        whole_key = f"insights-live-org1:{organization.pk}"
        whole = cache.get(whole_key)
        if whole is None:
            whole = {
                "backlog": health.queue_backlog(organization=organization, now=now),
                "reviewers": health.reviewer_load_list(organization=organization, now=now),
            }
            cache.set(whole_key, whole, LIVE_SECONDS)
        result.update(whole)
    if {"ageing", "badges"} & set(parts):
        key = "insights-live2:" + _cache_key(organization, None, filters)
        filtered = cache.get(key)
        if filtered is None:
            filtered = {
                "ageing": backlog_ageing(organization=organization, filters=filters, now=now),
                "badges": badge_summary(organization=organization, filters=filters, now=now),
            }
            cache.set(key, filtered, LIVE_SECONDS)
        result.update(filtered)
    return result


def table_section(
    name: str,
    *,
    organization: Organization,
    filters: InsightFilters,
    build: InsightBuild | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """What one of the dashboard's tables (``exports.TABLES``) needs, computed alone: a CSV
    download runs its own statement (or reads the cached fact sections), not the whole page's."""
    now = now or timezone.now()
    reads: dict[str, Callable[[], dict[str, Any]]] = {
        "funnel": lambda: {"funnel": funnel(organization=organization, filters=filters)},
        "credentials": lambda: {
            "credentials": credential_rows(organization=organization, filters=filters)
        },
        "criteria": lambda: {
            "criteria": criterion_rows(organization=organization, filters=filters)
        },
        "turnaround": lambda: {
            "turnaround": turnaround_months(organization=organization, filters=filters)
        },
        "backlog": lambda: {
            "ageing": backlog_ageing(organization=organization, filters=filters, now=now)
        },
        "reviewers": lambda: {
            "reviewers": health.reviewer_load_list(organization=organization, now=now)
        },
        "badges": lambda: {
            "badges": badge_summary(organization=organization, filters=filters, now=now),
            "engagement": _engagement_from(
                section_figures("funnel", organization=organization, filters=filters)
            ),
        },
    }
    if name in SECTIONS and build is not None:
        cached = cache.get(_cache_key(organization, build, filters))
        if cached is not None:
            return {name: cached[name]}
    with sort_memory():
        return reads[name]()


@contextlib.contextmanager
def sort_memory() -> Iterator[None]:
    """A transaction in which the medians sort up to an organization's every application in
    memory (``SORT_MEMORY``), not in temporary files: one statement."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
        yield


def dashboard(
    *,
    organization: Organization,
    filters: InsightFilters,
    now: dt.datetime | None = None,
    build: InsightBuild | None = None,
) -> Dashboard:
    """Everything the dashboard shows, in a fixed number of queries for each kind of view
    (``fact_sections``: cached, stored or computed). A stored view's backlog, reviewers, ageing
    and badges are the rebuild's, beside its facts; a computed view reads its ageing and badges
    live (``live_sections``: two statements, none when read in the last minute)."""
    now = now or timezone.now()
    if build is None:
        build = InsightBuild.objects.filter(organization=organization).first()
    sections = fact_sections(organization=organization, filters=filters, build=build)
    missing = [part for part in LIVE_PARTS if part not in sections]
    if missing:
        sections = {
            **sections,
            **live_sections(organization=organization, filters=filters, now=now, parts=missing),
        }
    return Dashboard(organization=organization, filters=filters, built=build, now=now, **sections)


def application_export_rows(
    *, organization: Organization, filters: InsightFilters
) -> Iterator[list[Any]]:
    """Every application in the filters, one row each (no names: ids, roster fields, dates and
    outcomes), streamed from the database in chunks (header first)."""
    titles = {c.pk: str(c) for c in _credentials(organization)}
    # (column header, fact field): the credential's title replaces its id
    columns = [
        ("application_id", "application_id"),
        ("credential", "credential_id"),
        *((name, name) for name in ("school", "district", "applied_at", "submitted_at")),
        *((name, name) for name in ("decided_at", "awarded_at", "attempts", "first_outcome")),
        ("final_outcome", "final_outcome"),
        ("passed_on_attempt", "passed_attempt"),
    ]
    yield [header for header, _ in columns]
    rows = (
        _filtered(ApplicationFact.objects.filter(organization=organization), filters, "applied_at")
        .order_by("application_id")
        .values_list(*(name for _, name in columns))
    )
    for application_id, credential_id, *rest in rows.iterator(chunk_size=5000):
        yield [application_id, titles.get(credential_id, credential_id), *rest]
