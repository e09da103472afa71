"""The educator's application API, as the browser's uploader uses it: slots, bytes straight to the
real SeaweedFS (presigned POST or multipart), confirm, viewing, written answers, quiz, submit; and
what strangers, bad files and tampered requests get."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from programs.models import EvidenceRequirement, QuizQuestion, User
from submissions import storage
from submissions.models import Application, EvidenceItem
from tests.conftest import assert_same_query_count
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.submissions.conftest import MP4, PDF, PNG, ZIP, requirement

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>" + b" " * 100
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500
LESSON, REFLECTION = 1, 2  # the steps of make_application's credential


# --- Helpers -------------------------------------------------------------------------------


def base(application: Application) -> str:
    return f"/api/v1/orgs/{application.organization.slug}/applications/{application.public_id}/"


def client_for(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


@pytest.fixture
def api(educator: User) -> APIClient:
    return client_for(educator)


def ask_slot(
    api: APIClient,
    application: Application,
    data: bytes = PDF,
    *,
    filename: str = "Lesson plan.pdf",
    content_type: str = "application/pdf",
    step: Any = LESSON,
    size: int | None = None,
) -> Any:
    return api.post(
        base(application) + "uploads/",
        {
            "step": step,
            "filename": filename,
            "size": len(data) if size is None else size,
            "content_type": content_type,
        },
        format="json",
    )


def send_to_storage(slot: dict[str, Any], data: bytes, **field_changes: str) -> requests.Response:
    """What the browser does with a presigned POST: the policy's fields, then the file."""
    assert slot["method"] == "POST"
    fields = {**slot["fields"], **field_changes}
    return requests.post(
        slot["url"],
        data=fields,
        files={"file": ("upload", data, fields["Content-Type"])},
        timeout=60,
    )


def upload(
    api: APIClient,
    application: Application,
    data: bytes = PDF,
    **slot_args: Any,
) -> Any:
    """Slot → storage → confirm; the confirm response."""
    slot = ask_slot(api, application, data, **slot_args)
    assert slot.status_code == 201, slot.json()
    assert send_to_storage(slot.json(), data).status_code in (200, 201, 204)
    return api.post(base(application) + f"uploads/{slot.json()['item']['id']}/confirm/")


def item_of(response: Any) -> EvidenceItem:
    return EvidenceItem.objects.get(public_id=response.json()["item"]["id"])


def ready_items(application: Application) -> list[EvidenceItem]:
    return list(EvidenceItem.objects.filter(application=application, status="ready"))


