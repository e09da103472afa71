"""Program admins in the admin panel: the queue's health, the review records of their own
organization only, a submission's review history, and calibration exemplars made in two steps."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.models import CredentialVersion, Organization, StaffRole, User
from reviews import calibration, health
from reviews import services as review_services
from reviews.models import CalibrationExemplar, Claim, Review
from submissions.models import Application, Submission
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory, make_credential
from tests.reviews.conftest import decide

pytestmark = pytest.mark.django_db

HEALTH_URL = "/admin/reviews/review/queue-health/"
DAY = dt.timedelta(days=1)


# --- A known dataset, built straight in the database ---------------------------------------------


def attempt(
    org: Organization,
    version: CredentialVersion,
    *,
    submitted: dt.timedelta,
    due: dt.timedelta | None = None,
    decided: dt.timedelta | None = None,
    outcome: str = "",
    status: str = Application.Status.SUBMITTED,
    needs_adjudication: bool = False,
) -> Submission:
    """An educator's first attempt, submitted ``submitted`` ago (and decided ``decided`` ago);
    the times are set with ``queryset.update`` as the services would have left them."""
    now = timezone.now()
    application = Application.objects.create(
        organization=org,
        educator=UserFactory(),
        credential_id=version.credential_id,
        version=version,
        status=status,
        submitted_at=now - submitted,
    )
    submission = Submission.objects.create(
        organization=org, application=application, number=1, submitted_at=now
    )
    Submission.objects.filter(pk=submission.pk).update(
        submitted_at=now - submitted,
        due_at=None if due is None else now + due,
        decided_at=None if decided is None else now - decided,
        outcome=outcome,
        needs_adjudication=needs_adjudication,
    )
    submission.refresh_from_db()
    return submission


def role(org: Organization, kind: str, email: str | None = None, **user: Any) -> User:
    person = UserFactory(email=email, **user) if email else UserFactory(**user)
    return StaffRoleFactory(organization=org, role=kind, user=person).user


def claim(
    submission: Submission,
    reviewer: User,
    *,
    status: str = Claim.Status.ACTIVE,
    submitted_ago: dt.timedelta | None = None,
    decision: str = Review.Decision.APPROVE,
) -> Claim:
    """A claim, and when ``submitted_ago`` is given the submitted review it led to."""
    now = timezone.now()
    made = Claim.objects.create(
        organization_id=submission.organization_id,
        submission=submission,
        reviewer=reviewer,
        status=status,
        expires_at=now + 2 * DAY,
    )
    if submitted_ago is not None:
        Review.objects.create(
            organization_id=submission.organization_id,
            submission=submission,
            claim=made,
            reviewer=reviewer,
            status=Review.Status.SUBMITTED,
            decision=decision,
            overall_feedback="Solid evidence.",
            submitted_at=now - submitted_ago,
        )
    return made


@pytest.fixture
def version(org: Organization) -> CredentialVersion:
    return make_credential(org, title="Formative Assessment", non_member_fee=0)


@pytest.fixture
def known(org: Organization, version: CredentialVersion) -> dict[str, Any]:
    """Three undecided attempts (one past its target, one in review awaiting adjudication), four
    decided in the last 30 days (turnarounds 1, 2, 4 and 6 days), and noise that must not count:
    a decision 40 days ago, a withdrawn application, another organization's attempt."""
    undecided = [
        attempt(org, version, submitted=12 * DAY, due=-2 * DAY),
        attempt(org, version, submitted=3 * DAY, due=7 * DAY),
        attempt(
            org,
            version,
            submitted=1 * DAY,
            due=9 * DAY,
            status=Application.Status.IN_REVIEW,
            needs_adjudication=True,
        ),
    ]
    decided = [
        attempt(org, version, submitted=10 * DAY, decided=8 * DAY, outcome="approve"),
        attempt(org, version, submitted=6 * DAY, decided=2 * DAY, outcome="needs_revision"),
        attempt(org, version, submitted=20 * DAY, decided=14 * DAY, outcome="not_awarded"),
        attempt(org, version, submitted=5 * DAY, decided=4 * DAY, outcome="approve"),
    ]
    attempt(org, version, submitted=60 * DAY, decided=40 * DAY, outcome="approve")
    attempt(org, version, submitted=30 * DAY, due=-20 * DAY, status=Application.Status.WITHDRAWN)
    other = OrganizationFactory()
    attempt(other, make_credential(other, non_member_fee=0), submitted=90 * DAY, due=-80 * DAY)

    busy = role(org, StaffRole.Role.REVIEWER, "busy@example.org", full_name="Ada Busy")
    idle = role(org, StaffRole.Role.SENIOR_REVIEWER, "idle@example.org", full_name="Bo Idle")
    claim(undecided[2], busy)  # active
    claim(decided[0], busy, status=Claim.Status.COMPLETED, submitted_ago=8 * DAY)
    claim(decided[3], busy, status=Claim.Status.COMPLETED, submitted_ago=4 * DAY)
    old = attempt(org, version, submitted=70 * DAY, decided=50 * DAY, outcome="approve")
    claim(old, busy, status=Claim.Status.COMPLETED, submitted_ago=50 * DAY)
    # the same person reviews for another organization too: none of it counts here
    StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER, user=busy)
    claim(attempt(other, version_of(other), submitted=DAY), busy)
    return {"undecided": undecided, "decided": decided, "busy": busy, "idle": idle}


