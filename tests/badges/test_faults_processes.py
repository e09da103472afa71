"""Faults with the real parts: a worker process killed with SIGKILL while it issues a badge, and
the broker down when a reviewer approves. Exactly one badge comes out of each.

The workers are ``celery worker`` processes (prefork, one pool process; tests/worker.py
``worker_process``) on pytest-django's test database, so every test commits
(``transaction=True``). The broker is Redis: the devstack's for the first test, a throwaway one
that the test stops and starts again for the second. Select them with ``-m processes``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import OperationalError, transaction
from django.test import Client
from django.utils import timezone

from badges import services, tasks
from badges.models import Badge, IssueFailure, StatusList
from badges.services import issuing
from credentials_site.celery import app
from credentials_site.devstack import free_port
from programs.models import AuditEvent, Organization, RubricCriterion, User
from submissions import services as submission_services
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3
from tests.badges.test_worker import approve_committed, issued_badge
from tests.factories import MembershipFactory, UserFactory, make_credential
from tests.reviews.conftest import submit_attempt
from tests.worker import purge_queue, redis_server, sent_mail, wait_for, worker_process

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


# --- helpers --------------------------------------------------------------------------------


def issued_mail(mail_dir: Path, email: str) -> list[EmailMessage]:
    return [
        m
        for m in sent_mail(mail_dir)
        if str(m["subject"]).startswith("Your badge:") and m["to"] == email
    ]


def paused_pid(marker: Path) -> int | None:
    """The process that reached the fault point and waits there (issuing._fault_point)."""
    text = marker.read_text() if marker.exists() else ""
    return int(text) if text.endswith("\n") else None


def row_locked(application: Application) -> bool:
    """Another transaction holds the application's row lock (the issuing one, not committed)."""
    try:
        with transaction.atomic():
            list(Application.objects.select_for_update(nowait=True).filter(pk=application.pk))
    except OperationalError:
        return True
    return False


def unacknowledged(broker_url: str) -> dict[str, str]:
    """Task id → task name of the messages the Redis broker delivered and is still waiting to
    hear were done (kombu's ``unacked`` hash: what comes back if their worker died)."""
    held = redis.Redis.from_url(broker_url).hvals("unacked")
    messages = [json.loads(value)[0] for value in held]
    return {m["headers"]["id"]: m["headers"]["task"] for m in messages}


def one_badge_issued_once(application: Application, badge: Badge, mail_dir: Path) -> None:
    """Exactly one badge, signed and valid, the application awarded, one audit event, no
    failure left for the admins, and the educator told once."""
    assert Badge.objects.filter(application_id=application.pk).count() == 1
    assert_valid_ob3(badge.credential)
    check = services.credential_verify(organization=badge.organization, credential=badge.credential)
    assert check["verified"], check
    assert check["status"] == "valid"
    assert badge.application is not None
    assert badge.application.status == Application.Status.AWARDED
    assert AuditEvent.objects.filter(action="badge.issued", object_id=str(badge.pk)).count() == 1
    assert not IssueFailure.objects.filter(application_id=application.pk).exists()
    assert len(issued_mail(mail_dir, application.educator.email)) == 1


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    """Where the worker processes' e-mails are written."""
    path = tmp_path / "mail"
    path.mkdir()
    return path


# --- a worker killed with SIGKILL between signing and commit -------------------------------


