"""Deciding a submission: every refusal leaves the database exactly as it was; each decision
drives the application; double review agrees or goes to an adjudicator; every step is on the
timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, RubricCriterion, RubricLevel, StaffRole, User
from reviews import services
from reviews.errors import ReviewErrorCode as Code
from reviews.models import Claim, CriterionScore, Review
from submissions.models import Application, ApplicationEvent, Submission
from tests.factories import StaffRoleFactory, UserFactory
from tests.reviews.conftest import decide, full_scores

pytestmark = pytest.mark.django_db

MakeSubmission = Callable[..., Submission]


def claim_next(org: Organization, reviewer: User, **kwargs: Any) -> Claim:
    return services.review_claim_next(organization=org, reviewer=reviewer, **kwargs)


def make_reviewer(org: Organization, role: str = StaffRole.Role.REVIEWER) -> User:
    return StaffRoleFactory(organization=org, role=role).user


def state(submission: Submission) -> dict[str, Any]:
    """Everything a decision could change, as plain values."""
    application = Application.objects.get(pk=submission.application_id)
    row = Submission.objects.get(pk=submission.pk)
    return {
        "application": (application.status, application.attempt),
        "submission": (
            row.outcome,
            row.feedback,
            row.feedback_summary,
            row.decided_at,
            row.needs_adjudication,
        ),
        "claims": sorted(
            Claim.objects.filter(submission=submission).values_list("pk", "status", "ended_at")
        ),
        "reviews": sorted(
            Review.objects.filter(submission=submission).values_list(
                "pk", "status", "decision", "overall_feedback", "revision_request"
            )
        ),
        "scores": sorted(
            CriterionScore.objects.filter(review__submission=submission).values_list(
                "pk", "score", "comment"
            )
        ),
        "events": list(
            ApplicationEvent.objects.filter(application_id=submission.application_id)
            .order_by("pk")
            .values_list("kind", flat=True)
        ),
        "submissions": Submission.objects.filter(application_id=submission.application_id).count(),
    }


def refused(code: str, func: Callable[[], Any], submission: Submission) -> ApplicationError:
    """Run ``func``; it must raise ApplicationError(code) and change nothing."""
    before = state(submission)
    with pytest.raises(ApplicationError) as error:
        func()
    assert error.value.code == code, error.value.message
    assert state(submission) == before
    return error.value


def submit(claim: Claim, reviewer: User, **kwargs: Any) -> Review:
    values: dict[str, Any] = {
        "scores": full_scores(claim.submission),
        "overall_feedback": "Well done.",
        "decision": "approve",
    }
    values.update(kwargs)
    return services.review_submit(claim=claim, reviewer=reviewer, **values)


def kinds(submission: Submission) -> list[str]:
    return list(
        ApplicationEvent.objects.filter(application_id=submission.application_id)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def add_criterion(submission: Submission, title: str = "Students' work shows growth") -> int:
    """A second criterion (levels 1 to 3) on the submission's rubric; claim after adding it."""
    version_id = submission.application.version_id
    criterion = RubricCriterion.objects.create(
        organization_id=submission.organization_id,
        version_id=version_id,
        position=2,
        title=title,
        passing_score=2,
    )
    for score, label in [(1, "Beginning"), (2, "Proficient"), (3, "Exemplary")]:
        RubricLevel.objects.create(
            organization_id=submission.organization_id,
            criterion=criterion,
            score=score,
            label=label,
            descriptor=f"{label} work.",
        )
    return criterion.pk


# --- Refusals that change nothing --------------------------------------------------------------


