"""Storage housekeeping: abandoned uploads, removed and rejected files, orphans.

The SeaweedFS bucket is shared by the whole test run, so each test looks at its own keys.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from credentials_site.celery import app as celery_app
from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs.models import Organization, User
from submissions import services, storage, tasks
from submissions.models import Application, EvidenceItem
from submissions.services.housekeeping import EVIDENCE_KEY
from tests.factories import OrganizationFactory, UserFactory
from tests.submissions.conftest import MP4, PDF, PNG, ZIP, requirement, upload_to_slot
from tests.submissions.test_services_evidence import (
    ELF,
    HTML,
    SVG,
    in_uploads,
    put_parts,
    slot_for,
    upload,
)

pytestmark = pytest.mark.django_db

HOURS_AGO = dt.timedelta(hours=1, minutes=1)  # just past the hour of grace


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Multipart above 3 KB (100 MB in production), so a test sends a few bytes, not 100 MB:
    the sample MP4 goes up in parts, the sample PDF in one POST."""
    monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 3000)
    assert len(PDF) < 3000 < len(MP4)


def allow_files(application: Application, n: int) -> None:
    lesson = requirement(application, "Lesson plan")
    lesson.max_files = n
    lesson.save(update_fields=["max_files"])


def expire(item: EvidenceItem, ago: dt.timedelta) -> None:
    EvidenceItem.objects.filter(pk=item.pk).update(slot_expires_at=timezone.now() - ago)


def item(pk: int) -> EvidenceItem:
    return EvidenceItem.objects.get(pk=pk)


def unreferenced_key(organization_id: int = 999_999) -> str:
    return storage.new_key(organization_id=organization_id, application_public_id=uuid.uuid4())


def put_object(key: str, data: bytes = PDF) -> None:
    storage.client().put_object(Bucket=storage.bucket(), Key=key, Body=data)


class TestEvidenceSweep:
    def test_abandoned_uploads_expire_after_an_hour_of_grace(
        self, make_application: Any, educator: User, org: Organization, small_multipart: None
    ) -> None:
        # given three unfinished uploads: a multipart one with one part sent and a posted file
        # never confirmed, both expired over an hour ago, and one that expired 30 minutes ago
        application = make_application()
        allow_files(application, 5)
        multipart = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        url = services.evidence_multipart_sign(item=multipart.item, part_number=1, actor=educator)
        assert requests.put(url, data=MP4, timeout=30).status_code == 200
        posted = slot_for(application, educator)
        assert upload_to_slot(posted, PDF).status_code == 201
        recent = slot_for(application, educator)
        expire(multipart.item, HOURS_AGO)
        expire(posted.item, HOURS_AGO)
        expire(recent.item, dt.timedelta(minutes=30))
        assert in_uploads(multipart.key)
        # when the sweep runs
        counts = services.evidence_sweep(organization=org)
        # then the two old ones are rejected and their bytes are gone from storage
        assert counts == {"expired": 2, "purged": 2, "failed": 0}
        for slot in (multipart, posted):
            swept = item(slot.item.pk)
            assert swept.status == EvidenceItem.Status.REJECTED
            assert swept.rejection_reason == "The upload was not finished in time."
            assert swept.purged_at is not None and swept.upload_id == ""
        assert not in_uploads(multipart.key)
        assert storage.head(key=posted.key) is None
        # and the recent one may still be confirmed
        assert item(recent.item.pk).status == EvidenceItem.Status.PENDING

    def test_removed_and_rejected_objects_are_deleted_ready_ones_kept(
        self, make_application: Any, educator: User, org: Organization
    ) -> None:
        # given a ready file, the files of a withdrawn application, and a rejected file whose
        # deletion failed at the time (storage was down)
        kept = upload(make_application(), educator)
        withdrawn = make_application(member=False)
        allow_files(withdrawn, 3)
        removed = [
            upload(withdrawn, educator),
            upload(withdrawn, educator, PNG, content_type="image/png"),
        ]
        services.application_withdraw(application=withdrawn, actor=educator)
        rejected = upload(make_application(member=False), educator)
        EvidenceItem.objects.filter(pk=rejected.pk).update(status=EvidenceItem.Status.REJECTED)
        # when the sweep runs
        counts = services.evidence_sweep(organization=org)
        # then the objects of the removed and rejected items are gone, and recorded as such
        assert counts == {"expired": 0, "purged": 3, "failed": 0}
        for gone in [*removed, rejected]:
            assert storage.head(key=gone.storage_key) is None
            assert item(gone.pk).purged_at is not None
        # and the ready file is untouched
        assert storage.head(key=kept.storage_key) is not None
        assert item(kept.pk).purged_at is None
        # and a second run has nothing left to do
        assert services.evidence_sweep(organization=org) == {"expired": 0, "purged": 0, "failed": 0}

    def test_a_sweep_stays_in_its_organization(
        self, make_application: Any, educator: User, org: Organization
    ) -> None:
        # given a withdrawn application in each of two organizations
        other_org = OrganizationFactory()
        mine = make_application()
        theirs = make_application(organization=other_org, user=UserFactory())
        my_file = upload(mine, educator)
        their_file = upload(theirs, theirs.educator)
        for application in (mine, theirs):
            services.application_withdraw(application=application, actor=application.educator)
        # when the sweep runs for the first organization
        services.evidence_sweep(organization=org)
        # then only its files are deleted
        assert storage.head(key=my_file.storage_key) is None
        assert storage.head(key=their_file.storage_key) is not None
        assert item(their_file.pk).purged_at is None
        # and the other organization's sweep deletes its own
        services.evidence_sweep(organization=other_org)
        assert storage.head(key=their_file.storage_key) is None


