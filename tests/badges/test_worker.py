"""Issuing end to end through a real Celery worker on Redis: an approval commits, the
``application_approved`` signal queues ``badges.badge_issue``, the worker issues the badge.

The tests commit for real (``transaction=True``), so on-commit callbacks run as in production:
the worker (a thread of this process, on pytest-django's test database) sees what they queued."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from django.core import mail
from django.utils import timezone

from badges import services, tasks
from badges.models import Badge, IssueFailure
from programs.models import CredentialVersion, Membership, Organization, User
from reviews import services as review_services
from submissions import services as submission_services
from submissions.models import Application
from tests.badges.conftest import assert_valid_ob3
from tests.factories import MembershipFactory, UserFactory, make_credential
from tests.reviews.conftest import decide, submit_attempt
from tests.worker import purge_queue, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with running_worker():
        yield


def approve_committed(
    organization: Organization,
    reviewer: User,
    *,
    educator: User | None = None,
    version: CredentialVersion | None = None,
) -> Application:
    """An educator's attempt at a credential (a new one unless ``version`` is given), approved
    through the review services, each step committed: the approval's on-commit callbacks run,
    so the issuing task is on the broker when this returns."""
    educator = educator or UserFactory()
    version = version or make_credential(organization, non_member_fee=0, credit_hours=2)
    if not Membership.objects.filter(organization=organization, user=educator).exists():
        MembershipFactory(organization=organization, user=educator, member_until=None)
    application = submission_services.application_apply(
        credential=version.credential, educator=educator
    )
    submit_attempt(application, educator)
    claim = review_services.review_claim_next(organization=organization, reviewer=reviewer)
    decide(claim, reviewer, "approve")
    return application


def issued_badge(application: Application) -> Badge | None:
    """The badge once the worker committed it (the application is AWARDED in the same commit)."""
    return (
        Badge.objects.filter(application_id=application.pk)
        .select_related("application", "organization")
        .first()
    )


def test_an_approval_is_issued_by_the_worker(
    celery_worker: None, org: Organization, reviewer: User
) -> None:
    # given a worker consuming the broker
    mail.outbox.clear()
    # when a reviewer approves an attempt (nothing else: the approval queues the task)
    application = approve_committed(org, reviewer)
    # then the worker issues one signed, schema-valid OB 3.0 credential
    badge = wait_for(lambda: issued_badge(application), what="the worker to issue the badge")
    assert_valid_ob3(badge.credential)
    check = services.credential_verify(organization=org, credential=badge.credential)
    assert check["verified"], check
    assert check["status"] == "valid"
    assert badge.credential["credentialSubject"]["achievement"]["creditsAvailable"] == 2.0
    # and the application is AWARDED, with no failure left for the admins
    assert badge.application is not None
    assert badge.application.status == Application.Status.AWARDED
    assert not IssueFailure.objects.filter(application_id=application.pk).exists()
    # and the educator is told, once
    issued_mail = wait_for(
        lambda: [m for m in mail.outbox if m.subject.startswith("Your badge:")],
        what="the issued e-mail",
    )
    assert [m.to for m in issued_mail] == [[application.educator.email]]
    assert str(badge.public_id) in issued_mail[0].body


def test_the_same_message_delivered_twice_makes_one_badge(
    celery_worker: None, org: Organization, reviewer: User
) -> None:
    # given an approval (its own message already queued)
    application = approve_committed(org, reviewer)
    # when the broker delivers the same task message twice more (same task id)
    task_id = str(uuid.uuid4())
    kwargs = {"organization_id": org.pk, "application_id": application.pk}
    deliveries = [
        tasks.badge_issue.apply_async(kwargs=kwargs, task_id=task_id),
        tasks.badge_issue.apply_async(kwargs=kwargs, task_id=task_id),
    ]
    results = {delivery.get(timeout=30) for delivery in deliveries}
    # then every delivery answers with the one badge that exists
    badge = wait_for(lambda: issued_badge(application), what="the badge")
    assert results == {str(badge.public_id)}
    assert Badge.objects.filter(application_id=application.pk).count() == 1


def test_a_burst_of_approvals_is_issued_in_one_transaction_each_once(
    org: Organization, reviewer: User
) -> None:
    # given three approvals committed while no worker runs (their three messages wait)
    purge_queue()
    applications = [approve_committed(org, reviewer) for _ in range(3)]
    mail.outbox.clear()
    # when a worker starts on them
    with running_worker(purge=False):
        badges = wait_for(
            lambda: (
                [issued_badge(a) for a in applications]
                if Badge.objects.filter(application__in=applications).count() == 3
                else None
            ),
            what="the three badges",
        )
        issued = wait_for(
            lambda: (
                (m := [m for m in mail.outbox if m.subject.startswith("Your badge:")])
                and len(m) >= 3
                and m
            ),
            what="the three e-mails",
        )
        assert purge_queue() == 0  # the other two messages ran too: they found their badge
    # then the first message issued all three in one transaction (one proof time), and the
    # two others found theirs: one valid badge each, each educator told once
    assert len({b.issued_at for b in badges if b is not None}) == 1
    for application, badge in zip(applications, badges, strict=True):
        assert badge is not None
        assert Badge.objects.filter(application_id=application.pk).count() == 1
        check = services.credential_verify(organization=org, credential=badge.credential)
        assert check["verified"] and check["status"] == "valid", check
    assert sorted(m.to[0] for m in issued) == sorted(a.educator.email for a in applications)


def test_an_approval_whose_message_was_lost_is_issued_by_the_sweep(
    org: Organization, reviewer: User
) -> None:
    # given an approval whose issuing message the broker lost (dropped before any worker ran)
    application = approve_committed(org, reviewer)
    assert purge_queue() >= 1
    Application.objects.filter(pk=application.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=15)
    )
    with running_worker(purge=False):
        assert issued_badge(application) is None
        # when beat's sweep runs on the worker
        tasks.sweep_unissued_all.delay().get(timeout=30)
        # then the sweep found the approval and the worker issued its badge
        badge = wait_for(lambda: issued_badge(application), what="the sweep's badge")
    assert_valid_ob3(badge.credential)
    assert badge.application is not None
    assert badge.application.status == Application.Status.AWARDED
