"""Evidence is immutable once confirmed: a confirm copies the uploaded bytes inside storage to a
final key that no browser holds a signature for, and checks the copy. Whatever is sent to the old
upload slot afterwards (the old signed form, the old part URLs, after the confirm, after the
submit) never reaches the reviewer; slot signatures expire in minutes; housekeeping tells slots
from final copies; files confirmed before this change keep working.

All of it against the real SeaweedFS that `make test` starts, over HTTP as a browser does it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from io import StringIO
from typing import Any

import pytest
import requests
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from programs.models import StaffRole, User
from reviews import services as review_services
from reviews.models import Claim
from submissions import services, storage
from submissions.models import Application, ApplicationEvent, EvidenceItem
from submissions.services.housekeeping import EVIDENCE_KEY
from tests.factories import StaffRoleFactory, UserFactory
from tests.submissions.conftest import PDF
from tests.submissions.test_api_uploads import (
    REFLECTION,
    MiB,
    ask_slot,
    base,
    client_for,
    mp4_of,
    send_to_storage,
)

pytestmark = pytest.mark.django_db

# A Windows program: what the tester slipped in after the confirm.
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 400


# --- Helpers (also used by test_evidence_names) -------------------------------------------------


@pytest.fixture
def api(educator: User) -> APIClient:
    return client_for(educator)


def confirm(api: APIClient, application: Application, item_id: str) -> Any:
    return api.post(base(application) + f"uploads/{item_id}/confirm/")


def submit(api: APIClient, application: Application, item_id: str, **privacy: Any) -> None:
    """Declare the file's privacy, write the reflection and submit the application."""
    declared = api.patch(
        base(application) + f"items/{item_id}/",
        {"students_identifiable": False, **privacy},
        format="json",
    )
    assert declared.status_code == 200, declared.json()
    answer = {"text": "word " * 120}
    saved = api.put(base(application) + f"answers/{REFLECTION}/", answer, format="json")
    assert saved.status_code == 200, saved.json()
    submitted = api.post(base(application) + "submit/")
    assert submitted.status_code == 200, submitted.json()


def reviewer_claim(application: Application) -> tuple[Client, Claim]:
    """A reviewer of the organization, logged in, holding the claim on the submitted attempt."""
    reviewer = StaffRoleFactory(
        organization=application.organization, role=StaffRole.Role.REVIEWER, user=UserFactory()
    ).user
    claim = review_services.review_claim_next(
        organization=application.organization, reviewer=reviewer
    )
    client = Client()
    client.force_login(reviewer)
    return client, claim


def review_page(client: Client, claim: Claim) -> str:
    page = client.get(f"/o/{claim.organization.slug}/review/claims/{claim.public_id}/")
    assert page.status_code == 200
    return page.content.decode()


def served_to_reviewer(client: Client, claim: Claim, item_id: str, **headers: str) -> Any:
    """What the reviewer's browser gets: the app's redirect, then the signed URL, over HTTP."""
    url = f"/o/{claim.organization.slug}/review/claims/{claim.public_id}/items/{item_id}/file/"
    redirect = client.get(url)
    assert redirect.status_code == 302
    return requests.get(redirect["Location"], headers=headers, timeout=60)


def served_to_educator(api: APIClient, application: Application, item_id: str) -> Any:
    redirect = api.get(base(application) + f"items/{item_id}/file/")
    assert redirect.status_code == 302
    return requests.get(redirect["Location"], timeout=60)


def keys_under(application: Application) -> list[str]:
    prefix = f"org-{application.organization_id}/app-{application.public_id}/"
    return [key for key, _ in storage.list_keys(prefix=prefix)]


def item(item_id: str) -> EvidenceItem:
    return EvidenceItem.objects.get(public_id=item_id)


# --- Presigned POST -----------------------------------------------------------------------------