def mp4_of(size: int) -> bytes:
    return (MP4 + bytes(range(256)) * (size // 256 + 1))[:size]


# --- The summary and the happy path ---------------------------------------------------------


def test_the_summary_lists_steps_items_and_gaps(api, make_application) -> None:
    # given an application with a file step, a written answer and a quiz
    application = make_application(quiz=True)

    # when the educator opens it
    response = api.get(base(application))

    # then they see its steps, with the limits the uploader enforces, and what is left to do
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(application.public_id)
    assert (body["status"], body["status_label"], body["attempt"]) == ("applied", "In progress", 1)
    assert body["max_attempts"] == application.version.max_attempts
    assert body["credential"] == {
        "slug": application.credential.slug,
        "title": application.version.title,
    }
    assert body["fee"]["status"] == "none"
    assert [(s["step"], s["title"], s["kind"]) for s in body["steps"]] == [
        (1, "Lesson plan", "file"),
        (2, "Reflection", "text"),
        (3, "Quiz", "quiz"),
    ]
    lesson = body["steps"][0]
    assert lesson["accepted_file_kinds"] == ["document", "image", "video"]
    assert (lesson["max_file_size_mb"], lesson["max_files"]) == (20, 2)
    assert (body["steps"][1]["word_min"], body["steps"][1]["word_max"]) == (100, 500)
    assert body["steps"][2]["pass_mark_percent"] == 75
    assert body["items"] == []
    assert [g["step"] for g in body["gaps"]] == ["1", "2", "3"]


def test_a_pdf_goes_from_slot_to_storage_to_confirmed_and_can_be_viewed(
    api, make_application
) -> None:
    # given an application
    application = make_application()

    # when the uploader asks for a slot, sends the bytes to storage and confirms
    slot = ask_slot(api, application, PDF, filename="Lesson plan.pdf")
    assert slot.status_code == 201
    body = slot.json()
    assert body["method"] == "POST"
    assert body["item"]["status"] == "pending"
    assert body["item"]["file_url"] is None
    assert send_to_storage(body, PDF).status_code in (200, 201, 204)
    confirmed = api.post(base(application) + f"uploads/{body['item']['id']}/confirm/")

    # then the file is ready, typed from its bytes, with a link to view it
    assert confirmed.status_code == 200, confirmed.json()
    item = confirmed.json()["item"]
    assert item["status"] == "ready"
    assert (item["step"], item["kind"], item["display_name"]) == (1, "file", "Lesson plan.pdf")
    assert (item["size"], item["content_type"], item["file_kind"]) == (
        len(PDF),
        "application/pdf",
        "document",
    )
    assert "storage_key" not in item and "upload_id" not in item
    assert item["file_url"].endswith(f"items/{item['id']}/file/")
    # and the summary lists it
    assert [i["id"] for i in api.get(base(application)).json()["items"]] == [item["id"]]
    # and the link redirects to a short-lived signed URL that serves the bytes, inline
    redirect = api.get(item["file_url"])
    assert redirect.status_code == 302
    assert "no-store" in redirect["Cache-Control"]
    served = requests.get(redirect["Location"], timeout=30)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("inline")


def test_a_reviewer_can_seek_in_a_video_with_a_ranged_get(api, make_application) -> None:
    # given a confirmed video
    application = make_application()
    data = mp4_of(4096)
    confirmed = upload(api, application, data, filename="lesson.mp4", content_type="video/mp4")
    assert confirmed.status_code == 200, confirmed.json()

    # when the player asks for bytes 100 to 199 of the signed URL
    location = api.get(confirmed.json()["item"]["file_url"])["Location"]
    served = requests.get(location, headers={"Range": "bytes=100-199"}, timeout=30)

    # then storage answers with exactly those bytes
    assert served.status_code == 206
    assert served.content == data[100:200]
    assert served.headers["Content-Type"] == "video/mp4"


def test_a_file_that_is_not_ready_has_no_link(api, make_application) -> None:
    # given a pending upload and a written answer
    application = make_application()
    pending = ask_slot(api, application).json()["item"]
    answer = api.put(base(application) + f"answers/{REFLECTION}/", {"text": "hi"}, format="json")

    # when someone asks for their files
    # then there is nothing to see
    for item_id in (pending["id"], answer.json()["item"]["id"]):
        response = api.get(base(application) + f"items/{item_id}/file/")
        assert response.status_code == 404
        assert "Location" not in response


# --- Multipart (large video) ----------------------------------------------------------------


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> int:
    """Multipart from 6 MiB up, in 5 MiB parts (S3's minimum, except for the last part)."""
    monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 6 * MiB)
    monkeypatch.setattr(storage, "PART_SIZE", 5 * MiB)
    return 5 * MiB


def put_part(api: APIClient, application: Application, item_id: str, n: int, chunk: bytes) -> str:
    signed = api.post(base(application) + f"uploads/{item_id}/parts/{n}/")
    assert signed.status_code == 200, signed.json()
    sent = requests.put(signed.json()["url"], data=chunk, timeout=60)
    assert sent.status_code == 200, sent.text
    return sent.headers["ETag"]


def test_a_large_video_goes_up_in_parts(api, make_application, small_multipart) -> None:
    # given an 11 MiB video, above the multipart threshold
    application = make_application()
    data = mp4_of(11 * MiB)

    # when the uploader asks for a slot
    slot = ask_slot(api, application, data, filename="lesson.mp4", content_type="video/mp4")

    # then it gets a multipart upload
    assert slot.status_code == 201, slot.json()
    body = slot.json()
    assert body["method"] == "MULTIPART"
    assert body["upload_id"] and body["key"].startswith(
        f"org-{application.organization_id}/app-{application.public_id}/"
    )
    assert body["part_size"] > 0
    item_id = body["item"]["id"]

    # when it sends three parts, completes and confirms
    chunks = [data[i : i + small_multipart] for i in range(0, len(data), small_multipart)]
    assert len(chunks) == 3
    parts = [
        {"PartNumber": n, "ETag": put_part(api, application, item_id, n, chunk)}
        for n, chunk in enumerate(chunks, start=1)
    ]
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/", {"parts": parts}, format="json"
    )
    assert completed.status_code == 200, completed.json()
    assert completed.json()["item"]["status"] == "pending"
    confirmed = api.post(base(application) + f"uploads/{item_id}/confirm/")

    # then the video is ready, whole
    assert confirmed.status_code == 200, confirmed.json()
    item = confirmed.json()["item"]
    assert (item["status"], item["size"], item["file_kind"]) == ("ready", len(data), "video")
    location = api.get(item["file_url"])["Location"]
    tail = requests.get(location, headers={"Range": f"bytes={len(data) - 10}-"}, timeout=30)
    assert tail.content == data[-10:]