class TestRefusals:
    def test_decision_on_a_released_claim(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        services.review_claim_release(claim=claim, reviewer=reviewer)
        error = refused(Code.NOT_CLAIMED, lambda: submit(claim, reviewer), submission)
        assert error.message == "This claim was released; claim the submission again."

    def test_decision_on_an_expired_claim(self, org, reviewer, make_submission) -> None:
        # given a claim that the beat has already expired
        submission = make_submission()
        claim = claim_next(org, reviewer)
        services.claims_expire(organization=org, now=timezone.now() + dt.timedelta(hours=49))
        # then the decision is refused and nothing changes
        error = refused(Code.CLAIM_EXPIRED, lambda: submit(claim, reviewer), submission)
        assert "expired" in error.message
        assert Application.objects.get(pk=submission.application_id).status == "submitted"

    def test_decision_on_a_lapsed_claim_not_yet_swept(self, org, reviewer, make_submission) -> None:
        # given a claim past its time that nothing has expired yet
        submission = make_submission()
        claim = claim_next(org, reviewer)
        Claim.objects.filter(pk=claim.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
        # when the reviewer submits
        with pytest.raises(ApplicationError) as error:
            submit(claim, reviewer)
        # then it is refused and the only change is the expiry itself: no decision, no review
        assert error.value.code == Code.CLAIM_EXPIRED
        after = state(submission)
        assert after["submission"][0] == ""
        assert after["application"] == (Application.Status.SUBMITTED, 1)
        assert not Review.objects.filter(submission=submission).exists()
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.EXPIRED

    def test_second_decision(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        decide(claim, reviewer, "approve")
        error = refused(
            Code.ALREADY_DECIDED,
            lambda: submit(claim, reviewer, decision="not_awarded"),
            submission,
        )
        assert error.message == "You have already decided this submission."

    def test_decision_by_someone_without_a_role(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        stranger = UserFactory()
        error = refused(Code.NOT_A_REVIEWER, lambda: submit(claim, stranger), submission)
        assert error.message == "You are not a reviewer for this organization."

    def test_decision_after_the_role_was_withdrawn(self, org, reviewer, make_submission) -> None:
        # given a reviewer who claimed, then lost their role
        submission = make_submission()
        claim = claim_next(org, reviewer)
        StaffRole.objects.filter(organization=org, user=reviewer).delete()
        # then they can no longer decide, nor save a draft
        refused(Code.NOT_A_REVIEWER, lambda: submit(claim, reviewer), submission)
        refused(
            Code.NOT_A_REVIEWER,
            lambda: services.review_save_draft(
                claim=claim, reviewer=reviewer, scores=full_scores(submission)
            ),
            submission,
        )

    def test_decision_on_another_reviewers_claim(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        error = refused(Code.NOT_CLAIMED, lambda: submit(claim, make_reviewer(org)), submission)
        assert error.message == "This is another reviewer's claim."

    def test_review_of_own_submission(self, org, make_submission) -> None:
        # given an educator who is also a reviewer and somehow holds a claim on their own work
        # (the queue never hands it out; the service refuses it anyway)
        educator = UserFactory()
        submission = make_submission(educator=educator)
        StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER, user=educator)
        claim = Claim.objects.create(
            organization=org,
            submission=submission,
            reviewer=educator,
            expires_at=timezone.now() + dt.timedelta(hours=1),
        )
        Review.objects.create(
            organization=org, submission=submission, claim=claim, reviewer=educator
        )
        error = refused(Code.OWN_SUBMISSION, lambda: submit(claim, educator), submission)
        assert error.message == "You cannot review your own submission."

    def test_missing_ratings_are_listed_per_criterion(self, org, reviewer, make_submission) -> None:
        # given a rubric of two criteria
        submission = make_submission()
        second = add_criterion(submission)
        first = RubricCriterion.objects.get(
            version_id=submission.application.version_id, position=1
        ).pk
        claim = claim_next(org, reviewer)
        # when the reviewer submits with nothing filled in
        error = refused(
            Code.INCOMPLETE,
            lambda: submit(claim, reviewer, scores={}, overall_feedback=" ", decision=""),
            submission,
        )
        # then every gap is reported at once, each criterion by name
        assert error.message == "4 things missing before you can submit this review."
        assert error.fields == {
            f"criterion_{first}": ["Rate “Plan aligns with the method”."],
            f"criterion_{second}": ["Rate “Students' work shows growth”."],
            "decision": ["Choose approve, needs revision or not awarded."],
            "overall_feedback": ["Write your overall feedback to the educator."],
        }

    def test_one_missing_rating(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        second = add_criterion(submission)
        claim = claim_next(org, reviewer)
        scores = full_scores(submission)
        del scores[second]
        error = refused(Code.INCOMPLETE, lambda: submit(claim, reviewer, scores=scores), submission)
        assert error.message == "1 thing missing before you can submit this review."
        assert list(error.fields) == [f"criterion_{second}"]

    def test_a_level_not_on_the_scale(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        scores = full_scores(submission, score=5)
        error = refused(Code.INVALID, lambda: submit(claim, reviewer, scores=scores), submission)
        (criterion_id,) = scores
        assert error.fields == {
            f"criterion_{criterion_id}": [
                "“Plan aligns with the method”: choose one of its levels (0, 1)."
            ]
        }

    def test_a_rating_that_is_not_a_number(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        (criterion_id,) = full_scores(submission)
        refused(
            Code.INVALID,
            lambda: submit(claim, reviewer, scores={criterion_id: {"score": "excellent"}}),
            submission,
        )
        refused(
            Code.INVALID,
            lambda: submit(claim, reviewer, scores={"not-an-id": {"score": 1}}),
            submission,
        )

    def test_needs_revision_without_what_to_change(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        error = refused(
            Code.INCOMPLETE,
            lambda: submit(claim, reviewer, decision="needs_revision", revision_request="  "),
            submission,
        )
        assert error.fields == {"revision_request": ["Say what the educator should change."]}

    def test_needs_revision_at_the_last_attempt(self, org, reviewer, make_submission) -> None:
        submission = make_submission(max_attempts=1)
        claim = claim_next(org, reviewer)
        error = refused(
            Code.INCOMPLETE,
            lambda: submit(
                claim, reviewer, decision="needs_revision", revision_request="Add samples."
            ),
            submission,
        )
        assert error.fields == {"decision": ["This is attempt 1 of 1: approve or do not award."]}

    def test_a_refused_submit_keeps_the_saved_draft(self, org, reviewer, make_submission):
        # given a saved draft
        submission = make_submission()
        claim = claim_next(org, reviewer)
        services.review_save_draft(
            claim=claim,
            reviewer=reviewer,
            scores={
                pk: {"score": 1, "comment": "Uses every step."} for pk in full_scores(submission)
            },
            overall_feedback="Draft so far",
        )
        # when the submit is refused, the draft is exactly as it was
        refused(Code.INCOMPLETE, lambda: submit(claim, reviewer, overall_feedback=""), submission)
        review = Review.objects.get(claim=claim)
        assert review.status == Review.Status.DRAFT
        assert review.overall_feedback == "Draft so far"
        assert list(review.scores.values_list("score", "comment")) == [(1, "Uses every step.")]


# --- Decisions -----------------------------------------------------------------------------


class TestDecisions:
    def test_approve(
        self, org, reviewer, make_submission, django_capture_on_commit_callbacks
    ) -> None:
        # given a claimed submission
        submission = make_submission()
        claim = claim_next(org, reviewer)
        (criterion_id,) = full_scores(submission)
        # when the reviewer approves
        with django_capture_on_commit_callbacks(execute=True):
            review = submit(
                claim,
                reviewer,
                scores={criterion_id: {"score": 1, "comment": "Every component is there."}},
                overall_feedback="A strong plan.",
            )
        # then the application is approved and the attempt carries the outcome and feedback
        assert review.status == Review.Status.SUBMITTED
        assert review.submitted_at is not None
        assert Application.objects.get(pk=submission.application_id).status == "approved"
        row = Submission.objects.get(pk=submission.pk)
        assert row.outcome == "approve"
        assert row.decided_at is not None
        assert row.feedback_summary == "A strong plan."
        lesson = RubricCriterion.objects.get(pk=criterion_id).requirement_id
        assert row.feedback == [
            {
                "criterion_id": criterion_id,
                "title": "Plan aligns with the method",
                "requirement_id": lesson,
                "score": 1,
                "label": "Meets",
                "comment": "Every component is there.",
            }
        ]
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.COMPLETED
        # and the educator is told
        assert [m.to for m in mail.outbox][-1] == [submission.application.educator.email]
        assert "approved" in mail.outbox[-1].subject

    def test_needs_revision(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        second = add_criterion(submission)
        claim = claim_next(org, reviewer)
        scores = {
            pk: {"score": 0 if pk != second else 1, "comment": f"About {pk}."}
            for pk in full_scores(submission)
        }
        submit(
            claim,
            reviewer,
            scores=scores,
            overall_feedback="A good start.",
            decision="needs_revision",
            revision_request="Show how students used the exit tickets.",
        )
        application = Application.objects.get(pk=submission.application_id)
        assert application.status == Application.Status.NEEDS_REVISION
        assert application.attempt == 2
        row = Submission.objects.get(pk=submission.pk)
        assert row.outcome == "needs_revision"
        assert row.feedback_summary == (
            "A good start.\n\nWhat to change: Show how students used the exit tickets."
        )
        assert [
            (f["criterion_id"], f["score"], f["label"], f["comment"]) for f in row.feedback
        ] == [
            (pk, scores[pk]["score"], label, f"About {pk}.")
            for pk, label in zip(sorted(scores), ["Not yet", "Beginning"], strict=True)
        ]

    def test_not_awarded(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        decide(claim_next(org, reviewer), reviewer, "not_awarded", score=0)
        assert (
            Application.objects.get(pk=submission.application_id).status
            == Application.Status.NOT_AWARDED
        )
        row = Submission.objects.get(pk=submission.pk)
        assert row.outcome == "not_awarded"
        assert row.feedback[0]["label"] == "Not yet"

    def test_a_form_posting_strings_is_accepted(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        scores = {str(pk): {"score": "1", "comment": "ok"} for pk in full_scores(submission)}
        submit(claim, reviewer, scores=scores)
        assert Submission.objects.get(pk=submission.pk).feedback[0]["score"] == 1

    def test_audit_events_on_the_timeline(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(org, reviewer)
        services.review_claim_release(claim=claim, reviewer=reviewer)
        decide(claim_next(org, reviewer), reviewer, "approve")
        timeline = kinds(submission)
        assert timeline[timeline.index("submitted") :] == [
            "submitted",
            "in_review",
            "claim_released",
            "in_review",
            "approved",
        ]
        approved = ApplicationEvent.objects.get(
            application_id=submission.application_id, kind="approved"
        )
        assert approved.actor_id == reviewer.pk
        released = ApplicationEvent.objects.get(
            application_id=submission.application_id, kind="claim_released"
        )
        assert released.actor_id == reviewer.pk
        # what the educator reads never names the reviewer
        for event in ApplicationEvent.objects.filter(application_id=submission.application_id):
            assert reviewer.email not in event.message
            assert reviewer.full_name not in event.message


# --- Double review and adjudication ----------------------------------------------------------


class TestApprovalFollowsTheRubric:
    """No criterion below its passing level can be approved: single, double or adjudicated."""

    def test_approve_below_passing_names_each_criterion(
        self, org, reviewer, make_submission
    ) -> None:
        # given a rubric of two criteria (passing levels 1 and 2), one rated below passing
        submission = make_submission()
        second = add_criterion(submission)
        first = RubricCriterion.objects.get(
            version_id=submission.application.version_id, position=1
        ).pk
        claim = claim_next(org, reviewer)
        scores = {first: {"score": 1}, second: {"score": 1, "comment": "Thin."}}
        # when the reviewer approves
        error = refused(
            Code.BELOW_PASSING, lambda: submit(claim, reviewer, scores=scores), submission
        )
        # then the criterion below passing is named with its level and the level needed
        assert error.message == "You cannot approve: 1 criterion is below the passing level."
        assert error.fields == {
            f"criterion_{second}": [
                "“Students' work shows growth” is rated “Beginning” (1); approving needs at "
                "least “Proficient” (2)."
            ],
            "decision": [
                "Approve needs every criterion at its passing level; 1 is below it. Ask for a "
                "revision or do not award."
            ],
        }
        # and the claim is still the reviewer's, with nothing decided
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE

    def test_every_criterion_below_passing_is_listed(self, org, reviewer, make_submission) -> None:
        submission = make_submission()
        second = add_criterion(submission)
        claim = claim_next(org, reviewer)
        scores = full_scores(submission, score=0)
        scores[second] = {"score": 1}
        error = refused(
            Code.BELOW_PASSING, lambda: submit(claim, reviewer, scores=scores), submission
        )
        assert error.message == "You cannot approve: 2 criteria are below the passing level."
        assert f"criterion_{second}" in error.fields and len(error.fields) == 3

    def test_the_same_ratings_may_ask_for_a_revision(self, org, reviewer, make_submission):
        # given ratings below passing
        submission = make_submission()
        claim = claim_next(org, reviewer)
        # when the reviewer asks for a revision instead, it is accepted
        decide(claim, reviewer, "needs_revision", score=0)
        assert Submission.objects.get(pk=submission.pk).outcome == "needs_revision"

    def test_at_the_passing_level_approval_stands(self, org, reviewer, make_submission):
        submission = make_submission()
        second = add_criterion(submission)
        claim = claim_next(org, reviewer)
        scores = full_scores(submission)
        scores[second] = {"score": 2}
        submit(claim, reviewer, scores=scores)
        assert Application.objects.get(pk=submission.application_id).status == "approved"

    def test_the_second_of_a_double_review_cannot_approve_below_passing(
        self, org, reviewer, make_submission
    ) -> None:
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        first_claim, second_claim = claim_next(org, reviewer), claim_next(org, second)
        decide(first_claim, reviewer, "approve")
        refused(
            Code.BELOW_PASSING, lambda: decide(second_claim, second, "approve", score=0), submission
        )

    def test_an_adjudicator_cannot_approve_below_passing(self, org, reviewer, make_submission):
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        decide(claim_next(org, reviewer), reviewer, "approve")
        decide(claim_next(org, second), second, "not_awarded", score=0)
        admin = make_reviewer(org, role=StaffRole.Role.PROGRAM_ADMIN)
        claim = claim_next(org, admin, adjudication=True)
        refused(Code.BELOW_PASSING, lambda: decide(claim, admin, "approve", score=0), submission)
        # at the passing level, the adjudicator's approval is applied
        decide(claim, admin, "approve", score=1)
        assert Application.objects.get(pk=submission.application_id).status == "approved"


class TestDoubleReview:
    def test_two_agreeing_reviews_decide(self, org, reviewer, make_submission) -> None:
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        first_claim, second_claim = claim_next(org, reviewer), claim_next(org, second)
        # when the first approves, nothing is decided yet
        decide(first_claim, reviewer, "approve")
        assert Submission.objects.get(pk=submission.pk).outcome == ""
        assert Application.objects.get(pk=submission.application_id).status == "in_review"
        # when the second approves too, the decision stands
        decide(second_claim, second, "approve")
        row = Submission.objects.get(pk=submission.pk)
        assert row.outcome == "approve"
        assert not row.needs_adjudication
        assert Application.objects.get(pk=submission.application_id).status == "approved"
        assert kinds(submission)[-3:] == ["review_submitted", "review_submitted", "approved"]

    def test_disagreement_goes_to_an_adjudicator(self, org, reviewer, make_submission) -> None:
        # given two reviewers who disagree
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        first_claim, second_claim = claim_next(org, reviewer), claim_next(org, second)
        decide(first_claim, reviewer, "approve")
        decide(second_claim, second, "not_awarded", score=0)
        # then nothing is applied; the submission waits for adjudication
        row = Submission.objects.get(pk=submission.pk)
        assert row.needs_adjudication
        assert row.outcome == ""
        assert Application.objects.get(pk=submission.application_id).status == "in_review"
        assert kinds(submission)[-1] == "adjudication_needed"

        # when a program admin claims it for adjudication and decides
        admin = make_reviewer(org, role=StaffRole.Role.PROGRAM_ADMIN)
        claim = claim_next(org, admin, adjudication=True)
        assert claim.is_adjudication
        review = decide(claim, admin, "not_awarded", score=0)
        # then the adjudicator's decision is applied
        assert review.is_adjudication
        assert Submission.objects.get(pk=submission.pk).outcome == "not_awarded"
        assert Application.objects.get(pk=submission.application_id).status == "not_awarded"
        assert kinds(submission)[-2:] == ["adjudication_started", "not_awarded"]
        # and the two reviews and the adjudication are all kept
        assert Review.objects.filter(submission=submission, status="submitted").count() == 3

    def test_a_plain_reviewer_cannot_adjudicate(self, org, reviewer, make_submission) -> None:
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        decide(claim_next(org, reviewer), reviewer, "approve")
        decide(claim_next(org, second), second, "needs_revision", score=0)
        plain = make_reviewer(org)
        refused(Code.NOT_A_REVIEWER, lambda: claim_next(org, plain, adjudication=True), submission)
        # nor can a senior reviewer who was one of the two
        StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER, user=second)
        refused(Code.QUEUE_EMPTY, lambda: claim_next(org, second, adjudication=True), submission)

    def test_an_adjudicator_who_lost_the_role_cannot_decide(
        self, org, reviewer, make_submission
    ) -> None:
        submission = make_submission(reviewers_required=2)
        second = make_reviewer(org)
        decide(claim_next(org, reviewer), reviewer, "approve")
        decide(claim_next(org, second), second, "not_awarded", score=0)
        senior = make_reviewer(org, role=StaffRole.Role.SENIOR_REVIEWER)
        claim = claim_next(org, senior, adjudication=True)
        StaffRole.objects.filter(user=senior).update(role=StaffRole.Role.REVIEWER)
        error = refused(Code.NOT_A_REVIEWER, lambda: decide(claim, senior, "approve"), submission)
        assert error.message == "Only program admins and senior reviewers adjudicate."