class TestOrphanSweep:
    def test_objects_and_uploads_no_item_refers_to_are_deleted(
        self, make_application: Any, educator: User, small_multipart: None
    ) -> None:
        # given a ready file, an upload in progress, and a removed file not yet purged
        application = make_application()
        allow_files(application, 5)
        ready = upload(application, educator)
        uploading = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        removed = upload(application, educator)
        EvidenceItem.objects.filter(pk=removed.pk).update(status=EvidenceItem.Status.REMOVED)
        # and an object and a multipart upload no item refers to, plus an object that is not
        # evidence at all (someone else's use of the bucket)
        orphan = unreferenced_key()
        put_object(orphan)
        orphan_upload = unreferenced_key()
        storage.multipart_create(key=orphan_upload, content_type="video/mp4")
        not_evidence = f"exports/{uuid.uuid4().hex}.csv"
        put_object(not_evidence, b"a,b\n1,2\n")
        try:
            # when the orphan sweep runs, counting everything as old enough
            counts = services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
            # then the orphans are gone
            assert storage.head(key=orphan) is None
            assert not in_uploads(orphan_upload)
            assert storage.head(key=removed.storage_key) is None
            assert counts["objects"] >= 2 and counts["uploads"] >= 1
            # and what items refer to is kept, and so is what is not evidence
            assert storage.head(key=ready.storage_key) is not None
            assert in_uploads(uploading.key)
            assert storage.head(key=not_evidence) is not None
        finally:
            storage.delete(key=not_evidence)

    def test_run_in_no_organization_as_beat_runs_it_it_keeps_every_organizations_files(
        self, make_application: Any, educator: User
    ) -> None:
        # given ready files in two organizations
        mine = upload(make_application(), educator)
        theirs = upload(make_application(organization=OrganizationFactory()), educator)
        # when the sweep runs where beat's task runs: in no organization, so the database
        # admits no evidence item but through the sweep's own named bypass
        with tenant_scope([]):
            services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
        # then the files of both are still there
        assert storage.head(key=mine.storage_key) is not None
        assert storage.head(key=theirs.storage_key) is not None

    def test_a_stale_upload_of_a_live_key_is_aborted(
        self, make_application: Any, educator: User, small_multipart: None
    ) -> None:
        # given an upload in progress, and a second multipart upload to the same key that the
        # item does not know (a retried request whose first answer was lost)
        application = make_application()
        uploading = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        stale = storage.multipart_create(key=uploading.key, content_type="video/mp4")
        # when the orphan sweep runs
        services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
        # then only the item's own upload is left
        left = [u for k, u, _ in storage.list_multipart_uploads() if k == uploading.key]
        assert left == [uploading.upload_id]
        assert stale != uploading.upload_id

    def test_fresh_orphans_are_left_for_a_day(self) -> None:
        # an upload may be between "slot created" and "item committed": never delete it young
        orphan = unreferenced_key()
        put_object(orphan)
        try:
            services.storage_orphans_sweep()
            assert storage.head(key=orphan) is not None
        finally:
            storage.delete(key=orphan)

    def test_the_sweep_recognises_every_key_the_app_makes(self) -> None:
        for organization_id in (1, 42, 1_000_000):
            key = storage.new_key(
                organization_id=organization_id, application_public_id=uuid.uuid4()
            )
            assert EVIDENCE_KEY.fullmatch(key)