def version_of(org: Organization) -> CredentialVersion:
    return make_credential(org, non_member_fee=0)


@pytest.fixture
def admin_user(org: Organization) -> User:
    return role(org, StaffRole.Role.PROGRAM_ADMIN, "admin@example.org")


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def shown(body: str, name: str) -> str:
    """The text of the health page's cell marked ``data-health="<name>"``."""
    found = re.search(rf'data-health="{name}">([^<]*)<', body)
    assert found, f"no {name} on the page"
    return found.group(1).strip()


# --- The numbers ---------------------------------------------------------------------------------


class TestQueueHealthNumbers:
    def test_backlog_turnaround_and_decisions_from_a_known_dataset(
        self, org: Organization, known: dict[str, Any]
    ) -> None:
        # when the health is computed
        report = health.queue_health(organization=org)
        # then the backlog counts only this organization's undecided current attempts
        assert report.backlog.waiting == 3
        assert report.backlog.in_review == 1
        assert report.backlog.awaiting_adjudication == 1
        assert report.backlog.past_target == 1
        assert report.backlog.oldest_wait is not None
        assert abs(report.backlog.oldest_wait - 12 * DAY) < dt.timedelta(minutes=1)
        # and the last 30 days: four decisions, median of 1, 2, 4, 6 days = 3 days
        assert report.turnaround.decided == 4
        assert report.turnaround.by_outcome == {
            "approve": 2,
            "needs_revision": 1,
            "not_awarded": 1,
        }
        assert report.turnaround.median == 3 * DAY

    def test_reviewer_load_counts_this_organization_only(
        self, org: Organization, known: dict[str, Any]
    ) -> None:
        report = health.queue_health(organization=org)
        load = {r.email: r for r in report.reviewers}
        assert set(load) == {"busy@example.org", "idle@example.org"}
        busy, idle = load["busy@example.org"], load["idle@example.org"]
        assert (busy.active_claims, busy.reviews_recent) == (1, 2)  # the 50-day-old one is out
        assert busy.roles == ("Reviewer",)
        assert busy.last_review_at is not None
        assert (idle.active_claims, idle.reviews_recent, idle.last_review_at) == (0, 0, None)
        assert idle.roles == ("Senior reviewer (adjudicates)",)

    def test_an_empty_organization_has_zeros_and_no_median(self, org: Organization) -> None:
        report = health.queue_health(organization=org)
        assert report.backlog.waiting == 0
        assert report.backlog.oldest_wait is None
        assert report.turnaround.decided == 0
        assert report.turnaround.median is None
        assert report.turnaround.median_text == "—"
        assert report.reviewers == []

    def test_median_interpolates_between_the_two_middle_values(
        self, org: Organization, version: CredentialVersion
    ) -> None:
        # given two decisions: 1 hour and 4 hours after submission
        attempt(
            org,
            version,
            submitted=5 * DAY,
            decided=5 * DAY - dt.timedelta(hours=1),
            outcome="approve",
        )
        attempt(
            org,
            version,
            submitted=5 * DAY,
            decided=5 * DAY - dt.timedelta(hours=4),
            outcome="approve",
        )
        # then the median is 2.5 hours
        median = health.queue_turnaround(organization=org).median
        assert median == dt.timedelta(hours=2, minutes=30)
        assert health.duration_text(median) == "2 h 30 min"