def test_an_interrupted_multipart_upload_resumes_from_the_parts_in_storage(
    api, make_application, small_multipart
) -> None:
    # given a multipart upload of which only the first part arrived (the tab was closed)
    application = make_application()
    data = mp4_of(11 * MiB)
    item_id = ask_slot(api, application, data, filename="v.mp4", content_type="video/mp4").json()[
        "item"
    ]["id"]
    put_part(api, application, item_id, 1, data[:small_multipart])

    # when the uploader comes back and asks which parts storage has
    listed = api.get(base(application) + f"uploads/{item_id}/parts/")

    # then it sees part 1, and sends only the rest
    assert listed.status_code == 200
    assert [(p["PartNumber"], p["Size"]) for p in listed.json()] == [(1, small_multipart)]
    parts = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed.json()]
    for n in (2, 3):
        chunk = data[(n - 1) * small_multipart : n * small_multipart]
        parts.append({"PartNumber": n, "ETag": put_part(api, application, item_id, n, chunk)})
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/", {"parts": parts}, format="json"
    )
    assert completed.status_code == 200, completed.json()
    confirmed = api.post(base(application) + f"uploads/{item_id}/confirm/")
    assert confirmed.status_code == 200, confirmed.json()
    assert (confirmed.json()["item"]["status"], confirmed.json()["item"]["size"]) == (
        "ready",
        len(data),
    )
    assert storage.head(key=item_of(confirmed).storage_key).size == len(data)


def test_removing_an_unfinished_multipart_upload_aborts_it(
    api, make_application, small_multipart, django_capture_on_commit_callbacks
) -> None:
    # given a multipart upload with one part sent
    application = make_application()
    data = mp4_of(11 * MiB)
    item_id = ask_slot(api, application, data, filename="v.mp4", content_type="video/mp4").json()[
        "item"
    ]["id"]
    put_part(api, application, item_id, 1, data[:small_multipart])
    item = EvidenceItem.objects.get(public_id=item_id)

    # when the educator removes it
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(base(application) + f"items/{item_id}/")

    # then it is gone from the page and storage holds no open upload for it
    assert response.status_code == 204
    assert api.get(base(application)).json()["items"] == []
    assert item.storage_key not in [key for key, _, _ in storage.list_multipart_uploads()]


# --- Bad files and bad input ----------------------------------------------------------------


