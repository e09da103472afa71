"""Fixtures for applications and evidence: real uploads to the SeaweedFS that `make test` starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from programs.models import EvidenceRequirement, Organization, QuizChoice, QuizQuestion, User
from submissions import services
from submissions.models import Application
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_credential
from tests.lti_platform import lms  # noqa: F401 (the simulated LMS, for the LTI tests)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 300


def upload_to_slot(
    slot: services.UploadSlot, data: bytes, *, content_type: str | None = None
) -> requests.Response:
    """What the browser does with a presigned POST: send the bytes straight to storage."""
    assert slot.method == "POST" and slot.fields is not None
    fields = dict(slot.fields)
    return requests.post(
        slot.url,
        data=fields,
        files={"file": ("upload", data, content_type or fields["Content-Type"])},
        timeout=30,
    )


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(short_name="RUSD", currency="USD")


@pytest.fixture
def educator() -> User:
    return UserFactory(email="teacher@school.example")


def add_quiz(version: Any, *, questions: int = 4, pass_mark: int = 75) -> EvidenceRequirement:
    quiz = EvidenceRequirement.objects.create(
        organization_id=version.organization_id,
        version=version,
        position=3,
        title="Quiz",
        instructions="Answer the questions.",
        kind=EvidenceRequirement.Kind.QUIZ,
        pass_mark_percent=pass_mark,
    )
    for n in range(questions):
        question = QuizQuestion.objects.create(
            organization_id=version.organization_id,
            requirement=quiz,
            position=n + 1,
            prompt=f"Question {n + 1}?",
        )
        for c in range(3):
            QuizChoice.objects.create(
                organization_id=version.organization_id,
                question=question,
                position=c,
                text=f"Choice {c}",
                is_correct=c == 0,
            )
    return quiz


@pytest.fixture
def make_application(org: Organization, educator: User) -> Callable[..., Application]:
    """An application for a published credential with a file (documents, images, video; up to
    2 files of 20 MB), a written answer (100 to 500 words) and, if asked, a quiz."""

    def make(
        *,
        quiz: bool = False,
        member: bool = True,
        user: User | None = None,
        organization: Organization | None = None,
        **version_fields: Any,
    ) -> Application:
        organization = organization or org
        who = user or educator
        version_fields.setdefault("non_member_fee", 0)
        version = make_credential(organization, publish=False, **version_fields)
        lesson = version.requirements.get(title="Lesson plan")
        lesson.accepted_file_kinds = ["document", "image", "video"]
        lesson.max_files = 2
        lesson.save()
        if quiz:
            add_quiz(version)
        from programs import services as program_services

        program_services.credential_version_publish(version=version, actor=None)
        if member:
            MembershipFactory(organization=organization, user=who, member_until=None)
        version.refresh_from_db()
        return services.application_apply(credential=version.credential, educator=who)

    return make


def requirement(application: Application, title: str) -> EvidenceRequirement:
    return EvidenceRequirement.objects.get(version_id=application.version_id, title=title)
