"""Agreement statistics (checked against hand-computed tables), reviewers' agreement on real
reviews and calibration attempts, and the calibration services that gate the live queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials_site.exceptions import ApplicationError
from programs.models import AuditEvent, Organization, RubricCriterion, StaffRole, User
from reviews import calibration, services
from reviews.agreement import (
    agreement_table,
    cohens_kappa,
    percent_agreement,
    reviewer_agreement,
)
from reviews.errors import ReviewErrorCode
from reviews.models import CalibrationAttempt, CalibrationExemplar, Claim
from submissions.models import Submission
from tests.factories import OrganizationFactory, ProgramFactory, StaffRoleFactory, UserFactory
from tests.reviews.conftest import decide

pytestmark = pytest.mark.django_db


def table(cells: dict[tuple[object, object], int]) -> list[tuple[object, object]]:
    """Expand a contingency table {(rating_a, rating_b): count} into rating pairs."""
    return [pair for pair, count in cells.items() for _ in range(count)]


# --- The statistics, against tables computed by hand ------------------------------------------


class TestKappaByHand:
    def test_classic_two_by_two(self) -> None:
        # The textbook 2x2 (Wikipedia, "Cohen's kappa"), 50 pairs:
        #               B yes  B no   | A total
        #   A yes         20     5    |   25
        #   A no          10    15    |   25
        #   B total       30    20    |   50
        # po = (20 + 15) / 50 = 0.7
        # pe = (25/50)(30/50) + (25/50)(20/50) = 0.5*0.6 + 0.5*0.4 = 0.3 + 0.2 = 0.5
        # kappa = (0.7 - 0.5) / (1 - 0.5) = 0.2 / 0.5 = 0.4
        pairs = table({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15})
        assert percent_agreement(pairs) == pytest.approx(70.0)
        assert cohens_kappa(pairs) == pytest.approx(0.4)

    def test_three_categories(self) -> None:
        # Rubric levels 0, 1, 2; 10 pairs:
        #               B 0   B 1   B 2  | A total
        #   A 0          2     1     0   |   3
        #   A 1          0     3     1   |   4
        #   A 2          1     0     2   |   3
        #   B total      3     4     3   |  10
        # po = (2 + 3 + 2) / 10 = 0.7
        # pe = (3*3 + 4*4 + 3*3) / 10^2 = (9 + 16 + 9) / 100 = 0.34
        # kappa = (0.7 - 0.34) / (1 - 0.34) = 0.36 / 0.66 = 6/11 = 0.545454...
        pairs = table(
            {(0, 0): 2, (0, 1): 1, (1, 1): 3, (1, 2): 1, (2, 0): 1, (2, 2): 2},
        )
        assert percent_agreement(pairs) == pytest.approx(70.0)
        assert cohens_kappa(pairs) == pytest.approx(6 / 11)

    def test_unequal_marginals(self) -> None:
        # 4-level scale used unevenly, 8 pairs:
        #   (1,1) x3, (2,2) x2, (2,1) x1, (3,2) x1, (4,4) x1
        # A: 1->3, 2->3, 3->1, 4->1      B: 1->4, 2->3, 3->0, 4->1
        # po = (3 + 2 + 1) / 8 = 6/8 = 0.75
        # pe = (3*4 + 3*3 + 1*0 + 1*1) / 64 = (12 + 9 + 0 + 1) / 64 = 22/64 = 0.34375
        # kappa = (0.75 - 0.34375) / (1 - 0.34375) = 0.40625 / 0.65625 = 26/42 = 13/21
        pairs = table({(1, 1): 3, (2, 2): 2, (2, 1): 1, (3, 2): 1, (4, 4): 1})
        assert percent_agreement(pairs) == pytest.approx(75.0)
        assert cohens_kappa(pairs) == pytest.approx(13 / 21)

    def test_perfect_agreement(self) -> None:
        # (0,0) (1,1) (2,2) (1,1): po = 4/4 = 1
        # pe = (1*1 + 2*2 + 1*1) / 16 = 6/16 = 0.375;  kappa = (1 - 0.375) / (1 - 0.375) = 1
        pairs = [(0, 0), (1, 1), (2, 2), (1, 1)]
        assert percent_agreement(pairs) == 100.0
        assert cohens_kappa(pairs) == 1.0

    def test_complete_disagreement_balanced(self) -> None:
        # (0,1) (1,0) (0,1) (1,0): po = 0
        # A: 0->2, 1->2; B: 0->2, 1->2; pe = (2*2 + 2*2) / 16 = 0.5
        # kappa = (0 - 0.5) / (1 - 0.5) = -1
        pairs = [(0, 1), (1, 0), (0, 1), (1, 0)]
        assert percent_agreement(pairs) == 0.0
        assert cohens_kappa(pairs) == -1.0

    def test_complete_disagreement_unbalanced(self) -> None:
        # (yes,no) x3, (no,yes) x1: po = 0
        # A: yes->3, no->1; B: yes->1, no->3; pe = (3*1 + 1*3) / 16 = 6/16 = 0.375
        # kappa = (0 - 0.375) / (1 - 0.375) = -0.375 / 0.625 = -0.6
        pairs = table({("yes", "no"): 3, ("no", "yes"): 1})
        assert cohens_kappa(pairs) == pytest.approx(-0.6)

    def test_agreement_no_better_than_chance(self) -> None:
        # (a,a) (a,b) (b,a) (b,b): po = 2/4 = 0.5; pe = (2*2 + 2*2)/16 = 0.5; kappa = 0
        pairs = [("a", "a"), ("a", "b"), ("b", "a"), ("b", "b")]
        assert percent_agreement(pairs) == 50.0
        assert cohens_kappa(pairs) == 0.0

    def test_one_category_only_is_the_defined_degenerate_case(self) -> None:
        # every pair (2,2): po = 1, pe = (3*3)/9 = 1, (po - pe)/(1 - pe) = 0/0 -> defined as 1.0
        assert cohens_kappa([(2, 2)] * 3) == 1.0
        assert percent_agreement([(2, 2)] * 3) == 100.0

    def test_no_pairs_no_statistic(self) -> None:
        assert percent_agreement([]) is None
        assert cohens_kappa([]) is None

    def test_symmetric_in_the_two_raters(self) -> None:
        pairs = table({(1, 1): 3, (2, 2): 2, (2, 1): 1, (3, 2): 1, (4, 4): 1})
        swapped = [(b, a) for a, b in pairs]
        assert cohens_kappa(swapped) == pytest.approx(cohens_kappa(pairs))


# --- Calibration services -----------------------------------------------------------------


@pytest.fixture
def admin(org: Organization) -> User:
    return StaffRoleFactory(organization=org, role=StaffRole.Role.PROGRAM_ADMIN).user


def criterion_of(submission: Submission) -> int:
    return RubricCriterion.objects.get(version_id=submission.application.version_id).pk


def decided(make_submission, org: Organization, decision: str = "approve", **kw) -> Submission:  # type: ignore[no-untyped-def]
    """A submission decided by a throwaway reviewer."""
    submission = make_submission(**kw)
    person = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
    claim = services.review_claim_next(organization=org, reviewer=person)
    assert claim.submission_id == submission.pk
    decide(claim, person, decision, score=1 if decision == "approve" else 0)
    return Submission.objects.get(pk=submission.pk)


def exemplar(
    org: Organization, admin: User, submission: Submission, score: int, title: str = "Example"
) -> CalibrationExemplar:
    return calibration.exemplar_create(
        organization=org,
        submission=submission,
        title=title,
        agreed_decision="approve" if score else "not_awarded",
        agreed_scores={criterion_of(submission): score},
        rationale="Every component of the method is visible in the plan.",
        actor=admin,
    )


class TestExemplarCreate:
    def test_create(self, org, admin, make_submission) -> None:
        submission = decided(make_submission, org)
        made = calibration.exemplar_create(
            organization=org,
            submission=submission,
            title="  Exit tickets, grade 4 ",
            agreed_decision="approve",
            agreed_scores={str(criterion_of(submission)): 1},
            rationale="Clear.",
            actor=admin,
        )
        assert made.title == "Exit tickets, grade 4"
        assert made.agreed_scores == {str(criterion_of(submission)): 1}
        assert made.is_active
        assert made.created_by == admin
        assert AuditEvent.objects.filter(
            organization=org, action="calibration_exemplar.created", object_id=str(made.pk)
        ).exists()

    def test_undecided_submission_is_refused(self, org, admin, make_submission) -> None:
        submission = make_submission()
        with pytest.raises(ApplicationError) as error:
            exemplar(org, admin, submission, 1)
        assert error.value.code == calibration.CalibrationErrorCode.NOT_DECIDED
        assert not CalibrationExemplar.objects.exists()

    def test_every_criterion_needs_a_level(self, org, admin, make_submission) -> None:
        submission = decided(make_submission, org)
        criterion = criterion_of(submission)
        for scores, problem in [
            ({}, "Rate “Plan aligns with the method”."),
            ({criterion: 7}, "“Plan aligns with the method”: choose one of its levels (0, 1)."),
            ({criterion: None}, "Rate “Plan aligns with the method”."),
        ]:
            with pytest.raises(ApplicationError) as error:
                calibration.exemplar_create(
                    organization=org,
                    submission=submission,
                    title="Example",
                    agreed_decision="approve",
                    agreed_scores=scores,
                    rationale="",
                    actor=admin,
                )
            assert error.value.code == calibration.CalibrationErrorCode.INCOMPLETE
            assert error.value.fields == {f"criterion_{criterion}": [problem]}
        assert not CalibrationExemplar.objects.exists()

    def test_criteria_of_another_rubric_title_and_decision_are_checked(
        self, org, admin, make_submission
    ) -> None:
        submission = decided(make_submission, org)
        with pytest.raises(ApplicationError) as error:
            calibration.exemplar_create(
                organization=org,
                submission=submission,
                title=" ",
                agreed_decision="maybe",
                agreed_scores={criterion_of(submission): 1, 999999: 1},
                rationale="",
                actor=admin,
            )
        assert set(error.value.fields) == {"title", "agreed_decision", "criterion_999999"}

    def test_only_program_admins(self, org, reviewer, make_submission) -> None:
        submission = decided(make_submission, org)
        with pytest.raises(ApplicationError) as error:
            exemplar(org, reviewer, submission, 1)
        assert error.value.code == calibration.CalibrationErrorCode.NOT_ALLOWED

    def test_one_exemplar_per_submission(self, org, admin, make_submission) -> None:
        submission = decided(make_submission, org)
        exemplar(org, admin, submission, 1)
        with pytest.raises(ApplicationError) as error:
            exemplar(org, admin, submission, 1)
        assert error.value.code == calibration.CalibrationErrorCode.ALREADY_EXEMPLAR

    def test_another_organizations_submission_is_refused(self, org, admin, make_submission):
        other = OrganizationFactory()
        submission = decided(make_submission, other, organization=other)
        with pytest.raises(ApplicationError):
            exemplar(org, admin, submission, 1)


class TestCalibrationSubmit:
    def test_scores_are_compared_with_the_agreed_ones(
        self, org, admin, reviewer, make_submission
    ) -> None:
        example = exemplar(org, admin, decided(make_submission, org), 1)
        attempt = calibration.calibration_submit(
            organization=org,
            exemplar=example,
            reviewer=reviewer,
            scores={criterion_of(example.submission): 0},
            decision="not_awarded",
        )
        assert (attempt.matching, attempt.total) == (0, 1)
        other = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        attempt = calibration.calibration_submit(
            organization=org,
            exemplar=example,
            reviewer=other,
            scores={str(criterion_of(example.submission)): {"score": "1"}},
            decision="approve",
        )
        assert (attempt.matching, attempt.total) == (1, 1)
        assert attempt.scores == {str(criterion_of(example.submission)): 1}

    def test_every_criterion_and_a_decision_are_required(
        self, org, admin, reviewer, make_submission
    ) -> None:
        example = exemplar(org, admin, decided(make_submission, org), 1)
        with pytest.raises(ApplicationError) as error:
            calibration.calibration_submit(
                organization=org, exemplar=example, reviewer=reviewer, scores={}, decision=""
            )
        assert error.value.code == calibration.CalibrationErrorCode.INCOMPLETE
        assert set(error.value.fields) == {
            f"criterion_{criterion_of(example.submission)}",
            "decision",
        }
        assert not CalibrationAttempt.objects.exists()

    def test_one_attempt_per_exemplar(self, org, admin, reviewer, make_submission) -> None:
        example = exemplar(org, admin, decided(make_submission, org), 1)
        scores = {criterion_of(example.submission): 1}
        calibration.calibration_submit(
            organization=org, exemplar=example, reviewer=reviewer, scores=scores, decision="approve"
        )
        with pytest.raises(ApplicationError) as error:
            calibration.calibration_submit(
                organization=org,
                exemplar=example,
                reviewer=reviewer,
                scores={criterion_of(example.submission): 0},
                decision="not_awarded",
            )
        assert error.value.code == calibration.CalibrationErrorCode.ALREADY_ATTEMPTED
        assert CalibrationAttempt.objects.get().scores == {str(criterion_of(example.submission)): 1}

    def test_inactive_exemplar_is_refused(self, org, admin, reviewer, make_submission) -> None:
        example = exemplar(org, admin, decided(make_submission, org), 1)
        CalibrationExemplar.objects.filter(pk=example.pk).update(is_active=False)
        with pytest.raises(ApplicationError) as error:
            calibration.calibration_submit(
                organization=org,
                exemplar=example,
                reviewer=reviewer,
                scores={criterion_of(example.submission): 1},
                decision="approve",
            )
        assert error.value.code == calibration.CalibrationErrorCode.INACTIVE

    def test_not_a_reviewer_is_refused(self, org, admin, make_submission) -> None:
        example = exemplar(org, admin, decided(make_submission, org), 1)
        with pytest.raises(ApplicationError) as error:
            calibration.calibration_submit(
                organization=org,
                exemplar=example,
                reviewer=UserFactory(),
                scores={criterion_of(example.submission): 1},
                decision="approve",
            )
        assert error.value.code == calibration.CalibrationErrorCode.NOT_ALLOWED


class TestCalibrationGate:
    def test_pending_exemplars_block_live_claims_until_scored(
        self, org, admin, reviewer, make_submission
    ) -> None:
        # given two active exemplars and one inactive, and a live submission
        past = [
            decided(make_submission, org),
            decided(make_submission, org, "not_awarded"),
            decided(make_submission, org),
        ]
        first = exemplar(org, admin, past[0], 1, title="First")
        second = exemplar(org, admin, past[1], 0, title="Second")
        retired = exemplar(org, admin, past[2], 1, title="Retired")
        CalibrationExemplar.objects.filter(pk=retired.pk).update(is_active=False)
        live = make_submission()
        # then the new reviewer has both active ones pending and may not claim
        assert calibration.calibration_pending(organization=org, reviewer=reviewer) == [
            first,
            second,
        ]
        assert not calibration.reviewer_is_calibrated(organization=org, reviewer=reviewer)
        with pytest.raises(ApplicationError) as error:
            services.review_claim_next(organization=org, reviewer=reviewer)
        assert error.value.code == "not_calibrated"
        assert (
            error.value.message
            == "Score the 2 calibration examples before you take live submissions."
        )
        assert not Claim.objects.filter(reviewer=reviewer).exists()
        # when they score one, one is left
        calibration.calibration_submit(
            organization=org,
            exemplar=first,
            reviewer=reviewer,
            scores={criterion_of(first.submission): 1},
            decision="approve",
        )
        with pytest.raises(ApplicationError) as error:
            services.review_claim_next(organization=org, reviewer=reviewer)
        assert error.value.message == (
            "Score the 1 calibration example before you take live submissions."
        )
        # when they score the other (whatever they scored), the live queue opens
        calibration.calibration_submit(
            organization=org,
            exemplar=second,
            reviewer=reviewer,
            scores={criterion_of(second.submission): 1},
            decision="approve",
        )
        assert calibration.reviewer_is_calibrated(organization=org, reviewer=reviewer)
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        assert claim.submission_id == live.pk

    def test_the_admin_who_agreed_the_scores_is_not_asked_to_score_them(
        self, org, admin, make_submission
    ) -> None:
        exemplar(org, admin, decided(make_submission, org), 1)
        assert calibration.reviewer_is_calibrated(organization=org, reviewer=admin)
        other_admin = StaffRoleFactory(organization=org, role=StaffRole.Role.OWNER).user
        assert len(calibration.calibration_pending(organization=org, reviewer=other_admin)) == 1

    def test_exemplars_outside_a_reviewers_programs_are_not_pending(
        self, org, admin, make_submission
    ) -> None:
        program = ProgramFactory(organization=org)
        exemplar(org, admin, decided(make_submission, org), 1)
        role = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        role.programs.set([program])
        assert calibration.reviewer_is_calibrated(organization=org, reviewer=role.user)

    def test_adjudication_is_not_blocked(self, org, admin, reviewer, make_submission) -> None:
        # given a double-reviewed disagreement, then an exemplar a senior reviewer has not scored
        submission = make_submission(reviewers_required=2)
        second = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        decide(services.review_claim_next(organization=org, reviewer=reviewer), reviewer)
        decide(
            services.review_claim_next(organization=org, reviewer=second),
            second,
            "not_awarded",
            score=0,
        )
        exemplar(org, admin, decided(make_submission, org), 1)
        senior = StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER).user
        # then the senior reviewer may adjudicate, though not take live submissions
        claim = services.review_claim_next(organization=org, reviewer=senior, adjudication=True)
        assert claim.submission_id == submission.pk
        with pytest.raises(ApplicationError) as error:
            services.review_claim_next(organization=org, reviewer=senior)
        assert error.value.code == "not_calibrated"

    def test_other_organizations_exemplars_do_not_count(self, org, make_submission) -> None:
        other = OrganizationFactory()
        other_admin = StaffRoleFactory(organization=other, role=StaffRole.Role.OWNER).user
        exemplar(other, other_admin, decided(make_submission, other, organization=other), 1)
        person = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        assert calibration.reviewer_is_calibrated(organization=org, reviewer=person)
        make_submission()
        services.review_claim_next(organization=org, reviewer=person)

    def test_empty_queue_error_is_unchanged_for_calibrated_reviewers(self, org, reviewer):
        with pytest.raises(ApplicationError) as error:
            services.review_claim_next(organization=org, reviewer=reviewer)
        assert error.value.code == ReviewErrorCode.QUEUE_EMPTY


# --- Agreement on real data ----------------------------------------------------------------


def double_review(org, make_submission, first: User, second: User, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    """One double-reviewed submission: ``first`` scores ``a``, ``second`` scores ``b``; each
    approves at the passing level (1) and does not award below it."""
    make_submission(reviewers_required=2)
    for person, score in ((first, a), (second, b)):
        claim = services.review_claim_next(organization=org, reviewer=person)
        decide(claim, person, "approve" if score >= 1 else "not_awarded", score=score)


class TestReviewerAgreement:
    def test_with_other_reviewers(self, org, reviewer, make_submission) -> None:
        # given three submissions both reviewed by A (the fixture reviewer) and B:
        #   A: 1, 1, 0      B: 1, 0, 0
        # pairs for A (A, B): (1,1) (1,0) (0,0): po = 2/3
        # A: 1->2, 0->1; B: 1->1, 0->2; pe = (2*1 + 1*2)/9 = 4/9
        # kappa = (2/3 - 4/9) / (1 - 4/9) = (2/9) / (5/9) = 0.4
        other = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        for a, b in [(1, 1), (1, 0), (0, 0)]:
            double_review(org, make_submission, reviewer, other, a, b)
        # and a single-reviewed one, which does not count
        make_submission()
        decide(services.review_claim_next(organization=org, reviewer=reviewer), reviewer)

        result = reviewer_agreement(organization=org, reviewer=reviewer)
        assert result["with_reviewers"] == {"percent": 66.7, "kappa": 0.4, "n": 3}
        assert result["with_exemplars"] == {"percent": None, "kappa": None, "n": 0}
        # kappa is symmetric: B's agreement with A is the same
        assert reviewer_agreement(organization=org, reviewer=other)["with_reviewers"] == {
            "percent": 66.7,
            "kappa": 0.4,
            "n": 3,
        }

    def test_adjudication_reviews_are_not_paired(self, org, reviewer, make_submission) -> None:
        other = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        # given a double review with different scores (approved, not awarded): one pair (1, 0)
        double_review(org, make_submission, reviewer, other, 1, 0)
        senior = StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER).user
        assert reviewer_agreement(organization=org, reviewer=reviewer)["with_reviewers"]["n"] == 1
        # a disagreement that was adjudicated adds one pair for the two reviewers only
        make_submission(reviewers_required=2)
        decide(services.review_claim_next(organization=org, reviewer=reviewer), reviewer)
        decide(
            services.review_claim_next(organization=org, reviewer=other),
            other,
            "not_awarded",
            score=0,
        )
        decide(
            services.review_claim_next(organization=org, reviewer=senior, adjudication=True),
            senior,
            score=1,
        )
        # pairs (1,0) (1,0): po = 0; mine: 1->2, other's: 0->2, no category shared so pe = 0;
        # kappa = (0 - 0) / (1 - 0) = 0; the adjudicator's review is nobody's pair
        assert reviewer_agreement(organization=org, reviewer=reviewer)["with_reviewers"] == {
            "percent": 0.0,
            "kappa": 0.0,
            "n": 2,
        }
        assert reviewer_agreement(organization=org, reviewer=senior)["with_reviewers"]["n"] == 0

    def test_with_exemplars(self, org, admin, reviewer, make_submission) -> None:
        # given two exemplars agreed at 1 and 0, which the reviewer scores 0 and 0:
        # pairs (mine, agreed): (0,1) (0,0): po = 1/2
        # mine: 0->2; agreed: 1->1, 0->1; pe = (2*1)/4 = 0.5 (only category 0 is shared)
        # kappa = (0.5 - 0.5) / (1 - 0.5) = 0
        past = [decided(make_submission, org), decided(make_submission, org, "not_awarded")]
        one = exemplar(org, admin, past[0], 1, title="One")
        zero = exemplar(org, admin, past[1], 0, title="Zero")
        for example in (one, zero):
            calibration.calibration_submit(
                organization=org,
                exemplar=example,
                reviewer=reviewer,
                scores={criterion_of(example.submission): 0},
                decision="not_awarded",
            )
        assert reviewer_agreement(organization=org, reviewer=reviewer)["with_exemplars"] == {
            "percent": 50.0,
            "kappa": 0.0,
            "n": 2,
        }

    def test_another_organization_is_not_counted(self, org, reviewer, make_submission) -> None:
        other_org = OrganizationFactory()
        # the same person reviews in both organizations
        StaffRoleFactory(organization=other_org, role=StaffRole.Role.REVIEWER, user=reviewer)
        colleague = StaffRoleFactory(organization=other_org, role=StaffRole.Role.REVIEWER).user
        double_review(
            other_org,
            lambda **kw: make_submission(organization=other_org, **kw),
            reviewer,
            colleague,
            1,
            1,
        )
        assert reviewer_agreement(organization=org, reviewer=reviewer)["with_reviewers"]["n"] == 0
        assert (
            reviewer_agreement(organization=other_org, reviewer=reviewer)["with_reviewers"]["n"]
            == 1
        )


class TestAgreementTable:
    def test_every_reviewer_in_a_fixed_number_of_queries(
        self, org, admin, reviewer, make_submission
    ) -> None:
        # given two reviewers with three double reviews
        other = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user
        for a, b in [(1, 1), (1, 0), (0, 0)]:
            double_review(org, make_submission, reviewer, other, a, b)
        with CaptureQueriesContext(connection) as small:
            rows = agreement_table(organization=org)
        # then every reviewer of the organization is listed (admins review too)
        assert {row["reviewer_id"] for row in rows} == {reviewer.pk, other.pk, admin.pk}
        by_id = {row["reviewer_id"]: row for row in rows}
        assert by_id[reviewer.pk]["with_reviewers"] == {"percent": 66.7, "kappa": 0.4, "n": 3}
        assert by_id[admin.pk]["with_reviewers"]["n"] == 0

        # when there are more reviewers, reviews, exemplars and attempts
        more = [
            StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user for _ in range(4)
        ]
        StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER, user=more[0])
        double_review(org, make_submission, more[0], more[1], 0, 1)
        double_review(org, make_submission, more[2], more[3], 1, 1)
        example = exemplar(org, admin, decided(make_submission, org), 1)
        calibration.calibration_submit(
            organization=org,
            exemplar=example,
            reviewer=reviewer,
            scores={criterion_of(example.submission): 1},
            decision="approve",
        )
        # and reviewers of another organization exist
        StaffRoleFactory(organization=OrganizationFactory(), role=StaffRole.Role.REVIEWER)
        with CaptureQueriesContext(connection) as large:
            bigger = agreement_table(organization=org)

        # then the query count is the same, and the new people and numbers are there
        assert len(large) == len(small) == 3
        # (+1: the throwaway reviewer who decided the exemplar's submission)
        assert len(bigger) == len(rows) + len(more) + 1
        by_id = {row["reviewer_id"]: row for row in bigger}
        assert by_id[reviewer.pk]["with_exemplars"] == {"percent": 100.0, "kappa": 1.0, "n": 1}
        assert by_id[more[0].pk]["with_reviewers"] == {"percent": 0.0, "kappa": 0.0, "n": 1}
        assert by_id[more[2].pk]["with_reviewers"] == {"percent": 100.0, "kappa": 1.0, "n": 1}
        # and each row says what reviewer_agreement says for that reviewer
        for person in (reviewer, other, more[0]):
            assert by_id[person.pk] == {
                "reviewer_id": person.pk,
                "reviewer": person,
                **reviewer_agreement(organization=org, reviewer=person),
            }