def test_bytes_posted_with_the_old_form_never_reach_the_reviewer(api, make_application) -> None:
    # given a PDF uploaded through a presigned POST and confirmed
    application = make_application()
    slot = ask_slot(api, application, PDF, filename="Lesson plan.pdf").json()
    item_id = slot["item"]["id"]
    assert send_to_storage(slot, PDF).status_code == 201
    confirmed = confirm(api, application, item_id)
    assert confirmed.status_code == 200, confirmed.json()

    # when a program is posted with the same signed form after the confirm (storage takes it:
    # the form's signature is still valid, but the slot is no longer the evidence) ...
    assert send_to_storage(slot, MZ).status_code == 201
    # ... and again after the application is submitted
    submit(api, application, item_id)
    assert send_to_storage(slot, MZ).status_code == 201

    # then the reviewer is served the PDF that was checked, byte for byte, as a PDF
    client, claim = reviewer_claim(application)
    served = served_to_reviewer(client, claim, item_id)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("inline")
    # and it is the object recorded at confirm (its ETag), not the slot the form writes
    recorded = item(item_id)
    assert served.headers["ETag"].strip('"') == recorded.etag
    assert (recorded.size, recorded.content_type) == (len(PDF), "application/pdf")
    assert recorded.storage_key != recorded.slot_key
    assert recorded.storage_key.startswith(
        f"org-{application.organization_id}/app-{application.public_id}/final/"
    )
    # and so is the educator
    assert served_to_educator(api, application, item_id).content == PDF


# --- Multipart ----------------------------------------------------------------------------------


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> int:
    """Multipart uploads from 6 MiB in 5 MiB parts, and copies in parts above 5 MiB (5 GB in
    production), so a test exercises the multipart copy with an 11 MiB video."""
    monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 6 * MiB)
    monkeypatch.setattr(storage, "PART_SIZE", 5 * MiB)
    monkeypatch.setattr(storage, "COPY_MULTIPART_THRESHOLD", 5 * MiB)
    monkeypatch.setattr(storage, "COPY_PART_SIZE", 5 * MiB)
    return 5 * MiB


def sign_part(api: APIClient, application: Application, item_id: str, n: int) -> Any:
    return api.post(base(application) + f"uploads/{item_id}/parts/{n}/")


def test_parts_put_to_the_old_part_urls_never_reach_the_reviewer(
    api, make_application, small_parts
) -> None:
    # given an 11 MiB video uploaded in three parts, whose part URLs the uploader kept
    application = make_application()
    data = mp4_of(11 * MiB)
    slot = ask_slot(api, application, data, filename="lesson.mp4", content_type="video/mp4")
    item_id = slot.json()["item"]["id"]
    urls = [sign_part(api, application, item_id, n).json()["url"] for n in (1, 2, 3)]
    chunks = [data[i : i + small_parts] for i in range(0, len(data), small_parts)]
    parts = []
    for n, (url, chunk) in enumerate(zip(urls, chunks, strict=True), start=1):
        sent = requests.put(url, data=chunk, timeout=60)
        assert sent.status_code == 200, sent.text
        parts.append({"PartNumber": n, "ETag": sent.headers["ETag"]})
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/", {"parts": parts}, format="json"
    )
    assert completed.status_code == 200, completed.json()
    confirmed = confirm(api, application, item_id)
    assert confirmed.status_code == 200, confirmed.json()
    slot_key = item(item_id).slot_key

    # when a program is put to the old part URLs after the confirm, storage refuses it (the
    # multipart upload is over) ...
    for url in urls:
        assert requests.put(url, data=MZ, timeout=60).status_code == 404
    # ... and no new part URL is given for a confirmed file
    assert sign_part(api, application, item_id, 1).status_code == 400
    # ... and even bytes that reach the slot key some other way change nothing
    storage.client().put_object(Bucket=storage.bucket(), Key=slot_key, Body=MZ)
    submit(api, application, item_id)
    for url in urls:
        assert requests.put(url, data=MZ, timeout=60).status_code == 404

    # then the reviewer is served the video that was checked, byte for byte, as a video
    client, claim = reviewer_claim(application)
    served = served_to_reviewer(client, claim, item_id)
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["Content-Type"] == "video/mp4"
    # and the player can still seek in it
    tail = served_to_reviewer(client, claim, item_id, Range=f"bytes={len(data) - 10}-")
    assert (tail.status_code, tail.content) == (206, data[-10:])
    recorded = item(item_id)
    assert (recorded.size, recorded.file_kind) == (len(data), "video")
    assert served.headers["ETag"].strip('"') == recorded.etag


