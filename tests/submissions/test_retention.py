"""Nothing kept that should not be: the evidence of an application withdrawn while its attempt
waited for review is kept ``EVIDENCE_WITHDRAWN_RETENTION_DAYS`` (the educator is told the date
and may download it), then the hourly evidence sweep deletes every object in SeaweedFS and
records it. Time is moved by the sweep's ``now``, never by sleeping.

The other rules, for comparison: a draft's files (withdrawn before any submission) go at the next
sweep; the files of an attempt a reviewer decided stay, as that decision's record."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from programs.models import Organization, User
from submissions import services, storage
from submissions.models import Application, ApplicationEvent, EvidenceItem, Submission
from tests.submissions.conftest import PNG, requirement
from tests.submissions.test_services_evidence import upload, upload_declared, words
from tests.submissions.test_services_submit import FEEDBACK, complete, submit
from tests.submissions.test_views import body_of, page_url

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def day(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y}"


def put_object(key: str, data: bytes = PNG) -> None:
    storage.client().put_object(Bucket=storage.bucket(), Key=key, Body=data)


def files(application: Application) -> list[EvidenceItem]:
    return list(EvidenceItem.objects.filter(application=application, kind=EvidenceItem.Kind.FILE))


def keys_of(items: list[EvidenceItem]) -> list[str]:
    return [key for item in items for key in (item.storage_key, item.slot_key) if key]


def in_storage(key: str) -> bool:
    return storage.head(key=key) is not None


def submitted(make_application: Any, educator: User, callbacks: Any, **kwargs: Any) -> Application:
    application = make_application(**kwargs)
    complete(application, educator)
    submit(application, educator, callbacks)
    return application


def timeline(application: Application) -> list[str]:
    return list(
        ApplicationEvent.objects.filter(application=application).values_list("message", flat=True)
    )


class TestWithdrawnWhileWaitingForReview:
    def test_evidence_is_kept_until_the_grace_period_ends_then_every_object_is_deleted(
        self,
        make_application: Any,
        educator: User,
        org: Organization,
        client: Client,
        settings: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given a grace period of 7 days, and an application waiting for review with a file
        # whose upload slot could not be deleted at confirm (its bytes are still there)
        settings.EVIDENCE_WITHDRAWN_RETENTION_DAYS = 7
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        (item,) = files(application)
        put_object(item.slot_key)
        assert item.storage_key != item.slot_key and all(map(in_storage, keys_of([item])))
        # when the educator withdraws it
        before = timezone.now()
        services.application_withdraw(application=application, actor=educator)
        # then it is dated: seven days on, and the timeline says so
        application.refresh_from_db()
        delete_after = application.evidence_delete_after
        assert delete_after is not None
        assert before + dt.timedelta(days=7) <= delete_after <= timezone.now() + dt.timedelta(7)
        assert timeline(application)[-1] == (
            f"Application withdrawn; its evidence will be deleted on {day(delete_after)}"
        )
        # and until then the sweep keeps everything, and the educator may still open the file
        counts = services.evidence_sweep(organization=org, now=delete_after - MINUTE)
        assert counts == {"expired": 0, "purged": 0, "failed": 0}
        assert all(map(in_storage, keys_of([item])))
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        assert (
            f"Your evidence will be deleted on {day(delete_after)}; download anything you want "
            "to keep before then."
        ) in page
        assert f"items/{item.public_id}/file/" in page
        assert (
            client.get(
                f"/api/v1/orgs/{org.slug}/applications/{application.public_id}/items/"
                f"{item.public_id}/file/"
            ).status_code
            == 302
        )
        # when the sweep runs once the grace period is over
        later = delete_after + MINUTE
        counts = services.evidence_sweep(organization=org, now=later)
        # then every object is gone, final copy and slot, and recorded as such
        assert counts == {"expired": 0, "purged": 1, "failed": 0}
        assert not any(map(in_storage, keys_of([item])))
        gone = EvidenceItem.objects.get(pk=item.pk)
        assert gone.status == EvidenceItem.Status.REMOVED and gone.purged_at is not None
        # and the written answer is erased too
        answer = EvidenceItem.objects.get(
            application=application, requirement=requirement(application, "Reflection")
        )
        assert answer.status == EvidenceItem.Status.REMOVED and answer.text == ""
        # and the application and its timeline say when
        application.refresh_from_db()
        assert application.evidence_deleted_at == later
        assert timeline(application)[-1] == (
            "Evidence deleted from storage, as announced when the application was withdrawn"
        )
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.kind == "evidence_deleted" and event.actor is None
        page = body_of(client.get(page_url(application)))
        assert f"Your evidence was deleted on {day(later)}." in page
        assert f"items/{item.public_id}/file/" not in page
        # and a second run has nothing left to do
        assert services.evidence_sweep(organization=org, now=later + dt.timedelta(hours=1)) == {
            "expired": 0,
            "purged": 0,
            "failed": 0,
        }

    def test_the_default_grace_period_is_thirty_days(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        before = timezone.now()
        withdrawn = services.application_withdraw(application=application, actor=educator)
        assert withdrawn.evidence_delete_after is not None
        assert withdrawn.evidence_delete_after - before >= dt.timedelta(days=30)
        assert withdrawn.evidence_delete_after - timezone.now() <= dt.timedelta(days=30)

    def test_files_of_an_attempt_a_reviewer_decided_are_kept(
        self,
        make_application: Any,
        educator: User,
        org: Organization,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given attempt 1 returned for revision, and attempt 2 (the same file and a new photo)
        # waiting for review
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        (first,) = files(application)
        with django_capture_on_commit_callbacks(execute=True):
            services.application_return_for_revision(
                application=application, summary="Almost.", feedback=FEEDBACK, actor=None
            )
        photo = upload_declared(
            upload(application, educator, PNG, filename="board.png", content_type="image/png"),
            educator,
        )
        submit(application, educator, django_capture_on_commit_callbacks)
        # when it is withdrawn, and the sweep runs after the grace period
        withdrawn = services.application_withdraw(application=application, actor=educator)
        assert withdrawn.evidence_delete_after is not None
        counts = services.evidence_sweep(
            organization=org, now=withdrawn.evidence_delete_after + MINUTE
        )
        # then only the new photo is deleted; the decided attempt's file stays as its record
        assert counts["purged"] == 1
        assert not any(map(in_storage, keys_of([photo])))
        assert in_storage(first.storage_key)
        assert EvidenceItem.objects.get(pk=first.pk).purged_at is None
        assert (
            Submission.objects.get(application=application, number=1).items.get(kind="file")
            == first
        )
        assert timeline(application)[-1] == (
            "Evidence deleted from storage, as announced when the application was withdrawn; "
            "files of a decided attempt are kept as its record"
        )
        # and the daily orphan sweep keeps it too
        services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
        assert in_storage(first.storage_key)

    def test_a_failed_deletion_is_retried_and_recorded_only_when_done(
        self,
        make_application: Any,
        educator: User,
        org: Organization,
        django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given a withdrawn application past its grace period, and storage refusing deletes
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        (item,) = files(application)
        withdrawn = services.application_withdraw(application=application, actor=educator)
        assert withdrawn.evidence_delete_after is not None
        later = withdrawn.evidence_delete_after + MINUTE
        real_delete = storage.delete

        def refuse(*, key: str) -> None:
            raise ConnectionError("storage unreachable")

        monkeypatch.setattr(storage, "delete", refuse)
        # when the sweep runs
        counts = services.evidence_sweep(organization=org, now=later)
        # then the failure is counted, the file is still there, and nothing says it is deleted
        assert counts == {"expired": 0, "purged": 0, "failed": 1}
        assert in_storage(item.storage_key)
        application.refresh_from_db()
        assert application.evidence_deleted_at is None
        assert not ApplicationEvent.objects.filter(
            application=application, kind="evidence_deleted"
        ).exists()
        # and the next run, with storage back, finishes the job
        monkeypatch.setattr(storage, "delete", real_delete)
        assert services.evidence_sweep(organization=org, now=later)["purged"] == 1
        assert not in_storage(item.storage_key)
        application.refresh_from_db()
        assert application.evidence_deleted_at == later


class TestTheOtherRules:
    def test_a_draft_withdrawn_loses_its_files_at_the_next_sweep(
        self, make_application: Any, educator: User, org: Organization, client: Client
    ) -> None:
        # given a draft with a file
        application = make_application()
        item = upload(application, educator)
        client.force_login(educator)
        # when the educator withdraws it (told so first)
        confirm = body_of(client.get(page_url(application, "withdraw/")))
        assert "Any files you uploaded will be deleted within the hour." in confirm
        services.application_withdraw(application=application, actor=educator)
        # then it has no grace period: the next sweep deletes the file
        application.refresh_from_db()
        assert application.evidence_delete_after is None
        assert services.evidence_sweep(organization=org)["purged"] == 1
        assert not in_storage(item.storage_key)

    @pytest.mark.parametrize("outcome", ["approve", "not_awarded"])
    def test_a_decided_applications_evidence_is_never_deleted(
        self,
        make_application: Any,
        educator: User,
        org: Organization,
        django_capture_on_commit_callbacks: Any,
        outcome: str,
    ) -> None:
        # given a decided application
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        (item,) = files(application)
        services.application_decide(
            application=application, outcome=outcome, summary="", feedback=[], actor=None
        )
        # when the sweeps run a year later
        services.evidence_sweep(organization=org, now=timezone.now() + dt.timedelta(days=365))
        services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
        # then its file is still there
        assert in_storage(item.storage_key)
        assert EvidenceItem.objects.get(pk=item.pk).purged_at is None


class TestTheEducatorIsTold:
    def test_the_confirmation_and_the_message_name_the_date(
        self,
        make_application: Any,
        educator: User,
        client: Client,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given an application waiting for review
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        client.force_login(educator)
        # when the educator asks to withdraw it
        confirm = body_of(client.get(page_url(application, "withdraw/")))
        # then the page names the day the evidence will be deleted
        expected = day(timezone.now() + dt.timedelta(days=30))
        assert (
            f"Your evidence will be deleted on {expected}; download anything you want to keep "
            "before then."
        ) in confirm
        # when they confirm
        response = client.post(page_url(application, "withdraw/"), follow=True)
        # then they land on the application page, where the files can still be downloaded, and
        # the message says the same
        assert response.redirect_chain[-1][0] == page_url(application)
        page = body_of(response)
        application.refresh_from_db()
        assert application.evidence_delete_after is not None
        when = day(application.evidence_delete_after)
        assert (
            f"You withdrew your application for “{application.version.title}”. Your evidence "
            f"will be deleted on {when}; download anything you want to keep before then."
        ) in page
        assert 'id="evidence-retention"' in page


class TestApplicationsWithdrawnBeforeThisChange:
    def test_they_get_the_date_they_would_have_had(
        self,
        make_application: Any,
        educator: User,
        org: Organization,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        # given an application withdrawn while waiting for review, the way it was done before
        # (its items marked removed, no date: kept for good)
        application = submitted(make_application, educator, django_capture_on_commit_callbacks)
        Application.objects.filter(pk=application.pk).update(status="withdrawn")
        ApplicationEvent.objects.create(
            organization=org, application=application, kind="withdrawn", message="Withdrawn"
        )
        EvidenceItem.objects.filter(application=application).update(status="removed")
        withdrawn_at = ApplicationEvent.objects.filter(kind="withdrawn").get().created_at
        # and a draft withdrawn the same way
        draft = make_application(title="Another one", member=False)
        services.evidence_text_save(
            application=draft,
            requirement=requirement(draft, "Reflection"),
            text=words(10),
            actor=educator,
        )
        services.application_withdraw(application=draft, actor=educator)
        # when the migration runs
        migration = importlib.import_module(
            "submissions.migrations.0006_application_evidence_retention"
        )
        migration.date_withdrawn_evidence(apps, None)
        # then the first is dated from its withdrawal, its files ready to download until then
        application.refresh_from_db()
        assert application.evidence_delete_after == withdrawn_at + dt.timedelta(days=30)
        assert set(
            EvidenceItem.objects.filter(application=application).values_list("status", flat=True)
        ) == {EvidenceItem.Status.READY}
        # and the draft keeps the draft's rule
        draft.refresh_from_db()
        assert draft.evidence_delete_after is None