def test_a_declared_size_over_the_limit_gets_no_slot(api, make_application) -> None:
    # given a step that accepts files up to 20 MB
    application = make_application()

    # when the uploader declares a 21 MB file
    response = ask_slot(api, application, size=21 * MiB, filename="big.pdf")

    # then it is told the limit, and nothing is created
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert "up to 20 MB" in response.json()["message"]
    assert "size" in response.json()["fields"]
    assert not EvidenceItem.objects.filter(application=application).exists()


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "words"),
    [
        (ZIP, "Lesson plan.pdf", "application/pdf", "ZIP archive"),
        (HTML, "Lesson plan.pdf", "application/pdf", "HTML page"),
        (SVG, "photo.png", "image/png", "SVG drawing"),
        (ELF, "lesson.mp4", "video/mp4", "program (executable)"),
    ],
    ids=["zip-as-pdf", "html-as-pdf", "svg-as-png", "elf-as-video"],
)
def test_a_file_whose_bytes_are_not_what_it_claims_is_rejected_and_deleted(
    api, make_application, data, filename, content_type, words
) -> None:
    # given a file renamed to look acceptable, already in storage
    application = make_application()

    # when it is confirmed
    response = upload(api, application, data, filename=filename, content_type=content_type)

    # then the educator is told what the file really is
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "rejected"
    assert words in body["message"]
    assert body["fields"]["file"] == [body["message"]]
    # and nothing is added: the item shows as rejected and the object is gone from storage
    assert ready_items(application) == []
    item = EvidenceItem.objects.get(application=application)
    assert item.status == "rejected"
    assert storage.head(key=item.storage_key) is None
    shown = api.get(base(application)).json()["items"]
    assert [(i["status"], i["rejection_reason"]) for i in shown] == [("rejected", body["message"])]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"size": 0}, "size"),
        ({"size": -5}, "size"),
        ({"size": None}, "size"),
        ({"step": "one"}, "step"),
        ({"step": 99}, "step"),
        ({"step": 0}, "step"),
        ({"filename": ""}, "filename"),
    ],
    ids=["empty", "negative-size", "no-size", "step-not-int", "unknown-step", "step-0", "no-name"],
)
def test_bad_slot_input_is_refused_per_field(api, make_application, changes, field) -> None:
    # given an application
    application = make_application()
    payload = {"step": 1, "filename": "a.pdf", "size": 100, "content_type": "application/pdf"}
    payload.update(changes)
    payload = {key: value for key, value in payload.items() if value is not None}

    # when the uploader sends a bad request
    response = api.post(base(application) + "uploads/", payload, format="json")

    # then it is told which field is wrong, and nothing is created
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert response.json()["message"]
    assert not EvidenceItem.objects.filter(application=application).exists()


def test_a_zero_byte_file_is_refused(api, make_application) -> None:
    # given an application
    application = make_application()

    # when the uploader declares an empty file
    response = ask_slot(api, application, b"", filename="empty.pdf")

    # then it is told the file is empty
    assert response.status_code == 400
    assert response.json()["code"] == "empty_file"
    assert "empty" in response.json()["message"]

    # and when it declares 10 bytes but sends none, storage refuses the empty body
    slot = ask_slot(api, application, size=10, filename="empty.pdf").json()
    assert send_to_storage(slot, b"").status_code >= 400
    confirmed = api.post(base(application) + f"uploads/{slot['item']['id']}/confirm/")
    assert confirmed.status_code == 400
    assert confirmed.json()["code"] == "not_uploaded"
    assert ready_items(application) == []


def test_a_step_that_is_not_a_file_step_gets_no_slot(api, make_application) -> None:
    application = make_application()

    response = ask_slot(api, application, step=REFLECTION)

    assert response.status_code == 400
    assert response.json()["code"] == "wrong_kind"
    assert not EvidenceItem.objects.filter(application=application).exists()


def test_a_path_in_the_filename_is_dropped(api, make_application) -> None:
    application = make_application()

    response = upload(api, application, PDF, filename="../../etc/passwd.pdf")

    assert response.status_code == 200
    name = response.json()["item"]["display_name"]
    assert name == "passwd.pdf"
    assert "/" not in name and "\\" not in name


def test_a_step_takes_at_most_its_number_of_files(api, make_application) -> None:
    # given a step of at most 2 files, with one ready and one uploading
    application = make_application()
    assert upload(api, application, PDF).status_code == 200
    second = ask_slot(api, application, PNG, filename="p.png", content_type="image/png")
    assert second.status_code == 201

    # when a third is asked for
    response = ask_slot(api, application, PDF, filename="third.pdf")

    # then it is refused, and nothing is added
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_files"
    assert "at most 2 files" in response.json()["message"]
    assert EvidenceItem.objects.filter(application=application).count() == 2


def test_confirming_before_the_bytes_arrived_changes_nothing(api, make_application) -> None:
    application = make_application()
    item_id = ask_slot(api, application).json()["item"]["id"]

    response = api.post(base(application) + f"uploads/{item_id}/confirm/")

    assert response.status_code == 400
    assert response.json()["code"] == "not_uploaded"
    assert "Nothing has arrived" in response.json()["message"]
    assert EvidenceItem.objects.get(public_id=item_id).status == "pending"


