"""Program insight (issue 20, decision 0023): the views the rebuild stores, the badges' views
and shares, and the reviewers' agreement on the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from badges.insights import aggregates, selectors
from badges.insights.selectors import InsightFilters
from programs.models import Organization, StaffRole
from reviews import health
from reviews.models import Claim, CriterionScore, Review
from submissions.models import Submission
from tests.badges import test_insights as base
from tests.badges.test_insights import DAY, apply, attempt, dataset, educator, staff, url
from tests.conftest import assert_same_query_count
from tests.factories import (
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside USD")


@pytest.fixture
def known(org: Organization) -> dict[str, Any]:
    """test_insights's organization: credential A (North, South), B (South); one badge."""
    return base.known.__wrapped__(org)  # type: ignore[attr-defined]


# --- Stored views --------------------------------------------------------------------------


def test_the_rebuild_stores_the_unfiltered_and_each_single_filter_view(
    org: Organization, known: dict[str, Any]
) -> None:
    a, b = known["a"], known["b"]
    keys = set(aggregates.InsightSection.objects.values_list("key", flat=True))
    assert {"", "school:North", "school:South", "district:Hills", "district:Valley"} <= keys
    assert {f"credential:{a.credential_id}", f"credential:{b.credential_id}"} <= keys
    for filters in (
        InsightFilters(),
        InsightFilters(school="North"),
        InsightFilters(district="Hills"),
        InsightFilters(credential=a.credential),
        InsightFilters(program=b.credential.program),
    ):
        # the stored figures are the ones computed for the same filters
        stored, _ = selectors.stored_figures(organization=org, filters=filters)
        assert stored is not None, filters
        computed = {
            name: selectors.section_figures(name, organization=org, filters=filters)
            for name in selectors.SECTIONS
        }
        assert selectors._sections_from(stored, org) == selectors._sections_from(computed, org)
    # a period or two filters at once are computed
    assert selectors.stored_key(InsightFilters(school="North", district="Valley")) is None
    assert selectors.stored_key(InsightFilters(date_from=timezone.localdate())) is None
    # a school without applications: stored as empty
    empty, _ = selectors.stored_figures(organization=org, filters=InsightFilters(school="East"))
    assert empty is not None and selectors._funnel_from(empty["funnel"])[0].count == 0


def test_first_views_read_stored_rows_in_constant_queries(count_queries: Any) -> None:
    # given organizations with 1 and 20 credentials, rebuilt, nothing cached
    small, large = dataset(1), dataset(20)
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    def first_view(org: Organization, **filters: str) -> Any:
        selectors.cache.clear()
        client.get("/")  # the session and header facts back in the cache (decision 0024)
        return count_queries(lambda: client.get(url(org), filters))

    # when the unfiltered view, a single filter and two filters are first viewed
    unfiltered = [first_view(org) for org in (small, large)]
    school = [first_view(org, school="School 0") for org in (small, large)]
    both = [first_view(org, school="School 0", district="Valley") for org in (small, large)]
    # then each kind runs as many statements for 1 or 20 credentials
    for one, twenty in (unfiltered, school, both):
        assert_same_query_count(one, twenty)
    # a single filter reads its stored row as the unfiltered view does; two filters compute
    assert_same_query_count(unfiltered[0], school[0])
    # the four sections (and the sort-memory transaction: savepoint, SET LOCAL, release), and
    # its backlog's ageing and badges, read live
    assert len(both[0]) == len(school[0]) + 9
    assert len(unfiltered[0]) == 10  # as counted on 2026-12-06 (decision 0023, amendment 3)


def test_the_queue_is_stored_beside_the_facts_as_the_live_reads_count_it(
    org: Organization, known: dict[str, Any]
) -> None:
    # given attempts waiting (one past its target) and the facts rebuilt
    a = known["a"]
    waiting = apply(org, a, educator(org, "North"), ago=12)
    attempt(waiting, 1, reviewer=known["reviewer"], decision=None, score=0, submitted_ago=10)
    late = apply(org, known["b"], educator(org, "South", "Hills"), ago=3)
    attempt(late, 1, reviewer=known["reviewer"], decision=None, score=0, submitted_ago=1)
    aggregates.insights_rebuild(organization=org)
    for filters in (
        InsightFilters(),
        InsightFilters(school="North"),
        InsightFilters(district="Hills"),
        InsightFilters(credential=a.credential),
        InsightFilters(program=known["b"].credential.program),
        InsightFilters(school="East"),  # no one there: zeros
    ):
        # when a stored view is read
        _, stored = selectors.stored_figures(organization=org, filters=filters)
        now = stored["queue_as_of"]
        # then its ageing and badges are the live reads' as of the rebuild, and the backlog and
        # reviewers queue health's
        assert stored["ageing"] == selectors.backlog_ageing(
            organization=org, filters=filters, now=now
        ), filters
        assert stored["badges"] == selectors.badge_summary(
            organization=org, filters=filters, now=now
        ), filters
        assert stored["backlog"] == health.queue_backlog(organization=org, now=now)
        assert stored["reviewers"] == health.reviewer_load_list(organization=org, now=now)
    assert sum(b.waiting for b in stored_ageing(org, InsightFilters())) == 2
    assert sum(b.waiting for b in stored_ageing(org, InsightFilters(school="North"))) == 1