@pytest.mark.parametrize("killed", ["pool process", "whole worker"])
def test_a_worker_killed_while_issuing_and_restarted_makes_exactly_one_badge(
    killed: str, org: Organization, reviewer: User, tmp_path: Path, mail_dir: Path
) -> None:
    # given an organization that issued a badge already (bit 0 of its status list is taken)
    services.badge_issue(application_id=approve_committed(org, reviewer).pk)
    assert StatusList.objects.get(organization=org).next_index == 1
    # and a worker process that will stop inside the issuing transaction of the next badge:
    # signed, saved, application awarded, audited, not committed (issuing._fault_point)
    marker = tmp_path / "paused-before-commit"
    fault = {"TESSERA_FAULT_PAUSE": issuing.BEFORE_COMMIT, "TESSERA_FAULT_MARKER": str(marker)}
    purge_queue()
    with contextlib.ExitStack() as workers:
        worker = workers.enter_context(worker_process(tmp_path, mail_dir=mail_dir, env=fault))
        # when a reviewer approves an attempt, and the worker has signed its badge
        application = approve_committed(org, reviewer)
        pid = wait_for(lambda: paused_pid(marker), what="the worker to pause before commit")
        assert pid in worker.pool_pids()
        assert row_locked(application)  # its transaction is open
        held = unacknowledged(settings.CELERY_BROKER_URL)  # acks_late: held until done
        assert list(held.values()) == ["badges.badge_issue"]
        [task_id] = held
        # and it is killed with SIGKILL there, then runs again
        if killed == "pool process":
            # the pool process that issues dies (as by the kernel's OOM killer): the worker's
            # main process sees it lost (reject_on_worker_lost) and puts the message back on
            # the queue at once; its new pool process takes it
            os.kill(pid, signal.SIGKILL)
        else:
            # the whole worker dies (its machine or container): nobody rejects the message; the
            # broker keeps it unacknowledged until the visibility timeout passes, then a worker
            # started again takes it back (production: one hour, and the sweep every 15 min
            # finds the approval first)
            worker.kill()
            assert unacknowledged(settings.CELERY_BROKER_URL) == held
            worker = workers.enter_context(
                worker_process(tmp_path, mail_dir=mail_dir, env=fault, visibility_timeout=2)
            )
        # then the same message, delivered again, issues the badge
        badge = wait_for(lambda: issued_badge(application), timeout=45, what="the badge")
        # and that message is done with: acknowledged, no longer held for redelivery (its
        # result is not stored: badge_issue_queue)
        wait_for(
            lambda: task_id not in unacknowledged(settings.CELERY_BROKER_URL),
            what="the message acknowledged",
        )
        wait_for(
            lambda: issued_mail(mail_dir, application.educator.email), what="the issued e-mail"
        )
        if killed == "pool process":
            assert "exited with 'signal 9 (SIGKILL)'" in worker.log_text()
    # and only once: one badge, one e-mail, nothing left on the broker
    one_badge_issued_once(application, badge, mail_dir)
    assert unacknowledged(settings.CELERY_BROKER_URL) == {}
    assert purge_queue() == 0
    # and one status bit used: the killed attempt's bit was given back by its rollback and
    # taken again
    assert badge.status_index == 1
    assert StatusList.objects.get(organization=org).next_index == 2