def test_an_expired_slot_cannot_be_confirmed(api, make_application) -> None:
    # given a file in storage whose slot expired more than the grace period ago (an upload
    # that started in time may still be confirmed within the grace period)
    application = make_application()
    slot = ask_slot(api, application).json()
    assert send_to_storage(slot, PDF).ok
    EvidenceItem.objects.filter(public_id=slot["item"]["id"]).update(
        slot_expires_at=timezone.now() - dt.timedelta(hours=1, minutes=1)
    )

    # when it is confirmed
    response = api.post(base(application) + f"uploads/{slot['item']['id']}/confirm/")

    # then the educator is asked to upload it again
    assert response.status_code == 400
    assert response.json()["code"] == "slot_expired"
    assert "Choose the file again" in response.json()["message"]
    assert ready_items(application) == []


def test_an_item_of_another_application_cannot_be_confirmed_through_this_one(
    api, make_application
) -> None:
    # given two applications of the same educator, with a file in storage for the second
    first = make_application()
    second = make_application(member=False)
    slot = ask_slot(api, second).json()
    assert send_to_storage(slot, PDF).ok

    # when the second's item is confirmed through the first's URL
    response = api.post(base(first) + f"uploads/{slot['item']['id']}/confirm/")

    # then it is not found there, and stays pending
    assert response.status_code == 404
    assert EvidenceItem.objects.get(public_id=slot["item"]["id"]).status == "pending"


def test_a_presigned_post_with_a_tampered_key_is_refused_by_storage(api, make_application) -> None:
    # given a slot for one application
    application = make_application()
    other = make_application(member=False)
    slot = ask_slot(api, application).json()

    # when the browser sends the file under another application's prefix
    tampered = f"org-{other.organization_id}/app-{other.public_id}/{uuid.uuid4().hex}"
    response = send_to_storage(slot, PDF, key=tampered)

    # then storage refuses it and nothing lands there
    assert response.status_code == 403
    assert storage.head(key=tampered) is None
    assert storage.head(key=EvidenceItem.objects.get(application=application).storage_key) is None


def test_a_presigned_post_larger_than_the_limit_is_refused_by_storage(
    api, make_application
) -> None:
    # given a step that accepts files up to 1 MB, and a slot for a small file
    application = make_application()
    EvidenceRequirement.objects.filter(pk=requirement(application, "Lesson plan").pk).update(
        max_file_size_mb=1
    )
    slot = ask_slot(api, application, PDF).json()

    # when the browser sends more than 1 MB with it
    response = send_to_storage(slot, PDF + b"0" * MiB)

    # then storage refuses it (the policy's content-length-range) and nothing is stored
    assert response.status_code == 400
    assert "EntityTooLarge" in response.text
    item = EvidenceItem.objects.get(application=application)
    assert storage.head(key=item.storage_key) is None
    confirmed = api.post(base(application) + f"uploads/{slot['item']['id']}/confirm/")
    assert confirmed.json()["code"] == "not_uploaded"


# --- Items: privacy, removal ----------------------------------------------------------------


def test_privacy_of_a_file(api, make_application) -> None:
    # given a ready file
    application = make_application()
    item_id = upload(api, application).json()["item"]["id"]
    url = base(application) + f"items/{item_id}/"

    # when identifiable students without consent are made public, it is refused
    refused = api.patch(
        url,
        {"students_identifiable": True, "consent_on_file": False, "visibility": "public"},
        format="json",
    )
    assert refused.status_code == 400
    assert "visibility" in refused.json()["fields"]
    assert EvidenceItem.objects.get(public_id=item_id).students_identifiable is None

    # when consent is on file, it may be public
    saved = api.patch(
        url,
        {"students_identifiable": True, "consent_on_file": True, "visibility": "public"},
        format="json",
    )
    assert saved.status_code == 200
    item = saved.json()["item"]
    assert (item["students_identifiable"], item["consent_on_file"], item["visibility"]) == (
        True,
        True,
        "public",
    )

    # and a bad visibility is refused by field
    bad = api.patch(url, {"students_identifiable": False, "visibility": "world"}, format="json")
    assert bad.status_code == 400
    assert "visibility" in bad.json()["fields"]


def test_removing_a_file_deletes_it_from_storage(
    api, make_application, django_capture_on_commit_callbacks
) -> None:
    # given a ready file
    application = make_application()
    confirmed = upload(api, application)
    key = item_of(confirmed).storage_key
    assert storage.head(key=key) is not None

    # when the educator removes it
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(base(application) + f"items/{confirmed.json()['item']['id']}/")

    # then it is gone from the page and from storage, and its link no longer works
    assert response.status_code == 204
    assert api.get(base(application)).json()["items"] == []
    assert storage.head(key=key) is None
    file_url = confirmed.json()["item"]["file_url"]
    assert api.get(file_url).status_code == 404


