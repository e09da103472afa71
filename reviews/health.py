"""The review queue's health, for program admins: backlog, waiting time, turnaround, decisions,
and each reviewer's load and agreement.

Read functions only (keyword-only, organization first). Each runs a fixed number of queries,
whatever the number of submissions or reviewers: the backlog is one aggregate, the last 30 days
one aggregate (the median turnaround is computed in PostgreSQL with ``percentile_cont(0.5)``, so
no rows are fetched for it), the reviewers one query with correlated subqueries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.models import Organization, StaffRole, User
from submissions.models import Application, Submission

from .agreement import Agreement, ReviewerAgreement, agreement_table
from .models import Claim, Review
from .selectors import REVIEWER_ROLES

WINDOW_DAYS = 30
OUTCOME_PHRASES = {
    Review.Decision.APPROVE.value: _("approved"),
    Review.Decision.NEEDS_REVISION.value: _("returned for revision"),
    Review.Decision.NOT_AWARDED.value: _("not awarded"),
}


def duration_text(value: dt.timedelta | None) -> str:
    """“3 d 4 h”, “5 h 12 min”, “40 min”; “—” for nothing."""
    if value is None:
        return "—"
    minutes = max(int(value.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY ...)``: the interpolated median
    of an interval (or a number); NULL over no rows."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def agreement_text(agreement: Agreement | None) -> str:
    """“83.3 % · κ 0.667 (12)”: percent agreement, Cohen's kappa, pairs compared; “—” without
    data."""
    if agreement is None or not agreement["n"] or agreement["percent"] is None:
        return "—"
    kappa = "" if agreement["kappa"] is None else f" · κ {agreement['kappa']:.3f}"
    return f"{agreement['percent']:.1f} %{kappa} ({agreement['n']})"


@dataclass(frozen=True)
class Backlog:
    """Undecided current attempts (submitted or in review)."""

    waiting: int
    in_review: int
    awaiting_adjudication: int
    past_target: int
    oldest_submitted_at: dt.datetime | None
    now: dt.datetime

    @property
    def oldest_wait(self) -> dt.timedelta | None:
        return None if self.oldest_submitted_at is None else self.now - self.oldest_submitted_at

    @property
    def oldest_wait_text(self) -> str:
        return duration_text(self.oldest_wait)


@dataclass(frozen=True)
class Turnaround:
    """Decisions of the last ``days`` days and the median time from submission to decision."""

    days: int
    decided: int
    median: dt.timedelta | None
    by_outcome: dict[str, int]  # outcome value -> count, every outcome present (0 if none)

    @property
    def median_text(self) -> str:
        return duration_text(self.median)

    @property
    def by_outcome_labelled(self) -> list[tuple[str, str, int]]:
        """(outcome, what it means for the educator, count) for every outcome."""
        return [
            (value, str(OUTCOME_PHRASES[value]), self.by_outcome[value])
            for value in OUTCOME_PHRASES
        ]


@dataclass(frozen=True)
class ReviewerLoad:
    user_id: int
    name: str
    email: str
    roles: tuple[str, ...]  # role labels
    active_claims: int
    reviews_recent: int
    last_review_at: dt.datetime | None
    agreement: ReviewerAgreement | None = None  # from reviews.agreement
    role_values: tuple[str, ...] = ()  # the roles' values (``StaffRole.Role``)

    @property
    def agreement_exemplars_text(self) -> str:
        return agreement_text(None if self.agreement is None else self.agreement["with_exemplars"])

    @property
    def agreement_reviewers_text(self) -> str:
        return agreement_text(None if self.agreement is None else self.agreement["with_reviewers"])


@dataclass(frozen=True)
class QueueHealth:
    organization: Organization
    backlog: Backlog
    turnaround: Turnaround
    reviewers: list[ReviewerLoad]
    agreement_available: bool
    window_days: int = WINDOW_DAYS
    notes: list[str] = field(default_factory=list)


def queue_backlog(*, organization: Organization, now: dt.datetime | None = None) -> Backlog:
    """One query: counts and the oldest submission time of the undecided current attempts."""
    now = now or timezone.now()
    row = Submission.objects.filter(
        organization=organization,
        outcome="",
        application__attempt=F("number"),
        application__status__in=[Application.Status.SUBMITTED, Application.Status.IN_REVIEW],
    ).aggregate(
        waiting=Count("pk"),
        in_review=Count("pk", filter=Q(application__status=Application.Status.IN_REVIEW)),
        awaiting_adjudication=Count("pk", filter=Q(needs_adjudication=True)),
        past_target=Count("pk", filter=Q(due_at__lt=now)),
        oldest=Min("submitted_at"),
    )
    return Backlog(
        waiting=row["waiting"],
        in_review=row["in_review"],
        awaiting_adjudication=row["awaiting_adjudication"],
        past_target=row["past_target"],
        oldest_submitted_at=row["oldest"],
        now=now,
    )


def queue_turnaround(
    *, organization: Organization, days: int = WINDOW_DAYS, now: dt.datetime | None = None
) -> Turnaround:
    """One query over the attempts decided in the last ``days`` days: their number per outcome
    and the median of ``decided_at - submitted_at`` (``percentile_cont`` in PostgreSQL)."""
    now = now or timezone.now()
    outcomes = {value: Count("pk", filter=Q(outcome=value)) for value in Review.Decision.values}
    row = (
        Submission.objects.filter(
            organization=organization,
            decided_at__gt=now - dt.timedelta(days=days),
            decided_at__lte=now,
        )
        .exclude(outcome="")
        .aggregate(
            decided=Count("pk"),
            median=Median(F("decided_at") - F("submitted_at")),
            **{f"outcome_{value}": aggregate for value, aggregate in outcomes.items()},
        )
    )
    return Turnaround(
        days=days,
        decided=row["decided"],
        median=row["median"],
        by_outcome={value: row[f"outcome_{value}"] for value in Review.Decision.values},
    )


def _count(queryset: Any, group: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def reviewer_load_list(
    *, organization: Organization, days: int = WINDOW_DAYS, now: dt.datetime | None = None
) -> list[ReviewerLoad]:
    """One query: every person with a reviewing role here, with their active claims, the
    reviews they submitted in the last ``days`` days and their last review."""
    now = now or timezone.now()
    roles = StaffRole.objects.filter(
        organization=organization, user=OuterRef("pk"), role__in=REVIEWER_ROLES
    )
    submitted = Review.objects.filter(
        organization=organization, reviewer=OuterRef("pk"), status=Review.Status.SUBMITTED
    )
    users = (
        User.objects.filter(Exists(roles))
        .annotate(
            role_values=Subquery(
                roles.order_by()
                .values("user")
                .annotate(values=ArrayAgg("role", order_by="role"))
                .values("values")
            ),
            active_claims=_count(
                Claim.objects.filter(
                    organization=organization, reviewer=OuterRef("pk"), status=Claim.Status.ACTIVE
                ),
                "reviewer",
            ),
            reviews_recent=_count(
                submitted.filter(submitted_at__gt=now - dt.timedelta(days=days)), "reviewer"
            ),
            last_review_at=Subquery(
                submitted.order_by().values("reviewer").annotate(m=Max("submitted_at")).values("m")
            ),
        )
        .order_by("full_name", "email")
    )
    labels = dict(StaffRole.Role.choices)
    return [
        ReviewerLoad(
            user_id=user.pk,
            name=user.full_name or user.email,
            email=user.email,
            roles=tuple(labels.get(value, value) for value in user.role_values or ()),
            active_claims=user.active_claims,
            reviews_recent=user.reviews_recent,
            last_review_at=user.last_review_at,
            role_values=tuple(user.role_values or ()),
        )
        for user in users
    ]


def _agreement_by_reviewer(organization: Organization) -> dict[int, ReviewerAgreement]:
    """Per-reviewer agreement (``reviews.agreement.agreement_table``: three queries)."""
    return {row["reviewer_id"]: row for row in agreement_table(organization=organization)}


def queue_health(*, organization: Organization, now: dt.datetime | None = None) -> QueueHealth:
    """Everything the queue health page shows, in six queries: the backlog, the last 30 days,
    the reviewers' load, and the agreement table's three."""
    now = now or timezone.now()
    agreement = _agreement_by_reviewer(organization)
    reviewers = [
        replace(load, agreement=agreement.get(load.user_id))
        for load in reviewer_load_list(organization=organization, now=now)
    ]
    return QueueHealth(
        organization=organization,
        backlog=queue_backlog(organization=organization, now=now),
        turnaround=queue_turnaround(organization=organization, now=now),
        reviewers=reviewers,
        agreement_available=any(
            row["with_exemplars"]["n"] or row["with_reviewers"]["n"] for row in agreement.values()
        ),
    )
