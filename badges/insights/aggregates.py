"""The insight dashboard's pre-aggregated tables, and their rebuild (decision 0023).

Three fact tables, each rebuilt for one organization at a time by ``insights_rebuild`` with a
few set-based statements (``DELETE`` then ``INSERT ... SELECT`` in one transaction), run by beat
every ``INSIGHTS_REBUILD_MINUTES`` and on a dashboard's first view:

- ``ApplicationFact``: one narrow row per application: its program, credential, the educator's
  school and district (their membership's roster fields), when it was applied for, first
  submitted, finally decided and awarded, its number of attempts, first and final outcome and
  the attempt that passed. The funnel and the per-credential table read it.
- ``SubmissionFact``: one row per attempt sent to review (submitted, decided, due): review
  turnaround against the program's target.
- ``CriterionFact``: rubric scores counted per credential, criterion, school, district, day and
  level, with whether the level was below passing and whether the review asked for revision.

They are tenant tables (an ``organization`` column: row-level security covers them as any other,
decision 0010); PostgreSQL materialized views are not, and the app role may not refresh them.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django_scopes import ScopedManager

from credentials_site.tenancy import scoped_sql, tenant_scope
from programs.models import Organization


class _Fact(models.Model):
    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    program_id = models.BigIntegerField()
    credential_id = models.BigIntegerField()
    school = models.CharField(max_length=200, blank=True)
    district = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(organization="organization")  # type: ignore[django-manager-missing]

    class Meta:
        abstract = True
        app_label = "badges"

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.pk}"


class ApplicationFact(_Fact):
    application_id = models.BigIntegerField(unique=True)
    applied_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(null=True)
    awarded_at = models.DateTimeField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    first_outcome = models.CharField(max_length=16, blank=True)
    final_outcome = models.CharField(max_length=16, blank=True)
    passed_attempt = models.PositiveSmallIntegerField(null=True)
    # The funnel's and the credentials' durations, in whole seconds, computed by the rebuild:
    # their medians sort plain integers instead of computing and sorting intervals per view.
    to_submit_s = models.IntegerField(null=True)  # applied → first submitted
    to_approve_s = models.IntegerField(null=True)  # first submitted → decided (approved only)
    to_award_s = models.IntegerField(null=True)  # decided → awarded (approved only)
    to_badge_s = models.IntegerField(null=True)  # applied → awarded
    # the application's badge: views of its verification page and shares by its earner, as
    # recorded (``BadgeEngagement``) up to the rebuild
    badge_views = models.PositiveIntegerField(default=0)
    badge_shares = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "badges"
        # one per filter of the dashboard: a filtered view reads its rows, not the organization's
        indexes = [
            models.Index(fields=["organization", "applied_at"], name="insight_app_org_day"),
            models.Index(fields=["organization", "school"], name="insight_app_org_school"),
            models.Index(fields=["organization", "district"], name="insight_app_org_district"),
            models.Index(fields=["organization", "credential_id"], name="insight_app_org_cred"),
        ]


class SubmissionFact(_Fact):
    submission_id = models.BigIntegerField(unique=True)
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True)
    outcome = models.CharField(max_length=16, blank=True)
    # computed by the rebuild for the decided attempts (NULL otherwise): the month of the
    # decision (in settings.TIME_ZONE), the turnaround in seconds and whether it met its target
    month = models.DateField(null=True)
    turnaround_s = models.IntegerField(null=True)
    within_target = models.BooleanField(null=True)

    class Meta:
        app_label = "badges"
        indexes = [
            models.Index(fields=["organization", "decided_at"], name="insight_sub_org_decided"),
            models.Index(fields=["organization", "school"], name="insight_sub_org_school"),
            models.Index(fields=["organization", "district"], name="insight_sub_org_district"),
            models.Index(fields=["organization", "credential_id"], name="insight_sub_org_cred"),
        ]


class CriterionFact(_Fact):
    criterion_id = models.BigIntegerField()
    day = models.DateField()
    score = models.PositiveSmallIntegerField(null=True)
    below_passing = models.BooleanField()
    needs_revision = models.BooleanField()
    n = models.PositiveIntegerField()

    class Meta:
        app_label = "badges"
        indexes = [models.Index(fields=["organization", "day"], name="insight_crit_org_day")]


class InsightBuild(models.Model):
    """When an organization's facts were last rebuilt, and how long it took."""

    organization = models.OneToOneField(
        "programs.Organization", on_delete=models.CASCADE, related_name="+"
    )
    built_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    objects = ScopedManager(organization="organization")  # type: ignore[django-manager-missing]

    class Meta:
        app_label = "badges"

    def __str__(self) -> str:
        return f"Insight of organization {self.organization_id} built {self.built_at}"


