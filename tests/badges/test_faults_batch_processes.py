"""The batch path with the real parts: a worker process killed with SIGKILL in the middle of a
batch, before its chunk commits. What was committed stays, the chunk is rolled back whole, and
the redelivered message finishes the batch: every approval gets one badge, none two.

As tests/badges/test_faults_processes.py: real ``celery worker`` processes on pytest-django's
test database, so every test commits (``transaction=True``). Select them with ``-m processes``."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from badges import services, tasks
from badges.models import Badge, StatusList
from badges.services import batch, issuing
from programs.models import Organization, User
from submissions.models import Application
from tests.badges.test_faults_processes import (
    issued_mail,
    one_badge_issued_once,
    paused_pid,
    row_locked,
    unacknowledged,
)
from tests.badges.test_worker import approve_committed
from tests.worker import purge_queue, wait_for, worker_process

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def killed_then_issued(
    worker: Any,
    pid: int,
    applications: list[Application],
    mail_dir: Path,
    *,
    mailed: list[Application] | None = None,
) -> None:
    """Kill the worker's pool process ``pid`` (paused at a fault point: the main process puts
    its message back); wait until every application has its badge, every message is
    acknowledged and the educators of ``mailed`` (default: all) have their e-mail."""
    ids = [a.pk for a in applications]
    os.kill(pid, signal.SIGKILL)
    wait_for(
        lambda: Badge.objects.filter(application_id__in=ids).count() == len(ids),
        timeout=45,
        what="the badges",
    )
    wait_for(lambda: unacknowledged(settings.CELERY_BROKER_URL) == {}, what="the acks")
    for application in applications if mailed is None else mailed:
        wait_for(
            lambda a=application: issued_mail(mail_dir, a.educator.email),  # type: ignore[misc]
            what="the issued e-mail",
        )
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log_text()


def test_a_worker_killed_in_the_middle_of_a_batch_makes_each_badge_once(
    org: Organization, reviewer: User, tmp_path: Path
) -> None:
    # given six approvals whose own issuing messages were lost, the first two issued already
    applications = [approve_committed(org, reviewer) for _ in range(6)]
    purge_queue()
    for application in applications[:2]:
        services.badge_issue(application_id=application.pk)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    # and a worker that issues batches two at a time and stops in the first chunk that issues
    # (the second: the first has its badges), signed and saved, not committed
    marker = tmp_path / "paused-before-commit"
    fault = {
        "TESSERA_FAULT_PAUSE": batch.BATCH_BEFORE_COMMIT,
        "TESSERA_FAULT_MARKER": str(marker),
        "BADGE_ISSUE_BATCH_SIZE": "2",
    }
    ids = [a.pk for a in applications]
    with worker_process(tmp_path, mail_dir=mail_dir, env=fault) as worker:
        # when the batch is queued and the worker pauses in its second chunk
        tasks.badge_issue_batch.delay(organization_id=org.pk, application_ids=ids)
        pid = wait_for(lambda: paused_pid(marker), what="the worker to pause before commit")
        assert row_locked(applications[2])
        assert Badge.objects.filter(application_id__in=ids).count() == 2
        # and its pool process is killed there (the main process puts the message back), then
        # the redelivered message issues the four missing badges
        killed_then_issued(worker, pid, applications, mail_dir, mailed=applications[2:])
    # and each only once: one badge, one audit record, one e-mail; the killed chunk's bits
    # given back and taken again
    for application in applications[2:]:
        badge = Badge.objects.select_related("application", "organization").get(
            application_id=application.pk
        )
        one_badge_issued_once(application, badge, mail_dir)
    assert StatusList.objects.get(organization=org).next_index == 6
    assert sorted(
        Badge.objects.filter(application_id__in=ids).values_list("status_index", flat=True)
    ) == list(range(6))


def test_a_worker_killed_while_issuing_a_burst_of_approvals_makes_each_badge_once(
    org: Organization, reviewer: User, tmp_path: Path
) -> None:
    # given three approvals committed while no worker runs (their three messages wait)
    purge_queue()
    applications = [approve_committed(org, reviewer) for _ in range(3)]
    ids = [a.pk for a in applications]
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    # and a worker that stops in the transaction of the first message, which took the two
    # other approvals along: signed, saved, awarded, audited, not committed
    marker = tmp_path / "paused-before-commit"
    fault = {"TESSERA_FAULT_PAUSE": issuing.BEFORE_COMMIT, "TESSERA_FAULT_MARKER": str(marker)}
    with worker_process(tmp_path, mail_dir=mail_dir, env=fault) as worker:
        pid = wait_for(lambda: paused_pid(marker), what="the worker to pause before commit")
        assert all(row_locked(a) for a in applications)
        assert not Badge.objects.filter(application_id__in=ids).exists()
        # when its pool process is killed there (the main process puts the message back), then
        # the three messages, the first redelivered, issue the three badges
        killed_then_issued(worker, pid, applications, mail_dir)
    # and each only once: one badge, one audit record, one e-mail; the killed group's bits
    # given back and taken again
    for application in applications:
        badge = Badge.objects.select_related("application", "organization").get(
            application_id=application.pk
        )
        one_badge_issued_once(application, badge, mail_dir)
    assert StatusList.objects.get(organization=org).next_index == 3
    assert purge_queue() == 0
