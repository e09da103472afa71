"""A world for the whole API to act on: the demo organizations and logins, and for GAEL's demo
people an open application with evidence (a ready file, a multipart upload under way, a written
answer, a link), a badge, a waiting queue and a live claim; committed, as the live server sees it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from badges.models import Badge, StatusList
from programs import services as program_services
from programs.models import Credential, EvidenceRequirement, Organization, User
from reviews import services as review_services
from submissions import services as submission_services
from submissions.models import Application, EvidenceItem
from tests.badges.test_views_backpack import earn
from tests.factories import MembershipFactory, UserFactory, make_credential
from tests.reviews.conftest import submit_attempt
from tests.submissions.conftest import PDF, add_quiz, upload_to_slot

ORG = "gael"
# The demo's logins of GAEL, one per role (programs/demo_data/people.py).
PEOPLE = {
    "educator": "educator@gael.demo",
    "reviewer": "reviewer@gael.demo",
    "program_admin": "admin@gael.demo",
}
# GAEL's membership CRM, with an organization API token (both member scopes)
SYNC = "member_sync"
ROLES = ["anonymous", *PEOPLE, SYNC]


@dataclass
class World:
    """What exists, by the names the API's paths use: for a path parameter, the values that
    name something real (the fuzz also sends values that name nothing)."""

    tokens: dict[str, str]
    path_values: dict[str, list[Any]] = field(default_factory=dict)
    upload_item: str = ""  # the multipart upload under way, for uploads/{item_id}/...
    spare_item: str = ""  # for DELETE, so that the other operations keep the ready file

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        if token is None:
            return {}
        return {"Authorization": f"Bearer {token}" if role == SYNC else f"Token {token}"}


def _open_application(organization: Organization, educator: User) -> Application:
    """An application for a credential with every kind of step: a file (documents or video, up
    to 3, 2 GB each: big ones go multipart), a written answer, a quiz and a link."""
    version = make_credential(organization, publish=False, non_member_fee=0)
    lesson = version.requirements.get(kind=EvidenceRequirement.Kind.FILE)
    lesson.accepted_file_kinds = ["document", "video"]
    lesson.max_files = 3
    lesson.max_file_size_mb = 2048
    lesson.save()
    add_quiz(version)
    EvidenceRequirement.objects.create(
        organization=organization,
        version=version,
        position=4,
        title="Your class website",
        instructions="A link to where your students see the lesson.",
        kind=EvidenceRequirement.Kind.LINK,
    )
    program_services.credential_version_publish(version=version, actor=None)
    version.refresh_from_db()
    return submission_services.application_apply(credential=version.credential, educator=educator)


def build_world() -> World:
    call_command("load_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug=ORG)
    people = {role: User.objects.get(email=email) for role, email in PEOPLE.items()}
    educator, reviewer = people["educator"], people["reviewer"]

    # a badge of the educator's (issued through the review services and badge_issue)
    badge: Badge = earn(educator, organization)

    # the educator's open application: a ready file, a multipart upload under way, a written
    # answer and a link (the one DELETE removes)
    application = _open_application(organization, educator)
    step = {
        r.position: r for r in EvidenceRequirement.objects.filter(version_id=application.version_id)
    }
    lesson, reflection, website = step[1], step[2], step[4]
    slot = submission_services.evidence_upload_slot(
        application=application,
        requirement=lesson,
        filename="plan.pdf",
        size=len(PDF),
        content_type="application/pdf",
        actor=educator,
    )
    assert upload_to_slot(slot, PDF).status_code == 201
    ready: EvidenceItem = submission_services.evidence_upload_confirm(
        item=slot.item, actor=educator
    )
    big = submission_services.evidence_upload_slot(
        application=application,
        requirement=lesson,
        filename="lesson.mp4",
        size=200 * 1024 * 1024,
        content_type="video/mp4",
        actor=educator,
    )
    assert big.method == "MULTIPART"
    submission_services.evidence_text_save(
        application=application,
        requirement=reflection,
        text="My students explained their thinking to each other. " * 20,
        actor=educator,
    )
    spare = submission_services.evidence_link_save(
        application=application,
        requirement=website,
        url="https://class.example.org/lesson",
        actor=educator,
    )

    # the queue: two attempts by other educators; the reviewer holds a claim on one
    for _ in range(2):
        someone = UserFactory()
        version = make_credential(organization, non_member_fee=0)
        MembershipFactory(organization=organization, user=someone, member_until=None)
        submit_attempt(
            submission_services.application_apply(credential=version.credential, educator=someone),
            someone,
        )
    claim = review_services.review_claim_next(organization=organization, reviewer=reviewer)

    status_lists = StatusList.objects.filter(organization=organization)
    sync = program_services.organization_token_create(
        organization=organization,
        name="CRM nightly sync",
        scopes=["members:read", "members:write"],
        actor=people["program_admin"],
    )
    return World(
        tokens={
            **{
                role: Token.objects.get_or_create(user=user)[0].key for role, user in people.items()
            },
            SYNC: sync.secret,
        },
        path_values={
            "org_slug": [ORG],
            "application_id": [str(application.public_id)],
            "item_id": [str(ready.public_id)],
            "claim_id": [str(claim.public_id)],
            "public_id": [str(badge.public_id)],
            "credential_slug": sorted(
                Credential.objects.filter(organization=organization).values_list("slug", flat=True)
            ),
            "number": sorted(status_lists.values_list("number", flat=True)),
            "step": [1, 2, 3, 4],
            "part_number": [1, 2],
            "member_key": [PEOPLE["educator"], "GAEL-24-0187", "new.member@gael.demo"],
        },
        upload_item=str(big.item.public_id),
        spare_item=str(spare.public_id),
    )


@pytest.fixture
def world(live_server: Any, transactional_db: None) -> World:
    """Built through the services and committed (the live server runs in another thread)."""
    return build_world()
