"""An upload counts only when every declared byte arrived; broken part lists and non-ASCII
names get clear answers, not server errors."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from submissions import storage
from submissions.models import EvidenceItem
from tests.submissions.test_api_uploads import (
    MiB,
    ask_slot,
    base,
    client_for,
    mp4_of,
    put_part,
    send_to_storage,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(educator):  # type: ignore[no-untyped-def]
    return client_for(educator)


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 6 * MiB)
    monkeypatch.setattr(storage, "PART_SIZE", 5 * MiB)
    return 5 * MiB


def test_a_multipart_upload_missing_parts_is_rejected_and_deleted(
    api, make_application, small_multipart
) -> None:
    # given an 11 MiB video of which only the first part was sent
    application = make_application()
    data = mp4_of(11 * MiB)
    slot = ask_slot(api, application, data, filename="lesson.mp4", content_type="video/mp4")
    item_id = slot.json()["item"]["id"]
    etag = put_part(api, application, item_id, 1, data[:small_multipart])
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/",
        {"parts": [{"PartNumber": 1, "ETag": etag}]},
        format="json",
    )
    assert completed.status_code == 200
    # when the uploader confirms
    confirmed = api.post(base(application) + f"uploads/{item_id}/confirm/")
    # then the short file is refused, deleted, and nothing is ready
    assert confirmed.status_code == 400
    assert "arrived" in confirmed.json()["message"]
    item = EvidenceItem.objects.get(public_id=item_id)
    assert item.status == EvidenceItem.Status.REJECTED
    assert storage.head(key=item.storage_key) is None


def test_a_presigned_post_carrying_more_than_declared_is_refused_by_storage(
    api, make_application
) -> None:
    application = make_application()
    slot = ask_slot(api, application, b"%PDF-1.4 tiny", filename="a.pdf")
    sent = send_to_storage(slot.json(), b"%PDF-1.4 " + b"x" * 100_000)
    assert sent.status_code >= 400
    item = EvidenceItem.objects.get(public_id=slot.json()["item"]["id"])
    assert storage.head(key=item.storage_key) is None


def test_completing_with_a_wrong_etag_is_a_clear_error(
    api, make_application, small_multipart
) -> None:
    application = make_application()
    data = mp4_of(11 * MiB)
    slot = ask_slot(api, application, data, filename="lesson.mp4", content_type="video/mp4")
    item_id = slot.json()["item"]["id"]
    put_part(api, application, item_id, 1, data[:small_multipart])
    completed = api.post(
        base(application) + f"uploads/{item_id}/complete/",
        {"parts": [{"PartNumber": 1, "ETag": '"0000000000000000"'}]},
        format="json",
    )
    assert completed.status_code == 400
    assert completed.json()["code"] == "not_uploaded"
    assert "Choose the file again" in completed.json()["message"]


def test_a_non_ascii_filename_downloads_under_its_own_name(api, make_application) -> None:
    application = make_application()
    confirmed = upload(api, application, filename="Plan de leçon.pdf")
    assert confirmed.status_code == 200, confirmed.json()
    location = api.get(confirmed.json()["item"]["file_url"])["Location"]
    disposition = parse_qs(urlsplit(location).query)["response-content-disposition"][0]
    assert "filename*=UTF-8''Plan%20de%20le%C3%A7on.pdf" in disposition
    response = requests.get(location, timeout=30)
    assert response.status_code == 200
    assert "le%C3%A7on" in response.headers["Content-Disposition"]


def test_privacy_choices_are_refused_for_a_removed_file(api, make_application) -> None:
    application = make_application()
    item_id = upload(api, application).json()["item"]["id"]
    assert api.delete(base(application) + f"items/{item_id}/").status_code == 204
    response = api.patch(
        base(application) + f"items/{item_id}/",
        {"students_identifiable": False, "visibility": "reviewers"},
        format="json",
    )
    assert response.status_code == 400
    assert "files you have uploaded" in response.json()["message"]