def stored_ageing(org: Organization, filters: InsightFilters) -> list[Any]:
    return selectors.stored_figures(organization=org, filters=filters)[1]["ageing"]


def test_a_stored_view_reads_no_live_table_and_says_as_of_when(
    org: Organization, known: dict[str, Any], count_queries: Any
) -> None:
    client = staff(org, StaffRole.Role.PROGRAM_ADMIN)
    client.get("/")
    # when a stored view is first seen after the rebuild
    selectors.cache.clear()
    client.get("/")
    stored = count_queries(lambda: client.get(url(org), {"school": "North"}))
    # then it reads neither the queue nor the badges: the rebuild stored them
    sql = " ".join(query["sql"] for query in stored.captured_queries)
    for table in ('"submissions_submission"', '"reviews_claim"', '"badges_badge"'):
        assert table not in sql, table
    # and a computed view reads its own ageing and badges, the backlog and reviewers stored
    selectors.cache.clear()
    client.get("/")
    both = count_queries(lambda: client.get(url(org), {"school": "North", "district": "Valley"}))
    sql = " ".join(query["sql"] for query in both.captured_queries)
    assert '"badges_badge"' in sql and '"submissions_submission"' in sql
    assert '"reviews_claim"' not in sql
    # and the page says when, and where the live queue is
    response = client.get(url(org))
    page = response.content.decode()
    assert response.context["board"].queue_as_of is not None
    assert "the backlog and reviewers included" in page
    assert f"/admin/reviews/review/queue-health/?org={org.slug}" in page


# --- Views and shares ----------------------------------------------------------------------


def test_a_view_and_a_share_are_counted_and_shown(org: Organization, known: dict[str, Any]) -> None:
    badge = known["badge"]
    visitor = Client()
    origin = {"HTTP_ORIGIN": "http://testserver"}
    # when someone opens the badge's page and its earner uses a share button
    assert visitor.post(f"/badges/{badge.public_id}/seen", **origin).status_code == 204
    assert visitor.post(f"/badges/{badge.public_id}/seen", **origin).status_code == 204
    earner = Client()
    earner.force_login(badge.recipient)
    assert earner.post(f"/badges/{badge.public_id}/shared", **origin).status_code == 204
    # then only counts are kept, one row per badge and day
    row = aggregates.BadgeEngagement.objects.get(badge=badge)
    assert (row.views, row.shares, row.day) == (2, 1, timezone.localdate())
    # and after the rebuild the dashboard shows them
    aggregates.insights_rebuild(organization=org)
    page = staff(org, StaffRole.Role.PROGRAM_ADMIN).get(url(org)).content.decode()
    assert "Views of their verification pages</th><td>2</td>" in page
    assert "Shares by their earners</th><td>1</td>" in page
    school = staff(org, StaffRole.Role.PROGRAM_ADMIN).get(url(org), {"school": "South"})
    assert school.context["board"].engagement == selectors.Engagement(views=0, shares=0)
    csv = staff(org, StaffRole.Role.ANALYST).get(url(org, "badges"))
    assert b"Views of their verification pages,2" in b"".join(csv.streaming_content)


def test_beacons_from_elsewhere_or_shares_by_others_are_not_counted(
    org: Organization, known: dict[str, Any]
) -> None:
    badge = known["badge"]
    seen, shared = f"/badges/{badge.public_id}/seen", f"/badges/{badge.public_id}/shared"
    assert Client().post(seen).status_code == 403  # no Origin
    assert Client().post(seen, HTTP_ORIGIN="https://evil.example").status_code == 403
    assert Client().get(seen).status_code == 405
    someone = Client()
    someone.force_login(UserFactory())
    assert someone.post(shared, HTTP_ORIGIN="http://testserver").status_code == 404
    assert Client().post(shared, HTTP_ORIGIN="http://testserver").status_code == 404
    assert not aggregates.BadgeEngagement.objects.filter(badge=badge).exists()


