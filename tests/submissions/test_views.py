"""The educator's pages: apply, the application page (evidence without JavaScript, submit,
withdraw), My learning, and the Apply box on a credential page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from programs.models import Credential, Organization, QuizChoice, User
from submissions import services, storage
from submissions.models import Application, EvidenceItem, Submission
from tests.conftest import assert_same_query_count
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    PathwayFactory,
    ProgramFactory,
    UserFactory,
    make_credential,
)
from tests.submissions.conftest import PDF, requirement, upload_to_slot

pytestmark = pytest.mark.django_db

WORDS_150 = " ".join(["practice"] * 150)


def page_url(application: Application, suffix: str = "") -> str:
    return f"/o/{application.organization.slug}/applications/{application.public_id}/{suffix}"


def body_of(response) -> str:
    return response.content.decode()


def progress_states(page: str) -> dict[int, str]:
    """Step number → what the progress sidebar says of it."""
    progress = page.split('id="progress"')[1].split("</ol>")[0]
    found = re.findall(r"Step (\d+):.*?<span class=\"state-label\">([^<]+)</span>", progress, re.S)
    return {int(number): label for number, label in found}


def add_pdf(application: Application, educator: User, name: str = "Lesson plan.pdf"):
    """What the browser does: a slot, the bytes straight to storage, a confirm."""
    slot = services.evidence_upload_slot(
        application=application,
        requirement=requirement(application, "Lesson plan"),
        filename=name,
        size=len(PDF),
        content_type="application/pdf",
        actor=educator,
    )
    assert upload_to_slot(slot, PDF).status_code == 201
    return services.evidence_upload_confirm(item=slot.item, actor=educator)


def complete(application: Application, educator: User) -> EvidenceItem:
    item = add_pdf(application, educator)
    services.evidence_item_privacy(
        item=item,
        students_identifiable=False,
        consent_on_file=None,
        visibility="reviewers",
        actor=educator,
    )
    services.evidence_text_save(
        application=application,
        requirement=requirement(application, "Reflection"),
        text=WORDS_150,
        actor=educator,
    )
    return item


# --- Apply ---------------------------------------------------------------------------------------


class TestApply:
    def test_a_member_applies_and_lands_on_the_application_page(
        self, client: Client, org: Organization, educator: User
    ) -> None:
        # given a member and a credential free for members
        version = make_credential(org, title="Crucial Conversations", member_fee=0)
        MembershipFactory(organization=org, user=educator)
        client.force_login(educator)
        # when they apply
        response = client.post(f"/o/{org.slug}/credentials/{version.credential.slug}/apply/")
        # then they are on their application's page
        application = Application.objects.get(educator=educator)
        assert response.status_code == 302
        assert response["Location"] == page_url(application)
        page = body_of(client.get(response["Location"]))
        assert "Crucial Conversations" in page
        assert "You have applied for" in page
        assert "No fee" in page
        assert application.was_member and application.fee_status == "none"

    def test_members_only_refusal_explains_why_and_creates_nothing(
        self, client: Client, org: Organization, educator: User
    ) -> None:
        version = make_credential(org, members_only=True, non_member_fee=None)
        client.force_login(educator)
        response = client.post(
            f"/o/{org.slug}/credentials/{version.credential.slug}/apply/", follow=True
        )
        page = body_of(response)
        assert response.redirect_chain[-1][0] == version.credential.get_absolute_url()
        assert "is open to RUSD members only" in page
        assert "We have no RUSD membership on record for teacher@school.example" in page
        assert not Application.objects.exists()

    def test_a_non_member_applies_with_the_fee_recorded(
        self, client: Client, org: Organization, educator: User
    ) -> None:
        version = make_credential(org, non_member_fee=Decimal("49.00"))
        client.force_login(educator)
        response = client.post(
            f"/o/{org.slug}/credentials/{version.credential.slug}/apply/", follow=True
        )
        application = Application.objects.get(educator=educator)
        assert (application.fee_amount, application.fee_status) == (Decimal("49.00"), "owed")
        assert not application.was_member
        page = body_of(response)
        assert "Fee of 49.00 USD owed" in page
        assert "is not yet recorded as paid" in page  # the fee gap, before they try to submit

    def test_applying_twice_says_so(self, client: Client, make_application, educator) -> None:
        application = make_application()
        client.force_login(educator)
        response = client.post(
            f"/o/{application.organization.slug}/credentials/{application.credential.slug}/apply/",
            follow=True,
        )
        assert "You already have an application for" in body_of(response)
        assert Application.objects.count() == 1

    def test_anonymous_visitors_are_sent_to_log_in(self, client: Client, org) -> None:
        version = make_credential(org)
        url = f"/o/{org.slug}/credentials/{version.credential.slug}/apply/"
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        assert not Application.objects.exists()


class TestCredentialPageApplyBox:
    def url(self, version) -> str:
        return f"/o/{version.organization.slug}/credentials/{version.credential.slug}/"

    def test_anonymous_visitors_see_log_in_and_sign_up_links_back_to_the_page(
        self, client: Client, org
    ) -> None:
        version = make_credential(org)
        page = body_of(client.get(self.url(version)))
        next_param = f"?next=/o/{org.slug}/credentials/{version.credential.slug}/"
        assert f'href="/accounts/login/{next_param}"' in page and "Log in to apply" in page
        assert f'href="/accounts/signup/{next_param}"' in page and "Sign up" in page
        assert "Apply for this micro-credential" not in page

    def test_a_member_sees_the_apply_button_and_that_it_is_free(
        self, client: Client, org, educator
    ) -> None:
        version = make_credential(org, member_fee=0, non_member_fee=Decimal("49.00"))
        MembershipFactory(organization=org, user=educator)
        client.force_login(educator)
        page = body_of(client.get(self.url(version)))
        assert "Free for you as a RUSD member" in page
        assert f'action="/o/{org.slug}/credentials/{version.credential.slug}/apply/"' in page
        assert "csrfmiddlewaretoken" in page

    def test_a_non_member_sees_the_fee(self, client: Client, org, educator) -> None:
        version = make_credential(org, non_member_fee=Decimal("49.00"))
        client.force_login(educator)
        page = body_of(client.get(self.url(version)))
        assert "Fee: 49.00 USD" in page
        assert "Apply for this micro-credential" in page

    def test_members_only_shows_the_explanation_instead_of_a_button(
        self, client: Client, org, educator
    ) -> None:
        version = make_credential(org, members_only=True, non_member_fee=None)
        MembershipFactory(organization=org, user=educator, status="lapsed")
        client.force_login(educator)
        page = body_of(client.get(self.url(version)))
        assert "is open to RUSD members only" in page
        assert "Your membership record says: RUSD membership lapsed" in page
        assert "mailto:programs@example.org" in page
        assert "Apply for this micro-credential" not in page

    def test_after_applying_the_box_links_to_the_application(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        client.force_login(educator)
        page = body_of(client.get(application.credential.get_absolute_url()))
        assert "Continue your application" in page
        assert f'href="{page_url(application)}"' in page
        assert "Apply for this micro-credential" not in page


# --- The application page ------------------------------------------------------------------------


class TestApplicationPage:
    def test_the_owner_sees_status_steps_rubric_and_gaps(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application(quiz=True)
        client.force_login(educator)
        response = client.get(page_url(application))
        page = body_of(response)
        assert response.status_code == 200
        assert "In progress" in page and "1 of 3" in page
        assert "Step 1 of 3" in page and "Step 3 of 3" in page
        assert "Upload the lesson plan you taught." in page
        assert "Plan aligns with the method" in page and "The plan uses every component." in page
        # every gap, linked to its step
        assert '<a href="#step-1">Step 1: Upload at least one file.</a>' in page
        assert '<a href="#step-2">Step 2: Write your answer.</a>' in page
        assert "Step 3: Pass the quiz (at least 75%)." in page
        # the quiz, as fieldsets whose legend is the question
        assert re.search(r"<legend>.*Question 1 of 4\..*Question 1\?</legend>", page)
        assert 'for="step-2-text"' in page and 'id="step-2-text"' in page

    def test_another_educator_gets_404(self, client: Client, make_application) -> None:
        application = make_application()
        client.force_login(UserFactory())
        assert client.get(page_url(application)).status_code == 404
        assert client.post(page_url(application, "submit/")).status_code == 404

    def test_another_organizations_address_gets_404(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        other = OrganizationFactory()
        client.force_login(educator)
        url = f"/o/{other.slug}/applications/{application.public_id}/"
        assert client.get(url).status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(self, client: Client, make_application) -> None:
        application = make_application()
        response = client.get(page_url(application))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_file_steps_carry_the_uploader_mount_point(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        org = application.organization
        assert "data-uploader" in page
        for attribute in [
            'data-step="1"',
            'data-accepted-kinds="document,image,video"',
            f'data-max-file-size="{20 * 1024 * 1024}"',
            'data-max-files="2"',
            f'data-multipart-threshold="{storage.MULTIPART_THRESHOLD}"',
            f'data-part-size="{storage.PART_SIZE}"',
            'data-status="step-1-upload-status"',
            f'data-api="/api/v1/orgs/{org.slug}/applications/{application.public_id}/"',
            'data-uppy-src="/static/vendor/uppy/uppy.min.mjs"',
            '<script type="module" src="/static/js/evidence.js">',
            "JavaScript is required to upload files",
        ]:
            assert attribute in page, attribute
        assert f'data-autosave="/api/v1/orgs/{org.slug}/applications/' in page
        assert "cdn" not in page.lower()

    def test_uploaded_files_are_listed_with_view_and_remove(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        item = add_pdf(application, educator)
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        assert "Lesson plan.pdf" in page and "document" in page and "Ready" in page
        api_file = (
            f"/api/v1/orgs/{application.organization.slug}/applications/"
            f"{application.public_id}/items/{item.public_id}/file/"
        )
        assert f'href="{api_file}"' in page
        assert f"/items/{item.public_id}/remove/" in page
        assert "Answer the privacy questions for this file" in page
        assert 'data-max-files="1"' in page  # one of two files used

    def test_a_rejected_file_shows_its_reason(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        EvidenceItem.objects.create(
            organization=application.organization,
            application=application,
            requirement=requirement(application, "Lesson plan"),
            kind="file",
            status="rejected",
            display_name="photos.zip",
            rejection_reason="This requirement accepts documents (PDF, Word), images or video; "
            "the file you sent is a ZIP archive.",
        )
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        assert re.search(r'class="field-error">This requirement accepts .* a ZIP archive', page)

    def test_query_count_does_not_grow_with_items(
        self, client: Client, make_application, educator, count_queries
    ) -> None:
        application = make_application(quiz=True)
        lesson = requirement(application, "Lesson plan")
        client.force_login(educator)
        url = page_url(application)

        def add_items(n: int) -> None:
            for i in range(n):
                EvidenceItem.objects.create(
                    organization=application.organization,
                    application=application,
                    requirement=lesson,
                    kind="file",
                    status="ready" if i % 2 else "rejected",
                    display_name=f"file-{i}.pdf",
                    storage_key=f"test/{application.public_id}/{i}-{n}",
                    size=1000 + i,
                    file_kind="document",
                    rejection_reason="" if i % 2 else "Not a document.",
                )

        add_items(1)
        client.get("/")  # the header's facts about the visitor, kept from now on (decision 0024)
        small = count_queries(lambda: client.get(url))
        add_items(20)
        large = count_queries(lambda: client.get(url))
        assert_same_query_count(small, large)


class TestEvidenceWithoutJavaScript:
    def test_saving_a_written_answer(self, client: Client, make_application, educator) -> None:
        application = make_application()
        client.force_login(educator)
        response = client.post(page_url(application, "steps/2/text/"), {"text": "Three words here"})
        assert response.status_code == 302 and response["Location"].endswith("#step-2")
        page = body_of(client.get(response["Location"]))
        assert "Your answer to “Reflection” is saved." in page
        assert "Three words here</textarea>" in page
        assert "3 / 500 words" in page
        assert "Step 2: Your answer has 3 words; write at least 100." in page

    def test_a_refused_answer_keeps_what_was_typed(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        client.force_login(educator)
        too_long = "x" * 100_001
        response = client.post(page_url(application, "steps/2/text/"), {"text": too_long})
        page = body_of(response)
        assert response.status_code == 400
        assert "This answer is too long to save" in page
        assert too_long in page
        assert 'aria-describedby="step-2-hint step-2-count step-2-error"' in page
        assert not EvidenceItem.objects.filter(kind="text").exists()

    def test_a_step_of_another_kind_or_out_of_range(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        client.force_login(educator)
        response = client.post(page_url(application, "steps/1/text/"), {"text": "Hello"})
        assert response.status_code == 400 and "asks for file upload" in body_of(response)
        assert client.post(page_url(application, "steps/9/text/"), {"text": "x"}).status_code == 404

    def test_saving_a_link(self, client: Client, make_application, educator) -> None:
        application = make_application()
        link = requirement(application, "Reflection")
        link.kind, link.title = "link", "Portfolio"
        link.save()
        client.force_login(educator)
        refused = client.post(page_url(application, "steps/2/link/"), {"url": "portfolio"})
        assert refused.status_code == 400
        assert "Enter a full web address starting with https://" in body_of(refused)
        assert 'value="portfolio"' in body_of(refused)
        saved = client.post(
            page_url(application, "steps/2/link/"), {"url": "https://example.org/me"}, follow=True
        )
        assert "The link for “Portfolio” is saved." in body_of(saved)
        assert EvidenceItem.objects.get(kind="link").url == "https://example.org/me"

    def test_checking_quiz_answers_shows_the_score_not_the_answers(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        client.force_login(educator)
        url = page_url(application, "steps/3/quiz/")
        choices = {
            q.pk: list(QuizChoice.objects.filter(question=q).order_by("position"))
            for q in quiz.questions.all()
        }
        # one question unanswered: nothing graded, the missing one pointed out
        partial = {f"question-{q}": c[0].pk for q, c in list(choices.items())[:3]}
        refused = client.post(url, partial)
        assert refused.status_code == 400
        assert "question 4 is unanswered" in body_of(refused)
        assert 'id="step-3-q4-error"' in body_of(refused)
        # half right: not passed
        half = {
            f"question-{q}": c[0 if i < 2 else 1].pk for i, (q, c) in enumerate(choices.items())
        }
        page = body_of(client.post(url, half, follow=True))
        assert "You answered 2 of 4 questions correctly (50%)" in page
        assert "Not passed yet" in page
        # a retake, all right: passed
        right = {f"question-{q}": c[0].pk for q, c in choices.items()}
        page = body_of(client.post(url, right, follow=True))
        assert "You answered 4 of 4 questions correctly (100%). You passed the quiz." in page
        assert "Tries: 2" in page
        assert "correct answer" not in page.lower() and "is_correct" not in page

    def test_privacy_declaration(self, client: Client, make_application, educator) -> None:
        application = make_application()
        item = add_pdf(application, educator)
        client.force_login(educator)
        url = page_url(application, f"items/{item.public_id}/privacy/")
        # nothing chosen
        refused = client.post(url, {"visibility": "reviewers"})
        assert refused.status_code == 400
        assert "Say whether students can be identified in this file." in body_of(refused)
        # identifiable, no consent, public: refused by the rule
        refused = client.post(url, {"identifiable": "yes", "visibility": "public"})
        assert refused.status_code == 400
        assert "cannot be public" in body_of(refused)
        item.refresh_from_db()
        assert item.students_identifiable is None
        # identifiable, consent on file, public: saved
        saved = client.post(
            url, {"identifiable": "yes", "consent": "1", "visibility": "public"}, follow=True
        )
        assert "Privacy details for “Lesson plan.pdf” are saved." in body_of(saved)
        item.refresh_from_db()
        assert (item.students_identifiable, item.consent_on_file, item.visibility) == (
            True,
            True,
            "public",
        )

    def test_removing_a_file(self, client: Client, make_application, educator) -> None:
        application = make_application()
        item = add_pdf(application, educator)
        client.force_login(educator)
        response = client.post(page_url(application, f"items/{item.public_id}/remove/"))
        assert response["Location"].endswith("#step-1")
        item.refresh_from_db()
        assert item.status == "removed"
        page = body_of(client.get(page_url(application)))
        assert "Removed “Lesson plan.pdf”." in page
        assert f'id="item-{item.public_id}"' not in page and 'data-max-files="2"' in page


class TestSubmitAndWithdraw:
    def test_submitting_with_gaps_lists_each_and_changes_nothing(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        add_pdf(application, educator)  # privacy not declared, no answer written
        client.force_login(educator)
        response = client.post(page_url(application, "submit/"))
        page = body_of(response)
        assert response.status_code == 400
        summary = page.split('role="alert" id="submit-errors"')[1].split("</div>")[0]
        assert "2 things to finish before you submit." in summary
        assert 'href="#step-1"' in summary and "say whether students can be identified" in summary
        assert 'href="#step-2"' in summary and "Write your answer." in summary
        application.refresh_from_db()
        assert application.status == "applied"
        assert not Submission.objects.exists()

    def test_a_complete_application_is_submitted_and_locked(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        complete(application, educator)
        client.force_login(educator)
        response = client.post(page_url(application, "submit/"), follow=True)
        page = body_of(response)
        assert "Your evidence is submitted." in page
        assert "Submitted" in page and "A trained reviewer will score it" in page
        # read-only: the evidence without forms, and the timeline
        assert "<textarea" not in page and "data-uploader" not in page
        assert "Submit my evidence" not in page and "/privacy/" not in page
        assert "Lesson plan.pdf" in page and "practice practice" in page
        assert "Submitted for review (attempt 1 of 3)" in page
        assert "evidence.js" not in page
        # and the forms refuse
        refused = client.post(page_url(application, "steps/2/text/"), {"text": "x"}, follow=True)
        assert "can no longer be changed" in body_of(refused)

    def test_feedback_is_shown_beside_its_step_when_revision_is_asked(
        self, client: Client, make_application, educator
    ) -> None:
        application = make_application()
        complete(application, educator)
        services.application_submit(application=application, actor=educator)
        lesson = requirement(application, "Lesson plan")
        criterion = application.version.criteria.get()
        services.application_return_for_revision(
            application=application,
            summary="Close: show the method in the plan.",
            feedback=[
                {
                    "criterion_id": criterion.pk,
                    "title": criterion.title,
                    "requirement_id": lesson.pk,
                    "score": 0,
                    "label": "Not yet",
                    "comment": "Name each component in the plan.",
                }
            ],
            actor=None,
        )
        client.force_login(educator)
        page = body_of(client.get(page_url(application)))
        assert "Needs revision" in page and "2 of 3" in page and "2 attempts left" in page
        assert "Close: show the method in the plan." in page
        step_1 = page.split('id="step-1"')[1].split('id="step-2"')[0]
        assert "Reviewer feedback on this step" in step_1
        assert "Not yet" in step_1 and "Name each component in the plan." in step_1
        assert "Resubmit my evidence" in page

    def test_the_progress_says_done_only_for_steps_complete_after_the_feedback(
        self, client: Client, make_application, educator
    ) -> None:
        # given an attempt returned with its lesson plan rated "Developing" (below passing)
        application = make_application()
        complete(application, educator)
        services.application_submit(application=application, actor=educator)
        lesson = requirement(application, "Lesson plan")
        criterion = application.version.criteria.get()
        below = criterion.passing_score - 1
        services.application_return_for_revision(
            application=application,
            summary="Close.",
            feedback=[
                {
                    "criterion_id": criterion.pk,
                    "title": criterion.title,
                    "requirement_id": lesson.pk,
                    "score": below,
                    "label": "Developing",
                    "comment": "Name each component.",
                }
            ],
            actor=None,
        )
        client.force_login(educator)
        # when the educator opens the application
        states = progress_states(body_of(client.get(page_url(application))))
        # then the lesson plan is to revise, the reflection (no feedback) is done
        assert states == {1: "Revise", 2: "Done"}
        assert "Every step is done" not in body_of(client.get(page_url(application)))
        # when they upload a revised lesson plan, saying who may see it
        revised = add_pdf(application, educator, name="Lesson plan v2.pdf")
        services.evidence_item_privacy(
            item=revised,
            students_identifiable=False,
            consent_on_file=None,
            visibility="reviewers",
            actor=educator,
        )
        # then the step is done again
        assert progress_states(body_of(client.get(page_url(application)))) == {1: "Done", 2: "Done"}

    def test_a_step_below_passing_in_an_attempt_not_awarded_is_not_done(
        self, client: Client, make_application, educator
    ) -> None:
        # given an attempt not awarded, its lesson plan rated below passing
        application = make_application()
        complete(application, educator)
        services.application_submit(application=application, actor=educator)
        criterion = application.version.criteria.get()
        services.application_decide(
            application=application,
            outcome="not_awarded",
            summary="Not this time.",
            feedback=[
                {
                    "criterion_id": criterion.pk,
                    "title": criterion.title,
                    "requirement_id": requirement(application, "Lesson plan").pk,
                    "score": criterion.passing_score - 1,
                    "label": "Developing",
                    "comment": "",
                }
            ],
            actor=None,
        )
        client.force_login(educator)
        # then the progress says so, and offers no revision
        page = body_of(client.get(page_url(application)))
        assert progress_states(page) == {1: "Below passing", 2: "Done"}

    def test_withdrawing_asks_first(self, client: Client, make_application, educator) -> None:
        application = make_application()
        client.force_login(educator)
        confirm = client.get(page_url(application, "withdraw/"))
        assert "Withdraw your application?" in body_of(confirm)
        assert application.status == "applied"
        response = client.post(page_url(application, "withdraw/"), follow=True)
        assert response.redirect_chain[-1][0] == "/me/"
        assert "You withdrew your application for" in body_of(response)
        application.refresh_from_db()
        assert application.status == "withdrawn"
        # the credential page offers to apply again
        page = body_of(client.get(application.credential.get_absolute_url()))
        assert "Apply for this micro-credential" in page


# --- My learning ---------------------------------------------------------------------------------


def apply_to(organization: Organization, user: User, **fields) -> Application:
    version = make_credential(organization, **fields)
    return services.application_apply(
        credential=Credential.objects.get(pk=version.credential_id), educator=user
    )


@pytest.mark.scoped
class TestMyLearning:
    def test_the_empty_state_points_to_the_catalogs(self, client: Client) -> None:
        with scopes_disabled():
            user = UserFactory()
        client.force_login(user)
        page = body_of(client.get("/me/"))
        assert "You haven't applied for a micro-credential yet" in page
        assert 'href="/"' in page

    def test_applications_of_every_organization_grouped_with_the_next_step(
        self, client: Client, educator
    ) -> None:
        with scopes_disabled():
            gael = OrganizationFactory(name="GAEL", short_name="GAEL")
            district = OrganizationFactory(name="Riverside USD")
            MembershipFactory(organization=gael, user=educator)
            applied = apply_to(gael, educator, title="Crucial Conversations")
            waiting = apply_to(district, educator, title="Classroom Video", non_member_fee=0)
            Application.objects.filter(pk=waiting.pk).update(status="submitted")
            revise = apply_to(gael, educator, title="Leadership Coaching")
            Application.objects.filter(pk=revise.pk).update(status="needs_revision", attempt=2)
            earned = apply_to(gael, educator, title="Data Literacy")
            Application.objects.filter(pk=earned.pk).update(status="awarded")
            pathway = PathwayFactory(organization=gael, name="Leadership Pathway")
            pathway.credentials.set([earned.credential, revise.credential])
            PathwayFactory(organization=OrganizationFactory(), name="Elsewhere")
            someone_else = UserFactory()
            apply_to(district, someone_else, title="Not mine", non_member_fee=0)
        client.force_login(educator)
        page = body_of(client.get("/me/"))

        def section(title: str) -> str:
            return page.split(f">{title} <")[1].split("</section>")[0]

        assert "Crucial Conversations" in section("In progress")
        assert "Upload your evidence" in section("In progress")
        assert "Classroom Video" in section("Waiting for review")
        assert "Riverside USD" in section("Waiting for review")
        assert "A reviewer will score your evidence" in section("Waiting for review")
        assert "Leadership Coaching" in section("Needs revision")
        assert "Revise and resubmit: 2 attempts left" in section("Needs revision")
        assert "Data Literacy" in section("Finished")
        assert "Leadership Pathway" in page and "1 of 2 credentials earned" in page
        assert "Elsewhere" not in page and "Not mine" not in page
        assert f'href="{page_url(applied)}"' in page

    def test_an_application_with_every_step_done_says_to_submit_it(
        self, client: Client, educator
    ) -> None:
        def do_every_step(application: Application) -> None:
            # the lesson plan uploaded (privacy answered) and the reflection written
            EvidenceItem.objects.create(
                organization=application.organization,
                application=application,
                requirement=requirement(application, "Lesson plan"),
                kind=EvidenceItem.Kind.FILE,
                status=EvidenceItem.Status.READY,
                display_name="plan.pdf",
                students_identifiable=False,
            )
            services.evidence_text_save(
                application=application,
                requirement=requirement(application, "Reflection"),
                text="Exit tickets showed the strategy worked. " * 25,
                actor=educator,
            )

        with scopes_disabled():
            org = OrganizationFactory()
            done = apply_to(org, educator, title="Ready Credential", non_member_fee=0)
            apply_to(org, educator, title="Started Credential", non_member_fee=0)
            owed = apply_to(org, educator, title="Fee Credential", non_member_fee=Decimal("40"))
            do_every_step(done)
            do_every_step(owed)
            assert services.application_gaps(application=done) == []
            assert [g["requirement"] for g in services.application_gaps(application=owed)] == [
                "Fee"
            ]
        client.force_login(educator)
        page = body_of(client.get("/me/"))
        in_progress = page.split(">In progress <")[1].split("</section>")[0]
        cards = {
            title: card
            for card in in_progress.split("<li")[1:]
            for title in ("Ready Credential", "Started Credential", "Fee Credential")
            if title in card
        }
        assert "Every step is done: submit your evidence for review" in cards["Ready Credential"]
        assert "Every step is done: pay the fee, then submit" in cards["Fee Credential"]
        assert "Upload your evidence" in cards["Started Credential"]
        assert "Every step is done" not in cards["Started Credential"]

    def test_query_count_does_not_grow_with_applications(
        self, client: Client, educator, count_queries
    ) -> None:
        with scopes_disabled():
            orgs = [OrganizationFactory(), OrganizationFactory()]
            program = {o.pk: ProgramFactory(organization=o) for o in orgs}
            first = apply_to(orgs[0], educator, program=program[orgs[0].pk], non_member_fee=0)
            PathwayFactory(organization=orgs[0]).credentials.set([first.credential])
        client.force_login(educator)
        client.get("/")  # the header's facts about the visitor, kept from now on (decision 0024)
        small = count_queries(lambda: client.get("/me/"))
        with scopes_disabled():
            for i in range(19):
                org = orgs[i % 2]
                application = apply_to(org, educator, program=program[org.pk], non_member_fee=0)
                if i % 3 == 0:
                    Application.objects.filter(pk=application.pk).update(status="awarded")
                pathway = PathwayFactory(organization=org)
                pathway.credentials.set([application.credential, first.credential])
        large = count_queries(lambda: client.get("/me/"))
        assert_same_query_count(small, large)

    def test_anonymous_visitors_are_sent_to_log_in(self, client: Client) -> None:
        response = client.get("/me/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_header_link_helper_is_reversible() -> None:
    from django.urls import reverse

    assert reverse("submissions:dashboard") == "/me/"