class InsightSection(models.Model):
    """The dashboard's fact sections of one view, figured by the rebuild: the unfiltered view
    (``key`` "") and each view with one filter (``"school:North"``, ``"credential:12"``...,
    ``selectors.stored_key``), so the first view of those after a rebuild reads one row
    instead of running the sections' statements (decision 0023). ``figures``: the sections'
    aggregate rows as the selectors group them (``selectors.section_figures``)."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=250)
    figures = models.JSONField()

    objects = ScopedManager(organization="organization")  # type: ignore[django-manager-missing]

    class Meta:
        app_label = "badges"
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="insight_section_once")
        ]

    def __str__(self) -> str:
        return f"Insight section {self.key or 'all'} of organization {self.organization_id}"


class BadgeEngagement(models.Model):
    """How often a badge's verification page was viewed and its earner shared it, per day:
    counts only (no address, no visitor), one row per badge and day, added to by
    ``badge_engagement_record``; the insight rebuild sums them per application."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    badge = models.ForeignKey("badges.Badge", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)

    objects = ScopedManager(organization="organization")  # type: ignore[django-manager-missing]

    class Meta:
        app_label = "badges"
        constraints = [
            models.UniqueConstraint(fields=["badge", "day"], name="badge_engagement_per_day")
        ]
        indexes = [models.Index(fields=["organization", "day"], name="badge_engagement_org_day")]

    def __str__(self) -> str:
        return f"Engagement of badge {self.badge_id} on {self.day}"


class InsightSummaryMail(models.Model):
    """A monthly summary e-mail sent to one admin for one month (``summary``): claimed before
    it is sent, in the same transaction, so a retry or a second run never sends it twice."""

    organization = models.ForeignKey(
        "programs.Organization", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()  # its first day
    user = models.ForeignKey("programs.User", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organization="organization")  # type: ignore[django-manager-missing]

    class Meta:
        app_label = "badges"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "user"], name="insight_summary_once"
            )
        ]

    def __str__(self) -> str:
        return f"Insight summary of {self.month:%Y-%m} to user {self.user_id}"


# The educator's roster fields come from their membership here ("" without one).
_APPLICATIONS = """
INSERT INTO badges_applicationfact
    (organization_id, program_id, credential_id, school, district, application_id, applied_at,
     submitted_at, decided_at, awarded_at, attempts, first_outcome, final_outcome, passed_attempt,
     to_submit_s, to_approve_s, to_award_s, to_badge_s, badge_views, badge_shares)
SELECT a.organization_id, c.program_id, a.credential_id, COALESCE(m.school, ''),
       COALESCE(m.district, ''), a.id, a.created_at, s.first_submitted, s.last_decided,
       b.issued_at, COALESCE(s.attempts, 0), COALESCE(s.first_outcome, ''),
       COALESCE(s.final_outcome, ''), s.passed_attempt,
       extract(epoch FROM s.first_submitted - a.created_at)::int,
       CASE WHEN s.passed_attempt IS NOT NULL
            THEN extract(epoch FROM s.last_decided - s.first_submitted)::int END,
       CASE WHEN s.passed_attempt IS NOT NULL
            THEN extract(epoch FROM b.issued_at - s.last_decided)::int END,
       extract(epoch FROM b.issued_at - a.created_at)::int,
       COALESCE(e.views, 0), COALESCE(e.shares, 0)
  FROM submissions_application a
  JOIN programs_credential c ON c.id = a.credential_id
  LEFT JOIN programs_membership m
         ON m.organization_id = a.organization_id AND m.user_id = a.educator_id
  LEFT JOIN (
        SELECT application_id,
               min(submitted_at) AS first_submitted,
               max(decided_at) FILTER (WHERE outcome <> '') AS last_decided,
               count(*) AS attempts,
               (array_agg(outcome ORDER BY number))[1] AS first_outcome,
               (array_agg(outcome ORDER BY number DESC))[1] AS final_outcome,
               min(number) FILTER (WHERE outcome = 'approve') AS passed_attempt
          FROM submissions_submission
         WHERE organization_id = %(org)s AND {submissions}
         GROUP BY application_id
       ) s ON s.application_id = a.id
  LEFT JOIN badges_badge b ON b.application_id = a.id AND {badges}
  LEFT JOIN (
        SELECT badge_id, sum(views) AS views, sum(shares) AS shares
          FROM badges_badgeengagement
         WHERE organization_id = %(org)s AND {engagement}
         GROUP BY badge_id
       ) e ON e.badge_id = b.id
 WHERE a.organization_id = %(org)s AND {applications}
"""

_SUBMISSIONS = """
INSERT INTO badges_submissionfact
    (organization_id, program_id, credential_id, school, district, submission_id, submitted_at,
     decided_at, due_at, outcome, month, turnaround_s, within_target)
SELECT s.organization_id, c.program_id, a.credential_id, COALESCE(m.school, ''),
       COALESCE(m.district, ''), s.id, s.submitted_at, s.decided_at, s.due_at, s.outcome,
       decided.month, decided.seconds, decided.within
  FROM submissions_submission s
  JOIN submissions_application a ON a.id = s.application_id
  JOIN programs_credential c ON c.id = a.credential_id
  LEFT JOIN programs_membership m
         ON m.organization_id = a.organization_id AND m.user_id = a.educator_id
  LEFT JOIN LATERAL (
        SELECT date_trunc('month', s.decided_at AT TIME ZONE %(zone)s)::date AS month,
               extract(epoch FROM s.decided_at - s.submitted_at)::int AS seconds,
               s.decided_at <= s.due_at AS within
         WHERE s.decided_at IS NOT NULL AND s.outcome <> ''
       ) decided ON true
 WHERE s.organization_id = %(org)s AND {submissions}
"""