# --- The page ------------------------------------------------------------------------------------


class TestQueueHealthPage:
    def test_program_admin_sees_the_numbers(
        self, admin_client: Client, known: dict[str, Any]
    ) -> None:
        # when the program admin opens the page
        response = admin_client.get(HEALTH_URL)
        # then they read the backlog, the past-target count, the turnaround and the reviewers
        assert response.status_code == 200
        body = response.content.decode()
        assert shown(body, "backlog") == "3"
        assert shown(body, "past-target") == "1"
        assert shown(body, "adjudication") == "1"
        assert shown(body, "oldest").startswith("12 d")
        assert shown(body, "decided") == "4"
        assert shown(body, "outcome-approve") == "2"
        assert shown(body, "median") == "3 d 0 h"
        assert "Ada Busy" in body and "Bo Idle" in body

    def test_the_page_is_linked_from_the_reviews_admin(
        self, admin_client: Client, known: dict[str, Any]
    ) -> None:
        assert HEALTH_URL in admin_client.get("/admin/reviews/").content.decode()
        assert HEALTH_URL in admin_client.get("/admin/reviews/claim/").content.decode()

    def test_another_organizations_admin_cannot_see_it(
        self, client: Client, org: Organization, known: dict[str, Any]
    ) -> None:
        # given the admin of another organization
        other = OrganizationFactory(slug="elsewhere", name="Elsewhere Schools")
        client.force_login(role(other, StaffRole.Role.PROGRAM_ADMIN))
        # when they ask for this organization's health by slug
        response = client.get(HEALTH_URL, {"org": org.slug})
        # then it does not exist for them
        assert response.status_code == 404
        # and their own page shows none of this organization's numbers or reviewers
        body = client.get(HEALTH_URL).content.decode()
        assert "Elsewhere Schools" in body
        assert shown(body, "backlog") == "0"
        assert "busy@example.org" not in body

    def test_a_reviewer_without_an_admin_role_is_sent_to_the_login(
        self, client: Client, known: dict[str, Any]
    ) -> None:
        client.force_login(known["busy"])
        response = client.get(HEALTH_URL)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_an_admin_of_several_organizations_picks_one(
        self, client: Client, org: Organization, admin_user: User, known: dict[str, Any]
    ) -> None:
        # given the admin also runs a second organization
        second = OrganizationFactory(slug="second", name="Second District")
        StaffRoleFactory(organization=second, role=StaffRole.Role.OWNER, user=admin_user)
        client.force_login(admin_user)
        # when they pick each
        first_page = client.get(HEALTH_URL, {"org": org.slug}).content.decode()
        second_page = client.get(HEALTH_URL, {"org": "second"}).content.decode()
        # then each shows its own numbers, with a switcher between them
        assert shown(first_page, "backlog") == "3"
        assert shown(second_page, "backlog") == "0"
        assert "?org=second" in first_page and f"?org={org.slug}" in second_page
        assert client.get(HEALTH_URL, {"org": "no-such-org"}).status_code == 404

    def test_agreement_with_exemplars_is_shown_per_reviewer(
        self,
        admin_client: Client,
        admin_user: User,
        org: Organization,
        known: dict[str, Any],
    ) -> None:
        # given an exemplar agreed at “Meets” and a reviewer who scored it “Not yet”
        decided = known["decided"][0]
        criterion = decided.application.version.criteria.get()
        exemplar = calibration.exemplar_create(
            organization=org,
            submission=decided,
            title="A strong plan",
            agreed_decision="approve",
            agreed_scores={criterion.pk: 1},
            rationale="",
            actor=admin_user,
        )
        calibration.calibration_submit(
            organization=org,
            exemplar=exemplar,
            reviewer=known["idle"],
            scores={criterion.pk: 0},
            decision="not_awarded",
        )
        # when the admin opens the health page
        body = admin_client.get(HEALTH_URL).content.decode()
        # then that reviewer's row shows 0 % agreement with exemplars over one pair; others "—"
        row = re.search(r'data-reviewer="idle@example.org">(.*?)</tr>', body, re.S)
        assert row is not None
        assert "0.0 %" in row.group(1) and "(1)" in row.group(1)
        busy = re.search(r'data-reviewer="busy@example.org">(.*?)</tr>', body, re.S)
        assert busy is not None and "%" not in busy.group(1)

    def test_query_count_does_not_grow_with_reviewers_and_submissions(
        self, admin_client: Client, org: Organization, version: CredentialVersion
    ) -> None:
        def grow_to(n: int) -> None:
            while Submission.objects.filter(organization=org).count() < n:
                i = Submission.objects.filter(organization=org).count()
                s = attempt(org, version, submitted=(i + 2) * DAY, due=-DAY)
                d = attempt(org, version, submitted=(i + 3) * DAY, decided=DAY, outcome="approve")
                reviewer = role(org, StaffRole.Role.REVIEWER)
                claim(s, reviewer)
                claim(d, reviewer, status=Claim.Status.COMPLETED, submitted_ago=DAY)

        def measure() -> CaptureQueriesContext:
            with CaptureQueriesContext(connection) as ctx:
                assert admin_client.get(HEALTH_URL).status_code == 200
            return ctx

        # given 1 reviewer and 1 waiting submission, then 20 of each
        grow_to(1)
        measure()  # warm caches (content types, sessions)
        small = measure()
        grow_to(40)
        large = measure()
        assert len(health.queue_health(organization=org).reviewers) == 21  # and the admin
        # then the page runs the same number of queries
        assert_same_query_count(small, large)


