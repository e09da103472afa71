"""The reviewer's pages: the queue (eligibility, filters, claim next, my claims, release,
adjudication), the review page (evidence, drafts, submit with every gap reported, decisions),
evidence files as signed links, blind review, conflicts of interest, the header link, 404s across
organizations, and fixed query counts."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
import requests
from django.core import mail
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from programs.models import AuditEvent, Organization, StaffRole, User
from reviews import services
from reviews.models import Claim, ConflictOfInterest, CriterionScore, Review
from submissions import services as submission_services
from submissions.models import Application, EvidenceItem, Submission
from tests.conftest import assert_same_query_count
from tests.factories import (
    OrganizationFactory,
    ProgramFactory,
    StaffRoleFactory,
    UserFactory,
    make_credential,
)
from tests.reviews.conftest import decide, full_scores
from tests.submissions.conftest import PDF

pytestmark = pytest.mark.django_db


# --- Helpers -------------------------------------------------------------------------------------


def queue_url(org: Organization, query: str = "") -> str:
    return f"/o/{org.slug}/review/" + (f"?{query}" if query else "")


def review_url(claim: Claim, suffix: str = "") -> str:
    return f"/o/{claim.organization.slug}/review/claims/{claim.public_id}/{suffix}"


def file_url(claim: Claim, item: EvidenceItem) -> str:
    return review_url(claim, f"items/{item.public_id}/file/")


def body(response) -> str:
    return response.content.decode()


def code_of(submission: Submission) -> str:
    return Application.objects.get(pk=submission.application_id).anonymous_code


def criterion_pk(submission: Submission) -> int:
    return next(iter(full_scores(submission)))


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def role(org: Organization, kind: str = StaffRole.Role.REVIEWER, **user_fields) -> User:
    return StaffRoleFactory(organization=org, role=kind, user=UserFactory(**user_fields)).user


def file_item(submission: Submission) -> EvidenceItem:
    return Submission.objects.get(pk=submission.pk).items.get(kind=EvidenceItem.Kind.FILE)


def claim_by_post(client: Client, org: Organization, **data: str) -> Claim:
    response = client.post(queue_url(org) + "claim/", data)
    assert response.status_code == 302, body(response)
    claim_id = re.search(r"/claims/([0-9a-f-]{36})/", response["Location"])
    assert claim_id, response["Location"]
    return Claim.objects.get(public_id=claim_id.group(1))


def clone_waiting(organization: Organization, versions: list, n: int) -> None:
    """Submitted attempts written straight to the database (no uploads): for query counts."""
    now = timezone.now()
    for i in range(n):
        version = versions[i % len(versions)]
        application = Application.objects.create(
            organization=organization,
            educator=UserFactory(),
            credential_id=version.credential_id,
            version=version,
            status=Application.Status.SUBMITTED,
            submitted_at=now,
        )
        Submission.objects.create(
            organization=organization,
            application=application,
            number=1,
            submitted_at=now - dt.timedelta(hours=i + 1),
            due_at=now + dt.timedelta(days=3 - i % 7),
        )


# --- The queue -----------------------------------------------------------------------------------


class TestQueue:
    def test_lists_only_what_this_reviewer_may_score(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        # given a reviewer limited to one program, and submissions in and around it
        program = ProgramFactory(organization=org, name="Coaching")
        StaffRole.objects.get(user=reviewer, organization=org).programs.set([program])
        eligible = make_submission(program=program, title="Peer Coaching")
        other_program = make_submission(title="Data Literacy")
        own = make_submission(program=program, educator=reviewer)
        elsewhere = make_submission(organization=OrganizationFactory(), title="Peer Coaching")
        # when they open the queue
        page = body(logged_in(reviewer).get(queue_url(org)))
        # then only the eligible one is listed, by its code, never by a name
        assert code_of(eligible) in page
        assert "Peer Coaching" in page
        for hidden in (other_program, own, elsewhere):
            assert code_of(hidden) not in page
        assert 'Waiting for review <span class="muted">(1)</span>' in page
        educator = Application.objects.get(pk=eligible.application_id).educator
        assert educator.full_name not in page and educator.email not in page
        # and the filters offer only the programs in their scope
        assert ">Coaching</option>" in page
        assert "Data Literacy</option>" not in page

    def test_filters_by_program_and_credential_and_sorts(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        coaching = ProgramFactory(organization=org, name="Coaching", slug="coaching")
        first = make_submission(program=coaching, title="Peer Coaching")
        second = make_submission(title="Data Literacy")
        Submission.objects.filter(pk=first.pk).update(
            submitted_at=timezone.now() - dt.timedelta(days=3)
        )
        client = logged_in(reviewer)
        # by program
        page = body(client.get(queue_url(org, "program=coaching")))
        assert code_of(first) in page and code_of(second) not in page
        # by credential
        slug = Application.objects.get(pk=second.application_id).credential.slug
        page = body(client.get(queue_url(org, f"credential={slug}")))
        assert code_of(second) in page and code_of(first) not in page
        # oldest first by default, newest first on request
        page = body(client.get(queue_url(org)))
        assert page.index(code_of(first)) < page.index(code_of(second))
        assert "3 days" in page
        page = body(client.get(queue_url(org, "sort=newest")))
        assert page.index(code_of(second)) < page.index(code_of(first))
        # a filter that matches nothing says so
        page = body(client.get(queue_url(org, "program=nothing-here")))
        assert "Nothing waiting matches these filters." in page

    def test_time_left_before_the_turnaround_target(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        late = make_submission()
        Submission.objects.filter(pk=late.pk).update(
            due_at=timezone.now() - dt.timedelta(days=1, hours=2)
        )
        on_time = make_submission()
        page = body(logged_in(reviewer).get(queue_url(org)))
        assert '<span class="due due-overdue">overdue by 1 day</span>' in page
        due = Submission.objects.get(pk=on_time.pk).due_at
        assert due is not None and due > timezone.now()
        assert re.search(r'<span class="due">\d+ business days? left</span>', page)

    def test_empty_queue(self, org: Organization, reviewer: User) -> None:
        page = body(logged_in(reviewer).get(queue_url(org)))
        assert "The queue is empty." in page
        assert "You hold no claims." in page
        assert "Needs adjudication" not in page  # a plain reviewer does not adjudicate

    def test_someone_without_a_reviewer_role_gets_404(self, org: Organization) -> None:
        educator = UserFactory()
        assert logged_in(educator).get(queue_url(org)).status_code == 404

    def test_an_anonymous_visitor_is_asked_to_log_in(self, org: Organization) -> None:
        response = Client().get(queue_url(org))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_query_count_does_not_grow_with_the_queue(
        self, org: Organization, count_queries
    ) -> None:
        # given an adjudicator holding a claim, and a queue of 1, then of 50
        senior = role(org, StaffRole.Role.SENIOR_REVIEWER)
        versions = [make_credential(org, non_member_fee=0) for _ in range(5)]
        clone_waiting(org, versions, 2)
        services.review_claim_next(organization=org, reviewer=senior)
        client = logged_in(senior)
        small = count_queries(lambda: client.get(queue_url(org)))
        assert body(client.get(queue_url(org))).count('data-label="Submission"') == 1
        clone_waiting(org, versions, 50)
        large = count_queries(lambda: client.get(queue_url(org)))
        page = body(client.get(queue_url(org)))
        assert page.count('data-label="Submission"') == 25
        assert "Page 1 of 3" in page
        # then the count is the same
        assert_same_query_count(small, large)


# --- Claiming and releasing ---------------------------------------------------------------------


class TestClaims:
    def test_claim_next_opens_the_review_page_of_the_oldest(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        older = make_submission(title="Peer Coaching")
        make_submission()
        Submission.objects.filter(pk=older.pk).update(
            submitted_at=timezone.now() - dt.timedelta(days=2)
        )
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        assert claim.submission_id == older.pk and claim.reviewer_id == reviewer.pk
        response = client.get(review_url(claim))
        page = body(response)
        assert response.status_code == 200
        assert "Peer Coaching" in page and code_of(older) in page
        assert f"You claimed {code_of(older)}" in page
        assert "Attempt</dt><dd>1 of 3" in page
        # and it is listed under My claims, with the time left
        page = body(client.get(queue_url(org)))
        assert 'My claims <span class="muted">(1)</span>' in page
        assert "47 hours left" in page  # of the 48 the program gives

    def test_claim_next_respects_the_filters(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        make_submission()
        coaching = ProgramFactory(organization=org, slug="coaching")
        wanted = make_submission(program=coaching)
        Submission.objects.filter(pk=wanted.pk).update(
            submitted_at=timezone.now() - dt.timedelta(minutes=1)
        )
        claim = claim_by_post(logged_in(reviewer), org, program="coaching")
        assert claim.submission_id == wanted.pk

    def test_two_reviewers_never_get_the_same_submission(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        first, second = make_submission(), make_submission()
        other = role(org)
        mine = claim_by_post(logged_in(reviewer), org)
        theirs = claim_by_post(logged_in(other), org)
        assert {mine.submission_id, theirs.submission_id} == {first.pk, second.pk}
        # and a third click finds nothing left
        response = logged_in(reviewer).post(queue_url(org) + "claim/", follow=True)
        assert "Nothing is waiting for you in the queue." in body(response)
        assert Claim.objects.count() == 2

    def test_release_returns_the_submission_to_the_queue(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        other = logged_in(role(org))
        assert code_of(submission) not in body(other.get(queue_url(org)))
        # when the reviewer releases it
        response = client.post(review_url(claim, "release/"), follow=True)
        # then it is back in everyone's queue, and the claim is over
        assert f"You released {code_of(submission)}" in body(response)
        assert code_of(submission) in body(other.get(queue_url(org)))
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.RELEASED
        application = Application.objects.get(pk=submission.application_id)
        assert application.status == Application.Status.SUBMITTED
        # and its page is closed to the reviewer
        response = client.get(review_url(claim), follow=True)
        assert "This claim has ended" in body(response)

    def test_a_claim_is_only_its_reviewers(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        other = logged_in(role(org))
        assert other.get(review_url(claim)).status_code == 404
        assert other.post(review_url(claim, "release/")).status_code == 404
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE


# --- The review page -----------------------------------------------------------------------------


class TestReviewPage:
    def test_shows_requirements_evidence_and_rubric(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        page = body(logged_in(reviewer).get(review_url(claim)))
        item = file_item(submission)
        # each requirement in order, with its instructions
        assert page.index("Lesson plan") < page.index("Reflection")
        assert "Upload the lesson plan you taught." in page
        # the PDF inline, opened at the width of the page, with a way out
        viewer = f"{file_url(claim, item)}#view=FitH&amp;zoom=page-width"
        assert f'<object data="{viewer}" type="application/pdf"' in page
        assert "Open plan.pdf" in page
        # the written answer as text
        assert "I changed the lesson because the exit tickets" in page
        # the criterion as radios with labels and descriptors, and a comment box
        pk = criterion_pk(submission)
        assert f'<fieldset class="criterion" id="criterion_{pk}"' in page
        assert "<legend>Plan aligns with the method</legend>" in page
        assert f'name="score_{pk}" value="0"' in page and f'name="score_{pk}" value="1"' in page
        assert "The plan uses every component." in page
        assert f'<label class="comment-label" for="comment_{pk}">' in page
        # the decision, and the buttons
        for value in ("approve", "needs_revision", "not_awarded"):
            assert f'name="decision" value="{value}"' in page
        assert 'value="draft"' in page and 'value="submit"' in page
        assert "Release this claim" in page

    def test_media_are_shown_inline_by_type(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        lesson = file_item(submission)
        for name, content_type in [
            ("class.mp4", "video/mp4"),
            ("talk.mp3", "audio/mpeg"),
            ("board.png", "image/png"),
            ("data.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ]:
            extra = EvidenceItem.objects.create(
                organization=org,
                application_id=submission.application_id,
                requirement_id=lesson.requirement_id,
                kind=EvidenceItem.Kind.FILE,
                status=EvidenceItem.Status.READY,
                storage_key=f"org-{org.pk}/test/{name}",
                display_name=name,
                content_type=content_type,
                size=1000,
            )
            submission.items.add(extra)
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        page = body(logged_in(reviewer).get(review_url(claim)))
        assert '<video controls preload="metadata"' in page
        assert "<audio controls" in page
        assert re.search(r'<img src="[^"]+/file/" alt="board.png"', page)
        assert re.search(r'<a href="[^"]+/file/" target="_blank" rel="noopener">Download', page)
        # a video's signed link lasts long enough to watch and seek through; a PDF's does not
        client = logged_in(reviewer)
        video = submission.items.get(display_name="class.mp4")
        assert "X-Amz-Expires=14400" in client.get(file_url(claim, video))["Location"]
        assert "X-Amz-Expires=300" in client.get(file_url(claim, lesson))["Location"]

    def test_save_draft_keeps_the_values(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        # when the reviewer saves a draft
        response = client.post(
            review_url(claim),
            {
                "action": "draft",
                f"score_{pk}": "1",
                f"comment_{pk}": "Every component is there.",
                "overall_feedback": "A strong plan so far.",
                "decision": "approve",
            },
        )
        assert response.status_code == 302 and response["Location"] == review_url(claim)
        # then it is saved, and shown again
        page = body(client.get(review_url(claim)))
        assert "Your draft review of" in page
        assert f'name="score_{pk}" value="1" data-meets checked' in page
        assert "Every component is there.</textarea>" in page
        assert "A strong plan so far.</textarea>" in page
        assert 'name="decision" value="approve" checked' in page
        score = CriterionScore.objects.get(review__claim=claim, criterion_id=pk)
        assert (score.score, score.comment) == (1, "Every component is there.")
        assert Review.objects.get(claim=claim).status == Review.Status.DRAFT

    def test_submit_with_gaps_shows_every_error_and_changes_nothing(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        # when they submit with no rating, no feedback and no decision
        response = client.post(
            review_url(claim), {"action": "submit", f"comment_{pk}": "Typed, not saved."}
        )
        # then every gap is listed and tied to its field
        page = body(response)
        assert response.status_code == 400
        assert "3 things missing before you can submit this review." in page
        assert "Nothing was saved." in page
        assert f'<a href="#criterion_{pk}">Rate “Plan aligns with the method”.</a>' in page
        assert '<a href="#decision">' in page and '<a href="#overall_feedback">' in page
        assert f'aria-describedby="criterion_{pk}-error"' in page
        assert f'id="criterion_{pk}-error">Rate' in page
        assert 'aria-describedby="overall_feedback-hint overall_feedback-error"' in page
        assert "Typed, not saved.</textarea>" in page
        # and nothing changed
        review = Review.objects.get(claim=claim)
        assert review.status == Review.Status.DRAFT
        assert CriterionScore.objects.get(review=review).comment == ""
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ACTIVE
        application = Application.objects.get(pk=submission.application_id)
        assert application.status == Application.Status.IN_REVIEW

    def test_approve_decides_the_application_and_emails_the_educator(
        self,
        org: Organization,
        reviewer: User,
        make_submission,
        django_capture_on_commit_callbacks,
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                review_url(claim),
                {
                    "action": "submit",
                    f"score_{pk}": "1",
                    f"comment_{pk}": "Clear.",
                    "overall_feedback": "Well done.",
                    "decision": "approve",
                },
            )
        assert response.status_code == 302 and response["Location"] == queue_url(org)
        page = body(client.get(queue_url(org)))
        assert f"Your review of {code_of(submission)} is submitted (approve)." in page
        application = Application.objects.select_related("educator").get(
            pk=submission.application_id
        )
        assert application.status == Application.Status.APPROVED
        assert Claim.objects.get(pk=claim.pk).status == Claim.Status.COMPLETED
        assert [m.to for m in mail.outbox] == [[application.educator.email]]
        assert "approved" in mail.outbox[0].subject
        # the reviewer can still read what they decided, but not change it
        page = body(client.get(review_url(claim)))
        assert "You submitted this review on" in page
        assert 'value="submit"' not in page

    def test_needs_revision_without_what_to_change_is_refused(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        data = {
            "action": "submit",
            f"score_{pk}": "0",
            "overall_feedback": "Close.",
            "decision": "needs_revision",
            "revision_request": "  ",
        }
        response = client.post(review_url(claim), data)
        page = body(response)
        assert response.status_code == 400
        assert 'id="revision_request-error">Say what the educator should change.' in page
        assert 'name="decision" value="needs_revision" checked' in page
        application = Application.objects.get(pk=submission.application_id)
        assert application.status == Application.Status.IN_REVIEW
        # with it, the educator is asked to revise
        data["revision_request"] = "Add student work samples."
        assert client.post(review_url(claim), data).status_code == 302
        application.refresh_from_db()
        assert application.status == Application.Status.NEEDS_REVISION

    def test_approve_is_offered_only_when_every_criterion_passes(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        # given a fresh claim: nothing rated yet
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        page = body(client.get(review_url(claim)))
        # then the summary counts none at passing and Approve is not offered
        assert "<strong>0 of 1</strong> criteria at passing level: approve is offered" in page
        assert 'name="decision" value="approve" disabled' in page
        assert f'<li><a href="#criterion_{pk}">Plan aligns with the method</a></li>' in page
        # and the levels that reach passing are marked for the live summary
        assert f'name="score_{pk}" value="1" data-meets' in page
        assert f'name="score_{pk}" value="0" data-meets' not in page
        # when a draft rates the criterion at its passing level, Approve is offered
        client.post(review_url(claim), {"action": "draft", f"score_{pk}": "1"})
        page = body(client.get(review_url(claim)))
        assert "<strong>1 of 1</strong> criteria at passing level." in page
        assert 'name="decision" value="approve" disabled' not in page

    def test_approve_below_passing_is_refused_naming_the_criterion(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        # when a reviewer posts approve with the criterion below passing (no script, or forged)
        response = client.post(
            review_url(claim),
            {
                "action": "submit",
                f"score_{pk}": "0",
                "overall_feedback": "Good start.",
                "decision": "approve",
            },
        )
        # then the page says why, names the criterion at its field, and nothing is decided
        page = body(response)
        assert response.status_code == 400
        assert "You cannot approve: 1 criterion is below the passing level." in page
        assert "Nothing was saved." in page
        assert (
            f'id="criterion_{pk}-error">“Plan aligns with the method” is rated “Not yet” (0); '
            "approving needs at least “Meets” (1)." in page
        )
        assert 'id="decision-error">Approve needs every criterion at its passing level' in page
        review = Review.objects.get(claim=claim)
        assert review.status == Review.Status.DRAFT
        assert CriterionScore.objects.get(review=review).score is None
        assert Application.objects.get(pk=submission.application_id).status == "in_review"

    def test_at_the_last_attempt_needs_revision_is_not_offered(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        make_submission(max_attempts=1)
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        page = body(logged_in(reviewer).get(review_url(claim)))
        assert 'name="decision" value="needs_revision" disabled' in page
        assert "This is the last attempt (1 of 1): approve or do not award." in page
        assert 'aria-describedby="approve-hint decision-hint"' in page

    def test_an_expired_claim_sends_the_reviewer_back_to_the_queue(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        Claim.objects.filter(pk=claim.pk).update(expires_at=timezone.now() - dt.timedelta(1))
        response = client.get(review_url(claim), follow=True)
        assert response.redirect_chain[-1][0] == queue_url(org)
        assert "This claim has ended" in body(response)
        pk = criterion_pk(submission)
        response = client.post(review_url(claim), {"action": "draft", f"score_{pk}": "1"})
        assert response.status_code == 302 and response["Location"] == queue_url(org)
        assert "Your claim expired" in body(client.get(queue_url(org)))
        assert CriterionScore.objects.filter(score__isnull=False).count() == 0

    def test_a_rating_off_the_scale_is_refused(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = claim_by_post(client, org)
        pk = criterion_pk(submission)
        response = client.post(review_url(claim), {"action": "draft", f"score_{pk}": "7"})
        assert response.status_code == 400
        assert "choose one of its levels" in body(response)
        assert CriterionScore.objects.get(review__claim=claim).score is None

    def test_earlier_feedback_is_shown_on_a_resubmission(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        decide(claim, reviewer, "needs_revision", score=0)
        application = Application.objects.get(pk=submission.application_id)
        # the evidence carries over: the educator resubmits it as it is
        submission_services.application_submit(application=application, actor=application.educator)
        other = role(org)
        claim = services.review_claim_next(organization=org, reviewer=other)
        page = body(logged_in(other).get(review_url(claim)))
        assert "Attempt</dt><dd>2 of 3" in page
        assert "Feedback on earlier attempts (1)" in page
        assert "Attempt 1: returned for revision" in page
        assert "What to change: Add student samples." in page

    def test_query_count_does_not_grow_with_the_evidence(
        self, org: Organization, reviewer: User, make_submission, count_queries
    ) -> None:
        submission = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        lesson = file_item(submission)
        client = logged_in(reviewer)
        small = count_queries(lambda: client.get(review_url(claim)))
        for n in range(19):
            extra = EvidenceItem.objects.create(
                organization=org,
                application_id=submission.application_id,
                requirement_id=lesson.requirement_id,
                kind=EvidenceItem.Kind.FILE,
                status=EvidenceItem.Status.READY,
                storage_key=f"org-{org.pk}/test/{n}",
                display_name=f"photo-{n}.png",
                content_type="image/png",
                size=1000,
            )
            submission.items.add(extra)
        large = count_queries(lambda: client.get(review_url(claim)))
        assert body(client.get(review_url(claim))).count('class="evidence-file"') == 20
        assert_same_query_count(small, large)


# --- Double review and adjudication --------------------------------------------------------------


class TestAdjudication:
    def test_the_adjudicator_sees_both_reviews_and_decides(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission(reviewers_required=2)
        second = role(org)
        decide(services.review_claim_next(organization=org, reviewer=reviewer), reviewer)
        decide(
            services.review_claim_next(organization=org, reviewer=second),
            second,
            "not_awarded",
            score=0,
        )
        senior = role(org, StaffRole.Role.SENIOR_REVIEWER)
        client = logged_in(senior)
        page = body(client.get(queue_url(org)))
        assert 'Needs adjudication <span class="muted">(1)</span>' in page
        assert "Claim next for adjudication" in page
        claim = claim_by_post(client, org, adjudication="1")
        assert claim.is_adjudication and claim.submission_id == submission.pk
        page = body(client.get(review_url(claim)))
        assert "The two reviews" in page
        assert "Review 1" in page and "Review 2" in page
        assert "Approve</span>" in page and "Not awarded</span>" in page
        assert "Meets (1)" in page and "Not yet (0)" in page
        pk = criterion_pk(submission)
        response = client.post(
            review_url(claim),
            {
                "action": "submit",
                f"score_{pk}": "1",
                "overall_feedback": "Meets the standard.",
                "decision": "approve",
            },
        )
        assert response.status_code == 302
        application = Application.objects.get(pk=submission.application_id)
        assert application.status == Application.Status.APPROVED


# --- Evidence files ------------------------------------------------------------------------------


class TestEvidenceFiles:
    def test_the_claim_holder_gets_a_signed_link(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        item = file_item(submission)
        response = logged_in(reviewer).get(file_url(claim, item))
        assert response.status_code == 302
        assert response["Cache-Control"] == "private, no-store"
        assert "X-Amz-Signature=" in response["Location"]
        # the link really serves the file, inline
        stored = requests.get(response["Location"], timeout=30)
        assert stored.status_code == 200 and stored.content == PDF
        assert stored.headers["Content-Disposition"].startswith('inline; filename="plan.pdf"')

    def test_no_one_else_gets_it(self, org: Organization, reviewer: User, make_submission) -> None:
        submission = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        url = file_url(claim, file_item(submission))
        assert Client().get(url).status_code == 404  # anonymous
        assert logged_in(role(org)).get(url).status_code == 404  # another reviewer
        elsewhere = OrganizationFactory()
        assert logged_in(role(elsewhere)).get(url).status_code == 404  # another organization
        educator = Application.objects.get(pk=submission.application_id).educator
        assert logged_in(educator).get(url).status_code == 404  # not through the review URL

    def test_an_item_of_another_submission_is_not_served_through_this_claim(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        make_submission()
        other = make_submission()
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        assert claim.submission_id != other.pk
        response = logged_in(reviewer).get(file_url(claim, file_item(other)))
        assert response.status_code == 404

    def test_after_release_the_link_is_gone_and_after_a_decision_it_stays(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission()
        client = logged_in(reviewer)
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        item = file_item(submission)
        services.review_claim_release(claim=claim, reviewer=reviewer)
        assert client.get(file_url(claim, item)).status_code == 404
        claim = services.review_claim_next(organization=org, reviewer=reviewer)
        decide(claim, reviewer)
        assert client.get(file_url(claim, item)).status_code == 302


# --- Another organization ------------------------------------------------------------------------


def test_a_reviewer_of_another_organization_gets_404_on_every_reviewer_url(
    org: Organization, reviewer: User, make_submission
) -> None:
    # given a claim in one organization
    submission = make_submission()
    claim = services.review_claim_next(organization=org, reviewer=reviewer)
    item = file_item(submission)
    ConflictOfInterest.objects.create(
        organization=org,
        reviewer=reviewer,
        kind="person",
        person=UserFactory(email="pat@example.org"),
    )
    # when a reviewer (even an owner) of another organization tries every URL
    elsewhere = OrganizationFactory()
    client = logged_in(role(elsewhere, StaffRole.Role.OWNER))
    base = queue_url(org)
    gets = [base, review_url(claim), file_url(claim, item), base + "conflicts/"]
    posts = [
        (base + "claim/", {}),
        (base + "claim/", {"adjudication": "1"}),
        (review_url(claim), {"action": "draft"}),
        (review_url(claim, "release/"), {}),
        (base + "conflicts/", {"kind": "person", "email": "pat@example.org"}),
        (base + "conflicts/remove/", {"kind": "person", "email": "pat@example.org"}),
    ]
    # then every one answers 404 and nothing changes
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    # the same claim through their own organization's address is not found either
    foreign = f"/o/{elsewhere.slug}/review/claims/{claim.public_id}/"
    assert client.get(foreign).status_code == 404
    assert client.get(foreign + f"items/{item.public_id}/file/").status_code == 404
    assert Claim.objects.get().status == Claim.Status.ACTIVE
    assert ConflictOfInterest.objects.count() == 1


# --- Blind review --------------------------------------------------------------------------------

NAME, EMAIL = "Zelda Quintero", "zelda.quintero@hawthorne.example"
SCHOOL, DISTRICT = "Hawthorne Elementary", "Riverside Unified"


def identified_educator() -> User:
    return UserFactory(full_name=NAME, email=EMAIL, school=SCHOOL, district=DISTRICT)


def leaks(text: str) -> list[str]:
    found = []
    for secret in (NAME, EMAIL, SCHOOL, DISTRICT, "Zelda", "Quintero"):
        if secret.lower() in text.lower() or quote(secret).lower() in text.lower():
            found.append(secret)
    return found


class TestBlindReview:
    def test_a_blind_program_shows_no_identity_anywhere(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        # given a blind-review program and an educator whose file is named after them
        program = ProgramFactory(organization=org, blind_review=True)
        submission = make_submission(program=program, educator=identified_educator())
        item = file_item(submission)
        EvidenceItem.objects.filter(pk=item.pk).update(display_name=f"{NAME} lesson plan.pdf")
        client = logged_in(reviewer)
        # when the reviewer goes through the queue, the review page and the file
        pages = [client.get(queue_url(org))]
        claim = claim_by_post(client, org)
        pages.append(client.get(review_url(claim)))
        pages.append(client.get(queue_url(org)))
        pk = criterion_pk(submission)
        pages.append(client.post(review_url(claim), {"action": "submit", f"comment_{pk}": "x"}))
        redirect = client.get(file_url(claim, item))
        # then the name, e-mail, school and district appear nowhere
        for response in pages:
            assert response.status_code in (200, 400)
            assert leaks(body(response)) == []
        assert leaks(redirect["Location"]) == []
        code = code_of(submission)
        assert code in body(pages[1])
        assert f"{code}-file-1.pdf" in body(pages[1])
        assert "Blind review: the educator's identity is hidden." in body(pages[1])
        stored = requests.get(redirect["Location"], timeout=30)
        assert f'filename="{code}-file-1.pdf"' in stored.headers["Content-Disposition"]

    def test_a_program_that_is_not_blind_shows_the_educator(
        self, org: Organization, reviewer: User, make_submission
    ) -> None:
        submission = make_submission(educator=identified_educator())
        client = logged_in(reviewer)
        queue = body(client.get(queue_url(org)))
        assert leaks(queue) == []  # the queue never shows names
        claim = claim_by_post(client, org)
        page = body(client.get(review_url(claim)))
        assert f"<dt>Educator</dt><dd>{NAME}</dd>" in page
        assert EMAIL in page and SCHOOL in page and DISTRICT in page
        assert code_of(submission) in page


# --- Conflicts of interest -----------------------------------------------------------------------


class TestConflicts:
    def conflicts_url(self, org: Organization) -> str:
        return queue_url(org) + "conflicts/"

    def test_declaring_a_school_and_a_person_hides_their_submissions(
        self, org: Organization, make_submission
    ) -> None:
        reviewer = role(org, school="Hawthorne Elementary")
        colleague = make_submission(educator=UserFactory(school="hawthorne elementary"))
        friend_user = UserFactory(email="friend@example.org", full_name="Pat Friend")
        friend = make_submission(educator=friend_user)
        stranger = make_submission()
        client = logged_in(reviewer)
        url = self.conflicts_url(org)
        assert "You have declared no conflicts of interest." in body(client.get(url))
        # when they declare their school and a friend
        response = client.post(url, {"kind": "school", "note": "I teach there"}, follow=True)
        assert "Conflict declared (educators from my school)" in body(response)
        response = client.post(url, {"kind": "person", "email": "Friend@example.org"}, follow=True)
        page = body(response)
        assert "Pat Friend" in page and "friend@example.org" in page
        assert "I teach there" in page
        # then the queue leaves them out
        queue = body(client.get(queue_url(org)))
        assert code_of(stranger) in queue
        assert code_of(colleague) not in queue and code_of(friend) not in queue
        assert AuditEvent.objects.filter(action="conflict.declared").count() == 2
        # and removing the person brings theirs back
        response = client.post(
            url + "remove/", {"kind": "person", "email": "friend@example.org"}, follow=True
        )
        assert "The declaration is withdrawn." in body(response)
        assert code_of(friend) in body(client.get(queue_url(org)))
        assert ConflictOfInterest.objects.filter(reviewer=reviewer).count() == 1

    def test_refusals_are_tied_to_their_fields(self, org: Organization, reviewer: User) -> None:
        client = logged_in(reviewer)
        url = self.conflicts_url(org)
        # a school, with none on the profile
        response = client.post(url, {"kind": "school"})
        page = body(response)
        assert response.status_code == 400
        assert "Your profile has no school" in page
        assert 'aria-describedby="conflict-kind-error"' in page
        # a person no one knows
        response = client.post(url, {"kind": "person", "email": "nobody@example.org"})
        page = body(response)
        assert response.status_code == 400
        assert 'id="conflict-email-error">No one has an account with that e-mail' in page
        assert 'aria-describedby="conflict-email-hint conflict-email-error"' in page
        assert 'value="nobody@example.org"' in page
        # nothing chosen
        response = client.post(url, {})
        assert response.status_code == 400
        assert "Choose what the conflict is about." in body(response)
        # themselves
        response = client.post(url, {"kind": "person", "email": reviewer.email})
        assert "That is your own address." in body(response)
        assert not ConflictOfInterest.objects.exists()
        # a duplicate
        UserFactory(email="pat@example.org")
        client.post(url, {"kind": "person", "email": "pat@example.org"})
        response = client.post(url, {"kind": "person", "email": "pat@example.org"})
        assert "You have already declared a conflict with pat@example.org." in body(response)
        assert ConflictOfInterest.objects.count() == 1

    def test_only_reviewers_have_the_page(self, org: Organization) -> None:
        assert logged_in(UserFactory()).get(self.conflicts_url(org)).status_code == 404


# --- The header link -----------------------------------------------------------------------------


class TestHeaderLink:
    def render(self, user) -> tuple[str, int]:
        request = RequestFactory().get("/")
        request.user = user
        template = Template("{% load reviewing %}{% review_nav %}{% review_nav %}")
        with CaptureQueriesContext(connection) as queries:
            html = template.render(Context({"request": request}))
        return html, len(queries)

    def test_a_reviewer_gets_a_link_to_their_queue_read_once_then_kept(
        self, org: Organization, reviewer: User
    ) -> None:
        html, queries = self.render(User.objects.get(pk=reviewer.pk))  # as a request loads it
        assert f'<a href="/o/{org.slug}/review/">Review queue</a>' in html
        # rendered twice, read once: roles, organizations, addresses, school staff (0030)
        assert queries == 4
        # then the next request reads it from the cache (programs.user_facts)
        html, queries = self.render(User.objects.get(pk=reviewer.pk))
        assert f'<a href="/o/{org.slug}/review/">Review queue</a>' in html
        assert queries == 0

    def test_a_reviewer_in_two_organizations_gets_two_links(
        self, org: Organization, reviewer: User
    ) -> None:
        elsewhere = OrganizationFactory(short_name="GAEL")
        StaffRoleFactory(organization=elsewhere, user=reviewer, role=StaffRole.Role.OWNER)
        html, _ = self.render(reviewer)
        assert f'href="/o/{elsewhere.slug}/review/"' in html and "(GAEL)" in html

    def test_no_link_and_no_query_for_others(self, org: Organization) -> None:
        from django.contrib.auth.models import AnonymousUser

        html, queries = self.render(AnonymousUser())
        assert html.strip() == "" and queries == 0
        someone = UserFactory()
        html, queries = self.render(User.objects.get(pk=someone.pk))
        # no role: no organizations to read (roles, addresses, school staff)
        assert html.strip() == "" and queries == 3
        html, queries = self.render(User.objects.get(pk=someone.pk))
        assert html.strip() == "" and queries == 0