_CRITERIA = """
INSERT INTO badges_criterionfact
    (organization_id, program_id, credential_id, school, district, criterion_id, day, score,
     below_passing, needs_revision, n)
SELECT r.organization_id, c.program_id, a.credential_id, COALESCE(m.school, ''),
       COALESCE(m.district, ''), cs.criterion_id, (r.submitted_at AT TIME ZONE 'UTC')::date,
       cs.score, COALESCE(cs.score < rc.passing_score, true),
       r.decision = 'needs_revision', count(*)
  FROM reviews_criterionscore cs
  JOIN reviews_review r ON r.id = cs.review_id
  JOIN programs_rubriccriterion rc ON rc.id = cs.criterion_id
  JOIN submissions_submission s ON s.id = r.submission_id
  JOIN submissions_application a ON a.id = s.application_id
  JOIN programs_credential c ON c.id = a.credential_id
  LEFT JOIN programs_membership m
         ON m.organization_id = a.organization_id AND m.user_id = a.educator_id
 WHERE r.organization_id = %(org)s AND {reviews}
   AND r.status = 'submitted' AND r.submitted_at IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""

FACT_TABLES = (
    "badges_applicationfact",
    "badges_submissionfact",
    "badges_criterionfact",
    "badges_insightsection",
)


def insights_rebuild(*, organization: Organization) -> InsightBuild:
    """Rebuild the organization's fact tables from its applications, submissions, reviews and
    badges (one transaction: a reader sees the old facts or the new, never half), with the
    stored views' sections (``_store_sections``), and record when. Idempotent; a fixed number
    of statements whatever the volume (the sections inserted in batches of 500 views)."""
    started = time.monotonic()
    with tenant_scope(organization), transaction.atomic(), connection.cursor() as cursor:
        # Whole-organization joins: hash joins. The planner, misled by the tenant filters'
        # selectivity (one row expected), chose nested loops that took 5 s for 2,000 rows.
        cursor.execute("SET LOCAL enable_nestloop = off")
        for table in FACT_TABLES:
            sql, params = scoped_sql(
                f"DELETE FROM {table} WHERE organization_id = %(org)s AND {{tenant}}",  # noqa: S608
                {"org": organization.pk},
                tenant="organization_id",
            )
            cursor.execute(sql, params)
        for statement, columns in (
            (
                _APPLICATIONS,
                {
                    "applications": "a.organization_id",
                    "submissions": "organization_id",
                    "badges": "b.organization_id",
                    "engagement": "organization_id",
                },
            ),
            (_SUBMISSIONS, {"submissions": "s.organization_id"}),
            (_CRITERIA, {"reviews": "r.organization_id"}),
        ):
            sql, params = scoped_sql(
                statement, {"org": organization.pk, "zone": settings.TIME_ZONE}, **columns
            )
            cursor.execute(sql, params)
        _store_sections(organization, cursor)
        build, _ = InsightBuild.objects.update_or_create(
            organization=organization,
            defaults={
                "built_at": timezone.now(),
                "duration_ms": int((time.monotonic() - started) * 1000),
            },
        )
    return build


def _store_sections(organization: Organization, cursor: Any) -> None:
    """The unfiltered view's and each single filter's fact sections, figured from the facts
    just inserted (``selectors.figures_to_store``: one statement per section and filter), their
    backlog's ageing and badges, with the organization's backlog and reviewers beside the
    unfiltered ones (``selectors.queue_figures_to_store``: twelve statements), and the
    reviewers' agreement (``reviews.agreement``, one statement): stored as ``InsightSection``
    rows, inserted in batches."""
    from reviews.agreement import agreement_between_reviewers

    from .selectors import (
        SECTIONS,
        SORT_MEMORY,
        UNFILTERED,
        figures_to_store,
        queue_figures_to_store,
    )

    cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
    stored = figures_to_store(organization=organization)
    queue = queue_figures_to_store(organization=organization, now=timezone.now())
    for key, figures in queue.items():
        stored.setdefault(key, {name: [] for name in SECTIONS}).update(figures)
    by_reviewer, overall = agreement_between_reviewers(organization=organization)
    stored[UNFILTERED]["agreement"] = {
        "reviewers": {str(reviewer_id): figure for reviewer_id, figure in by_reviewer.items()},
        "overall": overall,
    }
    InsightSection.objects.bulk_create(
        [
            InsightSection(organization=organization, key=key, figures=figures)
            for key, figures in stored.items()
        ],
        batch_size=500,
    )


def insights_build_get(*, organization: Organization) -> InsightBuild | None:
    return InsightBuild.objects.filter(organization=organization).first()
