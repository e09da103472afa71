"""Beat work of the review queue: expiring claims, reminding reviewers of claims about to end,
telling program admins about submissions past the turnaround target. The services directly,
then the tasks through a real Celery worker over Redis."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from django_scopes import scopes_disabled

from credentials_site.celery import app
from programs.models import Organization, StaffRole, User
from reviews import services, tasks
from reviews.models import Claim
from submissions.models import Application, Submission
from tests.badges.conftest import retries_of
from tests.factories import OrganizationFactory, StaffRoleFactory, UserFactory
from tests.reviews.conftest import decide

MakeSubmission = Callable[..., Submission]


def claim_for(org: Organization, reviewer: User, hours_left: float | None = None) -> Claim:
    claim = services.review_claim_next(organization=org, reviewer=reviewer)
    if hours_left is not None:
        Claim.objects.filter(pk=claim.pk).update(
            expires_at=timezone.now() + dt.timedelta(hours=hours_left)
        )
    return Claim.objects.get(pk=claim.pk)


def overdue(submission: Submission, days: int = 2) -> Submission:
    Submission.objects.filter(pk=submission.pk).update(
        due_at=timezone.now() - dt.timedelta(days=days)
    )
    return Submission.objects.get(pk=submission.pk)


def admins(org: Organization) -> tuple[User, User]:
    return (
        StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.PROGRAM_ADMIN,
            user=UserFactory(email="admin@rusd.example"),
        ).user,
        StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.OWNER,
            user=UserFactory(email="owner@rusd.example"),
        ).user,
    )


# --- The services -----------------------------------------------------------------------------


@pytest.mark.django_db
class TestClaimsRemind:
    def test_reminds_claims_ending_within_six_hours_once(
        self, org, reviewer, make_submission: MakeSubmission, django_capture_on_commit_callbacks
    ) -> None:
        # given a claim ending in 3 hours, one in 30 hours, and another reviewer's in 5 hours
        soon_submission = make_submission()
        soon = claim_for(org, reviewer, hours_left=3)
        make_submission()
        later = claim_for(org, reviewer, hours_left=30)
        make_submission()
        colleague = StaffRoleFactory(
            organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(email="b@x.example")
        ).user
        theirs = claim_for(org, colleague, hours_left=5)
        mail.outbox.clear()
        # when the reminder runs
        with django_capture_on_commit_callbacks(execute=True):
            reminded = services.claims_remind(organization=org)
        # then the two claims ending soon are marked, each reviewer gets one e-mail
        assert reminded == 2
        assert Claim.objects.get(pk=soon.pk).reminded_at is not None
        assert Claim.objects.get(pk=theirs.pk).reminded_at is not None
        assert Claim.objects.get(pk=later.pk).reminded_at is None
        assert sorted(m.to[0] for m in mail.outbox) == ["b@x.example", "rev@example.org"]
        message = next(m for m in mail.outbox if m.to == ["rev@example.org"])
        application = Application.objects.get(pk=soon_submission.application_id)
        assert "back to the queue" in message.subject
        assert application.anonymous_code in message.body
        assert application.version.title in message.body
        assert f"/o/{org.slug}/review/" in message.body
        # the educator is never named
        assert application.educator.email not in message.body
        assert application.educator.full_name not in message.body
        # and running it again sends nothing more
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.claims_remind(organization=org) == 0
        assert mail.outbox == []

    def test_a_later_run_reminds_the_claim_that_is_now_near(
        self, org, reviewer, make_submission, django_capture_on_commit_callbacks
    ) -> None:
        make_submission()
        claim = claim_for(org, reviewer)  # 48 hours
        with django_capture_on_commit_callbacks(execute=True):
            assert services.claims_remind(organization=org) == 0
            in_44_hours = timezone.now() + dt.timedelta(hours=44)
            assert services.claims_remind(organization=org, now=in_44_hours) == 1
        assert Claim.objects.get(pk=claim.pk).reminded_at == in_44_hours
        assert len([m for m in mail.outbox if m.to == ["rev@example.org"]]) == 1

    def test_ended_and_lapsed_claims_are_not_reminded(
        self, org, reviewer, make_submission, django_capture_on_commit_callbacks
    ) -> None:
        make_submission()
        make_submission()
        released = claim_for(org, reviewer, hours_left=2)
        services.review_claim_release(claim=released, reviewer=reviewer)
        claim_for(org, reviewer, hours_left=-1)  # lapsed: the expiry deals with it
        with django_capture_on_commit_callbacks(execute=True):
            assert services.claims_remind(organization=org) == 0

    def test_only_this_organization(self, org, reviewer, make_submission) -> None:
        other = OrganizationFactory()
        make_submission(organization=other)
        colleague = StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER).user
        claim = claim_for(other, colleague, hours_left=1)
        assert services.claims_remind(organization=org) == 0
        assert Claim.objects.get(pk=claim.pk).reminded_at is None


@pytest.mark.django_db
class TestOverdueNotify:
    def test_one_email_per_admin_listing_the_overdue_submissions(
        self, org, reviewer, make_submission, django_capture_on_commit_callbacks
    ) -> None:
        # given two overdue undecided submissions (one in review), one on time, one decided late
        admins(org)
        late_but_decided = make_submission()
        decide(claim_for(org, reviewer), reviewer)
        overdue(late_but_decided)
        in_review = overdue(make_submission(), days=1)
        claim_for(org, reviewer)
        waiting = overdue(make_submission(), days=3)
        on_time = make_submission()
        mail.outbox.clear()
        # when the overdue report runs
        with django_capture_on_commit_callbacks(execute=True):
            reported = services.overdue_notify(organization=org)
        # then both overdue ones are reported, once, to each admin and owner (not reviewers)
        assert reported == 2
        assert sorted(m.to[0] for m in mail.outbox) == ["admin@rusd.example", "owner@rusd.example"]
        body = mail.outbox[0].body
        for submission in (waiting, in_review):
            code = Application.objects.get(pk=submission.application_id).anonymous_code
            assert code in body
        for submission in (on_time, late_but_decided):
            code = Application.objects.get(pk=submission.application_id).anonymous_code
            assert code not in body
        assert "3 days late" in body
        assert "1 day late" in body
        assert "2 submissions past the turnaround target" in mail.outbox[0].subject
        # and they are marked, so the next run says nothing
        assert Submission.objects.get(pk=waiting.pk).overdue_notified_at is not None
        assert Submission.objects.get(pk=on_time.pk).overdue_notified_at is None
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.overdue_notify(organization=org) == 0
        assert mail.outbox == []

    def test_without_admins_the_organizations_contact_is_told(
        self, org, make_submission, django_capture_on_commit_callbacks
    ) -> None:
        overdue(make_submission())
        with django_capture_on_commit_callbacks(execute=True):
            assert services.overdue_notify(organization=org) == 1
        assert [m.to for m in mail.outbox if "turnaround" in m.subject] == [[org.contact_email]]

    def test_nobody_to_tell_marks_nothing(self, make_submission) -> None:
        lonely = OrganizationFactory(contact_email="")
        submission = overdue(make_submission(organization=lonely))
        assert services.overdue_notify(organization=lonely) == 0
        assert Submission.objects.get(pk=submission.pk).overdue_notified_at is None

    def test_a_new_attempt_is_a_new_clock(self, org, reviewer, make_submission) -> None:
        # an overdue attempt that was returned for revision is no longer waiting
        admins(org)
        submission = overdue(make_submission())
        decide(claim_for(org, reviewer), reviewer, "needs_revision", score=0)
        assert services.overdue_notify(organization=org) == 0
        assert Submission.objects.get(pk=submission.pk).outcome == "needs_revision"

    def test_only_this_organization(self, org, make_submission) -> None:
        admins(org)
        other = OrganizationFactory()
        elsewhere = overdue(make_submission(organization=other))
        assert services.overdue_notify(organization=org) == 0
        assert Submission.objects.get(pk=elsewhere.pk).overdue_notified_at is None

    def test_a_database_that_drops_the_connection_is_tried_again_with_backoff(
        self, org, make_submission, monkeypatch, django_capture_on_commit_callbacks
    ) -> None:
        # given an overdue submission, and a database that fails the first run's statement
        admins(org)
        overdue(make_submission())
        delays = retries_of(tasks.remind_overdue, monkeypatch)
        real = services.overdue_notify
        runs: list[int] = []

        def flaky(**kwargs: object) -> int:
            runs.append(1)
            if len(runs) == 1:
                raise OperationalError("server closed the connection unexpectedly")
            return real(**kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(services, "overdue_notify", flaky)
        # when the day's task runs
        with django_capture_on_commit_callbacks(execute=True):
            tasks.remind_overdue.apply(kwargs={"organization_id": org.pk})
        # then it was tried again after a delay, and the admins were told once
        assert len(runs) == 2
        assert len(delays) == 1 and delays[0] >= 0
        assert len([m for m in mail.outbox if "turnaround" in m.subject]) == 2  # admin, owner

    def test_a_bug_is_not_retried(self, org, monkeypatch) -> None:
        delays = retries_of(tasks.remind_overdue, monkeypatch)

        def broken(**kwargs: object) -> int:
            raise ValueError("a bug, not the database")

        monkeypatch.setattr(services, "overdue_notify", broken)
        result = tasks.remind_overdue.apply(kwargs={"organization_id": org.pk})
        assert isinstance(result.result, ValueError)
        assert delays == []


# --- Through a real worker --------------------------------------------------------------------


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def wait_for(check: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with scopes_disabled():
            if check():
                return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.scoped
class TestTasksOnAWorker:
    def test_claims_expire(self, celery_worker, org, make_submission) -> None:
        # given a lapsed claim in this organization and one in another
        with scopes_disabled():
            reviewer = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
            submission = make_submission()
            claim = claim_for(org, reviewer, hours_left=-1)
            other = OrganizationFactory()
            make_submission(organization=other)
            elsewhere = claim_for(
                other,
                StaffRoleFactory(organization=other, role=StaffRole.Role.REVIEWER).user,
                hours_left=-1,
            )
        # when the worker runs the task for this organization
        assert tasks.claims_expire.delay(organization_id=org.pk).get(timeout=30) == 1
        # then only this organization's claim expired, and the submission waits again
        with scopes_disabled():
            assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED
            assert Claim.objects.get(pk=elsewhere.pk).status == Claim.Status.ACTIVE
            assert (
                Application.objects.get(pk=submission.application_id).status
                == Application.Status.SUBMITTED
            )
        assert tasks.claims_expire.delay(organization_id=org.pk).get(timeout=30) == 0

    def test_claims_expire_all_fans_out(self, celery_worker, make_submission) -> None:
        with scopes_disabled():
            claims = []
            for _ in range(2):
                organization = OrganizationFactory()
                make_submission(organization=organization)
                person = StaffRoleFactory(
                    organization=organization, role=StaffRole.Role.REVIEWER
                ).user
                claims.append(claim_for(organization, person, hours_left=-1))
        assert tasks.claims_expire_all.delay().get(timeout=30) >= 2
        assert wait_for(
            lambda: (
                set(
                    Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list(
                        "status", flat=True
                    )
                )
                == {Claim.Status.EXPIRED}
            )
        )

    def test_remind_claims_near_expiry(self, celery_worker, org, make_submission) -> None:
        with scopes_disabled():
            reviewer = StaffRoleFactory(
                organization=org,
                role=StaffRole.Role.REVIEWER,
                user=UserFactory(email="night-owl@example.org"),
            ).user
            make_submission()
            claim = claim_for(org, reviewer, hours_left=2)
        mail.outbox.clear()
        assert tasks.remind_claims_near_expiry.delay(organization_id=org.pk).get(timeout=30) == 1
        assert [m.to for m in mail.outbox] == [["night-owl@example.org"]]
        with scopes_disabled():
            assert Claim.objects.get(pk=claim.pk).reminded_at is not None
        # a second run (or a duplicate delivery) sends nothing more
        assert tasks.remind_claims_near_expiry.delay(organization_id=org.pk).get(timeout=30) == 0
        assert len(mail.outbox) == 1

    def test_remind_overdue(self, celery_worker, org, make_submission) -> None:
        with scopes_disabled():
            admins(org)
            submission = overdue(make_submission())
            code = Application.objects.get(pk=submission.application_id).anonymous_code
        mail.outbox.clear()
        assert tasks.remind_overdue.delay(organization_id=org.pk).get(timeout=30) == 1
        assert sorted(m.to[0] for m in mail.outbox) == ["admin@rusd.example", "owner@rusd.example"]
        assert all(code in m.body for m in mail.outbox)
        assert tasks.remind_overdue.delay(organization_id=org.pk).get(timeout=30) == 0
        assert len(mail.outbox) == 2

    def test_reminder_fan_outs(self, celery_worker, org, make_submission) -> None:
        with scopes_disabled():
            admins(org)
            overdue(make_submission())
            reviewer = StaffRoleFactory(
                organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(email="r@x.org")
            ).user
            make_submission()
            claim_for(org, reviewer, hours_left=1)
        mail.outbox.clear()
        assert tasks.remind_overdue_all.delay().get(timeout=30) >= 1
        assert tasks.remind_claims_near_expiry_all.delay().get(timeout=30) >= 1
        assert wait_for(lambda: len(mail.outbox) == 3)
        assert sorted(m.to[0] for m in mail.outbox) == [
            "admin@rusd.example",
            "owner@rusd.example",
            "r@x.org",
        ]

    def test_tenant_tasks_need_an_organization(self, celery_worker) -> None:
        for task in (tasks.claims_expire, tasks.remind_claims_near_expiry, tasks.remind_overdue):
            with pytest.raises(TypeError, match="organization_id"):
                task.apply_async(kwargs={}).get(timeout=30)
