"""Exactly one badge per approval, whatever goes wrong: concurrent runs, a crash between
signing and saving, duplicate deliveries, a lost message, failures and their retries.

Tests with threads commit for real (``transaction=True``): each thread has its own PostgreSQL
connection and only sees what the others committed, as two workers would."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.result import allow_join_result
from django.core import mail
from django.db import OperationalError, connections
from django.utils import timezone

from badges import services, tasks
from badges.errors import BadgeError
from badges.models import Badge, IssueFailure, SigningKey, StatusList
from credentials_site.celery import app
from programs.models import AuditEvent, Organization, User
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3, retries_of
from tests.badges.test_worker import approve_committed
from tests.factories import PathwayFactory, UserFactory
from tests.worker import purge_queue

committed = pytest.mark.django_db(transaction=True)


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def run_inline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Call it to make ``.delay()`` run tasks at once in the calling thread, as a worker would
    on receiving them. Approvals made before the call only queue on the broker, which is
    emptied afterwards."""

    def enable() -> None:
        monkeypatch.setattr(app.conf, "task_always_eager", True)

    yield enable
    purge_queue()


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same moment; each has its own
    database connection, closed at the end. Re-raises the first error."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    # Celery's "no waiting on a result inside a task" flag is process-wide and the threads'
    # tasks toggle it in any order: put it back as it was once they are done
    with allow_join_result():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (a deadlock?)"
    if errors:
        raise errors[0]
    return results


def issue_task(application: Application) -> str:
    """One delivery of the issuing message, run as the worker runs it."""
    result = tasks.badge_issue.apply(
        kwargs={"organization_id": application.organization_id, "application_id": application.pk}
    )
    # the flag that forbids waiting on a result inside a task is process-wide in Celery, and
    # other threads are inside a task right now
    return str(result.get(disable_sync_subtasks=False))