# --- Written answers, links, quizzes --------------------------------------------------------


def test_a_written_answer_is_saved_as_a_draft_with_its_word_count(api, make_application) -> None:
    application = make_application()
    url = base(application) + f"answers/{REFLECTION}/"

    first = api.put(url, {"text": "My students talked more."}, format="json")
    second = api.put(url, {"text": "My students talked much more."}, format="json")

    assert first.status_code == second.status_code == 200
    assert second.json()["words"] == 5
    assert second.json()["item"]["words"] == 5
    assert second.json()["item"]["step"] == REFLECTION
    assert first.json()["item"]["id"] == second.json()["item"]["id"]  # one answer, updated
    assert api.put(base(application) + "answers/99/", {"text": "x"}, format="json").status_code == (
        400
    )
    wrong = api.put(base(application) + f"answers/{LESSON}/", {"text": "x"}, format="json")
    assert wrong.json()["code"] == "wrong_kind"


def test_a_link_must_be_a_web_address(api, make_application) -> None:
    # given an application with a link step (step 3)
    application = make_application()
    EvidenceRequirement.objects.create(
        organization_id=application.organization_id,
        version_id=application.version_id,
        position=9,
        title="Video link",
        instructions="A link to your video.",
        kind=EvidenceRequirement.Kind.LINK,
    )
    url = base(application) + "links/3/"

    refused = api.put(url, {"url": "javascript:alert(1)"}, format="json")
    saved = api.put(url, {"url": " https://videos.example/lesson "}, format="json")

    assert refused.status_code == 400
    assert "url" in refused.json()["fields"]
    assert saved.status_code == 200
    assert saved.json()["item"]["url"] == "https://videos.example/lesson"
    assert saved.json()["item"]["step"] == 3


def test_the_quiz_gives_a_score_and_never_the_answers(api, make_application) -> None:
    # given an application with a 4-question quiz (pass mark 75%) as step 3
    application = make_application(quiz=True)
    questions = QuizQuestion.objects.filter(
        requirement__version_id=application.version_id
    ).prefetch_related("choices")
    url = base(application) + "quiz/3/"

    # when three answers are right and one is wrong
    answers = {}
    for n, question in enumerate(questions):
        choices = list(question.choices.all())
        answers[str(question.pk)] = next(c.pk for c in choices if c.is_correct == (n != 3))
    response = api.post(url, {"answers": answers}, format="json")

    # then only the score comes back
    assert response.status_code == 200
    assert response.json() == {"score_percent": 75, "correct": 3, "total": 4, "passed": True}

    # and an unanswered question is named
    del answers[str(questions[0].pk)]
    incomplete = api.post(url, {"answers": answers}, format="json")
    assert incomplete.status_code == 400
    assert "question 1" in incomplete.json()["message"]


# --- Submitting -----------------------------------------------------------------------------


def test_submit_reports_every_gap_then_submits_once(api, make_application) -> None:
    # given an application with nothing done
    application = make_application()
    submit = base(application) + "submit/"

    # when it is submitted, every unfinished step is named and nothing changes
    response = api.post(submit)
    assert response.status_code == 400
    assert response.json()["code"] == "incomplete"
    assert set(response.json()["fields"]) == {"step_1", "step_2"}
    application.refresh_from_db()
    assert application.status == "applied"

    # when the steps are done (a file with its privacy answered, a 120-word answer)
    item_id = upload(api, application).json()["item"]["id"]
    api.patch(
        base(application) + f"items/{item_id}/", {"students_identifiable": False}, format="json"
    )
    api.put(base(application) + f"answers/{REFLECTION}/", {"text": "word " * 120}, format="json")
    submitted = api.post(submit)

    # then it is submitted
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json() == {"status": "submitted", "attempt": 1}

    # and a second submit is refused
    again = api.post(submit)
    assert again.status_code == 400
    assert again.json()["code"] == "not_editable"
    # and nothing can be changed any more
    assert ask_slot(api, application).json()["code"] == "not_editable"


# --- Who may use it -------------------------------------------------------------------------