# --- Claims, reviews and the history in the admin ------------------------------------------------


@pytest.fixture
def two_orgs(org: Organization, version: CredentialVersion) -> dict[str, Any]:
    """A claim and a submitted review in ``org`` and in another organization."""
    mine = attempt(org, version, submitted=3 * DAY, decided=DAY, outcome="approve")
    mine_reviewer = role(org, StaffRole.Role.REVIEWER, "mine@example.org")
    my_claim = claim(mine, mine_reviewer, status=Claim.Status.COMPLETED, submitted_ago=DAY)
    other = OrganizationFactory()
    theirs = attempt(other, version_of(other), submitted=3 * DAY, decided=DAY, outcome="approve")
    their_reviewer = role(other, StaffRole.Role.REVIEWER, "theirs@example.org")
    their_claim = claim(theirs, their_reviewer, status=Claim.Status.COMPLETED, submitted_ago=DAY)
    return {
        "mine": mine,
        "my_review": Review.objects.get(claim=my_claim),
        "theirs": theirs,
        "their_review": Review.objects.get(claim=their_claim),
    }


class TestReviewRecordsInTheAdmin:
    @pytest.mark.parametrize("model", ["claim", "review"])
    def test_lists_show_only_the_admins_organization(
        self, admin_client: Client, two_orgs: dict[str, Any], model: str
    ) -> None:
        body = admin_client.get(f"/admin/reviews/{model}/").content.decode()
        assert "mine@example.org" in body
        assert "theirs@example.org" not in body
        # rows name the submission by credential and anonymous code, never the educator
        mine = two_orgs["mine"]
        assert f"Formative Assessment — {mine.application.anonymous_code} attempt 1" in body
        assert mine.application.educator.email not in body

    @pytest.mark.parametrize(
        "path",
        [
            "/admin/reviews/claim/",
            "/admin/reviews/review/",
            "/admin/reviews/calibrationexemplar/add/",
        ],
    )
    def test_list_query_count_does_not_grow(
        self,
        admin_client: Client,
        org: Organization,
        version: CredentialVersion,
        path: str,
    ) -> None:
        def add(n: int) -> None:
            for _ in range(n):
                done = attempt(org, version, submitted=3 * DAY, decided=DAY, outcome="approve")
                claim(
                    done, role(org, StaffRole.Role.REVIEWER), status="completed", submitted_ago=DAY
                )

        def measure() -> CaptureQueriesContext:
            with CaptureQueriesContext(connection) as ctx:
                assert admin_client.get(path).status_code == 200
            return ctx

        add(1)
        measure()
        small = measure()
        add(19)
        large = measure()
        assert_same_query_count(small, large)

    def test_another_organizations_review_cannot_be_opened(
        self, admin_client: Client, two_orgs: dict[str, Any]
    ) -> None:
        theirs = two_orgs["their_review"]
        response = admin_client.get(f"/admin/reviews/review/{theirs.pk}/change/", follow=True)
        assert "theirs@example.org" not in response.content.decode()
        history = f"/admin/reviews/review/submission/{two_orgs['theirs'].pk}/history/"
        assert admin_client.get(history).status_code == 404

    def test_records_are_read_only(self, admin_client: Client, two_orgs: dict[str, Any]) -> None:
        review = two_orgs["my_review"]
        page = admin_client.get(f"/admin/reviews/review/{review.pk}/change/").content.decode()
        assert 'name="_save"' not in page
        assert "Review history of this submission" in page
        response = admin_client.post(
            f"/admin/reviews/review/{review.pk}/change/", {"decision": "not_awarded"}
        )
        assert response.status_code == 403
        assert admin_client.get("/admin/reviews/claim/add/").status_code == 403
        review.refresh_from_db()
        assert review.decision == "approve"

    def test_history_shows_each_claim_and_the_scores_given(
        self,
        admin_client: Client,
        org: Organization,
        reviewer: User,
        make_submission: Any,
    ) -> None:
        # given a submission that one reviewer released and another approved
        submission = make_submission()
        first = review_services.review_claim_next(organization=org, reviewer=reviewer)
        review_services.review_claim_release(claim=first, reviewer=reviewer)
        second_reviewer = role(org, StaffRole.Role.REVIEWER, "second@example.org")
        second = review_services.review_claim_next(organization=org, reviewer=second_reviewer)
        decide(second, second_reviewer, "approve")
        # when the program admin opens its review history from the review's page
        review = Review.objects.get(claim=second)
        change = admin_client.get(f"/admin/reviews/review/{review.pk}/change/").content.decode()
        url = f"/admin/reviews/review/submission/{submission.pk}/history/"
        assert url in change
        body = admin_client.get(url).content.decode()
        # then both claims appear in order, the released one and the decided one with its scores
        assert body.index("rev@example.org") < body.index("second@example.org")
        assert "Released" in body and "Completed" in body
        assert "Plan aligns with the method" in body and "Clear plan." in body
        assert "Well done." in body
        assert f"/admin/submissions/application/{submission.application_id}/change/" in body


