"""Claim-next under contention, on real PostgreSQL: threads with their own connections and
transactions claim from one queue at once (SELECT ... FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import tenant_scope
from programs.models import Organization, Program, StaffRole, User
from reviews import services
from reviews.errors import ReviewErrorCode
from reviews.models import Claim, ConflictOfInterest
from submissions import services as submission_services
from submissions.models import Application, Submission
from tests.factories import (
    MembershipFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import submit_attempt

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(
    org: Organization,
    *,
    size: int,
    reviewers_required: int = 1,
    program: Program | None = None,
    districts: tuple[str, ...] = ("",),
) -> list[Submission]:
    """``size`` submitted attempts of one credential, each by a different educator (from each
    of ``districts`` in turn)."""
    version = make_credential(
        org, reviewers_required=reviewers_required, non_member_fee=0, program=program
    )
    submissions = []
    for n in range(size):
        educator = UserFactory(district=districts[n % len(districts)])
        MembershipFactory(organization=org, user=educator, member_until=None)
        application = submission_services.application_apply(
            credential=version.credential, educator=educator
        )
        submissions.append(submit_attempt(application, educator))
    return submissions


def _reviewers(org: Organization, n: int) -> list[User]:
    return [StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER).user for _ in range(n)]


def _claim_until_empty(
    org: Organization, reviewers: list[User]
) -> tuple[list[tuple[int, int]], list[BaseException]]:
    """Every reviewer in its own thread calls claim-next until the queue is empty.

    Returns (reviewer id, submission id) of every claim, and every error other than
    "queue empty"."""
    claims: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(reviewers))

    def work(reviewer: User) -> None:
        try:
            with tenant_scope(org):  # the middleware's, for the reviewer's request
                start.wait(timeout=30)
                while True:
                    try:
                        claim = services.review_claim_next(organization=org, reviewer=reviewer)
                    except ApplicationError as exc:
                        if exc.code != ReviewErrorCode.QUEUE_EMPTY:
                            raise
                        return
                    with lock:
                        claims.append((reviewer.pk, claim.submission_id))
        except BaseException as exc:  # collected and asserted on by the test
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a claiming thread hung"
    return claims, errors


def test_eight_reviewers_claim_every_submission_exactly_once(org: Organization) -> None:
    # given a queue of 30 submitted attempts and 8 reviewers
    submissions = _queue(org, size=30)
    reviewers = _reviewers(org, 8)

    # when all 8 click "claim next" in a loop at the same time until the queue is empty
    claims, errors = _claim_until_empty(org, reviewers)

    # then nothing failed, and every submission was claimed exactly once
    assert errors == []
    per_submission = Counter(submission_id for _, submission_id in claims)
    assert per_submission == Counter({s.pk: 1 for s in submissions})
    # and the database agrees: one active claim per submission, all of them in review
    assert Claim.objects.filter(status=Claim.Status.ACTIVE).count() == 30
    assert set(
        Application.objects.filter(submissions__in=submissions).values_list("status", flat=True)
    ) == {Application.Status.IN_REVIEW}
    # and the work was shared (more than one reviewer got something)
    assert len({reviewer_id for reviewer_id, _ in claims}) > 1


def test_double_review_each_submission_gets_two_distinct_reviewers(org: Organization) -> None:
    # given 15 attempts of a credential that needs two reviewers, and 6 reviewers
    submissions = _queue(org, size=15, reviewers_required=2)
    reviewers = _reviewers(org, 6)

    # when they all claim concurrently until the queue is empty
    claims, errors = _claim_until_empty(org, reviewers)

    # then every submission is held by exactly two claims from two different reviewers
    assert errors == []
    by_submission: dict[int, list[int]] = {s.pk: [] for s in submissions}
    for reviewer_id, submission_id in claims:
        by_submission[submission_id].append(reviewer_id)
    for submission_id, holders in by_submission.items():
        assert len(holders) == 2, (submission_id, holders)
        assert len(set(holders)) == 2, (submission_id, holders)


def test_two_reviewers_double_review_both_get_every_submission(org: Organization) -> None:
    # given 10 attempts needing two reviewers and exactly two reviewers
    submissions = _queue(org, size=10, reviewers_required=2)
    first, second = _reviewers(org, 2)

    # when both claim concurrently until the queue is empty
    claims, errors = _claim_until_empty(org, [first, second])

    # then each of them holds every submission once
    assert errors == []
    assert sorted(claims) == sorted(
        [(first.pk, s.pk) for s in submissions] + [(second.pk, s.pk) for s in submissions]
    )


def test_limited_and_conflicted_reviewers_each_get_only_theirs_once(org: Organization) -> None:
    # given 12 attempts in each of two programs, by educators of two districts
    teaching, leading = ProgramFactory(organization=org), ProgramFactory(organization=org)
    districts = ("North USD", "South USD")
    in_teaching = _queue(org, size=12, program=teaching, districts=districts)
    in_leading = _queue(org, size=12, program=leading, districts=districts)
    # and reviewers limited to one program, and unlimited ones from the North who declared it
    limited: dict[int, Program] = {}
    for program in (teaching, leading, teaching, leading):
        role = StaffRoleFactory(organization=org, role=StaffRole.Role.REVIEWER)
        role.programs.set([program])
        limited[role.user.pk] = program
    northerners = [
        StaffRoleFactory(
            organization=org, role=StaffRole.Role.REVIEWER, user=UserFactory(district="North USD")
        ).user
        for _ in range(3)
    ]
    for person in northerners:
        ConflictOfInterest.objects.create(
            organization=org, reviewer=person, kind=ConflictOfInterest.Kind.DISTRICT
        )
    reviewers = [User.objects.get(pk=pk) for pk in limited] + northerners

    # when they all claim concurrently until the queue is empty
    claims, errors = _claim_until_empty(org, reviewers)

    # then every submission was claimed exactly once
    assert errors == []
    assert Counter(s for _, s in claims) == Counter({s.pk: 1 for s in in_teaching + in_leading})
    # and nobody got one outside their limits or from the district they declared
    program_of = {s.pk: teaching.pk for s in in_teaching} | {s.pk: leading.pk for s in in_leading}
    district_of = dict(
        Submission.objects.filter(pk__in=program_of).values_list(
            "pk", "application__educator__district"
        )
    )
    for reviewer_id, submission_id in claims:
        if reviewer_id in limited:
            assert program_of[submission_id] == limited[reviewer_id].pk
        else:
            assert district_of[submission_id] != "North USD"