# --- Confirm refuses what it cannot pin ----------------------------------------------------------


def test_a_file_that_changes_while_it_is_confirmed_is_refused_and_nothing_changes(
    api, make_application, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a PDF in its slot, and a program posted with the same form just after the confirm
    # has looked at the PDF (between its HEAD and its copy)
    application = make_application()
    slot = ask_slot(api, application, PDF).json()
    item_id = slot["item"]["id"]
    assert send_to_storage(slot, PDF).status_code == 201
    before = item(item_id)
    events = ApplicationEvent.objects.filter(application=application).count()
    real_head = storage.head

    def head_then_swap(*, key: str) -> storage.StoredObject | None:
        found = real_head(key=key)
        if key == before.slot_key:  # a program as long as the PDF, so the sizes agree
            assert send_to_storage(slot, MZ.ljust(len(PDF), b"\0")).status_code == 201
        return found

    monkeypatch.setattr(storage, "head", head_then_swap)

    # when the upload is confirmed
    response = confirm(api, application, item_id)

    # then the educator is told, the item is as it was, and no copy is left behind
    assert response.status_code == 400
    assert response.json()["code"] == "not_uploaded"
    assert "changed while it was being checked" in response.json()["message"]
    assert response.json()["fields"] == {"file": [response.json()["message"]]}
    after = item(item_id)
    assert (after.status, after.storage_key, after.etag, after.content_type) == (
        "pending",
        before.storage_key,
        "",
        "",
    )
    assert ApplicationEvent.objects.filter(application=application).count() == events
    assert keys_under(application) == [before.slot_key]

    # and a confirm once the slot is settled checks the bytes now there: a program is refused
    monkeypatch.setattr(storage, "head", real_head)
    again = confirm(api, application, item_id)
    assert again.status_code == 400
    assert again.json()["code"] == "rejected"
    assert "Windows program" in again.json()["message"]
    assert keys_under(application) == []


# --- Slot signatures expire in minutes ----------------------------------------------------------


def test_a_form_used_after_it_expired_is_refused_and_confirm_says_so(
    api, make_application, settings
) -> None:
    # given a slot whose signature lives one second (minutes in production)
    settings.EVIDENCE_SLOT_EXPIRE = 1
    application = make_application()
    slot = ask_slot(api, application, PDF).json()
    item_id = slot["item"]["id"]
    before = item(item_id)
    events = ApplicationEvent.objects.filter(application=application).count()
    time.sleep(2.1)

    # when the browser posts the file with it
    posted = send_to_storage(slot, PDF)

    # then storage refuses it
    assert posted.status_code == 403
    assert "Policy expired" in posted.text
    # and the confirm that follows says what happened, naming the file, and changes nothing
    response = confirm(api, application, item_id)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "slot_expired"
    assert body["message"] == (
        "The upload link expired before the file arrived. Choose the file again to restart "
        "the upload."
    )
    assert body["fields"] == {"file": [body["message"]]}
    after = item(item_id)
    assert (after.status, after.storage_key, after.updated_at) == (
        "pending",
        before.storage_key,
        before.updated_at,
    )
    assert ApplicationEvent.objects.filter(application=application).count() == events
    assert keys_under(application) == []


def test_an_expired_part_url_is_refused_and_a_fresh_one_resumes_the_upload(
    api, make_application, settings, small_parts
) -> None:
    # given a multipart upload whose part URLs live one second; part 1 arrived in time
    settings.EVIDENCE_SLOT_EXPIRE = 1
    application = make_application()
    data = mp4_of(11 * MiB)
    slot = ask_slot(api, application, data, filename="v.mp4", content_type="video/mp4").json()
    item_id = slot["item"]["id"]
    settings.EVIDENCE_SLOT_EXPIRE = 900
    url = sign_part(api, application, item_id, 1).json()["url"]
    first = requests.put(url, data=data[:small_parts], timeout=60)
    assert first.status_code == 200
    settings.EVIDENCE_SLOT_EXPIRE = 1
    stale = sign_part(api, application, item_id, 2).json()["url"]
    time.sleep(2.1)

    # when part 2 is sent with a URL that expired
    refused = requests.put(stale, data=data[small_parts : 2 * small_parts], timeout=60)

    # then storage refuses it, in the words Uppy's uploader answers by asking for a fresh URL
    assert refused.status_code == 403
    assert "<Message>Request has expired</Message>" in refused.text
    # and the uploader resumes: the parts already stored are listed, the rest signed afresh
    settings.EVIDENCE_SLOT_EXPIRE = 900
    listed = api.get(base(application) + f"uploads/{item_id}/parts/").json()
    assert [p["PartNumber"] for p in listed] == [1]
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    for n in (2, 3):
        url = sign_part(api, application, item_id, n).json()["url"]
        chunk = data[(n - 1) * small_parts : n * small_parts]
        parts.append(
            {"PartNumber": n, "ETag": requests.put(url, data=chunk, timeout=60).headers["ETag"]}
        )
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/", {"parts": parts}, format="json"
    )
    assert completed.status_code == 200, completed.json()
    confirmed = confirm(api, application, item_id)
    assert confirmed.status_code == 200, confirmed.json()
    assert (confirmed.json()["item"]["status"], confirmed.json()["item"]["size"]) == (
        "ready",
        len(data),
    )
    assert served_to_educator(api, application, item_id).content == data


