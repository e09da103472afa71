"""Claiming from the queue: who may get which submission, in which order, and how a claim ends
(release, expiry by the beat, expiry noticed on access)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, StaffRole, User
from reviews import selectors, services
from reviews.errors import ReviewErrorCode as Code
from reviews.models import Claim, ConflictOfInterest, CriterionScore, Review
from submissions.models import Application, ApplicationEvent, Submission
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    credential_of,
)
from tests.reviews.conftest import decide, full_scores

pytestmark = pytest.mark.django_db

MakeSubmission = Callable[..., Submission]


def claim_next(org: Organization, reviewer: User, **kwargs: object) -> Claim:
    return services.review_claim_next(organization=org, reviewer=reviewer, **kwargs)  # type: ignore[arg-type]


def assert_queue_empty(org: Organization, reviewer: User, **kwargs: object) -> None:
    with pytest.raises(ApplicationError) as error:
        claim_next(org, reviewer, **kwargs)
    assert error.value.code == Code.QUEUE_EMPTY
    assert error.value.message == "Nothing is waiting for you in the queue."


def status_of(submission: Submission) -> str:
    return Application.objects.get(pk=submission.application_id).status


def event_kinds(submission: Submission) -> list[str]:
    return list(
        ApplicationEvent.objects.filter(application_id=submission.application_id).values_list(
            "kind", flat=True
        )
    )


def make_reviewer(org: Organization, role: str = StaffRole.Role.REVIEWER, **user: str) -> User:
    return StaffRoleFactory(organization=org, role=role, user=UserFactory(**user)).user


# --- Who gets what ---------------------------------------------------------------------------


class TestEligibility:
    def test_oldest_first(self, org, reviewer, make_submission: MakeSubmission) -> None:
        # given three submissions, the last one submitted earliest
        first, second, third = make_submission(), make_submission(), make_submission()
        Submission.objects.filter(pk=third.pk).update(
            submitted_at=first.submitted_at - dt.timedelta(days=3)
        )
        # when the reviewer claims three times
        got = [claim_next(org, reviewer).submission_id for _ in range(3)]
        # then they come oldest first, then the queue is empty
        assert got == [third.pk, first.pk, second.pk]
        assert_queue_empty(org, reviewer)

    def test_claim_reserves_the_submission_and_prepares_a_draft(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        # the submission is in review and nobody else gets it
        assert status_of(submission) == Application.Status.IN_REVIEW
        assert claim.status == Claim.Status.ACTIVE
        assert_queue_empty(org, make_reviewer(org))
        # and a draft review with one empty score per criterion is waiting
        review = Review.objects.get(claim=claim)
        assert review.status == Review.Status.DRAFT
        assert list(CriterionScore.objects.filter(review=review).values_list("score", flat=True))
        assert set(
            CriterionScore.objects.filter(review=review).values_list("score", flat=True)
        ) == {None}

    def test_never_their_own_submission(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given the reviewer's own submission, and someone else's
        make_submission(educator=reviewer)
        theirs = make_submission()
        # then they get only the other one
        assert claim_next(org, reviewer).submission_id == theirs.pk
        assert_queue_empty(org, reviewer)

    def test_never_another_organizations_submission(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        other_org = OrganizationFactory()
        make_submission(organization=other_org)
        assert_queue_empty(org, reviewer)
        # and a reviewer of the other organization only gets theirs, never ours
        ours = make_submission()
        other_reviewer = make_reviewer(other_org)
        got = claim_next(other_org, other_reviewer)
        assert got.submission.organization_id == other_org.pk
        assert got.submission_id != ours.pk
        assert_queue_empty(other_org, other_reviewer)

    def test_someone_without_a_reviewer_role_is_refused(
        self, org, make_submission: MakeSubmission
    ) -> None:
        make_submission()
        member = UserFactory()
        with pytest.raises(ApplicationError) as error:
            claim_next(org, member)
        assert error.value.code == Code.NOT_A_REVIEWER
        # a reviewer of another organization is no reviewer here either
        with pytest.raises(ApplicationError):
            claim_next(org, make_reviewer(OrganizationFactory()))
        assert not Claim.objects.exists()

    def test_limited_to_programs(self, org, make_submission: MakeSubmission) -> None:
        # given a reviewer limited to program A, and an older submission in program B
        program_a, program_b = ProgramFactory(organization=org), ProgramFactory(organization=org)
        in_b = make_submission(program=program_b)
        in_a = make_submission(program=program_a)
        role = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        role.programs.set([program_a])
        # then they only ever get program A's
        assert claim_next(org, role.user).submission_id == in_a.pk
        assert_queue_empty(org, role.user)
        # while an unlimited reviewer gets B's
        assert claim_next(org, make_reviewer(org)).submission_id == in_b.pk

    def test_limited_to_credentials(self, org, make_submission: MakeSubmission) -> None:
        other = make_submission()
        mine = make_submission()
        role = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        role.credentials.set([mine.application.credential])
        assert claim_next(org, role.user).submission_id == mine.pk
        assert_queue_empty(org, role.user)
        assert other.pk != mine.pk

    def test_program_and_credential_filters(self, org, reviewer, make_submission) -> None:
        program = ProgramFactory(organization=org, slug="math")
        first = make_submission()
        in_math = make_submission(program=program)
        credential = credential_of(in_math.application.version)
        # a filter by program slug, or by credential slug, skips older ones elsewhere
        assert claim_next(org, reviewer, program="math").submission_id == in_math.pk
        services.review_claim_release(claim=Claim.objects.get(reviewer=reviewer), reviewer=reviewer)
        assert claim_next(org, reviewer, credential=credential.slug).submission_id == in_math.pk
        assert_queue_empty(org, reviewer, program="math")
        assert claim_next(org, reviewer).submission_id == first.pk

    def test_conflict_same_school(self, org, make_submission: MakeSubmission) -> None:
        reviewer = make_reviewer(org, school="Lincoln Elementary")
        ConflictOfInterest.objects.create(
            organization=org, reviewer=reviewer, kind=ConflictOfInterest.Kind.SCHOOL
        )
        make_submission(educator=UserFactory(school="lincoln elementary"))
        elsewhere = make_submission(educator=UserFactory(school="Roosevelt Middle"))
        assert claim_next(org, reviewer).submission_id == elsewhere.pk
        assert_queue_empty(org, reviewer)

    def test_conflict_same_district(self, org, make_submission: MakeSubmission) -> None:
        reviewer = make_reviewer(org, district="Riverside USD")
        ConflictOfInterest.objects.create(
            organization=org, reviewer=reviewer, kind=ConflictOfInterest.Kind.DISTRICT
        )
        make_submission(educator=UserFactory(district="Riverside USD"))
        elsewhere = make_submission(educator=UserFactory(district="Lakeside USD"))
        assert claim_next(org, reviewer).submission_id == elsewhere.pk
        assert_queue_empty(org, reviewer)

    def test_no_conflict_declared_means_same_school_is_fine(
        self, org, make_submission: MakeSubmission
    ) -> None:
        reviewer = make_reviewer(org, school="Lincoln Elementary")
        same = make_submission(educator=UserFactory(school="Lincoln Elementary"))
        assert claim_next(org, reviewer).submission_id == same.pk

    def test_conflict_named_person(self, org, make_submission: MakeSubmission) -> None:
        reviewer = make_reviewer(org)
        friend = UserFactory()
        ConflictOfInterest.objects.create(
            organization=org,
            reviewer=reviewer,
            kind=ConflictOfInterest.Kind.PERSON,
            person=friend,
        )
        make_submission(educator=friend)
        stranger = make_submission()
        assert claim_next(org, reviewer).submission_id == stranger.pk
        assert_queue_empty(org, reviewer)

    def test_double_review_not_one_they_already_hold_or_reviewed(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a submission that needs two reviewers
        submission = make_submission(reviewers_required=2)
        claim = claim_next(org, reviewer)
        # then while they hold it, they cannot take the second slot themselves
        assert_queue_empty(org, reviewer)
        # and after deciding, it is not theirs to take again
        decide(claim, reviewer, "approve")
        assert_queue_empty(org, reviewer)
        # while a second reviewer gets it
        assert claim_next(org, make_reviewer(org)).submission_id == submission.pk
        # and then it is full
        assert_queue_empty(org, make_reviewer(org))

    def test_decided_submissions_leave_the_queue(self, org, reviewer, make_submission) -> None:
        make_submission()
        decide(claim_next(org, reviewer), reviewer, "approve")
        assert_queue_empty(org, make_reviewer(org))

    def test_claim_hours_come_from_the_program(self, org, reviewer, make_submission) -> None:
        program = ProgramFactory(organization=org, claim_hours=4)
        make_submission(program=program)
        before = timezone.now()
        claim = claim_next(org, reviewer)
        after = timezone.now()
        assert before + dt.timedelta(hours=4) <= claim.expires_at <= after + dt.timedelta(hours=4)

    def test_default_claim_is_48_hours(self, org, reviewer, make_submission) -> None:
        make_submission()
        claim = claim_next(org, reviewer)
        left = claim.expires_at - timezone.now()
        assert dt.timedelta(hours=47, minutes=59) < left <= dt.timedelta(hours=48)


# --- Release -------------------------------------------------------------------------------


class TestRelease:
    def test_release_returns_it_to_the_queue(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a claimed submission with a draft
        submission = make_submission()
        claim = claim_next(org, reviewer)
        services.review_save_draft(
            claim=claim, reviewer=reviewer, scores=full_scores(submission), overall_feedback="So"
        )
        # when the reviewer releases it
        released = services.review_claim_release(claim=claim, reviewer=reviewer)
        # then the claim is released, the draft discarded, the application waits again
        assert released.status == Claim.Status.RELEASED
        assert Claim.objects.get(pk=claim.pk).ended_at is not None
        assert not Review.objects.filter(claim=claim).exists()
        assert status_of(submission) == Application.Status.SUBMITTED
        assert event_kinds(submission)[-1] == "claim_released"
        # and another reviewer (or the same one) can claim it
        assert claim_next(org, make_reviewer(org)).submission_id == submission.pk

    def test_same_reviewer_can_claim_again_after_releasing(self, org, reviewer, make_submission):
        submission = make_submission()
        services.review_claim_release(claim=claim_next(org, reviewer), reviewer=reviewer)
        again = claim_next(org, reviewer)
        assert again.submission_id == submission.pk
        assert again.status == Claim.Status.ACTIVE

    def test_release_of_another_reviewers_claim_is_refused(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        with pytest.raises(ApplicationError) as error:
            services.review_claim_release(claim=claim, reviewer=make_reviewer(org))
        assert error.value.code == Code.NOT_CLAIMED
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE
        assert status_of(submission) == Application.Status.IN_REVIEW

    def test_release_twice_is_refused(self, org, reviewer, make_submission) -> None:
        make_submission()
        claim = claim_next(org, reviewer)
        services.review_claim_release(claim=claim, reviewer=reviewer)
        with pytest.raises(ApplicationError) as error:
            services.review_claim_release(claim=claim, reviewer=reviewer)
        assert error.value.code == Code.NOT_CLAIMED
        assert "released" in error.value.message

    def test_releasing_one_of_two_keeps_the_application_in_review(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission(reviewers_required=2)
        mine = claim_next(org, reviewer)
        claim_next(org, make_reviewer(org))
        services.review_claim_release(claim=mine, reviewer=reviewer)
        assert status_of(submission) == Application.Status.IN_REVIEW


# --- Expiry --------------------------------------------------------------------------------


def lapse(claim: Claim) -> None:
    Claim.objects.filter(pk=claim.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))


class TestExpiry:
    def test_claims_expire_returns_lapsed_claims_to_the_queue(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given two claims, one of them past its time, and a lapsed claim in another org
        lapsed_submission, fresh_submission = make_submission(), make_submission()
        lapsed, fresh = claim_next(org, reviewer), claim_next(org, reviewer)
        assert lapsed.submission_id == lapsed_submission.pk
        lapse(lapsed)
        other_org = OrganizationFactory()
        make_submission(organization=other_org)
        elsewhere = claim_next(other_org, make_reviewer(other_org))
        lapse(elsewhere)
        # when the beat expires claims of this organization
        assert services.claims_expire(organization=org) == 1
        # then only the lapsed one ended; its application waits in the queue again
        assert Claim.objects.get(pk=lapsed.pk).status == Claim.Status.EXPIRED
        assert Claim.objects.get(pk=fresh.pk).status == Claim.Status.ACTIVE
        assert Claim.objects.get(pk=elsewhere.pk).status == Claim.Status.ACTIVE
        assert status_of(lapsed_submission) == Application.Status.SUBMITTED
        assert status_of(fresh_submission) == Application.Status.IN_REVIEW
        assert not Review.objects.filter(claim=lapsed).exists()
        assert event_kinds(lapsed_submission)[-1] == "claim_expired"
        # and running it again changes nothing
        assert services.claims_expire(organization=org) == 0

    def test_claims_expire_with_a_later_now(self, org, reviewer, make_submission) -> None:
        make_submission()
        claim = claim_next(org, reviewer)
        assert services.claims_expire(organization=org) == 0
        later = timezone.now() + dt.timedelta(hours=49)
        assert services.claims_expire(organization=org, now=later) == 1
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED

    def test_lapsed_claim_is_expired_when_the_reviewer_acts_on_it(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a claim past its time that the beat has not swept yet
        submission = make_submission()
        claim = claim_next(org, reviewer)
        lapse(claim)
        # when the reviewer saves a draft
        with pytest.raises(ApplicationError) as error:
            services.review_save_draft(
                claim=claim, reviewer=reviewer, scores=full_scores(submission)
            )
        # then they are told, and the expiry sticks: the submission is back in the queue
        assert error.value.code == Code.CLAIM_EXPIRED
        assert "expired" in error.value.message
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED
        assert status_of(submission) == Application.Status.SUBMITTED
        assert claim_next(org, make_reviewer(org)).submission_id == submission.pk

    def test_releasing_a_lapsed_claim_says_it_expired(self, org, reviewer, make_submission):
        make_submission()
        claim = claim_next(org, reviewer)
        lapse(claim)
        with pytest.raises(ApplicationError) as error:
            services.review_claim_release(claim=claim, reviewer=reviewer)
        assert error.value.code == Code.CLAIM_EXPIRED
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED

    def test_claim_next_takes_over_a_lapsed_claim_before_the_beat(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a claim past its time, not yet swept
        submission = make_submission()
        claim = claim_next(org, reviewer)
        lapse(claim)
        # then the queue shows it again, and the next reviewer gets it
        other = make_reviewer(org)
        scope = selectors.reviewer_scope(organization=org, user=other)
        assert scope is not None
        assert list(selectors.queue_list(organization=org, scope=scope)) == [submission]
        taken = claim_next(org, other)
        assert taken.submission_id == submission.pk
        # and the lapsed claim was expired on the way
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED
        assert status_of(submission) == Application.Status.IN_REVIEW

    def test_the_same_reviewer_can_take_back_their_lapsed_claim(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        lapse(claim)
        again = claim_next(org, reviewer)
        assert again.submission_id == submission.pk
        assert again.pk != claim.pk
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED


class TestAdjudicationClaims:
    def test_a_plain_reviewer_cannot_claim_for_adjudication(self, org, reviewer) -> None:
        with pytest.raises(ApplicationError) as error:
            claim_next(org, reviewer, adjudication=True)
        assert error.value.code == Code.NOT_A_REVIEWER
        assert "adjudicate" in error.value.message

    def test_adjudication_queue_holds_only_disagreements(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        submission = make_submission(reviewers_required=2)
        senior = make_reviewer(org, role=StaffRole.Role.SENIOR_REVIEWER)
        assert_queue_empty(org, senior, adjudication=True)
        decide(claim_next(org, reviewer), reviewer, "approve")
        second = make_reviewer(org)
        decide(claim_next(org, second), second, "not_awarded")
        assert Submission.objects.get(pk=submission.pk).needs_adjudication
        # then it is in the adjudication queue, and no longer in the normal one
        assert_queue_empty(org, make_reviewer(org))
        claim = claim_next(org, senior, adjudication=True)
        assert claim.is_adjudication
        assert claim.submission_id == submission.pk
        # and only one adjudicator holds it at a time
        assert_queue_empty(org, make_reviewer(org, role=StaffRole.Role.OWNER), adjudication=True)
