"""Claiming from the queue: who may get which submission, in which order, and how a claim ends
(release, expiry by the beat, expiry noticed on access)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from django_scopes import ScopeError, scope, scopes_disabled

from credentials_site.exceptions import ApplicationError
from programs.models import Organization, StaffRole, User
from reviews import selectors, services
from reviews.errors import ReviewErrorCode as Code
from reviews.models import (
    CalibrationExemplar,
    Claim,
    ConflictOfInterest,
    CriterionScore,
    Review,
)
from submissions.models import Application, ApplicationEvent, Submission
from tests.conftest import assert_same_query_count
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


# --- The cost of claim-next ----------------------------------------------------------------


class TestClaimNextCost:
    # In a test, each transaction is a savepoint: the claim's own and the application's
    # (submissions.services.application_review_started) add a SAVEPOINT and a RELEASE each.
    STATEMENTS = [
        "the reviewer's scope, conflicts and the calibration gate's first look",
        "the oldest eligible submission, locked, with its claim time and rubric criteria",
        "INSERT the claim, its draft review and its empty scores, if its claims still allow",
        "the application: lock it",
        "the application: in review",
        "the application: its timeline event",
    ]

    def test_a_fixed_number_of_statements_whatever_the_queue_and_the_reviewer(
        self, org, make_submission: MakeSubmission, count_queries
    ) -> None:
        # given one submission and a reviewer with one plain role
        make_submission()
        plain = make_reviewer(org)
        small = count_queries(lambda: claim_next(org, plain))

        # and then a busy queue: twenty submissions in two programs, one in double review, some
        # already claimed, and a reviewer with limits to both programs and to credentials,
        # conflicts with their school, their district and two named people, and two roles
        program_a = ProgramFactory(organization=org, slug="a")
        program_b = ProgramFactory(organization=org, slug="b")
        busy = [
            make_submission(
                program=program_a if n % 2 else program_b, reviewers_required=2 if n == 0 else 1
            )
            for n in range(20)
        ]
        for _ in range(5):
            claim_next(org, make_reviewer(org))
        role = StaffRoleFactory(
            organization=org,
            role=StaffRole.Role.REVIEWER,
            user=UserFactory(school="Lincoln Elementary", district="Riverside USD"),
        )
        role.programs.set([program_a, program_b])
        role.credentials.set([s.application.credential for s in busy])
        StaffRoleFactory(organization=org, role=StaffRole.Role.SENIOR_REVIEWER, user=role.user)
        for kind in (ConflictOfInterest.Kind.SCHOOL, ConflictOfInterest.Kind.DISTRICT):
            ConflictOfInterest.objects.create(organization=org, reviewer=role.user, kind=kind)
        for _ in range(2):
            ConflictOfInterest.objects.create(
                organization=org,
                reviewer=role.user,
                kind=ConflictOfInterest.Kind.PERSON,
                person=UserFactory(),
            )
        got: list[Claim] = []
        large = count_queries(lambda: got.append(claim_next(org, role.user)))

        # then both claims cost the same statements, and no more than these
        assert_same_query_count(small, large)
        # (+ 2: claim_next's savepoint and its release inside the test's transaction)
        assert len(large) == len(self.STATEMENTS) + 2, "\n".join(
            q["sql"] for q in large.captured_queries
        )
        # and the claim comes back with what the pages show about it, without another query
        assert len(count_queries(lambda: got[0].submission.application.anonymous_code)) == 0

    def test_in_a_calibrating_organization_the_gate_looks_at_the_exemplars(
        self, org, reviewer, make_submission: MakeSubmission, count_queries
    ) -> None:
        # given an organization with an active exemplar, none of it for this reviewer to score
        # (they set its agreed scores themselves)
        waiting = make_submission()
        source = make_submission()
        Submission.objects.filter(pk=source.pk).update(outcome="approve")
        CalibrationExemplar.objects.create(
            organization=org,
            submission=source,
            title="Exemplar",
            agreed_decision="approve",
            created_by=reviewer,
        )
        # when they claim
        got: list[Claim] = []
        ctx = count_queries(lambda: got.append(claim_next(org, reviewer)))
        # then they get the waiting submission, the gate having asked
        # reviews.calibration.calibration_pending (two queries) on top of the usual ones
        assert got[0].submission_id == waiting.pk
        assert len(ctx) == len(TestClaimNextCost.STATEMENTS) + 2 + 2


# --- claim-next's statement and the queue agree ------------------------------------------


def claimable_order(org: Organization, reviewer: User, **filters: object) -> list[int]:
    """Every submission claim-next's statement would hand this reviewer, in order: each time
    the ones it gave before are skipped (rows this test's transaction locks stay visible)."""
    scope = selectors.reviewer_scope(organization=org, user=reviewer)
    assert scope is not None
    order: list[int] = []
    while True:
        found = selectors.queue_oldest_locked(
            organization=org,
            scope=scope,
            skipped=order,
            **filters,  # type: ignore[arg-type]
        )
        if found is None:
            return order
        order.append(found.submission.pk)


def slug_of(submission: Submission) -> str:
    return credential_of(submission.application.version).slug


def queue_order(org: Organization, reviewer: User, **filters: object) -> list[int]:
    scope = selectors.reviewer_scope(organization=org, user=reviewer)
    assert scope is not None
    return list(
        selectors.queue_list(organization=org, scope=scope, **filters).values_list(  # type: ignore[arg-type]
            "pk", flat=True
        )
    )


class TestClaimableStatementMatchesTheQueue:
    """claim-next's hand-written statement (selectors.claimable_sql) and the queue page's
    queryset (selectors.queue_list) state the same rules: on a queue that exercises each rule,
    they give the same submissions in the same order, for every kind of reviewer and filter."""

    def test_same_submissions_same_order(self, org, make_submission: MakeSubmission) -> None:
        # given reviewers of every kind
        teaching = ProgramFactory(organization=org, slug="teaching")
        leading = ProgramFactory(organization=org, slug="leading", blind_review=True)
        friend = UserFactory()
        conflicted = make_reviewer(org, school="Lincoln Elementary", district="Riverside USD")
        for kind in (ConflictOfInterest.Kind.SCHOOL, ConflictOfInterest.Kind.DISTRICT):
            ConflictOfInterest.objects.create(organization=org, reviewer=conflicted, kind=kind)
        ConflictOfInterest.objects.create(
            organization=org,
            reviewer=conflicted,
            kind=ConflictOfInterest.Kind.PERSON,
            person=friend,
        )
        limited = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        limited.programs.set([teaching])
        senior = make_reviewer(org, role=StaffRole.Role.SENIOR_REVIEWER)
        other = make_reviewer(org)
        # and a queue with a submission for each rule, submitted a day apart
        made = [
            make_submission(educator=conflicted, program=teaching),  # their own
            make_submission(educator=UserFactory(school="LINCOLN elementary"), program=leading),
            make_submission(educator=UserFactory(district="riverside usd"), program=teaching),
            make_submission(educator=friend, program=leading),
            make_submission(program=leading),
            make_submission(program=teaching, reviewers_required=2),  # one of two taken
            make_submission(program=teaching, reviewers_required=2),  # both taken
            make_submission(program=leading, reviewers_required=2),  # held by `conflicted`
            make_submission(program=teaching),  # held by someone else, lapsed
            make_submission(program=teaching),  # held by someone else
            make_submission(program=leading),  # decided
            make_submission(program=teaching, reviewers_required=2),  # to adjudicate
            make_submission(program=teaching),
        ]
        start = timezone.now() - dt.timedelta(days=30)
        for n, submission in enumerate(made):
            Submission.objects.filter(pk=submission.pk).update(
                submitted_at=start + dt.timedelta(days=n)
            )
        one_of_two, both, held, lapsed, taken, decided, disputed = (
            made[5],
            made[6],
            made[7],
            made[8],
            made[9],
            made[10],
            made[11],
        )

        def take(who: User, submission: Submission) -> Claim:
            return claim_next(org, who, credential=slug_of(submission))

        first = make_reviewer(org)
        decide(take(first, one_of_two), first)
        for _ in range(2):
            take(make_reviewer(org), both)
        take(conflicted, held)
        lapse(take(other, lapsed))
        take(other, taken)
        decider = make_reviewer(org)
        decide(take(decider, decided), decider)
        for decision in ("approve", "not_awarded"):
            person = make_reviewer(org)
            decide(take(person, disputed), person, decision)

        # then for every reviewer and filter, both give the same submissions in the same order
        cases: list[tuple[User, dict[str, object]]] = []
        for reviewer in (conflicted, limited.user, senior, other):
            cases += [
                (reviewer, {}),
                (reviewer, {"program": "teaching"}),
                (reviewer, {"program": "leading"}),
                (reviewer, {"credential": slug_of(made[12])}),
            ]
        cases.append((senior, {"adjudication": True}))
        for reviewer, filters in cases:
            expected = queue_order(org, reviewer, **filters)
            assert claimable_order(org, reviewer, **filters) == expected, (reviewer, filters)
        # and the rules did apply (a queue that left nothing out would prove nothing)
        assert claimable_order(org, conflicted) == [
            p.pk for p in (made[4], made[5], made[8], made[12])
        ]
        assert claimable_order(org, limited.user) == [
            made[0].pk,
            made[2].pk,
            made[5].pk,
            made[8].pk,
            made[12].pk,
        ]
        assert claimable_order(org, senior, adjudication=True) == [disputed.pk]


# --- A row found taken after locking it ------------------------------------------------------


class TestTakenAfterLocking:
    def test_the_row_is_skipped_and_left_untouched(
        self, org, reviewer, make_submission: MakeSubmission, monkeypatch
    ) -> None:
        # given the oldest submission claimed by another reviewer, and a newer one; and the
        # statement that finds a row blind to claims the first time, as it is when another
        # reviewer's claim commits between its snapshot and its lock
        older, newer = make_submission(), make_submission()
        other = make_reviewer(org)
        claim_next(org, other)
        real = selectors.claims_allow_sql
        calls: list[bool] = []

        def blind_the_first_time(*, adjudication: bool) -> str:
            calls.append(adjudication)
            return "TRUE" if len(calls) == 1 else real(adjudication=adjudication)

        monkeypatch.setattr(selectors, "claims_allow_sql", blind_the_first_time)

        # when the reviewer claims
        claim = claim_next(org, reviewer)

        # then the insert saw the other claim and wrote nothing; they got the next one
        assert len(calls) == 2
        assert claim.submission_id == newer.pk
        assert list(Claim.objects.filter(submission=older).values_list("reviewer", flat=True)) == [
            other.pk
        ]
        assert list(Review.objects.filter(submission=older).values_list("reviewer", flat=True)) == [
            other.pk
        ]


# --- Tenancy of the hand-written statements ---------------------------------------------------


@pytest.mark.scoped
class TestTenancy:
    def test_claim_next_fails_closed_outside_the_organizations_scope(
        self, org, reviewer, make_submission: MakeSubmission
    ) -> None:
        # given a waiting submission
        with scopes_disabled():
            submission = make_submission()
            elsewhere = OrganizationFactory()
        # then outside any organization's scope claim-next refuses to read anything
        with pytest.raises(ScopeError):
            claim_next(org, reviewer)
        # and under another organization's scope the reviewer is nobody here
        with scope(organization=elsewhere.pk), pytest.raises(ApplicationError) as error:
            claim_next(org, reviewer)
        assert error.value.code == Code.NOT_A_REVIEWER
        # while under the organization's own scope they get the submission
        with scope(organization=org.pk):
            assert claim_next(org, reviewer).submission_id == submission.pk
