"""The batch path: many approvals issued a chunk per transaction, one badge per approval ever,
each as ``badge_issue`` makes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client
from django_scopes import scope, scopes_disabled

from badges import services
from badges.models import Badge, IssueFailure, StatusList
from badges.services import batch
from programs.models import AuditEvent
from submissions.models import Application, ApplicationEvent, Submission
from tests.badges.conftest import assert_valid_ob3
from tests.badges.test_independent_verifier import documents_for, verify_independently
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def issued_once(applications: list[Application]) -> list[Badge]:
    """Each application has exactly one badge, valid and verifying, is awarded, with one
    "awarded" event and one audit record; the badges hold distinct status bits."""
    badges = []
    for application in applications:
        [badge] = Badge.objects.filter(application=application)
        assert_valid_ob3(badge.credential)
        check = services.credential_verify(
            organization=badge.organization, credential=badge.credential
        )
        assert check["verified"] and check["status"] == "valid", check
        application.refresh_from_db()
        assert application.status == Application.Status.AWARDED
        events = ApplicationEvent.objects.filter(application=application, kind="awarded")
        assert events.count() == 1
        audit = AuditEvent.objects.filter(action="badge.issued", object_id=str(badge.pk))
        assert audit.count() == 1
        badges.append(badge)
    bits = {(b.status_list_id, b.status_index) for b in badges}
    assert len(bits) == len(badges)
    return badges


def test_a_batch_issues_each_approval_one_badge_as_badge_issue_does(
    approve: Any, django_capture_on_commit_callbacks: Any, tasks_run_at_once: None
) -> None:
    # given three approvals, one with its badge already, and one application not approved
    approved = [approve(credit_hours=3) for _ in range(3)]
    existing = services.badge_issue(application_id=approved[0].pk)
    withdrawn = approve()
    Application.objects.filter(pk=withdrawn.pk).update(status=Application.Status.WITHDRAWN)
    mail.outbox.clear()
    # when they are issued as a batch, in chunks of two
    ids = [a.pk for a in [*approved, withdrawn]]
    with django_capture_on_commit_callbacks(execute=True):
        result = services.badge_issue_batch(application_ids=ids, chunk_size=2)
    # then the two without a badge get one each, the one with a badge keeps it, the
    # withdrawn one gets none
    assert sorted(result.issued) == sorted(a.pk for a in approved[1:])
    assert result.existing == [approved[0].pk]
    assert result.refused == [withdrawn.pk]
    badges = issued_once(approved)
    assert badges[0].pk == existing.pk
    assert not Badge.objects.filter(application=withdrawn).exists()
    # the credential is badge_issue's: the same shape, the educator's results and evidence
    credential = badges[1].credential
    assert credential["credentialSubject"]["achievement"]["creditsAvailable"] == 3.0
    assert set(credential) == set(existing.credential)
    # and each educator is e-mailed once
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.educator.email for a in approved[1:])


def test_running_a_batch_again_issues_nothing_twice(approve: Any) -> None:
    applications = [approve() for _ in range(3)]
    ids = [a.pk for a in applications]
    first = services.badge_issue_batch(application_ids=ids)
    # when the same batch runs again (a redelivered message)
    again = services.badge_issue_batch(application_ids=ids)
    # then it finds every badge made
    assert sorted(first.issued) == sorted(ids) == sorted(again.existing)
    assert again.issued == []
    issued_once(applications)
    assert StatusList.objects.get(organization=applications[0].organization).next_index == 3


def test_a_chunk_that_fails_is_rolled_back_whole_and_the_rerun_completes(
    approve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given four approvals, and a batch that stops (as a killed worker) on the third badge,
    # in the second chunk
    applications = [approve() for _ in range(4)]
    ids = [a.pk for a in applications]
    signed = batch._badge_signed
    calls = {"n": 0}

    class Killed(BaseException):  # not an Exception: nothing in the batch handles it
        pass

    def dying(*args: Any, **kwargs: Any) -> Badge:
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed
        return signed(*args, **kwargs)

    monkeypatch.setattr(batch, "_badge_signed", dying)
    with pytest.raises(Killed):
        services.badge_issue_batch(application_ids=ids, chunk_size=2)
    # then the first chunk is committed and nothing of the second is left: no badge, no
    # award, no status bit taken
    organization = applications[0].organization
    assert Badge.objects.filter(application_id__in=ids).count() == 2
    assert Application.objects.filter(pk__in=ids[2:], status="approved").count() == 2
    assert StatusList.objects.get(organization=organization).next_index == 2
    # when the batch runs again (the message redelivered)
    monkeypatch.setattr(batch, "_badge_signed", signed)
    again = services.badge_issue_batch(application_ids=ids, chunk_size=2)
    # then the rest is issued, nothing twice, nothing lost
    assert sorted(again.existing) == ids[:2]
    assert sorted(again.issued) == ids[2:]
    issued_once(applications)
    assert StatusList.objects.get(organization=organization).next_index == 4


def test_an_approval_that_cannot_be_issued_does_not_hold_back_its_chunk(approve: Any) -> None:
    # given four approvals, the third with a decision whose scores are malformed
    applications = [approve() for _ in range(4)]
    ids = [a.pk for a in applications]
    Submission.objects.filter(application=applications[2]).update(feedback=[{"score": 1}])
    # when they are issued in chunks of two
    result = services.badge_issue_batch(application_ids=ids, chunk_size=2)
    # then its chunk is rolled back and issued one by one: the others get their badge, it is
    # recorded for the admins (the sweep retries it), and no status bit is lost
    assert (sorted(result.issued), result.failed) == ([ids[0], ids[1], ids[3]], [ids[2]])
    issued_once([applications[i] for i in (0, 1, 3)])
    assert not Badge.objects.filter(application=applications[2]).exists()
    [failure] = IssueFailure.objects.filter(application=applications[2])
    assert "MalformedDecision" in failure.error
    organization = applications[0].organization
    assert StatusList.objects.get(organization=organization).next_index == 3


def test_a_batch_continues_on_a_new_status_list_when_the_newest_fills(approve: Any) -> None:
    first = services.badge_issue(application_id=approve().pk)
    # given a list with one free bit left
    StatusList.objects.filter(pk=first.status_list_id).update(next_index=F("size") - 1)
    applications = [approve() for _ in range(3)]
    # when three badges are issued in one chunk
    services.badge_issue_batch(application_ids=[a.pk for a in applications])
    # then the first takes the last bit, the others the first bits of a new, signed list
    badges = issued_once(applications)
    placed = [(b.status_list.number, b.status_index) for b in badges]
    size = StatusList.objects.get(pk=first.status_list_id).size
    assert placed == [(1, size - 1), (2, 0), (2, 1)]
    new_list = StatusList.objects.get(organization=first.organization, number=2)
    assert new_list.next_index == 2 and new_list.credential != {}
    status = badges[2].credential["credentialStatus"]
    assert status["statusListCredential"] == new_list.credential["id"]


@pytest.mark.scoped
def test_a_batch_in_one_organizations_scope_skips_another_ones_applications(
    approve: Any,
) -> None:
    with scopes_disabled():
        other = approve(organization=OrganizationFactory(slug="elsewhere"))
        mine = approve()
    # when a batch runs in the first organization's scope with the other one's application
    with scope(organization=mine.organization_id):
        result = services.badge_issue_batch(application_ids=[mine.pk, other.pk])
    # then only its own is issued; the other does not exist here
    assert (result.issued, result.missing) == ([mine.pk], [other.pk])
    with scopes_disabled():
        assert not Badge.objects.filter(application=other).exists()


def test_digital_bazaar_verifies_a_batch_issued_badge(
    approve: Any, client: Client, tmp_path: Path
) -> None:
    applications = [approve(credit_hours=2) for _ in range(2)]
    services.badge_issue_batch(application_ids=[a.pk for a in applications])
    for application in applications:
        credential = Badge.objects.get(application=application).credential
        result = verify_independently(credential, documents_for(client, credential), tmp_path)
        assert result["verified"] is True, result


# --- the worker's task: an approval and the others waiting, in one transaction --------------


def test_an_approval_is_issued_with_the_approvals_waiting_and_each_only_once(
    approve: Any, django_capture_on_commit_callbacks: Any, tasks_run_at_once: None
) -> None:
    # given four approvals waiting for their badge, one withdrawn application, and an approval
    # of another organization
    applications = [approve() for _ in range(4)]
    withdrawn = approve()
    Application.objects.filter(pk=withdrawn.pk).update(status=Application.Status.WITHDRAWN)
    elsewhere = approve(organization=OrganizationFactory(slug="elsewhere"))
    mail.outbox.clear()
    # when the task of the third runs (taking up to three others along)
    with django_capture_on_commit_callbacks(execute=True):
        badge = services.badge_issue_grouped(application_id=applications[2].pk, others=3)
    # then it and the three others waiting in its organization are issued, in one transaction
    # (one proof time), each once; the withdrawn one and the other organization's are not
    badges = issued_once(applications)
    assert badge == badges[2]
    assert len({b.issued_at for b in badges}) == 1
    assert not Badge.objects.filter(application__in=[withdrawn, elsewhere]).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.educator.email for a in applications)
    # when the others' own tasks run afterwards
    again = [services.badge_issue_grouped(application_id=a.pk, others=3) for a in applications]
    # then each finds its badge: nothing twice, no bit taken
    assert again == badges
    assert StatusList.objects.get(organization=badge.organization).next_index == 4
    assert Badge.objects.filter(application_id__in=[a.pk for a in applications]).count() == 4


def test_a_group_takes_at_most_its_size_oldest_first(approve: Any) -> None:
    applications = [approve() for _ in range(4)]
    # when the last one's task runs, taking one other along
    services.badge_issue_grouped(application_id=applications[3].pk, others=1)
    # then it and the oldest waiting are issued; the two others wait for their own tasks
    issued = set(Badge.objects.values_list("application_id", flat=True))
    assert issued == {applications[0].pk, applications[3].pk}


def test_an_approval_that_fails_in_a_group_holds_back_neither_the_approval_nor_the_others(
    approve: Any,
) -> None:
    # given three approvals waiting, the second with a decision whose scores are malformed
    applications = [approve() for _ in range(3)]
    Submission.objects.filter(application=applications[1]).update(feedback=[{"score": 1}])
    # when the third's task runs with the others along
    badge = services.badge_issue_grouped(application_id=applications[2].pk, others=99)
    # then the group is rolled back and issued one by one: the two others get their badge,
    # the failing one is recorded for the admins (no badge, no bit lost)
    assert badge.application_id == applications[2].pk
    issued_once([applications[0], applications[2]])
    assert not Badge.objects.filter(application=applications[1]).exists()
    [failure] = IssueFailure.objects.filter(application=applications[1])
    assert "MalformedDecision" in failure.error
    assert StatusList.objects.get(organization=badge.organization).next_index == 2
    # and a later approval's task no longer takes it along: it is its own task's (and the
    # sweep's) to retry
    later = approve()
    services.badge_issue_grouped(application_id=later.pk, others=99)
    issued_once([later])
    assert IssueFailure.objects.filter(application=applications[1]).count() == 1