def test_another_organizations_views_and_shares_never_appear(
    org: Organization, known: dict[str, Any]
) -> None:
    # given a badge of another organization viewed and shared
    other = OrganizationFactory()
    reviewer = StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER).user
    version = make_credential(other, title="Elsewhere", non_member_fee=0)
    application = apply(other, version, educator(other, "North"), ago=3)
    attempt(application, 1, reviewer=reviewer, decision="approve", score=1, submitted_ago=2)
    from badges import services as badge_services

    badge = badge_services.badge_issue(application_id=application.pk)
    origin = {"HTTP_ORIGIN": "http://testserver"}
    for _ in range(3):
        Client().post(f"/badges/{badge.public_id}/seen", **origin)
    aggregates.insights_rebuild(organization=other)
    aggregates.insights_rebuild(organization=org)
    # then this organization's dashboard counts none of them; the other's counts its own
    board = staff(org, StaffRole.Role.OWNER).get(url(org)).context["board"]
    assert board.engagement == selectors.Engagement(views=0, shares=0)
    theirs = staff(other, StaffRole.Role.OWNER).get(url(other)).context["board"]
    assert theirs.engagement == selectors.Engagement(views=3, shares=0)
    assert aggregates.BadgeEngagement.objects.filter(organization=org).count() == 0


# --- Reviewer agreement --------------------------------------------------------------------


def second_review(submission: Submission, reviewer: Any, score: int) -> None:
    Submission.objects.filter(pk=submission.pk).update(reviews_required=2)
    claim = Claim.objects.create(
        organization_id=submission.organization_id,
        submission=submission,
        reviewer=reviewer,
        status=Claim.Status.COMPLETED,
        expires_at=timezone.now() + DAY,
    )
    review = Review.objects.create(
        organization_id=submission.organization_id,
        submission=submission,
        claim=claim,
        reviewer=reviewer,
        status=Review.Status.SUBMITTED,
        decision="approve",
        submitted_at=timezone.now(),
    )
    criterion = CriterionScore.objects.filter(review__submission=submission).get().criterion
    CriterionScore.objects.create(
        organization_id=submission.organization_id, review=review, criterion=criterion, score=score
    )


def double_reviewed(org: Organization, pairs: int) -> tuple[Any, Any]:
    """``pairs`` submissions scored by two reviewers: the same level but for one in five."""
    first = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    second = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    version = make_credential(org, title="Double", non_member_fee=0)
    for n in range(pairs):
        application = apply(org, version, educator(org, "North"), ago=5)
        score = n % 2
        submission = attempt(
            application, 1, reviewer=first, decision="approve", score=score, submitted_ago=3
        )
        second_review(submission, second, score if n % 5 else 1 - score)
    aggregates.insights_rebuild(organization=org)
    return first, second


def test_reviewer_agreement_is_shown_from_queue_healths_figures() -> None:
    org = OrganizationFactory()
    first, _ = double_reviewed(org, 10)
    board = staff(org, StaffRole.Role.PROGRAM_ADMIN).get(url(org)).context["board"]
    # the same figures as queue health's agreement table
    from reviews.agreement import agreement_table

    table = {row["reviewer_id"]: row["with_reviewers"] for row in agreement_table(organization=org)}
    shown = dict((r.user_id, a) for r, a in board.reviewers_agreement)
    assert shown[first.pk] == selectors.AgreementFigure.of(table[first.pk])
    assert shown[first.pk].shown and shown[first.pk].n == 10 and shown[first.pk].percent == 80.0
    overall = board.agreement_overall
    assert (overall.n, overall.percent, overall.shown) == (10, 80.0, True)
    assert overall.kappa == table[first.pk]["kappa"]  # two reviewers: the same pairs
    page = staff(org, StaffRole.Role.OWNER).get(url(org)).content.decode()
    assert f"80.0 % · κ {overall.kappa}" in page


def test_reviewer_agreement_over_too_few_pairs_is_not_shown() -> None:
    org = OrganizationFactory()
    double_reviewed(org, 4)
    board = staff(org, StaffRole.Role.PROGRAM_ADMIN).get(url(org)).context["board"]
    assert board.agreement_overall.n == 4 and not board.agreement_overall.shown
    page = staff(org, StaffRole.Role.OWNER).get(url(org)).content.decode()
    assert "fewer than 10 pairs" in page and "κ" not in page