# --- Housekeeping -------------------------------------------------------------------------------


def test_sweeps_delete_spent_and_abandoned_slots_and_keep_final_copies(
    api, make_application, org
) -> None:
    # given a confirmed PDF whose slot got new bytes after the confirm, an upload in progress,
    # and an upload abandoned two hours ago
    application = make_application()
    lesson = application.version.requirements.get(title="Lesson plan")
    lesson.max_files = 3
    lesson.save(update_fields=["max_files"])
    slot = ask_slot(api, application, PDF).json()
    assert send_to_storage(slot, PDF).status_code == 201
    confirmed = item(confirm(api, application, slot["item"]["id"]).json()["item"]["id"])
    assert send_to_storage(slot, MZ).status_code == 201
    uploading = ask_slot(api, application, PDF).json()
    assert send_to_storage(uploading, PDF).status_code == 201
    abandoned = ask_slot(api, application, PDF).json()
    assert send_to_storage(abandoned, PDF).status_code == 201
    EvidenceItem.objects.filter(public_id=abandoned["item"]["id"]).update(
        slot_expires_at=timezone.now() - dt.timedelta(hours=2)
    )

    # when the hourly sweep and the daily orphan sweep run
    services.evidence_sweep(organization=org)
    services.storage_orphans_sweep()

    # then the spent slot is gone at once (young as it is), and so is the abandoned upload
    assert storage.head(key=confirmed.slot_key) is None
    assert item(abandoned["item"]["id"]).status == "rejected"
    # and the final copy and the upload in progress are kept
    assert sorted(keys_under(application)) == sorted(
        [confirmed.storage_key, item(uploading["item"]["id"]).storage_key]
    )
    assert served_to_educator(api, application, str(confirmed.public_id)).content == PDF
    # and both kinds of key are evidence keys to the sweep
    assert EVIDENCE_KEY.fullmatch(confirmed.storage_key)
    assert EVIDENCE_KEY.fullmatch(confirmed.slot_key)