def test_the_fault_point_does_nothing_outside_the_test_profile(
    approve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # given an approval, and a production worker whose environment names the fault point
    application = approve()
    marker = tmp_path / "paused-before-commit"
    monkeypatch.setenv("TESSERA_FAULT_PAUSE", issuing.BEFORE_COMMIT)
    monkeypatch.setenv("TESSERA_FAULT_MARKER", str(marker))
    settings.DJANGO_ENV = "production"
    # when it issues the badge
    started = time.monotonic()
    badge = services.badge_issue(application_id=application.pk)
    # then it neither waited nor left a trace
    assert time.monotonic() - started < issuing.FAULT_PAUSE_SECONDS / 2
    assert not marker.exists()
    assert Badge.objects.get(application_id=application.pk) == badge


# --- the broker down when a reviewer approves -----------------------------------------------


@contextlib.contextmanager
def site_on_broker(url: str) -> Iterator[Celery]:
    """For the time of the block, this process (the web site) sends its tasks to the Redis at
    ``url`` and reads their results from it: a Celery app with the project's configuration but
    that broker, made the current app (the tasks are shared tasks: they follow it)."""
    site = Celery(app.main, fixups=[], set_as_current=True)
    site.config_from_object("django.conf:settings", namespace="CELERY")
    site.conf.update(broker_url=url, result_backend=url)
    try:
        yield site
    finally:
        app.set_current()
        site.close()


def submitted(organization: Organization) -> Application:
    """An educator's attempt at a new credential, submitted and waiting for review."""
    educator = UserFactory()
    version = make_credential(organization, non_member_fee=0)
    MembershipFactory(organization=organization, user=educator, member_until=None)
    application = submission_services.application_apply(
        credential=version.credential, educator=educator
    )
    submit_attempt(application, educator)
    return application


def test_an_approval_while_the_broker_is_down_is_saved_and_issued_once_when_it_is_back(
    org: Organization,
    reviewer: User,
    tmp_path: Path,
    mail_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given an attempt waiting for review, and a site whose broker (Redis) stopped
    application = submitted(org)
    port = free_port()
    with contextlib.ExitStack() as stack:
        with redis_server(port, tmp_path) as broker_url:
            stack.enter_context(site_on_broker(broker_url))
            assert tasks.badge_issue.app.conf.broker_url == broker_url
        reviewing = Client()
        reviewing.force_login(reviewer)
        queue = f"/o/{org.slug}/review/"
        opened = reviewing.post(queue + "claim/", follow=True)  # the review page
        assert opened.status_code == 200
        [(review_page, _)] = opened.redirect_chain
        # when the reviewer scores every criterion and approves on the review page
        criteria = RubricCriterion.objects.filter(version_id=application.version_id)
        response = reviewing.post(
            review_page,
            {
                "action": "submit",
                **{f"score_{c.pk}": "1" for c in criteria},
                **{f"comment_{c.pk}": "Clear plan." for c in criteria},
                "overall_feedback": "Well done.",
                "decision": "approve",
            },
            follow=True,
        )
        # then they see the normal outcome: back at the queue, told the review is submitted
        assert response.status_code == 200
        assert response.redirect_chain == [(queue, 302)]
        code = Application.objects.get(pk=application.pk).anonymous_code
        told = [(m.level_tag, m.message) for m in response.context["messages"]]
        assert told == [("success", f"Your review of {code} is submitted (approve).")]
        assert told[0][1] in response.content.decode()
        # and the approval is saved, and the broker's failure was logged
        application.refresh_from_db()
        assert application.status == Application.Status.APPROVED
        logged = [r for r in caplog.records if r.exc_info and "on_commit" in r.getMessage()]
        assert [r.levelname for r in logged] == ["ERROR"], caplog.text
        # when Redis is back at the same address, with a worker
        broker_url = stack.enter_context(redis_server(port, tmp_path))
        stack.enter_context(worker_process(tmp_path, mail_dir=mail_dir, broker_url=broker_url))
        # then the issuing message was not kept anywhere: nothing waits on the broker
        assert redis.Redis.from_url(broker_url).llen("celery") == 0
        assert issued_badge(application) is None
        # when beat's sweep runs (every 15 minutes; the approval is older than its 2-minute
        # grace for messages on their way by then)
        Application.objects.filter(pk=application.pk).update(
            updated_at=timezone.now() - dt.timedelta(minutes=15)
        )
        assert tasks.sweep_unissued_all.delay().get(timeout=30) >= 1
        # then the sweep queued the issuing and the worker issued the badge
        badge = wait_for(lambda: issued_badge(application), timeout=45, what="the sweep's badge")
        wait_for(
            lambda: issued_mail(mail_dir, application.educator.email), what="the issued e-mail"
        )
        # and a later sweep finds nothing left to issue
        assert tasks.sweep_unissued.delay(organization_id=org.pk).get(timeout=30) == 0
    # and it was issued exactly once
    one_badge_issued_once(application, badge, mail_dir)
