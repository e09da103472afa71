from __future__ import annotations

import pytest

from reviews import services
from submissions.models import Application
from tests.reviews.conftest import decide

pytestmark = pytest.mark.django_db


def test_claim_and_approve(org, reviewer, make_submission) -> None:
    submission = make_submission()
    claim = services.review_claim_next(organization=org, reviewer=reviewer)
    assert claim.submission_id == submission.pk
    assert Application.objects.get(pk=submission.application_id).status == "in_review"
    decide(claim, reviewer, "approve")
    application = Application.objects.get(pk=submission.application_id)
    assert application.status == Application.Status.APPROVED
