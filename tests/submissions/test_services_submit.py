"""Submitting, withdrawing, returning for revision and resubmitting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from credentials_site.exceptions import ApplicationError
from programs.models import EvidenceRequirement, User
from submissions import services, storage
from submissions.models import Application, ApplicationEvent, EvidenceItem, Submission
from tests.factories import UserFactory
from tests.submissions.conftest import PNG, ZIP, requirement, upload_to_slot
from tests.submissions.test_services_evidence import (
    quiz_answers,
    refused,
    slot_for,
    upload,
    upload_declared,
    words,
)

pytestmark = pytest.mark.django_db

FEEDBACK = [
    {
        "criterion_id": 1,
        "title": "Plan aligns with the method",
        "requirement_id": None,
        "score": 0,
        "label": "Not yet",
        "comment": "Show where students practise the method.",
    }
]


def complete(application: Application, educator: User) -> None:
    """Everything the default credential asks for: a lesson plan (declared) and 150 words."""
    upload_declared(upload(application, educator), educator)
    services.evidence_text_save(
        application=application,
        requirement=requirement(application, "Reflection"),
        text=words(150),
        actor=educator,
    )


def submit(application: Application, educator: User, callbacks: Any) -> Submission:
    with callbacks(execute=True):
        return services.application_submit(application=application, actor=educator)


def state(application: Application) -> tuple[str, int, int]:
    application.refresh_from_db()
    return application.status, application.attempt, application.submissions.count()


class TestGaps:
    def test_every_gap_is_reported_at_once_and_nothing_changes(
        self, make_application: Any, educator: User
    ) -> None:
        # given a non-member's application (49 owed) with a quiz, a short summary and photos
        application = make_application(quiz=True, member=False, non_member_fee=Decimal("49"))
        summary = EvidenceRequirement.objects.create(
            organization_id=application.organization_id,
            version_id=application.version_id,
            position=4,
            title="Summary",
            instructions="In ten words.",
            kind=EvidenceRequirement.Kind.TEXT,
            word_max=10,
        )
        photos = EvidenceRequirement.objects.create(
            organization_id=application.organization_id,
            version_id=application.version_id,
            position=5,
            title="Classroom photos",
            instructions="Photos of the board.",
            kind=EvidenceRequirement.Kind.FILE,
            accepted_file_kinds=["image"],
            max_files=3,
            max_file_size_mb=5,
        )
        # and: no lesson plan; 5 words of reflection; the quiz failed; 20 words of summary;
        # one photo without its privacy declaration and another that never arrived (no gap)
        say = services.evidence_text_save
        reflection = requirement(application, "Reflection")
        say(application=application, requirement=reflection, text=words(5), actor=educator)
        say(application=application, requirement=summary, text=words(20), actor=educator)
        quiz = requirement(application, "Quiz")
        services.quiz_answer(
            application=application,
            requirement=quiz,
            answers=quiz_answers(quiz, right=2),
            actor=educator,
        )
        upload(
            application,
            educator,
            PNG,
            title=photos.title,
            filename="board.png",
            content_type="image/png",
        )
        slot_for(application, educator, title=photos.title, content_type="image/png")
        events_before = ApplicationEvent.objects.filter(application=application).count()
        # when the educator submits
        error = refused(services.application_submit, application=application, actor=educator)
        # then every gap is listed, each under its step
        assert error.code == "incomplete"
        assert error.message == "6 things to finish before you submit."
        assert error.fields == {
            "step_1": ["Upload at least one file."],
            "step_2": ["Your answer has 5 words; write at least 100."],
            "step_3": ["Pass the quiz (at least 75%). Your best so far: 50%."],
            "step_4": ["Your answer has 20 words; the limit is 10."],
            "step_5": ["“board.png”: say whether students can be identified."],
            "step_fee": [
                "The fee of 49.00 USD is not yet recorded as paid. Your work is saved; contact "
                "the program to pay."
            ],
        }
        # and nothing changed
        assert state(application) == (Application.Status.APPLIED, 1, 0)
        assert ApplicationEvent.objects.filter(application=application).count() == events_before
        assert not mail.outbox

    def test_gaps_name_requirement_and_step(self, make_application: Any) -> None:
        application = make_application()
        assert services.application_gaps(application=application) == [
            {"step": "1", "requirement": "Lesson plan", "message": "Upload at least one file."},
            {"step": "2", "requirement": "Reflection", "message": "Write your answer."},
        ]

    def test_identifiable_students_need_consent(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        complete(application, educator)
        item = EvidenceItem.objects.get(application=application, kind="file")
        services.evidence_item_privacy(
            item=item,
            students_identifiable=True,
            consent_on_file=None,
            visibility="reviewers",
            actor=educator,
        )
        assert [g["message"] for g in services.application_gaps(application=application)] == [
            "“Lesson plan.pdf”: say whether students can be identified and confirm consent is "
            "on file."
        ]


class TestFee:
    def test_an_owed_fee_blocks_submitting_until_paid(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given a non-member's complete application, 49 owed
        application = make_application(member=False, non_member_fee=Decimal("49"))
        complete(application, educator)
        # when they submit, they are told about the fee, and only that
        error = refused(services.application_submit, application=application, actor=educator)
        assert error.message == "1 thing to finish before you submit."
        assert list(error.fields) == ["step_fee"]
        assert [g["requirement"] for g in services.application_gaps(application=application)] == [
            "Fee"
        ]
        assert state(application) == (Application.Status.APPLIED, 1, 0)
        # when the program records the payment, submitting works
        services.application_fee_record(application=application, status="paid", actor=None)
        submit(application, educator, django_capture_on_commit_callbacks)
        assert state(application) == (Application.Status.SUBMITTED, 1, 1)

    def test_a_waived_fee_does_not_block(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application(member=False, non_member_fee=Decimal("49"))
        complete(application, educator)
        services.application_fee_record(application=application, status="waived", actor=None)
        submit(application, educator, django_capture_on_commit_callbacks)
        assert state(application)[0] == Application.Status.SUBMITTED


class TestSubmit:
    def test_submitting_sends_the_ready_evidence_to_review(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given a complete application, plus a ZIP that was rejected on the way
        application = make_application(title="Restorative circles")
        complete(application, educator)
        slot = slot_for(application, educator)
        upload_to_slot(slot, ZIP)
        with pytest.raises(ApplicationError):
            services.evidence_upload_confirm(item=slot.item, actor=educator)
        ready = set(
            EvidenceItem.objects.filter(application=application, status="ready").values_list(
                "pk", flat=True
            )
        )
        assert len(ready) == 2
        # when the educator submits
        submission = submit(application, educator, django_capture_on_commit_callbacks)
        # then attempt 1 holds exactly the ready evidence
        assert submission.number == 1
        assert set(submission.items.values_list("pk", flat=True)) == ready
        application.refresh_from_db()
        assert application.status == Application.Status.SUBMITTED
        assert application.submitted_at == submission.submitted_at
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.kind == "submitted"
        assert event.message == "Submitted for review (attempt 1 of 3)"
        # and the educator gets an e-mail once it is committed
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["teacher@school.example"]
        assert mail.outbox[0].subject == "We received your evidence for “Restorative circles”"

    def test_no_mail_before_commit(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        complete(application, educator)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.application_submit(application=application, actor=educator)
        assert len(callbacks) == 1
        assert not mail.outbox

    def test_a_second_submit_is_refused(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        error = refused(services.application_submit, application=application, actor=educator)
        assert error.code == "not_editable"
        assert error.message == "This application is already submitted."
        assert state(application) == (Application.Status.SUBMITTED, 1, 1)
        assert len(mail.outbox) == 1

    def test_someone_elses_application_cannot_be_submitted(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        complete(application, educator)
        error = refused(services.application_submit, application=application, actor=UserFactory())
        assert error.message == "Only the educator can submit this application."
        assert state(application) == (Application.Status.APPLIED, 1, 0)

    def test_submitted_evidence_cannot_be_changed(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        item = EvidenceItem.objects.get(application=application, kind="file")
        for call, kwargs in [
            (
                services.evidence_text_save,
                {
                    "application": application,
                    "requirement": requirement(application, "Reflection"),
                    "text": "changed",
                },
            ),
            (slot_for, {"application": application}),
            (services.evidence_item_remove, {"item": item}),
        ]:
            error = refused(call, actor=educator, **kwargs)
            assert error.code == "not_editable"
            assert error.message == ("This application is submitted and can no longer be changed.")
        assert EvidenceItem.objects.get(pk=item.pk).status == EvidenceItem.Status.READY


class TestWithdraw:
    def test_withdrawing_before_review(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        services.application_withdraw(application=application, actor=educator)
        application.refresh_from_db()
        assert application.status == Application.Status.WITHDRAWN
        # its evidence stays, dated for deletion by the sweep (tests/submissions/test_retention.py)
        assert set(
            EvidenceItem.objects.filter(application=application).values_list("status", flat=True)
        ) == {EvidenceItem.Status.READY}
        assert application.evidence_delete_after is not None
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.message.startswith(
            "Application withdrawn; its evidence will be deleted on "
        )

    @pytest.mark.parametrize("status", ["in_review", "approved", "awarded", "withdrawn"])
    def test_withdrawing_once_a_review_has_started_is_refused(
        self,
        make_application: Any,
        educator: User,
        django_capture_on_commit_callbacks: Any,
        status: str,
    ) -> None:
        # given a submitted application that a reviewer has claimed (reviews sets the status)
        application = make_application()
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        Application.objects.filter(pk=application.pk).update(status=status)
        # when the educator withdraws
        error = refused(services.application_withdraw, application=application, actor=educator)
        # then it is refused and nothing changes
        assert error.code == "not_editable"
        assert state(application)[0] == status
        assert not EvidenceItem.objects.filter(application=application, status="removed")


class TestRevision:
    def test_returned_for_revision(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given a submitted application
        application = make_application(title="Restorative circles")
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        mail.outbox.clear()
        # when the review asks for changes
        with django_capture_on_commit_callbacks(execute=True):
            services.application_return_for_revision(
                application=application,
                summary="Almost there.",
                feedback=FEEDBACK,
                actor=None,
            )
        # then the educator prepares attempt 2, with the feedback kept on attempt 1
        assert state(application) == (Application.Status.NEEDS_REVISION, 2, 1)
        first = Submission.objects.get(application=application, number=1)
        assert first.outcome == "needs_revision"
        assert first.feedback_summary == "Almost there."
        assert first.feedback == FEEDBACK
        assert first.decided_at is not None
        # and is told by e-mail, with the attempts left
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == "Please revise your evidence for “Restorative circles”"
        assert "you have 2 attempts left" in mail.outbox[0].body
        # in an HTML part too, in the organization's name, with a link to the application
        [(html, _)] = mail.outbox[0].alternatives
        assert application.organization.name in html
        assert f"/applications/{application.public_id}/" in html

    def test_only_a_submitted_application_can_be_returned(self, make_application: Any) -> None:
        application = make_application()
        error = refused(
            services.application_return_for_revision,
            application=application,
            summary="",
            feedback=[],
            actor=None,
        )
        assert error.code == "not_editable"
        assert state(application) == (Application.Status.APPLIED, 1, 0)

    def test_replacing_a_file_and_resubmitting(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given attempt 1 (a lesson plan and a reflection) returned for revision
        application = make_application()
        complete(application, educator)
        first = submit(application, educator, django_capture_on_commit_callbacks)
        old_plan = EvidenceItem.objects.get(application=application, kind="file")
        reflection = EvidenceItem.objects.get(application=application, kind="text")
        services.application_return_for_revision(
            application=application, summary="Redo the plan.", feedback=FEEDBACK, actor=None
        )
        # when the educator removes the plan, uploads a photo of a new one, and resubmits
        with django_capture_on_commit_callbacks(execute=True):
            services.evidence_item_remove(item=old_plan, actor=educator)
        new_plan = upload_declared(
            upload(application, educator, PNG, filename="new plan.png", content_type="image/png"),
            educator,
        )
        assert new_plan.attempt_added == 2
        second = submit(application, educator, django_capture_on_commit_callbacks)
        # then attempt 2 holds the carried-over reflection and the new plan, not the old one
        assert second.number == 2
        assert set(second.items.all()) == {reflection, new_plan}
        assert set(first.items.all()) == {old_plan, reflection}
        assert state(application) == (Application.Status.SUBMITTED, 2, 2)
        # the removed plan stays in storage: it is the record of what attempt 1 was judged on
        assert storage.head(key=old_plan.storage_key) is not None
        event = ApplicationEvent.objects.filter(application=application).last()
        assert event is not None and event.kind == "resubmitted"
        assert event.message == "Resubmitted for review (attempt 2 of 3)"

    def test_editing_an_answer_in_a_revision_keeps_the_first_attempts_text(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given attempt 1 returned for revision
        application = make_application()
        complete(application, educator)
        first = submit(application, educator, django_capture_on_commit_callbacks)
        old_answer = EvidenceItem.objects.get(application=application, kind="text")
        original_text = old_answer.text
        services.application_return_for_revision(
            application=application, summary="Say more.", feedback=FEEDBACK, actor=None
        )
        # when the educator rewrites the answer and resubmits
        reflection = EvidenceRequirement.objects.get(pk=old_answer.requirement_id)
        services.evidence_text_save(
            application=application,
            requirement=reflection,
            text="A new reflection. " * 60,
            actor=educator,
        )
        second = submit(application, educator, django_capture_on_commit_callbacks)
        # then attempt 1 still shows the text it was judged on, attempt 2 the new one
        first_text = first.items.get(kind="text")
        second_text = second.items.get(kind="text")
        assert first_text.text == original_text
        assert second_text.text.startswith("A new reflection.")
        assert first_text.pk != second_text.pk

    def test_attempts_are_capped(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        # given a credential allowing 2 attempts, and attempt 1 returned for revision
        application = make_application(max_attempts=2)
        complete(application, educator)
        submit(application, educator, django_capture_on_commit_callbacks)
        services.application_return_for_revision(
            application=application, summary="", feedback=[], actor=None
        )
        submit(application, educator, django_capture_on_commit_callbacks)
        # when the review tries to return attempt 2 as well
        error = refused(
            services.application_return_for_revision,
            application=application,
            summary="Again",
            feedback=FEEDBACK,
            actor=None,
        )
        # then it must decide instead, and attempt 2 stays as it was submitted
        assert error.code == "attempts_exhausted"
        assert error.message == ("This was attempt 2 of 2; decide to approve or not award.")
        assert state(application) == (Application.Status.SUBMITTED, 2, 2)
        assert Submission.objects.get(application=application, number=2).outcome == ""
