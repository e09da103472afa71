"""Evidence: written answers, links, quizzes and files, through the real SeaweedFS."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from django.utils import timezone

from credentials_site.exceptions import ApplicationError
from programs.models import EvidenceRequirement, QuizQuestion, User
from submissions import services, storage
from submissions.models import Application, ApplicationEvent, EvidenceItem, QuizResponse
from tests.submissions.conftest import MP4, PDF, PNG, ZIP, requirement, upload_to_slot

pytestmark = pytest.mark.django_db

HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500


# --- Helpers (also used by the submit and sweep tests) -------------------------------------------


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def slot_for(
    application: Application,
    actor: User,
    *,
    title: str = "Lesson plan",
    filename: str = "Lesson plan.pdf",
    size: int = len(PDF),
    content_type: str = "application/pdf",
) -> services.UploadSlot:
    return services.evidence_upload_slot(
        application=application,
        requirement=requirement(application, title),
        filename=filename,
        size=size,
        content_type=content_type,
        actor=actor,
    )


def upload(
    application: Application,
    actor: User,
    data: bytes = PDF,
    *,
    title: str = "Lesson plan",
    filename: str = "Lesson plan.pdf",
    content_type: str = "application/pdf",
) -> EvidenceItem:
    """Ask for a slot, send the bytes to storage as a browser does, confirm: a READY item."""
    slot = slot_for(
        application,
        actor,
        title=title,
        filename=filename,
        size=len(data),
        content_type=content_type,
    )
    response = upload_to_slot(slot, data)
    assert response.status_code == 201, response.text
    return services.evidence_upload_confirm(item=slot.item, actor=actor)


def upload_declared(item: EvidenceItem, actor: User) -> EvidenceItem:
    """Say that no student can be identified (the privacy declaration every file needs)."""
    return services.evidence_item_privacy(
        item=item,
        students_identifiable=False,
        consent_on_file=None,
        visibility=EvidenceItem.Visibility.REVIEWERS,
        actor=actor,
    )


def put_parts(slot: services.UploadSlot, data: bytes, actor: User) -> list[dict[str, Any]]:
    """What the browser does with a multipart slot: one signed PUT per part."""
    assert slot.method == "MULTIPART"
    chunks = [data[i : i + slot.part_size] for i in range(0, len(data), slot.part_size)] or [b""]
    for number, chunk in enumerate(chunks, start=1):
        url = services.evidence_multipart_sign(item=slot.item, part_number=number, actor=actor)
        response = requests.put(url, data=chunk, timeout=30)
        assert response.status_code == 200, response.text
    return services.evidence_multipart_parts(item=slot.item, actor=actor)


def in_uploads(key: str) -> bool:
    return any(k == key for k, _, _ in storage.list_multipart_uploads())


def refused(call: Any, **kwargs: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as error:
        call(**kwargs)
    return error.value


# --- Written answers ------------------------------------------------------------------------------


class TestText:
    def test_a_draft_over_the_limit_is_kept(self, make_application: Any, educator: User) -> None:
        # given a reflection of 100 to 500 words
        application = make_application()
        reflection = requirement(application, "Reflection")
        # when the educator saves 600 words, then 50
        services.evidence_text_save(
            application=application, requirement=reflection, text=words(600), actor=educator
        )
        item = services.evidence_text_save(
            application=application, requirement=reflection, text=words(50), actor=educator
        )
        # then both drafts were kept, in one answer (limits are for submitting)
        assert item.status == EvidenceItem.Status.READY
        assert item.text == words(50)
        assert EvidenceItem.objects.filter(application=application).count() == 1
        services.evidence_text_save(
            application=application, requirement=reflection, text=words(600), actor=educator
        )
        gaps = services.application_gaps(application=application)
        assert {
            "step": "2",
            "requirement": "Reflection",
            "message": ("Your answer has 600 words; the limit is 500."),
        } in gaps

    def test_an_answer_too_long_to_store_is_refused(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        reflection = requirement(application, "Reflection")
        services.evidence_text_save(
            application=application, requirement=reflection, text="My draft", actor=educator
        )
        error = refused(
            services.evidence_text_save,
            application=application,
            requirement=reflection,
            text="x" * 100_001,
            actor=educator,
        )
        assert error.message == (
            "This answer is too long to save (100,001 characters; the limit is 100,000)."
        )
        assert error.fields == {"text": ["Too long."]}
        # the saved draft is untouched
        assert EvidenceItem.objects.get(application=application).text == "My draft"

    def test_a_file_requirement_takes_no_text(self, make_application: Any, educator: User) -> None:
        application = make_application()
        error = refused(
            services.evidence_text_save,
            application=application,
            requirement=requirement(application, "Lesson plan"),
            text="hello",
            actor=educator,
        )
        assert error.code == "wrong_kind"
        assert not EvidenceItem.objects.filter(application=application).exists()


# --- Links ----------------------------------------------------------------------------------------


def add_link_requirement(application: Application) -> EvidenceRequirement:
    return EvidenceRequirement.objects.create(
        organization_id=application.organization_id,
        version_id=application.version_id,
        position=5,
        title="Video link",
        instructions="Link to the recording.",
        kind=EvidenceRequirement.Kind.LINK,
    )


class TestLink:
    def test_a_web_address_is_saved(self, make_application: Any, educator: User) -> None:
        application = make_application()
        link = add_link_requirement(application)
        item = services.evidence_link_save(
            application=application,
            requirement=link,
            url="  https://video.example.org/watch?v=42  ",
            actor=educator,
        )
        assert item.url == "https://video.example.org/watch?v=42"
        assert item.status == EvidenceItem.Status.READY

    @pytest.mark.parametrize(
        "url",
        [
            "javascript:alert(document.cookie)",
            "JavaScript://example.org/%0Aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://files.example.org/plan.pdf",
            "https://",
            "https:///no-host",
            "video.example.org/watch",
            "",
            "https://example.org/" + "a" * 1000,
        ],
    )
    def test_anything_but_a_web_address_is_refused(
        self, make_application: Any, educator: User, url: str
    ) -> None:
        application = make_application()
        error = refused(
            services.evidence_link_save,
            application=application,
            requirement=add_link_requirement(application),
            url=url,
            actor=educator,
        )
        assert error.code == "invalid"
        assert error.fields == {"url": ["Enter a full web address starting with https://"]}
        assert not EvidenceItem.objects.filter(application=application).exists()


# --- Quizzes --------------------------------------------------------------------------------------


def quiz_answers(quiz: EvidenceRequirement, *, right: int) -> dict[str, str]:
    """Answers to every question, the first ``right`` of them correct."""
    answers = {}
    for n, question in enumerate(QuizQuestion.objects.filter(requirement=quiz)):
        choices = list(question.choices.all())
        choice = next(c for c in choices if c.is_correct == (n < right))
        answers[str(question.pk)] = str(choice.pk)
    return answers


class TestQuiz:
    def test_passing_at_the_pass_mark(self, make_application: Any, educator: User) -> None:
        # given a quiz of 4 questions, pass mark 75%
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        # when 3 of 4 are right
        response = services.quiz_answer(
            application=application,
            requirement=quiz,
            answers=quiz_answers(quiz, right=3),
            actor=educator,
        )
        # then the score is 75% and the quiz is passed
        assert (response.correct, response.total, response.score_percent) == (3, 4, 75)
        assert response.passed is True
        assert response.tries == 1
        event = ApplicationEvent.objects.filter(application=application, kind="quiz").get()
        assert event.message == "Quiz “Quiz”: 3/4 (75%) — passed"

    def test_a_retake_counts_and_keeps_the_latest(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        first = services.quiz_answer(
            application=application,
            requirement=quiz,
            answers=quiz_answers(quiz, right=2),
            actor=educator,
        )
        assert (first.score_percent, first.passed) == (50, False)
        second = services.quiz_answer(
            application=application,
            requirement=quiz,
            answers=quiz_answers(quiz, right=4),
            actor=educator,
        )
        assert (second.score_percent, second.passed, second.tries) == (100, True, 2)
        assert QuizResponse.objects.filter(application=application).count() == 1

    def test_unanswered_questions_are_listed(self, make_application: Any, educator: User) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        answers = quiz_answers(quiz, right=4)
        first, _, third, _ = answers
        error = refused(
            services.quiz_answer,
            application=application,
            requirement=quiz,
            answers={first: answers[first], third: answers[third]},
            actor=educator,
        )
        assert error.code == "incomplete"
        assert error.message == (
            "Answer every question before you check your score: question 2, question 4 are "
            "unanswered."
        )
        assert set(error.fields) == {"question_2", "question_4"}
        assert not QuizResponse.objects.filter(application=application).exists()

    def test_a_choice_of_another_question_is_no_answer(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        answers = quiz_answers(quiz, right=4)
        first, second, *_ = answers
        answers[first] = answers[second]  # question 2's right choice, sent for question 1
        error = refused(
            services.quiz_answer,
            application=application,
            requirement=quiz,
            answers=answers,
            actor=educator,
        )
        assert error.message.endswith("question 1 is unanswered.")

    @pytest.mark.parametrize("garbage", ["abc", "", " ", "-1", "1.5", "99999999999", "0x10"])
    def test_garbage_is_no_answer_never_a_crash(
        self, make_application: Any, educator: User, garbage: str
    ) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        answers = quiz_answers(quiz, right=4)
        answers[next(iter(answers))] = garbage
        error = refused(
            services.quiz_answer,
            application=application,
            requirement=quiz,
            answers=answers,
            actor=educator,
        )
        assert error.code == "incomplete"
        assert set(error.fields) == {"question_1"}

    def test_unknown_question_ids_are_ignored(self, make_application: Any, educator: User) -> None:
        application = make_application(quiz=True)
        quiz = requirement(application, "Quiz")
        answers = {**quiz_answers(quiz, right=4), "not-a-question": "abc", "0": "1"}
        response = services.quiz_answer(
            application=application, requirement=quiz, answers=answers, actor=educator
        )
        assert response.passed is True
        assert set(response.answers) == set(quiz_answers(quiz, right=4))


# --- Upload slots ---------------------------------------------------------------------------------


class TestSlot:
    def test_a_slot_is_a_presigned_post_pinned_to_a_random_key(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        slot = slot_for(application, educator, filename="C:\\fakepath\\Plan\u202e.pdf")
        assert slot.method == "POST"
        assert slot.item.status == EvidenceItem.Status.PENDING
        assert slot.item.display_name == "Plan.pdf"
        assert slot.key == slot.item.storage_key
        assert "Plan" not in slot.key  # the educator's filename never enters the key
        assert slot.fields is not None and slot.fields["key"] == slot.key
        assert slot.item.slot_expires_at is not None
        assert slot.item.slot_expires_at > timezone.now() + dt.timedelta(minutes=14)

    @pytest.mark.parametrize(
        ("size", "content_type", "code", "message"),
        [
            (0, "application/pdf", "empty_file", "“plan.pdf” is empty (0 bytes)."),
            (
                20 * 1024 * 1024 + 1,
                "application/pdf",
                "too_large",
                "“plan.pdf” is 20.1 MB; “Lesson plan” accepts files up to 20 MB.",
            ),
            (
                1000,
                "application/zip",
                "type_not_accepted",
                "“Lesson plan” accepts documents (PDF, Word), images or video; “plan.pdf” "
                "(application/zip) is not one of them.",
            ),
            (
                1000,
                "",
                "type_not_accepted",
                "“Lesson plan” accepts documents (PDF, Word), images or video; “plan.pdf” "
                "(unknown type) is not one of them.",
            ),
        ],
        ids=["empty", "too large", "zip", "no type"],
    )
    def test_a_slot_checks_what_the_browser_declares(
        self,
        make_application: Any,
        educator: User,
        size: int,
        content_type: str,
        code: str,
        message: str,
    ) -> None:
        application = make_application()
        error = refused(
            slot_for,
            application=application,
            actor=educator,
            filename="plan.pdf",
            size=size,
            content_type=content_type,
        )
        assert (error.code, error.message) == (code, message)
        assert not EvidenceItem.objects.filter(application=application).exists()

    def test_unfinished_uploads_count_towards_the_limit(
        self, make_application: Any, educator: User
    ) -> None:
        # given "Lesson plan" takes 2 files: one is in, one is still uploading
        application = make_application()
        upload(application, educator)
        uploading = slot_for(application, educator)
        # when a third is asked for
        error = refused(slot_for, application=application, actor=educator)
        # then it is refused, and nothing was created
        assert error.code == "too_many_files"
        assert error.message == "“Lesson plan” takes at most 2 files. Remove one to add another."
        assert EvidenceItem.objects.filter(application=application).count() == 2
        # and removing the unfinished one makes room again
        services.evidence_item_remove(item=uploading.item, actor=educator)
        assert slot_for(application, educator).item.status == EvidenceItem.Status.PENDING

    def test_a_text_requirement_takes_no_file(self, make_application: Any, educator: User) -> None:
        application = make_application()
        error = refused(slot_for, application=application, actor=educator, title="Reflection")
        assert error.code == "wrong_kind"


# --- Confirming what arrived in storage -----------------------------------------------------------


class TestConfirm:
    @pytest.mark.parametrize(
        ("data", "content_type", "mime", "kind"),
        [
            (PDF, "application/pdf", "application/pdf", "document"),
            (PNG, "image/png", "image/png", "image"),
            (MP4, "video/mp4", "video/mp4", "video"),
        ],
        ids=["pdf", "png", "mp4"],
    )
    def test_an_accepted_file_is_ready(
        self,
        make_application: Any,
        educator: User,
        data: bytes,
        content_type: str,
        mime: str,
        kind: str,
    ) -> None:
        application = make_application()
        item = upload(application, educator, data, filename="evidence", content_type=content_type)
        # then the item is ready, with what the bytes say
        assert item.status == EvidenceItem.Status.READY
        assert (item.size, item.content_type, item.file_kind) == (len(data), mime, kind)
        assert item.etag and item.slot_expires_at is None
        # and the object stays in storage
        stored = storage.head(key=item.storage_key)
        assert stored is not None and stored.size == len(data)
        event = ApplicationEvent.objects.get(application=application, kind="file_added")
        assert event.message == "Added “evidence” to “Lesson plan”"

    @pytest.mark.parametrize(
        ("data", "content_type", "words"),
        [
            (ZIP, "application/pdf", "the file you sent is a ZIP archive."),
            (HTML, "image/png", "This file is an HTML page, which cannot be accepted"),
            (SVG, "image/svg+xml", "This file is an SVG drawing (which can carry scripts)"),
            (ELF, "video/mp4", "This file is a program (executable), which cannot be accepted"),
        ],
        ids=["zip as pdf", "html as image", "svg as image", "program as video"],
    )
    def test_a_file_posing_as_another_is_rejected_and_deleted(
        self, make_application: Any, educator: User, data: bytes, content_type: str, words: str
    ) -> None:
        # given a file whose bytes are not what the browser declared
        application = make_application()
        slot = slot_for(application, educator, size=len(data), content_type=content_type)
        assert upload_to_slot(slot, data).status_code == 201
        # when it is confirmed
        error = refused(services.evidence_upload_confirm, item=slot.item, actor=educator)
        # then the educator learns what it really is
        assert error.code == "rejected"
        assert words in error.message
        assert error.fields == {"file": [error.message]}
        # and the object is gone, the item rejected with the reason kept for the page
        assert storage.head(key=slot.key) is None
        item = EvidenceItem.objects.get(pk=slot.item.pk)
        assert item.status == EvidenceItem.Status.REJECTED
        assert item.rejection_reason == error.message
        assert item.purged_at is not None
        assert ApplicationEvent.objects.filter(application=application, kind="file_rejected")

    def test_confirming_before_the_upload_changes_nothing(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        slot = slot_for(application, educator)
        error = refused(services.evidence_upload_confirm, item=slot.item, actor=educator)
        assert error.code == "not_uploaded"
        assert error.message == "Nothing has arrived in storage for this upload yet."
        assert EvidenceItem.objects.get(pk=slot.item.pk).status == EvidenceItem.Status.PENDING
        # and the upload can still go ahead
        assert upload_to_slot(slot, PDF).status_code == 201
        item = services.evidence_upload_confirm(item=slot.item, actor=educator)
        assert item.status == EvidenceItem.Status.READY

    def test_confirming_twice_is_refused(self, make_application: Any, educator: User) -> None:
        application = make_application()
        item = upload(application, educator)
        error = refused(services.evidence_upload_confirm, item=item, actor=educator)
        assert error.message == "This upload is already finished."
        assert EvidenceItem.objects.get(pk=item.pk).status == EvidenceItem.Status.READY

    def test_an_expired_slot_is_refused(self, make_application: Any, educator: User) -> None:
        application = make_application()
        slot = slot_for(application, educator)
        assert upload_to_slot(slot, PDF).status_code == 201
        EvidenceItem.objects.filter(pk=slot.item.pk).update(
            slot_expires_at=timezone.now() - dt.timedelta(hours=2)
        )
        error = refused(services.evidence_upload_confirm, item=slot.item, actor=educator)
        assert error.code == "slot_expired"
        assert "Choose the file again" in error.message
        assert EvidenceItem.objects.get(pk=slot.item.pk).status == EvidenceItem.Status.PENDING

    def test_storage_refuses_more_bytes_than_were_declared(
        self, make_application: Any, educator: User
    ) -> None:
        # given a slot for the sample PDF, whose POST policy pins the size
        application = make_application()
        slot = slot_for(application, educator, size=len(PDF))
        # when the browser sends one byte more
        response = upload_to_slot(slot, PDF + b"0")
        # then storage refuses it, nothing is stored, and the upload can still be confirmed
        # once the right bytes arrive
        assert response.status_code == 400
        assert "EntityTooLarge" in response.text
        assert storage.head(key=slot.key) is None
        assert upload_to_slot(slot, PDF).status_code == 201
        item = services.evidence_upload_confirm(item=slot.item, actor=educator)
        assert item.status == EvidenceItem.Status.READY


class TestMultipart:
    def test_a_large_file_goes_up_in_parts(
        self, make_application: Any, educator: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given uploads above 1 KB use multipart (100 MB in production)
        monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 1024)
        application = make_application()
        slot = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        assert slot.method == "MULTIPART" and slot.upload_id
        assert in_uploads(slot.key)
        # when the parts are sent and the upload completed
        parts = put_parts(slot, MP4, educator)
        assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(MP4))]
        services.evidence_multipart_complete(item=slot.item, parts=parts, actor=educator)
        # then it confirms like any other file
        item = services.evidence_upload_confirm(item=slot.item, actor=educator)
        assert item.status == EvidenceItem.Status.READY
        assert (item.size, item.file_kind) == (len(MP4), "video")
        assert not in_uploads(slot.key)

    def test_confirming_an_unfinished_multipart_upload_is_refused(
        self, make_application: Any, educator: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 1024)
        application = make_application()
        slot = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        put_parts(slot, MP4, educator)
        error = refused(services.evidence_upload_confirm, item=slot.item, actor=educator)
        assert error.code == "not_uploaded"
        assert EvidenceItem.objects.get(pk=slot.item.pk).status == EvidenceItem.Status.PENDING

    def test_a_part_beyond_the_declared_size_is_not_signed(
        self, make_application: Any, educator: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 1024)
        application = make_application()
        slot = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        error = refused(
            services.evidence_multipart_sign, item=slot.item, part_number=2, actor=educator
        )
        assert error.message == "That part does not belong to this upload."

    def test_more_bytes_than_declared_are_rejected_at_confirm(
        self, make_application: Any, educator: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given a 1 MB limit, and a multipart slot for 4 KB (part URLs carry no size limit)
        monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 1024)
        application = make_application()
        lesson = requirement(application, "Lesson plan")
        lesson.max_file_size_mb = 1
        lesson.save(update_fields=["max_file_size_mb"])
        slot = slot_for(application, educator, size=4096, content_type="video/mp4")
        # when the browser sends one byte more than 1 MB and completes
        data = MP4 + b"\x00" * (1024 * 1024 + 1 - len(MP4))
        services.evidence_multipart_complete(
            item=slot.item, parts=put_parts(slot, data, educator), actor=educator
        )
        error = refused(services.evidence_upload_confirm, item=slot.item, actor=educator)
        # then the real size decides: the file is rejected and deleted
        assert error.code == "rejected"
        assert "1.1 MB" in error.message and "“Lesson plan.pdf”" in error.message
        assert storage.head(key=slot.key) is None
        item = EvidenceItem.objects.get(pk=slot.item.pk)
        assert (item.status, item.size) == (EvidenceItem.Status.REJECTED, len(data))


# --- Privacy declarations -------------------------------------------------------------------------


class TestPrivacy:
    def test_identifiable_students_without_consent_cannot_be_public(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        item = upload(application, educator, PNG, content_type="image/png")
        error = refused(
            services.evidence_item_privacy,
            item=item,
            students_identifiable=True,
            consent_on_file=False,
            visibility=EvidenceItem.Visibility.PUBLIC,
            actor=educator,
        )
        assert error.message == (
            "A file that shows identifiable students without consent on file cannot be public."
        )
        assert error.fields == {"visibility": ["Reviewers only, unless consent is on file."]}
        item.refresh_from_db()
        assert (item.students_identifiable, item.visibility) == (None, "reviewers")
        assert item.privacy_complete is False

    def test_with_consent_on_file_it_may_be_public(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        item = upload(application, educator, PNG, content_type="image/png")
        item = services.evidence_item_privacy(
            item=item,
            students_identifiable=True,
            consent_on_file=True,
            visibility=EvidenceItem.Visibility.PUBLIC,
            actor=educator,
        )
        assert item.privacy_complete is True
        assert item.visibility == EvidenceItem.Visibility.PUBLIC

    def test_identifiable_without_an_answer_on_consent_is_incomplete(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        item = upload(application, educator, PNG, content_type="image/png")
        item = services.evidence_item_privacy(
            item=item,
            students_identifiable=True,
            consent_on_file=None,
            visibility=EvidenceItem.Visibility.REVIEWERS,
            actor=educator,
        )
        assert item.privacy_complete is False

    def test_no_identifiable_students_needs_no_consent(
        self, make_application: Any, educator: User
    ) -> None:
        application = make_application()
        item = upload_declared(upload(application, educator), educator)
        assert (item.students_identifiable, item.consent_on_file) == (False, None)
        assert item.privacy_complete is True

    def test_an_unknown_visibility_is_refused(self, make_application: Any, educator: User) -> None:
        application = make_application()
        item = upload(application, educator)
        error = refused(
            services.evidence_item_privacy,
            item=item,
            students_identifiable=False,
            consent_on_file=None,
            visibility="everyone",
            actor=educator,
        )
        assert error.fields == {"visibility": ["Choose an option."]}


# --- Removing -------------------------------------------------------------------------------------


class TestRemove:
    def test_removing_a_file_deletes_it_after_commit(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        item = upload(application, educator)
        # when the educator removes it
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.evidence_item_remove(item=item, actor=educator)
            # (nothing is deleted before the transaction commits)
            assert storage.head(key=item.storage_key) is not None
        # then, once committed, the object is gone
        assert len(callbacks) == 1
        assert storage.head(key=item.storage_key) is None
        item.refresh_from_db()
        assert item.status == EvidenceItem.Status.REMOVED
        assert item.purged_at is not None
        event = ApplicationEvent.objects.get(application=application, kind="item_removed")
        assert event.message == "Removed “Lesson plan.pdf”"

    def test_removing_twice_does_nothing_more(
        self, make_application: Any, educator: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        application = make_application()
        item = upload(application, educator)
        with django_capture_on_commit_callbacks(execute=True):
            services.evidence_item_remove(item=item, actor=educator)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            again = services.evidence_item_remove(item=item, actor=educator)
        assert again.status == EvidenceItem.Status.REMOVED
        assert callbacks == []
        assert (
            ApplicationEvent.objects.filter(application=application, kind="item_removed").count()
            == 1
        )

    def test_removing_an_unfinished_multipart_upload_aborts_it(
        self,
        make_application: Any,
        educator: User,
        django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(storage, "MULTIPART_THRESHOLD", 1024)
        application = make_application()
        slot = slot_for(application, educator, size=len(MP4), content_type="video/mp4")
        put_parts(slot, MP4, educator)
        with django_capture_on_commit_callbacks(execute=True):
            services.evidence_item_remove(item=slot.item, actor=educator)
        assert not in_uploads(slot.key)
        assert EvidenceItem.objects.get(pk=slot.item.pk).upload_id == ""

    def test_removing_a_written_answer(self, make_application: Any, educator: User) -> None:
        application = make_application()
        item = services.evidence_text_save(
            application=application,
            requirement=requirement(application, "Reflection"),
            text="draft",
            actor=educator,
        )
        assert services.evidence_item_remove(item=item, actor=educator).status == "removed"
