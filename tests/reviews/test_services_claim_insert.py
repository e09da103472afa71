"""claim-next's insert (reviews.services.claim_insert): the claim, its draft review and the
review's empty scores in one statement, exactly the rows the models would make; nothing when the
claims on the submission no longer allow it; and only within the tenant scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from django_scopes import ScopeError, scope, scopes_disabled

from programs.models import Organization, RubricCriterion, StaffRole, User
from reviews import services
from reviews.models import Claim, CriterionScore, Review
from submissions.models import Submission
from tests.factories import OrganizationFactory, StaffRoleFactory

pytestmark = pytest.mark.django_db

MakeSubmission = Callable[..., Submission]
FIELDS = [f.attname for f in Claim._meta.concrete_fields]


def criteria(submission: Submission) -> list[int]:
    return list(
        RubricCriterion.objects.filter(version_id=submission.application.version_id).values_list(
            "pk", flat=True
        )
    )


def insert(
    org: Organization,
    submission: Submission,
    reviewer: User,
    *,
    adjudication: bool = False,
    criterion_ids: list[int] | None = None,
) -> Claim | None:
    return services.claim_insert(
        organization=org,
        submission=submission,
        reviewer=reviewer,
        adjudication=adjudication,
        expires_at=timezone.now() + dt.timedelta(hours=48),
        criterion_ids=criteria(submission) if criterion_ids is None else criterion_ids,
    )


def rows(submission: Submission) -> tuple[int, int, int]:
    return (
        Claim.objects.filter(submission=submission).count(),
        Review.objects.filter(submission=submission).count(),
        CriterionScore.objects.filter(review__submission=submission).count(),
    )


class TestClaimInsert:
    def test_the_claim_its_draft_and_empty_scores_as_the_models_make_them(
        self, org, reviewer, make_submission: MakeSubmission, count_queries
    ) -> None:
        # given a waiting submission
        submission = make_submission()
        ids = criteria(submission)
        # when the claim is inserted
        got: list[Claim | None] = []
        ctx = count_queries(
            lambda: got.append(insert(org, submission, reviewer, criterion_ids=ids))
        )
        claim = got[0]
        # then one statement wrote an active claim, as loaded from the database
        assert len(ctx) == 1
        assert claim is not None
        stored = Claim.objects.get(pk=claim.pk)
        assert [getattr(claim, name) for name in FIELDS] == [
            getattr(stored, name) for name in FIELDS
        ]
        assert (claim.status, claim.is_adjudication, claim.ended_at) == ("active", False, None)
        assert claim.submission is submission
        # and a draft review with the model's defaults, and one empty score per criterion
        review = Review.objects.get(claim=claim)
        assert (review.status, review.decision, review.overall_feedback) == ("draft", "", "")
        assert (review.reviewer_id, review.organization_id) == (reviewer.pk, org.pk)
        scores = CriterionScore.objects.filter(review=review)
        assert sorted(s.criterion_id for s in scores) == sorted(ids)
        assert {(s.score, s.comment) for s in scores} == {(None, "")}
        # and the claim can be saved like any other (it is a loaded row, not a new one)
        claim.save(update_fields=["updated_at"])
        assert Claim.objects.filter(submission=submission).count() == 1

    def test_nothing_when_the_claims_no_longer_allow_it(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a single-review submission someone else claimed meanwhile
        submission = make_submission()
        other = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        assert insert(org, submission, other) is not None
        before = rows(submission)
        # when this reviewer's insert runs, then it writes nothing
        assert insert(org, submission, reviewer) is None
        assert rows(submission) == before
        # and an adjudication claim needs the submission to have none active already
        senior = StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER).user
        assert insert(org, submission, senior, adjudication=True) is not None
        assert insert(org, submission, reviewer, adjudication=True) is None


@pytest.mark.scoped
class TestTenancy:
    def test_only_within_the_organizations_scope(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        with scopes_disabled():
            submission = make_submission()
            elsewhere = OrganizationFactory()
            ids = criteria(submission)
        # outside any scope it fails closed
        with pytest.raises(ScopeError):
            insert(org, submission, reviewer, criterion_ids=ids)
        # under another organization's scope it writes nothing
        with scope(organization=elsewhere.pk):
            assert insert(org, submission, reviewer, criterion_ids=ids) is None
        with scopes_disabled():
            assert rows(submission) == (0, 0, 0)
        # under the organization's own scope it claims
        with scope(organization=org.pk):
            assert insert(org, submission, reviewer, criterion_ids=ids) is not None
