"""Assigning work to reviewers (issue 19): a program admin assigns one submission or a batch,
rebalances the work of a reviewer who is away, or clears it; the reviewer sees what is assigned
to them first and claim-next takes it first; no one else is offered it; conflicts of interest,
calibration, limits and double review refuse an assignment as they refuse a claim."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import AuditEvent, CredentialVersion, Organization, StaffRole, User
from reviews import selectors, services
from reviews.models import Assignment, CalibrationExemplar, Claim, ConflictOfInterest
from submissions.models import Application, Submission
from tests.conftest import assert_same_query_count
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory, make_credential
from tests.reviews.conftest import decide

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reviews/queuesubmission/"
REBALANCE = "/admin/reviews/queuesubmission/rebalance/"


def role(org: Organization, kind: str = StaffRole.Role.REVIEWER, email: str = "") -> User:
    user = UserFactory(**({"email": email} if email else {}))
    return StaffRoleFactory(organization=org, role=kind, user=user).user


def waiting(
    org: Organization,
    version: CredentialVersion,
    *,
    hours_ago: int = 1,
    educator: User | None = None,
    reviews_required: int = 1,
) -> Submission:
    """A submitted first attempt, written straight to the database (no uploads)."""
    now = timezone.now()
    application = Application.objects.create(
        organization=org,
        educator=educator or UserFactory(),
        credential_id=version.credential_id,
        version=version,
        status=Application.Status.SUBMITTED,
        submitted_at=now,
    )
    return Submission.objects.create(
        organization=org,
        application=application,
        number=1,
        submitted_at=now - dt.timedelta(hours=hours_ago),
        reviews_required=reviews_required,
    )


def queue_of(org: Organization, reviewer: User) -> list[int]:
    scope = selectors.reviewer_scope(organization=org, user=reviewer)
    assert scope is not None
    return list(selectors.queue_list(organization=org, scope=scope).values_list("pk", flat=True))


def assigned_to(submission: Submission) -> str | None:
    found = Assignment.objects.filter(submission=submission).select_related("reviewer").first()
    return found.reviewer.email if found else None


def refused(call, *, code: str, says: str) -> ApplicationError:
    """The call is refused with the code and a message naming the problem, and nothing about
    assignments changed."""
    before = list(Assignment.objects.order_by("pk").values_list("submission_id", "reviewer_id"))
    audits = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as raised:
        call()
    assert raised.value.code == code, raised.value.message
    assert says in raised.value.message, raised.value.message
    after = list(Assignment.objects.order_by("pk").values_list("submission_id", "reviewer_id"))
    assert after == before
    assert AuditEvent.objects.count() == audits
    return raised.value


@pytest.fixture
def version(org: Organization) -> CredentialVersion:
    return make_credential(org, non_member_fee=0)


@pytest.fixture
def admin_user(org: Organization) -> User:
    return role(org, StaffRole.Role.PROGRAM_ADMIN, "admin@example.org")


@pytest.fixture
def ana(org: Organization) -> User:
    return role(org, email="ana@example.org")


@pytest.fixture
def ben(org: Organization) -> User:
    return role(org, email="ben@example.org")


# --- The services ---------------------------------------------------------------------------------


class TestAssign:
    def test_one_submission_goes_to_the_reviewer_only_and_is_audited(
        self, org, version, admin_user, ana, ben
    ) -> None:
        # given two waiting submissions
        older = waiting(org, version, hours_ago=5)
        newer = waiting(org, version, hours_ago=1)
        # when the admin assigns the newer one to Ana
        (assignment,) = services.assignment_assign(
            organization=org, submissions=newer, reviewer=ana, actor=admin_user, note="Her area"
        )
        # then it is hers, with who assigned it and the note, and recorded
        assert (assignment.reviewer, assignment.assigned_by, assignment.note) == (
            ana,
            admin_user,
            "Her area",
        )
        assert AuditEvent.objects.filter(
            organization=org, action="assignment.assigned", actor=admin_user
        ).exists()
        # and Ben is no longer offered it, while Ana still is (both see the unassigned one)
        assert queue_of(org, ben) == [older.pk]
        assert queue_of(org, ana) == [older.pk, newer.pk]

    def test_a_batch_is_assigned_all_at_once_and_assigning_again_moves_it(
        self, org, version, admin_user, ana, ben
    ) -> None:
        batch = [waiting(org, version, hours_ago=h) for h in (3, 2, 1)]
        services.assignment_assign(
            organization=org, submissions=batch, reviewer=ana, actor=admin_user
        )
        assert [assigned_to(s) for s in batch] == ["ana@example.org"] * 3
        # when one of them is assigned to Ben, it moves (one assignment per submission)
        services.assignment_assign(
            organization=org, submissions=[batch[0]], reviewer=ben, actor=admin_user
        )
        assert [assigned_to(s) for s in batch] == ["ben@example.org"] + ["ana@example.org"] * 2
        assert Assignment.objects.count() == 3

    def test_a_conflict_of_interest_refuses_the_whole_batch_naming_the_submission(
        self, org, version, admin_user, ana
    ) -> None:
        # given Ana declared a conflict with one educator of the batch
        educator = UserFactory(email="colleague@example.org")
        fine = waiting(org, version)
        conflicted = waiting(org, version, educator=educator)
        ConflictOfInterest.objects.create(
            organization=org, reviewer=ana, kind=ConflictOfInterest.Kind.PERSON, person=educator
        )
        code = Application.objects.get(pk=conflicted.application_id).anonymous_code
        # then nothing is assigned, and the message says which and why
        error = refused(
            lambda: services.assignment_assign(
                organization=org, submissions=[fine, conflicted], reviewer=ana, actor=admin_user
            ),
            code="not_assignable",
            says=f"{code} attempt 1: ana@example.org declared a conflict of interest",
        )
        assert fine.application.anonymous_code not in error.message

    def test_a_reviewer_with_calibration_to_do_is_refused(
        self, org, version, admin_user, ana
    ) -> None:
        # given the organization asks reviewers to calibrate and Ana has not
        exemplar_source = waiting(org, version, hours_ago=9)
        Submission.objects.filter(pk=exemplar_source.pk).update(outcome="approve")
        CalibrationExemplar.objects.create(
            organization=org, submission=exemplar_source, title="Ex 1", agreed_decision="approve"
        )
        submission = waiting(org, version)
        refused(
            lambda: services.assignment_assign(
                organization=org, submissions=submission, reviewer=ana, actor=admin_user
            ),
            code="not_calibrated",
            says="ana@example.org has 1 calibration example to score",
        )

    def test_the_first_reviewer_of_a_double_review_cannot_be_assigned_the_second(
        self, org, version, admin_user, ana, ben
    ) -> None:
        # given Ana decided the first of two reviews
        submission = waiting(org, version, reviews_required=2)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        claim = services.review_claim_next(organization=org, reviewer=ana)
        assert claim.submission_id == submission.pk
        decide(claim, ana)
        # then she cannot be assigned the second review, Ben can
        refused(
            lambda: services.assignment_assign(
                organization=org, submissions=submission, reviewer=ana, actor=admin_user
            ),
            code="not_assignable",
            says="ana@example.org has already reviewed or claimed it",
        )
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ben, actor=admin_user
        )
        assert assigned_to(submission) == "ben@example.org"

    def test_someone_who_is_not_a_reviewer_here_or_not_an_admin_is_refused(
        self, org, version, admin_user, ana
    ) -> None:
        submission = waiting(org, version)
        outsider = role(OrganizationFactory(), email="elsewhere@example.org")
        refused(
            lambda: services.assignment_assign(
                organization=org, submissions=submission, reviewer=outsider, actor=admin_user
            ),
            code="not_a_reviewer",
            says="elsewhere@example.org is not a reviewer of",
        )
        refused(
            lambda: services.assignment_assign(
                organization=org, submissions=submission, reviewer=ana, actor=ana
            ),
            code="not_a_reviewer",
            says="Only program admins assign",
        )

    def test_another_organizations_submission_is_not_found(self, org, admin_user, ana) -> None:
        other = OrganizationFactory()
        theirs = waiting(other, make_credential(other, non_member_fee=0))
        refused(
            lambda: services.assignment_assign(
                organization=org, submissions=theirs, reviewer=ana, actor=admin_user
            ),
            code="invalid",
            says="No such submission",
        )


class TestRebalance:
    def test_the_away_reviewers_untaken_work_goes_to_the_least_loaded(
        self, org, version, admin_user, ana, ben
    ) -> None:
        # given Ana is away with four assigned submissions, one of them claimed, and Cy
        # already has one assigned
        cy = role(org, email="cy@example.org")
        hers = [waiting(org, version, hours_ago=h) for h in (9, 8, 7, 6)]
        services.assignment_assign(
            organization=org, submissions=hers, reviewer=ana, actor=admin_user
        )
        claimed = services.review_claim_next(organization=org, reviewer=ana)
        assert claimed.submission_id == hers[0].pk
        services.assignment_assign(
            organization=org, submissions=waiting(org, version), reviewer=cy, actor=admin_user
        )
        # when her work is rebalanced to Ben and Cy
        result = services.assignment_rebalance(
            organization=org, from_reviewer=ana, to_reviewers=[ben, cy], actor=admin_user
        )
        # then the claimed one stays hers, and the three others go by load, oldest first:
        # Ben (0) takes one, then Ben and Cy tie at 1 and Ben comes first in the order chosen,
        # then Cy (1) is the least loaded
        assert assigned_to(hers[0]) == "ana@example.org"
        assert [assigned_to(s) for s in hers[1:]] == [
            "ben@example.org",
            "ben@example.org",
            "cy@example.org",
        ]
        assert len(result.moved) == 3 and result.kept == []
        assert (
            AuditEvent.objects.filter(action="assignment.rebalanced", actor=admin_user).count() == 3
        )

    def test_work_no_one_chosen_may_take_stays_and_says_why(
        self, org, version, admin_user, ana, ben
    ) -> None:
        educator = UserFactory()
        submission = waiting(org, version, educator=educator)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        ConflictOfInterest.objects.create(
            organization=org, reviewer=ben, kind=ConflictOfInterest.Kind.PERSON, person=educator
        )
        result = services.assignment_rebalance(
            organization=org, from_reviewer=ana, to_reviewers=[ben], actor=admin_user
        )
        assert result.moved == []
        ((kept, why),) = result.kept
        assert kept.pk == submission.pk and "conflict of interest" in why
        assert assigned_to(submission) == "ana@example.org"

    def test_to_nobody_else_is_refused(self, org, admin_user, ana) -> None:
        refused(
            lambda: services.assignment_rebalance(
                organization=org, from_reviewer=ana, to_reviewers=[ana], actor=admin_user
            ),
            code="invalid",
            says="Choose at least one other reviewer",
        )


class TestClear:
    def test_cleared_work_is_back_in_everyones_queue(
        self, org, version, admin_user, ana, ben
    ) -> None:
        submission = waiting(org, version)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        assert queue_of(org, ben) == []
        assert (
            services.assignment_clear(organization=org, submissions=[submission], actor=admin_user)
            == 1
        )
        assert queue_of(org, ben) == [submission.pk]
        assert AuditEvent.objects.filter(action="assignment.cleared").count() == 1


# --- The queue and claim-next ---------------------------------------------------------------------


class TestQueueAndClaims:
    def test_claim_next_takes_what_is_assigned_first_and_no_one_else_may(
        self, org, version, admin_user, ana, ben
    ) -> None:
        # given an old unassigned submission and a newer one assigned to Ana
        old = waiting(org, version, hours_ago=9)
        mine = waiting(org, version, hours_ago=1)
        services.assignment_assign(
            organization=org, submissions=mine, reviewer=ana, actor=admin_user
        )
        # then Ben's claim-next takes the old one, and then finds nothing (Ana's is hers)
        assert services.review_claim_next(organization=org, reviewer=ben).submission_id == old.pk
        with pytest.raises(ApplicationError) as empty:
            services.review_claim_next(organization=org, reviewer=ben)
        assert empty.value.code == "queue_empty"
        # and Ana's claim-next takes hers although it is newer
        assert services.review_claim_next(organization=org, reviewer=ana).submission_id == mine.pk

    def test_a_double_review_leaves_the_other_review_open_to_others(
        self, org, version, admin_user, ana, ben
    ) -> None:
        submission = waiting(org, version, reviews_required=2)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        # one of the two reviews is Ana's; the other is anyone's
        assert queue_of(org, ben) == [submission.pk]
        services.review_claim_next(organization=org, reviewer=ben)
        cy = role(org)
        assert queue_of(org, cy) == []
        assert queue_of(org, ana) == [submission.pk]

    def test_a_lapsed_claim_by_the_assignee_keeps_the_submission_theirs(
        self, org, version, admin_user, ana, ben
    ) -> None:
        submission = waiting(org, version)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        claim = services.review_claim_next(organization=org, reviewer=ana)
        Claim.objects.filter(pk=claim.pk).update(expires_at=timezone.now() - dt.timedelta(1))
        assert queue_of(org, ben) == []
        assert queue_of(org, ana) == [submission.pk]

    def test_the_page_shows_assigned_to_you_first_in_constant_queries(
        self, org, version, admin_user, ana, count_queries
    ) -> None:
        # given one assigned and one other submission, then twenty of each
        def add(n: int) -> None:
            batch = [waiting(org, version, hours_ago=1) for _ in range(n)]
            [waiting(org, version, hours_ago=50) for _ in range(n)]
            services.assignment_assign(
                organization=org, submissions=batch, reviewer=ana, actor=admin_user
            )

        client = Client()
        client.force_login(ana)
        url = f"/o/{org.slug}/review/"
        add(1)
        small = count_queries(lambda: client.get(url))
        page = client.get(url).content.decode()
        # the assigned section comes before the rest, with the badge
        assert page.index("Assigned to you <span") < page.index("Everything else waiting")
        assert page.count('tag-strong">Assigned to you') == 1
        add(20)
        large = count_queries(lambda: client.get(url))
        page = client.get(url).content.decode()
        assert page.count('tag-strong">Assigned to you') == 21
        assert_same_query_count(small, large)

    def test_the_api_says_assigned_to_you_and_lists_it_first(
        self, org, version, admin_user, ana
    ) -> None:
        waiting(org, version, hours_ago=9)
        mine = waiting(org, version, hours_ago=1)
        services.assignment_assign(
            organization=org, submissions=mine, reviewer=ana, actor=admin_user
        )
        client = Client()
        client.force_login(ana)
        response = client.get(f"/api/v1/orgs/{org.slug}/review/queue/")
        assert response.status_code == 200, response.content
        items = response.json()["results"] if "results" in response.json() else response.json()
        assert [item["assigned_to_you"] for item in items] == [True, False]


# --- The admin ------------------------------------------------------------------------------------


class TestAdmin:
    def test_assign_a_batch_filtered_by_credential_through_the_intermediate_page(
        self, org, version, admin_user, ana, count_queries
    ) -> None:
        other_version = make_credential(org, non_member_fee=0)
        batch = [waiting(org, version) for _ in range(3)]
        elsewhere = waiting(org, other_version)
        client = Client()
        client.force_login(admin_user)
        listed = f"{CHANGELIST}?credential={version.credential_id}"
        # the changelist shows the assignee column, in constant queries
        small = count_queries(lambda: client.get(listed))
        batch += [waiting(org, version) for _ in range(10)]
        large = count_queries(lambda: client.get(listed))
        assert_same_query_count(small, large)
        # "select all" of the filtered list (the page's rows ticked, and "select all 13"), then
        # the action, opens the page with the reviewer select and the workload
        data = {
            "action": "assign_to_reviewer",
            "select_across": "1",
            "index": "0",
            "_selected_action": [s.pk for s in batch[:3]],
        }
        page = client.post(listed, data)
        assert page.status_code == 200
        assert "ana@example.org" in page.content.decode()
        assert "Workload per reviewer" in page.content.decode()
        assert "13 submissions to assign" in page.content.decode()
        # applying it assigns the credential's submissions, and only them
        del data["index"]  # the intermediate page's form, as it posts
        done = client.post(listed, {**data, "apply": "1", "reviewer": ana.pk, "note": ""})
        assert done.status_code == 302
        assert [assigned_to(s) for s in batch] == ["ana@example.org"] * 13
        assert assigned_to(elsewhere) is None
        assert "ana@example.org" in client.get(listed).content.decode()

    def test_a_refusal_is_shown_on_the_page_and_nothing_is_assigned(
        self, org, version, admin_user, ana
    ) -> None:
        educator = UserFactory()
        submission = waiting(org, version, educator=educator)
        ConflictOfInterest.objects.create(
            organization=org, reviewer=ana, kind=ConflictOfInterest.Kind.PERSON, person=educator
        )
        client = Client()
        client.force_login(admin_user)
        response = client.post(
            CHANGELIST,
            {
                "action": "assign_to_reviewer",
                "_selected_action": [submission.pk],
                "apply": "1",
                "reviewer": ana.pk,
            },
        )
        assert response.status_code == 400
        assert "declared a conflict of interest" in response.content.decode()
        assert assigned_to(submission) is None

    def test_rebalance_page_moves_the_work_and_shows_the_workload(
        self, org, version, admin_user, ana, ben
    ) -> None:
        submission = waiting(org, version)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        client = Client()
        client.force_login(admin_user)
        assert f'href="{REBALANCE}"' in client.get("/admin/").content.decode()
        page = client.get(REBALANCE).content.decode()
        assert "Workload per reviewer" in page and "ben@example.org" in page
        response = client.post(REBALANCE, {"from_reviewer": ana.pk, "to_reviewers": [ben.pk]})
        assert response.status_code == 302
        assert assigned_to(submission) == "ben@example.org"

    def test_the_work_of_someone_whose_reviewer_role_was_withdrawn_can_be_moved(
        self, org, version, admin_user, ana, ben
    ) -> None:
        # given Ana's assignment holds a submission back, and she is no longer a reviewer
        submission = waiting(org, version)
        services.assignment_assign(
            organization=org, submissions=submission, reviewer=ana, actor=admin_user
        )
        StaffRole.objects.filter(organization=org, user=ana).delete()
        assert queue_of(org, ben) == []
        # then the rebalance page still offers her, and moves her work
        client = Client()
        client.force_login(admin_user)
        assert "ana@example.org" in client.get(REBALANCE).content.decode()
        response = client.post(REBALANCE, {"from_reviewer": ana.pk, "to_reviewers": [ben.pk]})
        assert response.status_code == 302
        assert assigned_to(submission) == "ben@example.org"
        assert queue_of(org, ben) == [submission.pk]

    def test_another_organizations_submissions_and_reviewers_are_out_of_reach(
        self, org, version, admin_user, ana
    ) -> None:
        # given another organization's waiting submission and reviewer
        other = OrganizationFactory()
        theirs = waiting(other, make_credential(other, non_member_fee=0))
        their_reviewer = role(other, email="theirs@example.org")
        ours = waiting(org, version)
        client = Client()
        client.force_login(admin_user)
        # their submission is not listed, and selecting it assigns nothing
        assert theirs.application.anonymous_code not in client.get(CHANGELIST).content.decode()
        client.post(
            CHANGELIST,
            {
                "action": "assign_to_reviewer",
                "_selected_action": [theirs.pk],
                "apply": "1",
                "reviewer": ana.pk,
            },
        )
        assert assigned_to(theirs) is None
        # their reviewer is not a choice for ours
        response = client.post(
            CHANGELIST,
            {
                "action": "assign_to_reviewer",
                "_selected_action": [ours.pk],
                "apply": "1",
                "reviewer": their_reviewer.pk,
            },
        )
        assert response.status_code == 400
        assert assigned_to(ours) is None
        # nor can the rebalance page reach them
        response = client.post(
            REBALANCE, {"from_reviewer": their_reviewer.pk, "to_reviewers": [ana.pk]}
        )
        assert response.status_code == 400
        assert client.get(REBALANCE + f"?org={other.slug}").status_code == 404