# --- Calibration exemplars ---------------------------------------------------------------------


class TestCalibrationExemplarAdd:
    def test_two_steps_choose_a_decided_submission_then_agree_on_scores(
        self,
        admin_client: Client,
        admin_user: User,
        org: Organization,
        version: CredentialVersion,
        two_orgs: dict[str, Any],
    ) -> None:
        decided = two_orgs["mine"]
        undecided = attempt(org, version, submitted=DAY)
        label = f"Formative Assessment — {decided.application.anonymous_code} attempt 1"
        # step 1: the decided submission is offered, the undecided and the other org's are not
        step1 = admin_client.get("/admin/reviews/calibrationexemplar/add/").content.decode()
        assert label in step1
        assert undecided.application.anonymous_code not in step1
        assert two_orgs["theirs"].application.anonymous_code not in step1
        # step 2: the form is prefilled with the decision; each criterion has its levels
        step2 = admin_client.get(
            "/admin/reviews/calibrationexemplar/add/", {"submission": decided.pk}
        )
        assert step2.status_code == 200
        form = step2.context["form"]
        criterion = form.criteria[0]
        assert form.initial["agreed_decision"] == "approve"
        assert [c for c, _ in form.fields[f"criterion_{criterion.pk}"].choices] == ["", 0, 1]
        # when the admin saves agreed scores
        response = admin_client.post(
            "/admin/reviews/calibrationexemplar/add/",
            {
                "submission": decided.pk,
                "title": "A strong plan",
                "agreed_decision": "approve",
                f"criterion_{criterion.pk}": "1",
                "rationale": "Every component of the method is there.",
            },
        )
        # then the exemplar exists with those scores, made by this admin
        assert response.status_code == 302, response.content.decode()[:2000]
        exemplar = CalibrationExemplar.objects.get(submission=decided)
        assert exemplar.title == "A strong plan"
        assert exemplar.agreed_decision == "approve"
        assert {int(k): v for k, v in exemplar.agreed_scores.items()} == {criterion.pk: 1}
        assert exemplar.created_by == admin_user
        # and the submission is no longer offered
        again = admin_client.get("/admin/reviews/calibrationexemplar/add/").content.decode()
        assert label not in again

    def test_prefill_from_one_of_the_reviews(
        self, admin_client: Client, two_orgs: dict[str, Any]
    ) -> None:
        decided, review = two_orgs["mine"], two_orgs["my_review"]
        Review.objects.filter(pk=review.pk).update(decision="needs_revision")
        page = admin_client.get(
            "/admin/reviews/calibrationexemplar/add/",
            {"submission": decided.pk, "from_review": review.pk},
        )
        assert page.context["form"].initial["agreed_decision"] == "needs_revision"

    def test_a_missing_score_is_reported_and_nothing_is_saved(
        self, admin_client: Client, two_orgs: dict[str, Any]
    ) -> None:
        decided = two_orgs["mine"]
        response = admin_client.post(
            "/admin/reviews/calibrationexemplar/add/",
            {"submission": decided.pk, "title": "Half done", "agreed_decision": "approve"},
        )
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        assert not CalibrationExemplar.objects.exists()

    def test_undecided_or_another_organizations_submission_is_not_found(
        self,
        admin_client: Client,
        org: Organization,
        version: CredentialVersion,
        two_orgs: dict[str, Any],
    ) -> None:
        undecided = attempt(org, version, submitted=DAY)
        for submission in (undecided, two_orgs["theirs"]):
            response = admin_client.get(
                "/admin/reviews/calibrationexemplar/add/", {"submission": submission.pk}
            )
            assert response.status_code == 404


# --- The admin index -----------------------------------------------------------------------------


class TestAdminIndexLink:
    def test_the_index_links_to_queue_health_under_reviews(self, admin_client: Client) -> None:
        # when a program admin opens the admin index
        response = admin_client.get("/admin/")
        body = response.content.decode()
        # then "Queue health" is listed under Reviews, and opens the page
        assert response.status_code == 200
        reviews = body[body.index('class="app-reviews module') :]
        reviews = reviews[: reviews.index("</table>")]
        assert f'<a href="{HEALTH_URL}">Queue health</a>' in reviews
        assert admin_client.get(HEALTH_URL).status_code == 200
        # and the Reviews app page lists it once, in its reports, not again among the models
        app_page = admin_client.get("/admin/reviews/").content.decode()
        main = app_page[app_page.index('id="content-main"') :]
        assert main.count(f'href="{HEALTH_URL}"') == 1

    def test_a_reviewer_without_an_admin_role_gets_no_index_and_no_link(
        self, client: Client, org: Organization
    ) -> None:
        client.force_login(role(org, StaffRole.Role.REVIEWER))
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