def all_urls(application: Application, item_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    root = base(application)
    return [
        ("get", root, {}),
        ("post", root + "uploads/", {"step": 1, "filename": "a.pdf", "size": 10}),
        ("post", root + f"uploads/{item_id}/parts/1/", {}),
        ("get", root + f"uploads/{item_id}/parts/", {}),
        ("post", root + f"uploads/{item_id}/complete/", {"parts": []}),
        ("post", root + f"uploads/{item_id}/confirm/", {}),
        ("patch", root + f"items/{item_id}/", {"students_identifiable": False}),
        ("delete", root + f"items/{item_id}/", {}),
        ("get", root + f"items/{item_id}/file/", {}),
        ("put", root + "answers/2/", {"text": "mine now"}),
        ("put", root + "links/2/", {"url": "https://x.example"}),
        ("post", root + "quiz/2/", {"answers": {}}),
        ("post", root + "submit/", {}),
    ]


@pytest.mark.parametrize("who", ["other-educator", "other-organization", "wrong-org-slug"])
def test_nobody_but_the_educator_can_reach_an_application(
    api, make_application, educator, who
) -> None:
    # given an application with a ready file
    application = make_application()
    confirmed = upload(api, application)
    item_id = confirmed.json()["item"]["id"]
    before = (confirmed.json()["item"], application.status)
    if who == "other-educator":
        stranger = client_for(UserFactory(email="colleague@school.example"))
    elif who == "other-organization":
        elsewhere = OrganizationFactory()
        user = UserFactory(email="admin@elsewhere.example")
        MembershipFactory(organization=elsewhere, user=user, member_until=None)
        stranger = client_for(user)
    else:  # the educator, through another organization's URL
        stranger = api
        elsewhere = OrganizationFactory()
        application.organization = elsewhere

    # when they try every URL of the application
    for method, url, payload in all_urls(application, item_id):
        response = getattr(stranger, method)(url, payload, format="json")

        # then each answers 404, without saying whether it exists
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["code"] == "not_found"

    # and nothing changed
    application.refresh_from_db()
    assert (api.get(base(application)).json()["items"][0], application.status) == before


def test_anonymous_callers_are_refused(make_application) -> None:
    application = make_application()
    item_id = str(uuid.uuid4())

    for method, url, payload in all_urls(application, item_id):
        response = getattr(APIClient(), method)(url, payload, format="json")
        assert response.status_code == 403, (method, url)
        assert response.json()["code"] == "not_authenticated"


def test_session_callers_need_the_csrf_token(make_application, educator) -> None:
    # given the educator's browser session
    application = make_application()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(educator)
    token = get_random_string(32)
    browser.cookies["csrftoken"] = token
    payload = {"step": 1, "filename": "a.pdf", "size": len(PDF), "content_type": "application/pdf"}

    # when a request comes without the X-CSRFToken header, it is refused
    forged = browser.post(base(application) + "uploads/", payload, format="json")
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["message"]
    assert not EvidenceItem.objects.filter(application=application).exists()

    # when it carries the token, it works
    sent = browser.post(
        base(application) + "uploads/", payload, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert sent.status_code == 201


# --- Query counts ---------------------------------------------------------------------------


def test_the_summary_runs_the_same_queries_for_1_or_20_items(
    api, make_application, count_queries: Callable[..., Any]
) -> None:
    # given an application with one item
    application = make_application()
    lesson = requirement(application, "Lesson plan")

    def add(n: int) -> None:
        EvidenceItem.objects.create(
            organization_id=application.organization_id,
            application=application,
            requirement=lesson,
            kind=EvidenceItem.Kind.FILE,
            status=EvidenceItem.Status.READY,
            storage_key=f"org-{application.organization_id}/app-{application.public_id}/{n}",
            display_name=f"file {n}.pdf",
            size=100,
            content_type="application/pdf",
            file_kind="document",
        )

    add(0)
    api.get(base(application))  # warm up caches (content types, session)

    # when the summary is read with 1 item and with 20
    small = count_queries(lambda: api.get(base(application)))
    for n in range(1, 20):
        add(n)
    large = count_queries(lambda: api.get(base(application)))

    # then the query count is the same
    assert len(api.get(base(application)).json()["items"]) == 20
    assert_same_query_count(small, large)
