"""The reviewer's API as a review client uses it: the queue, claiming, drafts, decisions, double
review and adjudication; and what strangers, other organizations and blind review get."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from programs.models import Organization, StaffRole, User
from reviews.models import Claim, CriterionScore, Review
from submissions.models import Application, Submission
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Who the educator is: none of it may reach a reviewer of a blind program.
IDENTITY = {
    "full_name": "Philippa Quarrington",
    "email": "p.quarrington@maplegrove.example",
    "school": "Maple Grove Elementary",
    "district": "Lakeshore Consolidated",
}


# --- Helpers -------------------------------------------------------------------------------


def base(org: Organization) -> str:
    return f"/api/v1/orgs/{org.slug}/review/"


def client_for(user: User) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


def staff(org: Organization, role: str = StaffRole.Role.REVIEWER, **user_fields: Any) -> User:
    return StaffRoleFactory(organization=org, role=role, user=UserFactory(**user_fields)).user


def claim_next(api: APIClient, org: Organization, **body: Any) -> dict[str, Any]:
    response = api.post(base(org) + "claims/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["claim"]  # type: ignore[no-any-return]


def review_body(claim: dict[str, Any], decision: str = "approve", score: int = 1) -> dict[str, Any]:
    """A complete review of the claim: every criterion rated, feedback, a decision."""
    return {
        "scores": [
            {"criterion_id": s["criterion_id"], "score": score, "comment": "Clear plan."}
            for s in claim["review"]["scores"]
        ],
        "overall_feedback": "Well done.",
        "decision": decision,
        "revision_request": "Add student samples." if decision == "needs_revision" else "",
    }


def submit(api: APIClient, org: Organization, claim: dict[str, Any], body: dict[str, Any]) -> Any:
    return api.post(base(org) + f"claims/{claim['id']}/review/submit/", body, format="json")


def status_of(submission: Submission) -> str:
    return Application.objects.get(pk=submission.application_id).status


def submitted_reviews(submission: Submission) -> int:
    return Review.objects.filter(submission=submission, status=Review.Status.SUBMITTED).count()


@pytest.fixture
def api(reviewer: User) -> APIClient:
    return client_for(reviewer)


@pytest.fixture
def educator() -> User:
    return UserFactory(**IDENTITY)


# --- The queue -----------------------------------------------------------------------------


class TestQueue:
    def test_lists_waiting_attempts_without_who_submitted_them(
        self, api, org, make_submission, educator
    ) -> None:
        # given a submitted attempt in a program without blind review
        submission = make_submission(educator=educator)
        application = submission.application

        # when the reviewer opens the queue
        response = api.get(base(org) + "queue/")

        # then it is listed by its anonymous code, with its credential and deadline
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 1
        row = body["results"][0]
        assert row["id"] == f"{application.anonymous_code}-1"
        assert row["credential"] == {
            "slug": application.credential.slug,
            "title": application.version.title,
        }
        assert row["attempt"] == 1
        assert row["due_at"] is not None and row["overdue"] is False
        assert (row["reviews_required"], row["reviews_done"]) == (1, 0)
        # and the queue is anonymous even when the program is not blind
        text = response.content.decode().lower()
        for value in IDENTITY.values():
            assert value.lower() not in text

    def test_filters_by_credential_and_program_and_sorts_by_age(
        self, api, org, make_submission
    ) -> None:
        # given two submissions, the first one past its turnaround target
        first = make_submission()
        second = make_submission()
        Submission.objects.filter(pk=first.pk).update(
            submitted_at=timezone.now() - dt.timedelta(days=30),
            due_at=timezone.now() - dt.timedelta(days=1),
        )
        code = {s.pk: f"{s.application.anonymous_code}-1" for s in (first, second)}

        def ids(query: str) -> list[str]:
            response = api.get(base(org) + "queue/" + query)
            assert response.status_code == 200, response.content
            return [row["id"] for row in response.json()["results"]]

        # then the oldest comes first unless the newest is asked for
        assert ids("") == [code[first.pk], code[second.pk]]
        assert ids("?order=newest") == [code[second.pk], code[first.pk]]
        # and a credential or a program narrows it
        assert ids(f"?credential={second.application.credential.slug}") == [code[second.pk]]
        program = second.application.credential.program.slug
        assert ids(f"?program={program}") == [code[second.pk]]
        # and the late one says so
        rows = api.get(base(org) + "queue/").json()["results"]
        assert [r["overdue"] for r in rows] == [True, False]

    def test_a_bad_order_is_refused(self, api, org) -> None:
        response = api.get(base(org) + "queue/?order=random")
        assert response.status_code == 400
        assert "order" in response.json()["fields"]

    def test_runs_the_same_queries_for_1_or_50_submissions(
        self, api, org, make_submission, count_queries: Callable[..., Any]
    ) -> None:
        # given one submission
        make_submission()
        small = count_queries(lambda: api.get(base(org) + "queue/"))
        # and then fifty, in different programs and credentials, one of them in double review
        for n in range(49):
            make_submission(reviewers_required=2 if n == 0 else 1)

        # when the queue is opened again
        large = count_queries(lambda: api.get(base(org) + "queue/"))

        # then the page costs the same number of queries
        assert api.get(base(org) + "queue/").json()["count"] == 50
        assert_same_query_count(small, large)

    def test_token_authentication_works(self, org, reviewer, make_submission) -> None:
        make_submission()
        token = Token.objects.create(user=reviewer)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        response = api.get(base(org) + "queue/")
        assert response.status_code == 200
        assert response.json()["count"] == 1


# --- Claim, draft, decide --------------------------------------------------------------------


class TestReviewFlow:
    def test_claim_save_and_approve(self, api, org, make_submission, educator) -> None:
        # given a submitted attempt with a file and a written answer
        submission = make_submission(educator=educator)

        # when the reviewer claims the next submission
        response = api.post(base(org) + "claims/", {}, format="json")

        # then they get it with its rubric, evidence and (not blind) the educator
        assert response.status_code == 201, response.content
        claim = response.json()["claim"]
        assert claim["status"] == "active" and claim["is_adjudication"] is False
        assert claim["submission"]["code"] == submission.application.anonymous_code
        assert claim["submission"]["id"] == f"{submission.application.anonymous_code}-1"
        assert claim["submission"]["attempt"] == 1
        review = claim["review"]
        assert review["status"] == "draft" and review["decision"] == ""
        [score] = review["scores"]
        assert score["criterion_title"] == "Plan aligns with the method"
        assert score["score"] is None and score["step"] == 1
        assert [(lv["score"], lv["label"]) for lv in score["levels"]] == [
            (0, "Not yet"),
            (1, "Meets"),
        ]
        assert [s["title"] for s in claim["steps"]] == ["Lesson plan", "Reflection"]
        file, text = claim["evidence"]
        assert (file["step"], file["kind"], file["display_name"]) == (1, "file", "plan.pdf")
        assert file["content_type"] == "application/pdf"
        assert re.fullmatch(
            rf"http://testserver/o/{org.slug}/review/claims/{claim['id']}/items/"
            rf"{file['id']}/file/",
            file["file_url"],
        )
        assert (text["step"], text["kind"], text["file_url"]) == (2, "text", None)
        assert text["text"].startswith("I changed the lesson")
        assert claim["educator"] == {
            "name": IDENTITY["full_name"],
            "email": IDENTITY["email"],
            "school": IDENTITY["school"],
            "district": IDENTITY["district"],
        }
        assert status_of(submission) == Application.Status.IN_REVIEW
        # and it is among their claims
        mine = api.get(base(org) + "claims/").json()
        assert [c["id"] for c in mine] == [claim["id"]]

        # when they save a draft with a rating but no decision yet
        draft = {
            "scores": [{"criterion_id": score["criterion_id"], "score": 1, "comment": "Good"}],
            "overall_feedback": "So far so good.",
        }
        saved = api.put(base(org) + f"claims/{claim['id']}/review/", draft, format="json")

        # then the draft is kept and shown again when the claim is reopened
        assert saved.status_code == 200, saved.content
        assert saved.json()["review"]["scores"][0]["score"] == 1
        again = api.get(base(org) + f"claims/{claim['id']}/").json()["claim"]["review"]
        assert (again["overall_feedback"], again["scores"][0]["comment"]) == (
            "So far so good.",
            "Good",
        )
        assert status_of(submission) == Application.Status.IN_REVIEW

        # when they submit the decision
        decided = submit(api, org, claim, review_body(claim, "approve"))

        # then the application is approved and the claim is done
        assert decided.status_code == 200, decided.content
        body = decided.json()
        assert body["application_status"] == "approved"
        assert body["review"]["status"] == "submitted"
        assert body["review"]["decision"] == "approve"
        assert status_of(submission) == Application.Status.APPROVED
        assert api.get(base(org) + f"claims/{claim['id']}/").json()["claim"]["status"] == (
            "completed"
        )
        assert api.get(base(org) + "claims/").json() == []
        assert api.get(base(org) + "queue/").json()["count"] == 0

    def test_needs_revision_returns_it_to_the_educator(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)

        response = submit(api, org, claim, review_body(claim, "needs_revision", score=0))

        assert response.status_code == 200, response.content
        assert response.json()["application_status"] == "needs_revision"
        submission.refresh_from_db()
        assert submission.outcome == "needs_revision"
        assert "Add student samples." in submission.feedback_summary
        assert [f["comment"] for f in submission.feedback] == ["Clear plan."]

    def test_not_awarded_closes_it(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)

        response = submit(api, org, claim, review_body(claim, "not_awarded", score=0))

        assert response.status_code == 200, response.content
        assert response.json()["application_status"] == "not_awarded"
        assert status_of(submission) == Application.Status.NOT_AWARDED

    def test_every_gap_is_reported_and_nothing_is_saved(self, api, org, make_submission) -> None:
        # given a claim with a saved draft
        submission = make_submission()
        claim = claim_next(api, org)
        criterion_id = claim["review"]["scores"][0]["criterion_id"]
        url = base(org) + f"claims/{claim['id']}/review/"
        api.put(url, {"overall_feedback": "Draft words."}, format="json")

        # when they submit needs revision without rating, feedback or what to change
        body = {"decision": "needs_revision", "overall_feedback": "  ", "scores": []}
        response = api.post(url + "submit/", body, format="json")

        # then every gap is named at once
        assert response.status_code == 400
        error = response.json()
        assert error["code"] == "incomplete"
        assert set(error["fields"]) == {
            f"criterion_{criterion_id}",
            "overall_feedback",
            "revision_request",
        }
        # and nothing changed
        review = Review.objects.get(claim__public_id=claim["id"])
        assert (review.status, review.overall_feedback) == ("draft", "Draft words.")
        assert status_of(submission) == Application.Status.IN_REVIEW

    def test_a_rating_off_the_scale_is_refused(self, api, org, make_submission) -> None:
        make_submission()
        claim = claim_next(api, org)
        criterion_id = claim["review"]["scores"][0]["criterion_id"]

        response = api.put(
            base(org) + f"claims/{claim['id']}/review/",
            {"scores": [{"criterion_id": criterion_id, "score": 7}]},
            format="json",
        )

        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert f"criterion_{criterion_id}" in response.json()["fields"]
        assert CriterionScore.objects.get(review__claim__public_id=claim["id"]).score is None

    def test_release_gives_it_back_to_the_queue(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)

        response = api.post(base(org) + f"claims/{claim['id']}/release/")

        assert response.status_code == 200, response.content
        released = response.json()["claim"]
        assert released["status"] == "released"
        assert released["review"] is None and released["evidence"] == []
        assert status_of(submission) == Application.Status.SUBMITTED
        assert api.get(base(org) + "queue/").json()["count"] == 1
        assert api.get(base(org) + "claims/").json() == []


# --- Double review -------------------------------------------------------------------------


class TestDoubleReview:
    def test_two_agreeing_reviews_decide(self, api, org, reviewer, make_submission) -> None:
        # given a credential that needs two reviewers
        submission = make_submission(reviewers_required=2)
        second = client_for(staff(org))

        # when the first approves
        first_claim = claim_next(api, org)
        first = submit(api, org, first_claim, review_body(first_claim, "approve"))

        # then it waits for the second, which the first cannot take again
        assert first.status_code == 200, first.content
        assert first.json()["application_status"] == "in_review"
        assert api.get(base(org) + "queue/").json()["count"] == 0
        refused = api.post(base(org) + "claims/", {}, format="json")
        assert (refused.status_code, refused.json()["code"]) == (400, "queue_empty")
        row = second.get(base(org) + "queue/").json()["results"][0]
        assert (row["reviews_required"], row["reviews_done"]) == (2, 1)

        # when the second reviewer approves too
        second_claim = claim_next(second, org)
        assert second_claim["submission"]["id"] == first_claim["submission"]["id"]
        decided = submit(second, org, second_claim, review_body(second_claim, "approve"))

        # then the decision stands
        assert decided.json()["application_status"] == "approved"
        assert status_of(submission) == Application.Status.APPROVED

    def test_disagreement_goes_to_an_adjudicator(self, api, org, make_submission) -> None:
        # given two reviewers who disagree
        submission = make_submission(reviewers_required=2)
        second = client_for(staff(org))
        first_claim = claim_next(api, org)
        submit(api, org, first_claim, review_body(first_claim, "approve"))
        second_claim = claim_next(second, org)
        response = submit(second, org, second_claim, review_body(second_claim, "not_awarded", 0))

        # then the application waits for adjudication, out of the reviewers' queue
        assert response.json()["application_status"] == "in_review"
        third = client_for(staff(org))
        assert third.get(base(org) + "queue/").json()["count"] == 0
        # and a plain reviewer may not adjudicate
        refused = third.post(base(org) + "claims/", {"adjudication": True}, format="json")
        assert (refused.status_code, refused.json()["code"]) == (400, "not_a_reviewer")

        # when a program admin claims it for adjudication
        admin = client_for(staff(org, StaffRole.Role.PROGRAM_ADMIN))
        claim = claim_next(admin, org, adjudication=True)

        # then they see both reviews and decide
        assert claim["is_adjudication"] is True
        assert sorted(r["decision"] for r in claim["prior_reviews"]) == ["approve", "not_awarded"]
        assert [s["score"] for r in claim["prior_reviews"] for s in r["scores"]] in ([1, 0], [0, 1])
        decided = submit(admin, org, claim, review_body(claim, "approve"))
        assert decided.status_code == 200, decided.content
        assert decided.json()["application_status"] == "approved"
        assert status_of(submission) == Application.Status.APPROVED


# --- Refusals ------------------------------------------------------------------------------


class TestRefusals:
    def test_no_decision_on_a_released_claim(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)
        api.post(base(org) + f"claims/{claim['id']}/release/")

        for response in (
            submit(api, org, claim, review_body(claim)),
            api.put(base(org) + f"claims/{claim['id']}/review/", review_body(claim), format="json"),
            api.post(base(org) + f"claims/{claim['id']}/release/"),
        ):
            assert response.status_code == 400
            assert response.json()["code"] == "not_claimed"
            assert response.json()["message"] == (
                "This claim was released; claim the submission again."
            )
        assert submitted_reviews(submission) == 0
        assert status_of(submission) == Application.Status.SUBMITTED

    def test_no_decision_on_an_expired_claim(self, api, org, make_submission) -> None:
        # given a claim whose time ran out
        submission = make_submission()
        claim = claim_next(api, org)
        Claim.objects.filter(public_id=claim["id"]).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )

        # when the reviewer submits their decision
        response = submit(api, org, claim, review_body(claim))

        # then it is refused and says why, and nothing is decided
        assert response.status_code == 400
        assert response.json()["code"] == "claim_expired"
        assert "expired" in response.json()["message"]
        assert submitted_reviews(submission) == 0
        assert not Submission.objects.get(pk=submission.pk).outcome
        # and the claim shows as expired, without evidence, and is no longer among theirs
        shown = api.get(base(org) + f"claims/{claim['id']}/").json()["claim"]
        assert (shown["status"], shown["evidence"], shown["educator"]) == ("expired", [], None)
        assert api.get(base(org) + "claims/").json() == []

    def test_approve_below_passing_is_refused(self, api, org, make_submission) -> None:
        # given a claim whose one criterion passes at level 1
        submission = make_submission()
        claim = claim_next(api, org)
        (criterion_id,) = [s["criterion_id"] for s in claim["review"]["scores"]]

        # when the reviewer approves at level 0
        response = submit(api, org, claim, review_body(claim, "approve", 0))

        # then it is refused, each criterion below passing named in its field, nothing saved
        assert response.status_code == 400
        assert response.json() == {
            "code": "below_passing",
            "message": "You cannot approve: 1 criterion is below the passing level.",
            "fields": {
                f"criterion_{criterion_id}": [
                    "“Plan aligns with the method” is rated “Not yet” (0); approving needs at "
                    "least “Meets” (1)."
                ],
                "decision": [
                    "Approve needs every criterion at its passing level; 1 is below it. Ask "
                    "for a revision or do not award."
                ],
            },
        }
        assert submitted_reviews(submission) == 0
        assert status_of(submission) == Application.Status.IN_REVIEW
        # and the same ratings may still ask for a revision
        revise = submit(api, org, claim, review_body(claim, "needs_revision", 0))
        assert revise.status_code == 200, revise.content
        assert status_of(submission) == Application.Status.NEEDS_REVISION

    def test_a_second_decision_is_refused(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)
        assert submit(api, org, claim, review_body(claim, "approve")).status_code == 200

        again = submit(api, org, claim, review_body(claim, "not_awarded", 0))

        assert again.status_code == 400
        assert again.json()["code"] == "already_decided"
        assert again.json()["message"] == "You have already decided this submission."
        assert submitted_reviews(submission) == 1
        assert status_of(submission) == Application.Status.APPROVED

    def test_someone_without_the_reviewer_role_gets_404(self, api, org, make_submission) -> None:
        # given a claim, and an educator of the organization who is no reviewer
        submission = make_submission()
        claim = claim_next(api, org)
        member = UserFactory()
        MembershipFactory(organization=org, user=member, member_until=None)
        stranger = client_for(member)

        # when they try every URL
        for method, url, body in every_url(org, claim["id"], review_body(claim)):
            response = getattr(stranger, method)(url, body, format="json")

            # then each answers 404
            assert response.status_code == 404, (method, url, response.status_code)
            assert response.json()["code"] == "not_found"
        # and nothing changed
        assert Claim.objects.get(public_id=claim["id"]).status == Claim.Status.ACTIVE
        assert submitted_reviews(submission) == 0

    def test_another_reviewers_claim_is_404(self, api, org, make_submission) -> None:
        submission = make_submission()
        claim = claim_next(api, org)
        colleague = client_for(staff(org))

        for method, url, body in every_url(org, claim["id"], review_body(claim))[3:]:
            response = getattr(colleague, method)(url, body, format="json")
            assert response.status_code == 404, (method, url)
        assert Claim.objects.get(public_id=claim["id"]).status == Claim.Status.ACTIVE
        assert submitted_reviews(submission) == 0

    def test_anonymous_callers_are_refused(self, org) -> None:
        for method, url, body in every_url(org, str(uuid.uuid4()), {}):
            response = getattr(APIClient(), method)(url, body, format="json")
            assert response.status_code == 403, (method, url)
            assert response.json()["code"] == "not_authenticated"

    def test_a_reviewer_never_gets_their_own_submission(self, org, make_submission) -> None:
        # given an educator who is also a reviewer, with a submission of their own
        teacher = staff(org, email="teacher-reviewer@example.org")
        own = make_submission(educator=teacher)
        api = client_for(teacher)

        # then it is not in their queue, and claim-next does not give it to them
        assert api.get(base(org) + "queue/").json()["count"] == 0
        empty = api.post(base(org) + "claims/", {}, format="json")
        assert (empty.status_code, empty.json()["code"]) == (400, "queue_empty")
        assert empty.json()["message"] == "Nothing is waiting for you in the queue."

        # when someone else's submission arrives, even a newer one, that is what they get
        other = make_submission()
        claim = claim_next(api, org)
        assert claim["submission"]["code"] == other.application.anonymous_code
        assert status_of(own) == Application.Status.SUBMITTED


def every_url(org: Organization, claim_id: str, body: dict[str, Any]) -> list[tuple]:
    root = base(org)
    return [
        ("get", root + "queue/", {}),
        ("get", root + "claims/", {}),
        ("post", root + "claims/", {}),
        ("get", root + f"claims/{claim_id}/", {}),
        ("post", root + f"claims/{claim_id}/release/", {}),
        ("put", root + f"claims/{claim_id}/review/", body),
        ("post", root + f"claims/{claim_id}/review/submit/", body),
    ]


# --- Blind review ----------------------------------------------------------------------------


def test_blind_review_never_shows_who_the_educator_is(org, api, make_submission, educator) -> None:
    # given a submission in a program with blind review
    blind = ProgramFactory(organization=org, blind_review=True)
    submission = make_submission(educator=educator, program=blind)
    responses = []

    def record(response: Any) -> Any:
        assert response.status_code in (200, 201), response.content
        responses.append(response)
        return response

    # when the reviewer goes through everything the API offers
    record(api.get(base(org) + "queue/"))
    claim = record(api.post(base(org) + "claims/", {}, format="json")).json()["claim"]
    record(api.get(base(org) + "claims/"))
    record(api.get(base(org) + f"claims/{claim['id']}/"))
    record(api.put(base(org) + f"claims/{claim['id']}/review/", review_body(claim), format="json"))
    record(api.post(base(org) + f"claims/{claim['id']}/release/"))
    claim = record(api.post(base(org) + "claims/", {}, format="json")).json()["claim"]
    assert claim["submission"]["code"] == submission.application.anonymous_code
    record(submit(api, org, claim, review_body(claim, "approve")))
    record(api.get(base(org) + f"claims/{claim['id']}/"))
    refused = submit(api, org, claim, review_body(claim, "approve"))
    responses.append(refused)

    # then no response names the educator, their e-mail, school or district
    assert claim["educator"] is None and claim["evidence"]
    identity = [*IDENTITY.values(), "quarrington", "maplegrove"]
    for response in responses:
        text = response.content.decode().lower()
        for value in identity:
            assert value.lower() not in text, (response.request["PATH_INFO"], value)


# --- Another organization --------------------------------------------------------------------


def test_another_organizations_reviewer_gets_404_everywhere(api, org, make_submission) -> None:
    # given a claim in this organization, and a reviewer of another with their own submission
    submission = make_submission()
    claim = claim_next(api, org)
    elsewhere = OrganizationFactory()
    make_submission(organization=elsewhere)
    outsider = client_for(staff(elsewhere, email="reviewer@elsewhere.example"))
    body = review_body(claim, "not_awarded", 0)

    # when they try every URL with this organization's slug
    for method, url, payload in every_url(org, claim["id"], body):
        response = getattr(outsider, method)(url, payload, format="json")

        # then each answers 404
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json()["code"] == "not_found"

    # when they try this organization's claim under their own organization's slug
    for method, url, payload in every_url(elsewhere, claim["id"], body)[3:]:
        response = getattr(outsider, method)(url, payload, format="json")

        # then it is 404 too
        assert response.status_code == 404, (method, url, response.status_code)

    # and their queue shows only their organization's submission
    queue = outsider.get(base(elsewhere) + "queue/").json()["results"]
    assert [row["id"] for row in queue] != [claim["submission"]["id"]]
    assert len(queue) == 1
    # and nothing changed here
    assert Claim.objects.get(public_id=claim["id"]).status == Claim.Status.ACTIVE
    assert submitted_reviews(submission) == 0
    assert status_of(submission) == Application.Status.IN_REVIEW


# --- Query counts and the schema ----------------------------------------------------------


def test_the_claim_list_runs_the_same_queries_for_1_or_3_claims(
    org, make_submission, count_queries: Callable[..., Any]
) -> None:
    reviewer = staff(org, StaffRole.Role.SENIOR_REVIEWER)
    api = client_for(reviewer)
    for _ in range(3):
        make_submission()
    claim_next(api, org)
    small = count_queries(lambda: api.get(base(org) + "claims/"))
    claim_next(api, org)
    claim_next(api, org)

    large = count_queries(lambda: api.get(base(org) + "claims/"))

    assert len(api.get(base(org) + "claims/").json()) == 3
    assert_same_query_count(small, large)


def test_the_schema_documents_the_review_api(tmp_path) -> None:
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = out.read_text()
    for operation in (
        "review_queue_list",
        "review_claim_list",
        "review_claim_create",
        "review_claim_detail",
        "review_claim_release",
        "review_save_draft",
        "review_submit",
    ):
        assert f"operationId: {operation}" in schema
