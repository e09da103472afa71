from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from botocore.exceptions import ClientError

from submissions import services, storage
from submissions.models import EvidenceItem
from tests.submissions.conftest import PDF, requirement, upload_to_slot

pytestmark = pytest.mark.django_db


def test_a_pdf_goes_from_slot_to_storage_to_confirmed(make_application, educator) -> None:
    application = make_application()
    lesson = requirement(application, "Lesson plan")
    slot = services.evidence_upload_slot(
        application=application,
        requirement=lesson,
        filename="../../etc/Lesson plan.pdf",
        size=len(PDF),
        content_type="application/pdf",
        actor=educator,
    )
    assert upload_to_slot(slot, PDF).status_code == 201
    item = services.evidence_upload_confirm(item=slot.item, actor=educator)
    assert item.status == EvidenceItem.Status.READY
    assert (item.size, item.content_type, item.file_kind) == (
        len(PDF),
        "application/pdf",
        "document",
    )
    assert item.display_name == "Lesson plan.pdf"
    assert item.storage_key.startswith(
        f"org-{application.organization_id}/app-{application.public_id}/"
    )
    assert storage.head(key=item.storage_key).size == len(PDF)


@pytest.fixture
def bucket_rules_restored() -> Iterator[None]:
    """The bucket's CORS rules as they were before the test (the browser journeys need theirs)."""
    s3 = storage.client()
    try:
        before = s3.get_bucket_cors(Bucket=storage.bucket())["CORSRules"]
    except ClientError:  # none yet
        before = None
    yield
    if before is None:
        s3.delete_bucket_cors(Bucket=storage.bucket())
    else:
        s3.put_bucket_cors(Bucket=storage.bucket(), CORSConfiguration={"CORSRules": before})


def test_a_browser_page_can_read_what_the_uploader_needs_from_storage(
    make_application, educator, bucket_rules_restored: None
) -> None:
    # given a bucket whose rules predate the Location header (as an existing bucket's do)
    origin = "http://uploads.example"
    s3 = storage.client()
    s3.put_bucket_cors(
        Bucket=storage.bucket(),
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [origin],
                    "AllowedMethods": ["POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    # when the site starts (storage_setup) and a page from the site uploads a file
    storage.ensure_bucket(cors_origins=[origin])
    application = make_application()
    slot = services.evidence_upload_slot(
        application=application,
        requirement=requirement(application, "Lesson plan"),
        filename="plan.pdf",
        size=len(PDF),
        content_type="application/pdf",
        actor=educator,
    )
    assert slot.fields is not None
    answer = requests.post(
        slot.url,
        data=dict(slot.fields),
        files={"file": ("upload", PDF, "application/pdf")},
        headers={"Origin": origin},
        timeout=30,
    )
    # then the page may read the ETag and the Location (Uppy logs an error without them)
    assert answer.status_code == 201
    exposed = {
        h.strip().lower() for h in answer.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"etag", "location"} <= exposed
