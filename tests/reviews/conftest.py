"""Fixtures for the review queue: submitted attempts and reviewers, built through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from programs.models import Organization, RubricCriterion, StaffRole, User
from reviews import services as review_services
from reviews.models import Claim
from submissions import services as submission_services
from submissions.models import Application, Submission
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.submissions.conftest import PDF, upload_to_slot

REFLECTION = "I changed the lesson because the exit tickets showed a misconception. " * 12


@pytest.fixture
def org() -> Organization:
    return OrganizationFactory(short_name="RUSD")


@pytest.fixture
def reviewer(org: Organization) -> User:
    return StaffRoleFactory(
        organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(email="rev@example.org")
    ).user


def submit_attempt(application: Application, educator: User) -> Submission:
    """Complete every step of make_credential's requirements and submit."""
    from programs.models import EvidenceRequirement

    lesson = EvidenceRequirement.objects.get(version_id=application.version_id, kind="file")
    reflection = EvidenceRequirement.objects.get(version_id=application.version_id, kind="text")
    slot = submission_services.evidence_upload_slot(
        application=application,
        requirement=lesson,
        filename="plan.pdf",
        size=len(PDF),
        content_type="application/pdf",
        actor=educator,
    )
    assert upload_to_slot(slot, PDF).status_code == 201
    item = submission_services.evidence_upload_confirm(item=slot.item, actor=educator)
    submission_services.evidence_item_privacy(
        item=item,
        students_identifiable=False,
        consent_on_file=None,
        visibility="reviewers",
        actor=educator,
    )
    submission_services.evidence_text_save(
        application=application, requirement=reflection, text=REFLECTION, actor=educator
    )
    return submission_services.application_submit(application=application, actor=educator)


@pytest.fixture
def make_submission(org: Organization) -> Callable[..., Submission]:
    """A submitted attempt by a new educator (of ``org`` unless told otherwise)."""

    def make(
        *,
        organization: Organization | None = None,
        educator: User | None = None,
        reviewers_required: int = 1,
        **version_fields: Any,
    ) -> Submission:
        organization = organization or org
        educator = educator or UserFactory()
        version_fields.setdefault("non_member_fee", 0)
        version = make_credential(
            organization, reviewers_required=reviewers_required, **version_fields
        )
        MembershipFactory(organization=organization, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        return submit_attempt(application, educator)

    return make


def full_scores(submission: Submission, score: int = 1) -> dict[int, dict[str, Any]]:
    return {
        c.pk: {"score": score, "comment": "Clear plan."}
        for c in RubricCriterion.objects.filter(version_id=submission.application.version_id)
    }


def decide(claim: Claim, reviewer: User, decision: str = "approve", score: int = 1) -> Any:
    return review_services.review_submit(
        claim=claim,
        reviewer=reviewer,
        scores=full_scores(claim.submission, score),
        overall_feedback="Well done.",
        decision=decision,
        revision_request="Add student samples." if decision == "needs_revision" else "",
    )
