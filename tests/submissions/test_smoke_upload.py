from __future__ import annotations

import pytest

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