def test_a_rejected_file_leaves_neither_slot_nor_copy(api, make_application) -> None:
    # given a program posing as a PDF
    application = make_application()
    slot = ask_slot(api, application, MZ).json()
    assert send_to_storage(slot, MZ).status_code == 201
    # when it is confirmed
    response = confirm(api, application, slot["item"]["id"])
    # then it is refused, and storage keeps nothing of it
    assert response.json()["code"] == "rejected"
    assert keys_under(application) == []


# --- Files confirmed before final keys existed ---------------------------------------------------


def legacy_upload(api: APIClient, application: Application, data: bytes = PDF) -> EvidenceItem:
    """A file confirmed the way it was before this change: the item refers to its slot."""
    slot = ask_slot(api, application, data).json()
    assert send_to_storage(slot, data).status_code == 201
    found = item(slot["item"]["id"])
    stored = storage.head(key=found.slot_key)
    assert stored is not None
    EvidenceItem.objects.filter(pk=found.pk).update(
        status="ready",
        size=stored.size,
        etag=stored.etag,
        content_type="application/pdf",
        file_kind="document",
        slot_expires_at=None,
    )
    return item(slot["item"]["id"])


def test_files_confirmed_before_final_keys_keep_working_and_move_if_unchanged(
    api, make_application
) -> None:
    # given two files confirmed before this change, still at their slots; the second had a
    # program posted over it after it was checked
    application = make_application()
    kept = legacy_upload(api, application)
    swapped = legacy_upload(api, application)
    storage.client().put_object(Bucket=storage.bucket(), Key=swapped.slot_key, Body=MZ)

    # then the first is still served from where it is, and no sweep deletes it
    assert served_to_educator(api, application, str(kept.public_id)).content == PDF
    services.storage_orphans_sweep(older_than=dt.timedelta(seconds=-60))
    assert storage.head(key=kept.storage_key) is not None

    # when the administrator runs the one-off move to final keys
    out, err = StringIO(), StringIO()
    call_command("evidence_finalize", stdout=out, stderr=err)

    # then the unchanged file now lives at a final key, its old slot deleted, same bytes
    moved = item(str(kept.public_id))
    assert moved.storage_key.startswith(
        f"org-{application.organization_id}/app-{application.public_id}/final/"
    )
    assert moved.slot_key == kept.slot_key and storage.head(key=kept.slot_key) is None
    assert served_to_educator(api, application, str(kept.public_id)).content == PDF
    # and the file that changed after it was checked is reported and left alone
    assert "Moved 1 file(s)" in out.getvalue()
    assert "1 file(s) changed in storage after they were checked" in err.getvalue()
    assert item(str(swapped.public_id)).storage_key == swapped.slot_key
    # and a second run has nothing left to move
    call_command("evidence_finalize", stdout=out, stderr=StringIO())
    assert "Moved 0 file(s)" in out.getvalue()


def test_the_migration_records_slots_and_neutralises_old_names(api, make_application) -> None:
    # given a file from before the migration: no slot recorded, a name ending in .exe
    application = make_application()
    old = legacy_upload(api, application)
    EvidenceItem.objects.filter(pk=old.pk).update(slot_key="", display_name="plan.pdf.exe")
    migration = importlib.import_module("submissions.migrations.0005_evidence_final_key")

    # when the migration's data step runs
    migration.record_slots_and_neutralise_names(apps, None)

    # then its object is recorded as its slot, and its name can no longer run
    migrated = item(str(old.public_id))
    assert migrated.slot_key == migrated.storage_key == old.storage_key
    assert migrated.display_name == "plan.pdf_exe"