def test_bad_input_leaves_nothing_in_storage_that_no_item_refers_to(
    make_application: Any,
    educator: User,
    django_capture_on_commit_callbacks: Any,
    small_multipart: None,
) -> None:
    # given an application whose lesson plan accepts up to 1 MB and any number of files
    application = make_application()
    allow_files(application, 50)
    lesson = requirement(application, "Lesson plan")
    lesson.max_file_size_mb = 1
    lesson.save(update_fields=["max_file_size_mb"])
    good = upload(application, educator)

    def posted(data: bytes, content_type: str, *, declared: int | None = None) -> str:
        size = declared or len(data)
        slot = slot_for(application, educator, size=size, content_type=content_type)
        stored = len(data) <= size  # the POST policy caps the bytes at the declared size
        response = upload_to_slot(slot, data)
        assert (response.status_code < 300) is stored, response.text
        with pytest.raises(ApplicationError) as refused:
            services.evidence_upload_confirm(item=slot.item, actor=educator)
        return refused.value.code

    # when the educator (or an attacker) sends every kind of bad input
    assert posted(ZIP, "application/pdf") == "rejected"  # a ZIP posing as a PDF
    assert posted(HTML, "image/png") == "rejected"  # a web page posing as an image
    assert posted(SVG, "image/svg+xml") == "rejected"  # a drawing that can run scripts
    assert posted(ELF, "video/mp4") == "rejected"  # a program posing as a video
    too_big = PDF + b"0" * (1024 * 1024)  # more than declared: storage refuses the POST
    assert posted(too_big, "application/pdf", declared=len(PDF)) == "not_uploaded"
    # more than declared, and over the limit, through a multipart upload (its part URLs
    # cannot cap the size)
    big = slot_for(application, educator, size=4096, content_type="video/mp4")
    data = MP4 + b"\x00" * (1024 * 1024 + 1 - len(MP4))
    services.evidence_multipart_complete(
        item=big.item, parts=put_parts(big, data, educator), actor=educator
    )
    with pytest.raises(ApplicationError, match=r"1\.1 MB"):
        services.evidence_upload_confirm(item=big.item, actor=educator)
    # a file removed after it was accepted
    with django_capture_on_commit_callbacks(execute=True):
        services.evidence_item_remove(item=upload(application, educator), actor=educator)
    # an upload abandoned half-way
    abandoned = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
    put_parts(abandoned, MP4, educator)

    # then every object and upload under this application belongs to a ready or pending item
    prefix = f"org-{application.organization_id}/app-{application.public_id}/"
    live = dict(
        EvidenceItem.objects.filter(application=application).values_list("storage_key", "status")
    )
    keys = [key for key, _ in storage.list_keys(prefix=prefix)]
    assert keys == [good.storage_key]
    uploads = [key for key, _, _ in storage.list_multipart_uploads() if key.startswith(prefix)]
    assert uploads == [abandoned.key]
    assert {live[key] for key in keys + uploads} <= {"ready", "pending"}


# --- Through a real Celery worker ---------------------------------------------------------------


@pytest.fixture
def celery_worker() -> Iterator[None]:
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_runs_on_a_worker_in_its_organization(
    make_application: Any, educator: User, org: Organization, celery_worker: None
) -> None:
    # given (committed) an upload never confirmed, expired two hours ago, and a withdrawn
    # application's file
    application = make_application()
    abandoned = slot_for(application, educator)
    assert upload_to_slot(abandoned, PDF).status_code == 201
    expire(abandoned.item, dt.timedelta(hours=2))
    withdrawn = make_application(member=False)
    removed = upload(withdrawn, educator)
    services.application_withdraw(application=withdrawn, actor=educator)
    # when the worker runs the task for the organization (it enters the tenant scope itself)
    counts = tasks.evidence_sweep.delay(organization_id=org.pk).get(timeout=30)
    # then both objects are gone and the items say so
    assert counts == {"expired": 1, "purged": 2, "failed": 0}
    assert storage.head(key=abandoned.key) is None
    assert storage.head(key=removed.storage_key) is None
    assert item(abandoned.item.pk).status == EvidenceItem.Status.REJECTED
    assert item(removed.pk).purged_at is not None
