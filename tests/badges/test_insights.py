"""The program dashboard (issue 20): numbers on a small known dataset, filters, who may see it
(analysts read, change nothing), other organizations 404, constant queries, CSV escaping."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from badges import services as badge_services
from badges import tasks
from badges.insights import aggregates, exports, selectors
from badges.insights.selectors import InsightFilters
from credentials_site.exceptions import ApplicationError
from programs import services as program_services
from programs.models import (
    Credential,
    CredentialVersion,
    Membership,
    Organization,
    RubricCriterion,
    StaffRole,
    User,
)
from programs.selectors import Workplace, workplace_get
from reviews.models import Claim, CriterionScore, Review
from reviews.services import assignments
from submissions.models import Application, Submission
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def url(org: Organization, table: str = "") -> str:
    return f"/o/{org.slug}/insights/" + (f"{table}.csv" if table else "")


def educator(org: Organization, school: str, district: str = "Valley") -> User:
    user = UserFactory()
    MembershipFactory(organization=org, user=user, school=school, district=district)
    return user


def apply(org: Organization, version: CredentialVersion, person: User, ago: int) -> Application:
    application = Application.objects.create(
        organization=org,
        educator=person,
        credential_id=version.credential_id,
        version=version,
    )
    Application.objects.filter(pk=application.pk).update(created_at=timezone.now() - ago * DAY)
    return application


def attempt(
    application: Application,
    number: int,
    *,
    reviewer: User,
    decision: str | None,
    score: int,
    submitted_ago: int,
    decided_ago: int | None = None,
    due_in: int = 5,
) -> Submission:
    """Attempt ``number`` submitted ``submitted_ago`` days ago and (unless ``decision`` is None)
    reviewed with the criterion at ``score`` and decided ``decided_ago`` days ago."""
    now = timezone.now()
    org_id = application.organization_id
    submitted = now - submitted_ago * DAY
    decided = None if decision is None else now - (decided_ago or 0) * DAY
    outcome = decision or ""
    submission = Submission.objects.create(
        organization_id=org_id,
        application=application,
        number=number,
        submitted_at=submitted,
        decided_at=decided,
        outcome=outcome,
        due_at=submitted + due_in * DAY,
    )
    status = {
        None: Application.Status.SUBMITTED,
        "approve": Application.Status.APPROVED,
        "needs_revision": Application.Status.NEEDS_REVISION,
        "not_awarded": Application.Status.NOT_AWARDED,
    }[decision]
    Application.objects.filter(pk=application.pk).update(
        attempt=number, status=status, submitted_at=submitted
    )
    if decision is not None:
        claim = Claim.objects.create(
            organization_id=org_id,
            submission=submission,
            reviewer=reviewer,
            status=Claim.Status.COMPLETED,
            expires_at=now + DAY,
        )
        review = Review.objects.create(
            organization_id=org_id,
            submission=submission,
            claim=claim,
            reviewer=reviewer,
            status=Review.Status.SUBMITTED,
            decision=decision,
            submitted_at=decided,
        )
        criterion = RubricCriterion.objects.get(version=application.version)
        CriterionScore.objects.create(
            organization_id=org_id, review=review, criterion=criterion, score=score
        )
    return submission


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(slug="riverside", name="Riverside USD")


@pytest.fixture
def known(org: Organization) -> dict[str, Any]:
    """Credential A: four applications — North: revision then pass (badge), pass first time;
    South: not awarded, applied only. Credential B (another program): South, pass first time."""
    reviewer = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    a = make_credential(org, title="Formative Assessment", non_member_fee=0)
    b = make_credential(org, title="Classroom Talk", non_member_fee=0)
    north1, north2 = educator(org, "North"), educator(org, "North")
    south1, south2 = educator(org, "South", "Hills"), educator(org, "South", "Hills")
    revised = apply(org, a, north1, ago=30)
    attempt(
        revised,
        1,
        reviewer=reviewer,
        decision="needs_revision",
        score=0,
        submitted_ago=28,
        decided_ago=26,
    )
    attempt(
        revised,
        2,
        reviewer=reviewer,
        decision="approve",
        score=1,
        submitted_ago=20,
        decided_ago=10,
        due_in=5,
    )
    first = apply(org, a, north2, ago=20)
    attempt(
        first, 1, reviewer=reviewer, decision="approve", score=1, submitted_ago=18, decided_ago=16
    )
    failed = apply(org, a, south1, ago=15)
    attempt(
        failed,
        1,
        reviewer=reviewer,
        decision="not_awarded",
        score=0,
        submitted_ago=12,
        decided_ago=11,
    )
    apply(org, a, south2, ago=5)
    other = apply(org, b, south2, ago=9)
    attempt(
        other, 1, reviewer=reviewer, decision="approve", score=1, submitted_ago=8, decided_ago=7
    )
    badge = badge_services.badge_issue(application_id=revised.pk)
    aggregates.insights_rebuild(organization=org)
    return {"a": a, "b": b, "badge": badge, "reviewer": reviewer}


def days(value: dt.timedelta | None) -> float:
    assert value is not None
    return round(value / DAY, 2)


def board(org: Organization, **filters: Any) -> selectors.Dashboard:
    return selectors.dashboard(organization=org, filters=InsightFilters(**filters))


# --- The numbers ---------------------------------------------------------------------------


def test_funnel_counts_drop_off_and_medians(org: Organization, known: dict[str, Any]) -> None:
    steps = {step.key: step for step in board(org).funnel}
    assert [steps[k].count for k in ("applied", "submitted", "approved", "awarded")] == [5, 4, 3, 1]
    assert steps["submitted"].of_previous == 80.0
    assert steps["submitted"].drop_off == 20.0
    assert steps["approved"].of_previous == 75.0
    # applied → first submission: 2, 2, 3 and 1 days; median 2 days
    assert days(steps["submitted"].median_from_previous) == 2
    # first submission → approval: 18, 2 and 1 days; median 2 days
    assert days(steps["approved"].median_from_previous) == 2


def test_pass_rates_per_credential(org: Organization, known: dict[str, Any]) -> None:
    rows = {row.title: row for row in board(org).credentials}
    a = rows["Formative Assessment"]
    assert a.applications == 4
    assert (a.first_passed, a.first_decided, a.first_pass_rate) == (1, 3, 33.3)
    assert (a.final_passed, a.final_decided, a.final_pass_rate) == (2, 3, 66.7)
    assert a.attempts_to_pass == 1.5
    assert days(a.median_to_badge) == 30  # the one badge: issued today, applied 30 days ago
    b = rows["Classroom Talk"]
    assert (b.applications, b.first_pass_rate, b.final_pass_rate) == (1, 100.0, 100.0)


def test_criterion_distribution_and_below_passing_in_revision(
    org: Organization, known: dict[str, Any]
) -> None:
    rows = board(org, credential=Credential.objects.get(pk=known["a"].credential_id)).criteria
    assert len(rows) == 1
    row = rows[0]
    assert row.levels == [(0, "Not yet", 2), (1, "Meets", 2)]
    assert (row.ratings, row.revision_ratings, row.below_in_revision) == (4, 1, 1)
    assert row.below_in_revision_rate == 100.0


def test_turnaround_against_target_backlog_and_badges(
    org: Organization, known: dict[str, Any]
) -> None:
    result = board(org)
    total = result.turnaround_total
    assert total is not None
    # decided in 2, 10 (target 5: late), 2, 1 and 1 days
    assert (total.decided, total.with_target, total.within_target) == (5, 5, 4)
    assert result.badges.issued == 1
    assert result.badges.active == 1
    assert result.badges.revoked == 0
    assert sum(bucket.waiting for bucket in result.ageing) == 0


def test_filters_by_school_district_program_and_dates(
    org: Organization, known: dict[str, Any]
) -> None:
    north = {s.key: s.count for s in board(org, school="North").funnel}
    assert north["applied"] == 2 and north["awarded"] == 1
    hills = {s.key: s.count for s in board(org, district="Hills").funnel}
    assert hills["applied"] == 3
    program = Credential.objects.get(pk=known["b"].credential_id).program
    assert [row.title for row in board(org, program=program).credentials] == ["Classroom Talk"]
    recent = board(org, date_from=(timezone.now() - 10 * DAY).date())
    assert recent.funnel[0].count == 2  # applied 5 and 9 days ago
    assert board(org, school="North").badges.issued == 1
    assert board(org, school="South").badges.issued == 0


# --- The page, who may see it, and its exports ---------------------------------------------------


def staff(org: Organization, role: str) -> Client:
    client = Client()
    client.force_login(StaffRoleFactory(organization=org, role=role).user)
    return client


def test_program_admin_sees_the_dashboard_with_tables_and_charts(
    org: Organization, known: dict[str, Any]
) -> None:
    response = staff(org, StaffRole.Role.PROGRAM_ADMIN).get(url(org), {"school": "North"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<caption>Pass rates per credential</caption>" in page
    assert 'data-chart="funnel" aria-hidden="true"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    assert f"{url(org, 'credentials')}?school=North" in page


def test_bad_filters_are_named_and_ignored(org: Organization, known: dict[str, Any]) -> None:
    response = staff(org, StaffRole.Role.OWNER).get(
        url(org), {"school": "Nowhere", "date_from": "2026-13-40"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some filters were not applied" in page
    assert "Select a valid choice" in page and "Enter a valid date" in page
    assert response.context["board"].funnel[0].count == 5


def test_analyst_reads_and_changes_nothing(org: Organization, known: dict[str, Any]) -> None:
    analyst = StaffRoleFactory(organization=org, role=StaffRole.Role.ANALYST).user
    client = Client()
    client.force_login(analyst)
    assert client.get(url(org)).status_code == 200
    assert client.get(url(org, "credentials")).status_code == 200
    # they land on it when they sign in
    assert workplace_get(user=analyst) == Workplace("insights", org.slug)
    # the admin is closed to them, as to a reviewer
    for path in ("/admin/", "/admin/programs/credential/", "/admin/badges/badge/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response["Location"], path
    # and every service that changes something asks for an admin role
    submission = Submission.objects.filter(organization=org).first()
    with pytest.raises(ApplicationError, match="Only program admins"):
        assignments.assignment_assign(
            organization=org, submissions=submission, reviewer=known["reviewer"], actor=analyst
        )
    with pytest.raises(ApplicationError):
        program_services.staff_role_grant(
            organization=org, user=analyst, role=StaffRole.Role.PROGRAM_ADMIN, actor=analyst
        )
    assert not StaffRole.objects.filter(user=analyst, role=StaffRole.Role.PROGRAM_ADMIN).exists()


def test_a_program_admin_makes_someone_an_analyst(org: Organization) -> None:
    admin = StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user
    person = UserFactory()
    program_services.staff_role_grant(
        organization=org, user=person, role=StaffRole.Role.ANALYST, actor=admin
    )
    client = Client()
    client.force_login(person)
    assert client.get(url(org)).status_code == 200


@pytest.mark.parametrize("role", [StaffRole.Role.REVIEWER, StaffRole.Role.SENIOR_REVIEWER, None])
def test_reviewers_and_educators_get_404(
    org: Organization, known: dict[str, Any], role: str | None
) -> None:
    if role is None:
        client = Client()
        client.force_login(Membership.objects.filter(organization=org).first().user)
    else:
        client = staff(org, role)
    assert client.get(url(org)).status_code == 404
    assert client.get(url(org, "applications")).status_code == 404


def test_another_organizations_dashboard_and_exports_answer_404(
    org: Organization, known: dict[str, Any]
) -> None:
    other = OrganizationFactory(slug="elsewhere")
    client = staff(other, StaffRole.Role.PROGRAM_ADMIN)
    assert client.get(url(other)).status_code == 200
    assert client.get(url(org)).status_code == 404
    assert client.get(url(org, "credentials")).status_code == 404
    assert client.get(url(org, "applications")).status_code == 404
    assert client.get(url(other, "nothing")).status_code == 404


def _csv(response: Any) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_exports_stream_and_escape_formulas(org: Organization, known: dict[str, Any]) -> None:
    MembershipFactory(organization=org, school='=HYPERLINK("http://x")', user=UserFactory())
    Membership.objects.filter(school="North").update(school='=HYPERLINK("http://x")')
    aggregates.insights_rebuild(organization=org)
    client = staff(org, StaffRole.Role.PROGRAM_ADMIN)
    rows = _csv(client.get(url(org, "applications")))
    assert rows[0][:4] == ["application_id", "credential", "school", "district"]
    assert len(rows) == 6
    schools = {row[2] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in schools and "South" in schools
    assert not any(cell.startswith("=") for row in rows for cell in row)
    table = _csv(client.get(url(org, "credentials"), {"school": "South"}))
    assert table[0][0] == "credential" and {r[0] for r in table[1:]} == {
        "Formative Assessment",
        "Classroom Talk",
    }


def dataset(n: int) -> Organization:
    """An organization with ``n`` credentials, one approved application each, facts built."""
    org = OrganizationFactory()
    reviewer = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    program = ProgramFactory(organization=org)
    for i in range(n):
        version = make_credential(org, program=program, non_member_fee=0)
        application = apply(org, version, educator(org, f"School {i}"), ago=3)
        attempt(
            application,
            1,
            reviewer=reviewer,
            decision="approve",
            score=1,
            submitted_ago=2,
            decided_ago=1,
        )
    aggregates.insights_rebuild(organization=org)
    return org


def test_constant_query_count_with_1_and_20_credentials(count_queries: Any) -> None:
    small, large = dataset(1), dataset(20)
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.get("/")  # the header's facts about the visitor, kept from now on (decision 0024)
    one = count_queries(lambda: client.get(url(small)))
    twenty = count_queries(lambda: client.get(url(large)))
    assert_same_query_count(one, twenty)
    # a second view of the same filters reads the fact sections from the cache: fewer, and
    # again the same for both
    one_cached = count_queries(lambda: client.get(url(small)))
    twenty_cached = count_queries(lambda: client.get(url(large)))
    assert_same_query_count(one_cached, twenty_cached)
    assert len(one_cached) < len(one)
    assert len(board(large).credentials) == 20


def test_beat_rebuilds_the_facts_of_an_organization(
    org: Organization, known: dict[str, Any]
) -> None:
    apply(org, known["b"], educator(org, "North"), ago=1)
    assert board(org).funnel[0].count == 5  # the facts as last built
    tasks.insights_rebuild(organization_id=org.pk)
    # the unfiltered view's fact sections are stored: its first view reads one row
    stored, _ = selectors.stored_figures(organization=org, filters=InsightFilters())
    assert stored is not None and stored["funnel"][0]["applied"] == 6
    assert board(org).funnel[0].count == 6
    assert aggregates.insights_build_get(organization=org) is not None


def test_each_table_download_reads_only_its_section_in_constant_queries(
    count_queries: Any,
) -> None:
    # given organizations with 1 and 20 credentials, no cached sections
    small, large = dataset(1), dataset(20)
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    selectors.cache.clear()
    page = count_queries(lambda: client.get(url(small), {"school": "School 0"}))
    for table in exports.TABLES:
        selectors.cache.clear()
        client.get("/")  # the session back in the cache (cached_db sessions, decision 0024)

        def download(org: Organization, table: str = table) -> None:
            response = client.get(url(org, table))
            assert response.status_code == 200
            b"".join(response.streaming_content)

        # when each table is downloaded
        one = count_queries(lambda: download(small))
        twenty = count_queries(lambda: download(large))
        # then it runs as many statements for either, fewer than the whole page
        assert_same_query_count(one, twenty)
        assert len(one) < len(page), table


def test_the_rebuild_stores_durations_in_seconds_and_the_decision_month(
    org: Organization, known: dict[str, Any]
) -> None:
    revised = aggregates.ApplicationFact.objects.get(
        organization=org, passed_attempt=2, awarded_at__isnull=False
    )
    # applied 30 days ago, first submitted 28, decided 10, the badge issued today
    assert round(revised.to_submit_s / 86400) == 2
    assert round(revised.to_approve_s / 86400) == 18
    assert round(revised.to_badge_s / 86400) == 30
    late = aggregates.SubmissionFact.objects.get(organization=org, turnaround_s__gt=9 * 86400)
    assert late.within_target is False
    assert late.month == timezone.localtime(late.decided_at).date().replace(day=1)
    waiting = aggregates.ApplicationFact.objects.filter(organization=org, submitted_at=None).get()
    assert (waiting.to_submit_s, waiting.to_approve_s, waiting.to_badge_s) == (None, None, None)