def crash_once_after_signing(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> list[dict[str, Any]]:
    """The next new badge's save raises ``error`` (after the credential was signed: the worker
    dies between signing and saving). Returns the credentials that were signed then lost."""
    lost: list[dict[str, Any]] = []
    original = Badge.save

    def save(self: Badge, *args: Any, **kwargs: Any) -> None:
        if self.pk is None and not lost:
            assert self.credential["proof"][0]["proofValue"]
            lost.append(self.credential)
            raise error
        original(self, *args, **kwargs)

    monkeypatch.setattr(Badge, "save", save)
    return lost


def issued_mail(email: str) -> list[Any]:
    return [m for m in mail.outbox if m.subject.startswith("Your badge") and m.to == [email]]


# --- concurrency ----------------------------------------------------------------------------


@committed
def test_the_task_run_concurrently_makes_one_badge(
    org: Organization, reviewer: User, run_inline: Callable[[], None]
) -> None:
    # given an approval, and its issuing message delivered to four workers at once
    application = approve_committed(org, reviewer)
    run_inline()
    mail.outbox.clear()
    # when they all run it at the same moment
    public_ids = in_threads(4, lambda _: issue_task(application))
    # then there is one badge, and every run answered with it
    badge = Badge.objects.get(application_id=application.pk)
    assert set(public_ids) == {str(badge.public_id)}
    # and only one status bit was used, one audit event and one e-mail written
    assert StatusList.objects.get(organization=org).next_index == 1
    assert AuditEvent.objects.filter(action="badge.issued", object_id=str(badge.pk)).count() == 1
    assert len(issued_mail(application.educator.email)) == 1
    application.refresh_from_db()
    assert application.status == Application.Status.AWARDED


@committed
def test_approvals_issued_at_once_get_their_own_bits_and_share_one_key(
    org: Organization, reviewer: User, run_inline: Callable[[], None]
) -> None:
    # given three approvals in an organization that has no signing key nor status list yet
    applications = [approve_committed(org, reviewer) for _ in range(3)]
    assert not SigningKey.objects.filter(organization=org).exists()
    run_inline()
    # when three workers issue them at the same moment
    in_threads(3, lambda i: issue_task(applications[i]))
    # then each has its badge, on its own bit of one list, signed by the one key made
    badges = list(Badge.objects.filter(organization=org))
    assert sorted(b.application_id for b in badges) == sorted(a.pk for a in applications)
    assert sorted(b.status_index for b in badges) == [0, 1, 2]
    assert StatusList.objects.filter(organization=org).count() == 1
    key = SigningKey.objects.get(organization=org)
    assert {b.signing_key_id for b in badges} == {key.pk}
    for badge in badges:
        assert services.credential_verify(organization=org, credential=badge.credential)["verified"]


# --- a crash between signing and saving -----------------------------------------------------


@committed
def test_a_crash_between_signing_and_saving_leaves_nothing_behind(
    org: Organization,
    reviewer: User,
    run_inline: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an organization that already issued one badge (its status list has bit 0 used)
    first, second = approve_committed(org, reviewer), approve_committed(org, reviewer)
    run_inline()
    services.badge_issue(application_id=first.pk)
    mail.outbox.clear()
    # when the worker dies after signing the second approval's credential, before saving it
    lost = crash_once_after_signing(monkeypatch, RuntimeError("worker killed"))
    with pytest.raises(RuntimeError, match="worker killed"):
        services.badge_issue(application_id=second.pk)
    # then nothing of that attempt remains: no badge, no used status bit, no audit, no e-mail
    assert len(lost) == 1
    assert not Badge.objects.filter(application_id=second.pk).exists()
    assert StatusList.objects.get(organization=org).next_index == 1
    assert (
        not AuditEvent.objects.filter(action="badge.issued")
        .exclude(object_id=str(Badge.objects.get(application_id=first.pk).pk))
        .exists()
    )
    assert issued_mail(second.educator.email) == []
    second.refresh_from_db()
    assert second.status == Application.Status.APPROVED
    # when it runs again
    badge = services.badge_issue(application_id=second.pk)
    # then exactly one badge exists, on the bit the crashed attempt had taken, and it verifies
    assert Badge.objects.filter(application_id=second.pk).count() == 1
    assert badge.status_index == int(lost[0]["credentialStatus"]["statusListIndex"]) == 1
    assert badge.credential["proof"] != lost[0]["proof"]
    assert_valid_ob3(badge.credential)
    assert services.credential_verify(organization=org, credential=badge.credential)["verified"]
    second.refresh_from_db()
    assert second.status == Application.Status.AWARDED
    assert len(issued_mail(second.educator.email)) == 1


# --- duplicate delivery, lost messages ------------------------------------------------------


@pytest.mark.django_db
def test_the_same_message_delivered_twice_makes_one_badge(approve: Any) -> None:
    # given an approval
    application = approve()
    # when its issuing message is delivered twice
    first, second = issue_task(application), issue_task(application)
    # then both deliveries name the one badge
    assert first == second
    assert Badge.objects.filter(application_id=application.pk).count() == 1
    assert str(Badge.objects.get(application_id=application.pk).public_id) == first


def test_a_worker_lost_mid_task_gets_the_message_redelivered() -> None:
    # the task is idempotent, so it acknowledges only once done and is re-queued if its worker
    # dies (the crash test above shows a re-run after a crash issues exactly one badge)
    assert tasks.badge_issue.acks_late is True
    assert tasks.badge_issue.reject_on_worker_lost is True
    assert BadgeError in tasks.badge_issue.throws


@pytest.mark.django_db
def test_an_approval_whose_message_was_lost_is_found_by_the_sweep(
    approve: Any, org: Organization, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.BADGE_ISSUE_GROUP_SIZE = 1  # the sweep's choice alone: no approval taken along
    # given an approval 15 minutes old whose issuing message never arrived (the approval's
    # on-commit callbacks are not run here), and one just approved (its message may still be
    # on its way)
    lost = approve()
    Application.objects.filter(pk=lost.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=15)
    )
    recent = approve()
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    # when beat's sweep runs
    queued = tasks.sweep_unissued.apply(kwargs={"organization_id": org.pk}).get()
    # then it issued the lost approval's badge and left the recent one to its message
    assert queued == 1
    badge = Badge.objects.get(application_id=lost.pk)
    assert_valid_ob3(badge.credential)
    lost.refresh_from_db()
    assert lost.status == Application.Status.AWARDED
    assert not Badge.objects.filter(application_id=recent.pk).exists()
    assert services.approvals_without_badge(organization=org, older_than=dt.timedelta(0)) == [
        recent.pk
    ]


# --- failures, retries and what admins see --------------------------------------------------


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays (seconds) of the retries the issuing task asks for."""
    return retries_of(tasks.badge_issue, monkeypatch)


@pytest.mark.django_db
def test_a_transient_failure_is_recorded_and_retried(
    approve: Any, monkeypatch: pytest.MonkeyPatch, retries: list[float]
) -> None:
    # given an approval, and a database that fails once mid-issue
    application = approve()
    crash_once_after_signing(monkeypatch, OperationalError("server closed the connection"))
    # when the worker runs the issuing task
    result = tasks.badge_issue.apply(
        kwargs={"organization_id": application.organization_id, "application_id": application.pk}
    )
    # then the failure was recorded for the program admins and the task retried, later
    assert len(retries) == 1
    assert 0 <= retries[0] <= 600
    failure = IssueFailure.objects.get(application_id=application.pk)
    assert failure.attempt == 1
    assert "OperationalError: server closed the connection" in failure.error
    # and the retry issued the badge, which marks the failure resolved
    assert result.successful()
    badge = Badge.objects.get(application_id=application.pk)
    assert result.get() == str(badge.public_id)
    failure.refresh_from_db()
    assert failure.resolved_at is not None


@pytest.mark.django_db
def test_a_lasting_failure_is_retried_to_the_limit_and_left_for_the_sweep(
    approve: Any, org: Organization, monkeypatch: pytest.MonkeyPatch, retries: list[float]
) -> None:
    # given an approval whose issuing fails every time
    application = approve()

    def broken(**_: Any) -> Badge:
        raise OperationalError("database unavailable")

    monkeypatch.setattr(tasks.services, "badge_issue_grouped", broken)
    # when the worker runs the issuing task
    result = tasks.badge_issue.apply(
        kwargs={"organization_id": application.organization_id, "application_id": application.pk}
    )
    # then it was tried 1 + max_retries times, every attempt visible to the admins
    assert result.failed()
    attempts = tasks.badge_issue.max_retries + 1
    assert len(retries) == attempts - 1
    assert sorted(
        IssueFailure.objects.filter(application_id=application.pk).values_list("attempt", flat=True)
    ) == list(range(1, attempts + 1))
    # and the approval is still there for the sweep
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.pk in services.approvals_without_badge(
        organization=org, older_than=dt.timedelta(0)
    )


@pytest.mark.django_db
def test_an_application_that_is_not_approved_is_not_retried(
    approve: Any, retries: list[float]
) -> None:
    # given an application whose approval was undone before the task ran
    application = approve()
    Application.objects.filter(pk=application.pk).update(status=Application.Status.NOT_AWARDED)
    # when the worker runs the issuing task
    result = tasks.badge_issue.apply(
        kwargs={"organization_id": application.organization_id, "application_id": application.pk}
    )
    # then it fails at once with the business error: no retry, nothing for the admins, no badge
    assert result.failed()
    assert isinstance(result.result, BadgeError)
    assert retries == []
    assert not IssueFailure.objects.filter(application_id=application.pk).exists()
    assert not Badge.objects.filter(application_id=application.pk).exists()


# --- pathways -------------------------------------------------------------------------------


@committed
def test_the_pathway_certificate_is_issued_once_when_the_last_badge_is(
    org: Organization, reviewer: User, run_inline: Callable[[], None]
) -> None:
    # given an educator with two approvals that make up a published pathway
    educator = UserFactory()
    applications = [approve_committed(org, reviewer, educator=educator) for _ in range(2)]
    pathway = PathwayFactory(organization=org, certificate_name="Foundations Certificate")
    pathway.credentials.set([a.credential_id for a in applications])
    run_inline()
    # when two workers issue the two badges at the same moment (each then checks pathways)
    in_threads(2, lambda i: issue_task(applications[i]))
    # then the certificate was issued once
    certificates = Badge.objects.filter(recipient=educator, kind=Badge.Kind.PATHWAY)
    assert certificates.count() == 1
    certificate = certificates.get()
    assert certificate.pathway_id == pathway.pk
    assert_valid_ob3(certificate.credential)
    assert services.credential_verify(organization=org, credential=certificate.credential)[
        "verified"
    ]
    alignments = certificate.credential["credentialSubject"]["achievement"]["alignment"]
    assert len(alignments) == 2
    # when the pathway check is delivered again, to four workers at once
    in_threads(
        4,
        lambda _: tasks.pathways_check.apply(
            kwargs={"organization_id": org.pk, "user_id": educator.pk}
        ).get(disable_sync_subtasks=False),
    )
    # then there is still one certificate
    assert Badge.objects.filter(recipient=educator, kind=Badge.Kind.PATHWAY).count() == 1


@pytest.mark.django_db
def test_only_a_badge_in_a_published_pathway_queues_the_pathway_check(
    org: Organization,
    reviewer: User,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given an approval of a credential in no pathway, and one of a credential in a pathway
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.pathways_check, "delay", lambda **kwargs: queued.append(kwargs))
    outside = approve_committed(org, reviewer)
    inside = approve_committed(org, reviewer)
    PathwayFactory(organization=org).credentials.set([inside.credential_id])
    # when both badges are issued and committed
    for application in (outside, inside):
        with django_capture_on_commit_callbacks(execute=True):
            services.badge_issue(application_id=application.pk)
    # then only the one that can complete a pathway asked for the pathway check
    assert queued == [{"organization_id": org.pk, "user_id": inside.educator_id}]


# --- what a worker keeps between badges -----------------------------------------------------


@pytest.mark.django_db
def test_an_edited_issuer_profile_is_on_the_next_badge_of_the_same_version(
    org: Organization, reviewer: User
) -> None:
    # given a badge issued for a credential version (the worker keeps its Achievement)
    first = approve_committed(org, reviewer)
    second = approve_committed(org, reviewer, version=first.version)
    services.badge_issue(application_id=first.pk)
    # when a program admin edits the issuer profile, then another badge of that version is issued
    org.issuer_name = "Riverside Unified Educators"
    org.save()
    badge = services.badge_issue(application_id=second.pk)
    # then the new badge names the issuer as it is now, in the credential and its achievement
    assert badge.credential["issuer"]["name"] == "Riverside Unified Educators"
    creator = badge.credential["credentialSubject"]["achievement"]["creator"]
    assert creator["name"] == "Riverside Unified Educators"
    assert services.credential_verify(organization=org, credential=badge.credential)["verified"]
