"""A school leader's workspace and progress page, and what educators see of their school
(issue 21; docs/decisions/0030): a leader of one school sees nothing of another (404), the
picker offers other organizations' public published credentials only, bad input changes
nothing, and the progress page shows statuses and dates, never evidence, scores or comments,
in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from programs import selectors_schools
from programs import services as program_services
from programs.models import (
    Credential,
    Membership,
    Organization,
    School,
    StaffRole,
    User,
)
from programs.models_schools import GoalRecommendation, SchoolAssignment, SchoolGoal
from submissions import schools, services, tasks
from submissions.models import Application, EvidenceItem, Submission
from submissions.services import seats
from submissions.services.school_reminders import school_assignments_remind
from tests.conftest import assert_same_query_count
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_credential
from tests.worker import running_worker

pytestmark = pytest.mark.django_db

SECRET_EVIDENCE = "Zanzibar-evidence-words"
SECRET_COMMENT = "Quokka reviewer comment"
SECRET_SUMMARY = "Narwhal overall feedback"


class World:
    """Riverside with two schools (the leader leads Lincoln), its staff, and another org."""

    def __init__(self) -> None:
        self.org = OrganizationFactory(slug="riverside-t", name="Riverside USD")
        self.lincoln = School.objects.create(organization=self.org, name="Lincoln Elementary")
        self.adams = School.objects.create(organization=self.org, name="Adams Middle")
        self.leader = UserFactory(email="principal@r.example", full_name="Dana Okafor")
        role = StaffRole.objects.create(
            organization=self.org,
            user=self.leader,
            role=StaffRole.Role.SCHOOL_LEADER,
            title="Principal",
        )
        role.schools.set([self.lincoln])
        self.teachers = [self.staff(f"teacher{n}@r.example", self.lincoln) for n in range(2)]
        self.own = Credential.objects.get(
            pk=make_credential(
                self.org, title="Phonics Foundations", non_member_fee=0
            ).credential_id
        )
        self.other_org = OrganizationFactory(slug="gael-t", name="GAEL", publishes_catalog=True)
        self.other_school = School.objects.create(organization=self.other_org, name="Far School")

    def staff(self, email: str, school: School) -> Membership:
        membership = MembershipFactory(
            organization=school.organization,
            user=UserFactory(email=email, full_name=email.split("@")[0].title()),
            member_until=None,
        )
        program_services.school_member_add(school=school, membership=membership, actor=None)
        return membership

    def goal(self, title: str = "Literacy instruction") -> SchoolGoal:
        return program_services.school_goal_save(
            school=self.lincoln, actor=self.leader, title=title
        )

    def url(self, suffix: str = "", school: School | None = None) -> str:
        school = school or self.lincoln
        return f"/o/{school.organization.slug}/schools/{school.pk}/{suffix}"


@pytest.fixture
def world() -> World:
    return World()


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def credential(
    org: Organization, title: str, *, publish: bool = True, retire: bool = False
) -> Credential:
    made = Credential.objects.get(
        pk=make_credential(org, title=title, publish=publish, non_member_fee=0).credential_id
    )
    if retire:
        made.status = Credential.Status.RETIRED
        made.save(update_fields=["status"])
    return made


def counts() -> tuple[int, int, int]:
    return (
        SchoolGoal.objects.count(),
        GoalRecommendation.objects.count(),
        SchoolAssignment.objects.count(),
    )


# --- Tenancy -------------------------------------------------------------------------------------


class TestOnlyTheirSchools:
    def test_another_school_of_the_organization_or_of_another_is_404(self, world: World) -> None:
        # given the principal of Lincoln
        client = client_for(world.leader)
        assert client.get(world.url()).status_code == 200
        assert client.get(world.url("progress/")).status_code == 200
        before = counts()
        # then Adams (same organization) and another organization's school answer 404, to
        # every page and form, and nothing changes
        for school in (world.adams, world.other_school):
            for suffix in ("", "progress/"):
                assert client.get(world.url(suffix, school)).status_code == 404
            response = client.post(world.url("goals/", school), {"title": "Sneaky"})
            assert response.status_code == 404
        # another organization's school under this organization's address, too
        other_here = f"/o/{world.org.slug}/schools/{world.other_school.pk}/"
        assert client.get(other_here).status_code == 404
        assert counts() == before

    def test_someone_who_leads_no_school_gets_404(self, world: World) -> None:
        teacher = client_for(world.teachers[0].user)
        assert teacher.get(f"/o/{world.org.slug}/schools/").status_code == 404
        assert teacher.get(world.url()).status_code == 404
        assert client_for(world.leader).get(f"/o/{world.org.slug}/schools/").status_code == 200

    def test_an_educator_answers_only_their_own_assignment(self, world: World) -> None:
        goal = world.goal()
        program_services.goal_credential_recommend(
            goal=goal, credential_id=world.own.pk, actor=world.leader
        )
        program_services.school_assign(
            school=world.lincoln,
            actor=world.leader,
            credential_id=world.own.pk,
            membership_ids=[world.teachers[0].pk],
        )
        assignment = SchoolAssignment.objects.get()
        url = f"/o/{world.org.slug}/assignments/{assignment.public_id}/answer/"
        # another teacher, and the right teacher under another organization's address: 404
        assert client_for(world.teachers[1].user).post(url, {"answer": "accept"}).status_code == 404
        wrong_org = f"/o/{world.other_org.slug}/assignments/{assignment.public_id}/answer/"
        assert (
            client_for(world.teachers[0].user).post(wrong_org, {"answer": "accept"}).status_code
            == 404
        )
        assignment.refresh_from_db()
        assert assignment.state == SchoolAssignment.State.PENDING


# --- The cross-issuer catalog --------------------------------------------------------------------


class TestThePicker:
    def test_other_organizations_show_only_public_published_credentials(self, world: World) -> None:
        # given GAEL's published, draft and retired credentials, and a private catalog's
        public = credential(world.other_org, "Coaching Cycles Public")
        credential(world.other_org, "Coaching Cycles Draft", publish=False)
        credential(world.other_org, "Coaching Cycles Retired", retire=True)
        private_org = OrganizationFactory(slug="private-t", publishes_catalog=False)
        private = credential(private_org, "Coaching Cycles Private")
        mine_draft = credential(world.org, "Coaching Cycles Own Draft", publish=False)
        world.goal()
        # when the principal searches
        page = client_for(world.leader).get(world.url() + "?q=Coaching").content.decode()
        # then only the public, published one is offered
        assert "Coaching Cycles Public" in page
        for hidden in ("Draft", "Retired", "Private"):
            assert f"Coaching Cycles {hidden}" not in page
        found = selectors_schools.school_catalog_search(school=world.lincoln, q="Coaching")
        assert [c.pk for c in found] == [public.pk]
        # and recommending a hidden one is refused, naming the field, changing nothing
        goal = SchoolGoal.objects.get()
        before = counts()
        for refused in (private, mine_draft):
            response = client_for(world.leader).post(
                world.url(f"goals/{goal.pk}/recommended/"), {"credential": refused.pk}
            )
            assert response.status_code == 400
            assert "Choose a published credential" in response.content.decode()
        assert counts() == before

    def test_the_principal_recommends_own_and_other_organizations_credentials(
        self, world: World
    ) -> None:
        public = credential(world.other_org, "Data Conversations")
        goal = world.goal()
        client = client_for(world.leader)
        for picked in (world.own, public):
            response = client.post(
                world.url(f"goals/{goal.pk}/recommended/"), {"credential": picked.pk}
            )
            assert response.status_code == 302
        page = client.get(world.url()).content.decode()
        assert "Phonics Foundations" in page and "Data Conversations" in page and "GAEL" in page
        # twice is refused
        again = client.post(world.url(f"goals/{goal.pk}/recommended/"), {"credential": public.pk})
        assert again.status_code == 400 and "already recommended" in again.content.decode()
        # staff see it on the catalog of its organization and on My learning
        teacher = client_for(world.teachers[0].user)
        catalog = teacher.get(f"/o/{world.other_org.slug}/").content.decode()
        assert "Recommended for Lincoln Elementary: Literacy instruction" in catalog
        learning = teacher.get("/me/").content.decode()
        assert "Recommended for Lincoln Elementary: Literacy instruction" in learning
        assert "Data Conversations" in learning
        # someone not on Lincoln's staff does not
        outsider = world.staff("adams@r.example", world.adams)
        assert "Recommended for" not in client_for(outsider.user).get("/me/").content.decode()


# --- Goals ---------------------------------------------------------------------------------------


class TestGoals:
    def test_add_edit_reorder_and_remove(self, world: World) -> None:
        client = client_for(world.leader)
        for title in ("Literacy instruction", "Technology integration"):
            assert client.post(world.url("goals/"), {"title": title}).status_code == 302
        first, second = SchoolGoal.objects.order_by("position")
        client.post(world.url(f"goals/{second.pk}/"), {"action": "up"})
        assert list(SchoolGoal.objects.order_by("position").values_list("title", flat=True)) == [
            "Technology integration",
            "Literacy instruction",
        ]
        client.post(
            world.url(f"goals/{first.pk}/"), {"title": "Early literacy", "description": "K-2"}
        )
        first.refresh_from_db()
        assert (first.title, first.description) == ("Early literacy", "K-2")
        client.post(world.url(f"goals/{second.pk}/"), {"action": "remove"})
        assert list(SchoolGoal.objects.values_list("title", flat=True)) == ["Early literacy"]

    def test_a_goal_without_a_name_is_refused(self, world: World) -> None:
        response = client_for(world.leader).post(world.url("goals/"), {"title": "   "})
        assert response.status_code == 400
        assert "Name the goal" in response.content.decode()
        assert SchoolGoal.objects.count() == 0


# --- Assigning -----------------------------------------------------------------------------------


def assign_form(world: World, **overrides: Any) -> dict[str, Any]:
    form = {
        "credential": world.own.pk,
        "assignees": [m.pk for m in world.teachers],
        "target_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    form.update(overrides)
    return form


class TestAssigning:
    @pytest.fixture
    def recommended(self, world: World) -> SchoolGoal:
        goal = world.goal()
        program_services.goal_credential_recommend(
            goal=goal, credential_id=world.own.pk, actor=world.leader
        )
        return goal

    def test_two_teachers_are_asked_and_one_accepts(
        self, world: World, recommended: SchoolGoal
    ) -> None:
        response = client_for(world.leader).post(world.url("assign/"), assign_form(world))
        assert response.status_code == 302
        assert SchoolAssignment.objects.filter(state="pending").count() == 2
        # nobody applied on their behalf
        assert Application.objects.count() == 0
        teacher = client_for(world.teachers[0].user)
        learning = teacher.get("/me/").content.decode()
        assert "Assigned by your school" in learning and "Phonics Foundations" in learning
        assert "never your evidence, scores or reviewer comments" in learning
        assignment = SchoolAssignment.objects.get(membership=world.teachers[0])
        teacher.post(
            f"/o/{world.org.slug}/assignments/{assignment.public_id}/answer/", {"answer": "accept"}
        )
        assignment.refresh_from_db()
        assert assignment.state == "accepted" and assignment.responded_at is not None
        # assigning again leaves both as they are
        client_for(world.leader).post(world.url("assign/"), assign_form(world))
        assert SchoolAssignment.objects.count() == 2

    def test_a_goal_set_to_all_staff(self, world: World, recommended: SchoolGoal) -> None:
        other = credential(world.other_org, "Data Conversations")
        program_services.goal_credential_recommend(
            goal=recommended, credential_id=other.pk, actor=world.leader
        )
        response = client_for(world.leader).post(
            world.url("assign/"),
            {"credential": "", "goal": recommended.pk, "everyone": "on", "target_date": ""},
        )
        assert response.status_code == 302
        assert SchoolAssignment.objects.count() == 4  # two teachers, two credentials

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"target_date": "2020-01-01"}, "The target date cannot be in the past."),
            ({"target_date": "soon"}, "Give the target date as a date"),
            ({"assignees": []}, "Choose at least one staff member"),
            ("outsider", "Someone you chose is not on this school's staff."),
            ("draft", "That credential cannot be assigned"),
            ("private", "That credential cannot be assigned"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(
        self, world: World, recommended: SchoolGoal, change: Any, message: str
    ) -> None:
        if change == "outsider":
            change = {"assignees": [world.staff("adams@r.example", world.adams).pk]}
        elif change == "draft":
            change = {"credential": credential(world.org, "Own draft", publish=False).pk}
        elif change == "private":
            private_org = OrganizationFactory(slug="private-t", publishes_catalog=False)
            change = {"credential": credential(private_org, "Private one").pk}
        before = counts()
        response = client_for(world.leader).post(world.url("assign/"), assign_form(world, **change))
        assert response.status_code == 400
        assert message in html.unescape(response.content.decode())
        assert counts() == before


# --- Progress ------------------------------------------------------------------------------------


def needs_revision(world: World, membership: Membership) -> Application:
    """The teacher applied, wrote evidence, submitted, and a reviewer scored and commented."""
    application = services.application_apply(credential=world.own, educator=membership.user)
    EvidenceItem.objects.create(
        organization=world.org,
        application=application,
        requirement=application.version.requirements.get(title="Reflection"),
        kind=EvidenceItem.Kind.TEXT,
        text=SECRET_EVIDENCE,
        status=EvidenceItem.Status.READY,
    )
    Submission.objects.create(
        organization=world.org,
        application=application,
        number=1,
        submitted_at=timezone.now(),
        decided_at=timezone.now(),
        outcome="needs_revision",
        feedback_summary=SECRET_SUMMARY,
        feedback=[{"criterion_id": 1, "score": 0, "comment": SECRET_COMMENT}],
    )
    Application.objects.filter(pk=application.pk).update(
        status=Application.Status.NEEDS_REVISION, submitted_at=timezone.now()
    )
    return application


class TestProgress:
    def test_statuses_and_dates_never_evidence_scores_or_comments(self, world: World) -> None:
        # given one assigned teacher whose attempt was scored with comments, and a colleague
        # on the staff who was not assigned but applied
        program_services.school_assign(
            school=world.lincoln,
            actor=world.leader,
            credential_id=world.own.pk,
            membership_ids=[world.teachers[0].pk],
            target_date=timezone.localdate() + dt.timedelta(days=20),
        )
        needs_revision(world, world.teachers[0])
        needs_revision(world, world.teachers[1])
        # when the principal opens the progress page
        page = client_for(world.leader).get(world.url("progress/")).content.decode()
        # then the status and dates show, nothing private, and not the unassigned colleague
        assert "Needs revision" in page and "Teacher0" in page
        assert "Teacher1" not in page
        for secret in (SECRET_EVIDENCE, SECRET_COMMENT, SECRET_SUMMARY):
            assert secret not in page
        assert "Fewer than 10 people: no breakdown" in page

    def test_only_status_columns_of_applications_are_read(
        self, world: World, count_queries: Any
    ) -> None:
        program_services.school_assign(
            school=world.lincoln,
            actor=world.leader,
            credential_id=world.own.pk,
            membership_ids=[world.teachers[0].pk],
        )
        needs_revision(world, world.teachers[0])
        ctx = count_queries(lambda: schools.school_progress(school=world.lincoln))
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        assert "submissions_submission" not in sql and "submissions_evidenceitem" not in sql
        assert '"submissions_application"."fee_note"' not in sql

    def test_the_page_takes_the_same_queries_for_1_and_50_and_groups_from_10(
        self, world: World, count_queries: Any
    ) -> None:
        client = client_for(world.leader)

        def assign(members: list[Membership]) -> None:
            program_services.school_assign(
                school=world.lincoln,
                actor=world.leader,
                credential_id=world.own.pk,
                membership_ids=[m.pk for m in members],
            )

        assign(world.teachers[:1])
        client.get(world.url("progress/"))  # the leader's header facts cached (0024)
        small = count_queries(lambda: client.get(world.url("progress/")))
        crowd = [world.staff(f"staff{n}@r.example", world.lincoln) for n in range(48)]
        assign([world.teachers[1], *crowd])
        for member in crowd[:5]:
            services.application_apply(credential=world.own, educator=member.user)
        large = count_queries(lambda: client.get(world.url("progress/")))
        assert_same_query_count(small, large)
        page = client.get(world.url("progress/")).content.decode()
        assert "50 assigned" in page and "In progress: 5" in page and "Not started: 45" in page


# --- Reminders -----------------------------------------------------------------------------------


class TestReminders:
    def test_each_reminder_is_sent_once_and_not_to_those_done_or_declining(
        self, world: World
    ) -> None:
        today = timezone.localdate()
        week, tomorrow = today + dt.timedelta(days=6), today + dt.timedelta(days=1)
        extra = [world.staff(f"more{n}@r.example", world.lincoln) for n in range(2)]
        make = lambda member, date: SchoolAssignment.objects.create(  # noqa: E731
            organization=world.org,
            school=world.lincoln,
            credential=world.own,
            membership=member,
            target_date=date,
        )
        make(world.teachers[0], week)
        make(world.teachers[1], tomorrow)
        declined = make(extra[0], tomorrow)
        declined.state = SchoolAssignment.State.DECLINED
        declined.save()
        make(extra[1], tomorrow)
        awarded = services.application_apply(credential=world.own, educator=extra[1].user)
        Application.objects.filter(pk=awarded.pk).update(status=Application.Status.AWARDED)
        # when the beat runs twice
        first = school_assignments_remind(organization=world.org)
        second = school_assignments_remind(organization=world.org)
        # then the week reminder and the day reminder went once each, to those still to do it
        assert (first, second) == (2, 0)
        assert sorted(m.to[0] for m in mail.outbox) == ["teacher0@r.example", "teacher1@r.example"]
        assert "In a week" in mail.outbox[0].body or "In a week" in mail.outbox[1].body
        assert any("Tomorrow" in m.body for m in mail.outbox)


# --- Seat codes ----------------------------------------------------------------------------------


class TestSeatCodes:
    @pytest.fixture
    def paid(self, world: World) -> Credential:
        """A credential with a fee, in Lincoln's recommended set."""
        paid = Credential.objects.get(
            pk=make_credential(
                world.org, title="Paid One", non_member_fee=40, member_fee=40
            ).credential_id
        )
        program_services.goal_credential_recommend(
            goal=world.goal(), credential_id=paid.pk, actor=world.leader
        )
        return paid

    def batch(self, world: World, size: int, credential: Credential | None = None) -> Any:
        return seats.seat_batch_create(
            organization=world.org,
            size=size,
            expires_at=timezone.now() + dt.timedelta(days=90),
            credential=credential,
            actor=None,
            note="Lincoln PD fund",
        )

    def test_each_person_gets_their_own_code_and_applies_owing_nothing(
        self, world: World, paid: Credential
    ) -> None:
        batch = self.batch(world, 3, paid)
        response = client_for(world.leader).post(
            world.url("assign/"), assign_form(world, credential=paid.pk, seat_batch=batch.pk)
        )
        assert response.status_code == 302
        codes = list(SchoolAssignment.objects.values_list("seat_code", flat=True))
        assert len(set(codes)) == 2 and all(codes)
        # the teacher sees their code, types it when applying, and owes nothing
        mine = SchoolAssignment.objects.get(membership=world.teachers[0])
        learning = client_for(world.teachers[0].user).get("/me/").content.decode()
        assert mine.seat_code_display in learning
        application = services.application_apply(
            credential=paid, educator=world.teachers[0].user, seat_code=mine.seat_code
        )
        assert application.fee_status != Application.FeeStatus.OWED

    @pytest.mark.parametrize("problem", ["too_few", "other_credential"])
    def test_a_batch_that_cannot_serve_is_refused_and_nothing_is_assigned(
        self, world: World, paid: Credential, problem: str
    ) -> None:
        batch = (
            self.batch(world, 1, paid) if problem == "too_few" else self.batch(world, 5, world.own)
        )
        before = counts()
        response = client_for(world.leader).post(
            world.url("assign/"), assign_form(world, credential=paid.pk, seat_batch=batch.pk)
        )
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "unused code(s) left" in page or "not for the credential" in page
        assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_reminds_once_through_a_real_worker() -> None:
    # given an assignment due tomorrow
    world = World()
    SchoolAssignment.objects.create(
        organization=world.org,
        school=world.lincoln,
        credential=world.own,
        membership=world.teachers[0],
        target_date=timezone.localdate() + dt.timedelta(days=1),
    )
    with running_worker():
        # when the beat's task runs twice on a real worker
        for _ in range(2):
            tasks.school_assignments_remind.delay(organization_id=world.org.pk).get(timeout=60)
        queued = tasks.school_assignments_remind_all.delay().get(timeout=60)
    # then one e-mail, and both markers set
    assert queued >= 1
    assert [m.to for m in mail.outbox] == [["teacher0@r.example"]]
    assignment = SchoolAssignment.objects.get()
    assert assignment.reminded_day_at is not None and assignment.reminded_week_at is not None
