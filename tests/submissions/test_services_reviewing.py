"""What the review of an attempt changes on the submissions side, through submissions' own
services: a step on the application's timeline, an attempt sent to adjudication, and the
decided scores, refused when a row is malformed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from credentials_site.exceptions import ApplicationError
from programs.models import User
from submissions import services
from submissions.decisions import MalformedDecision
from submissions.models import Application, ApplicationEvent, Submission
from tests.factories import UserFactory
from tests.reviews.conftest import submit_attempt

pytestmark = pytest.mark.django_db


def submitted(make_application: Callable[..., Application], educator: User) -> Submission:
    return submit_attempt(make_application(), educator)


def timeline(application_id: int) -> list[tuple[str, str, dict[str, Any], int | None]]:
    return [
        (e.kind, e.message, e.data, e.actor_id)
        for e in ApplicationEvent.objects.filter(application_id=application_id).order_by("pk")
    ]


class TestApplicationEventRecord:
    def test_the_step_is_on_the_timeline_without_loading_the_application(
        self, make_application: Any, educator: User, count_queries: Any
    ) -> None:
        # given an application, of which the caller holds only the key and organization
        application = make_application()
        reviewer = UserFactory()
        known = Application(pk=application.pk, organization_id=application.organization_id)
        # when a step is recorded
        ctx = count_queries(
            lambda: services.application_event_record(
                application=known,
                actor_id=reviewer.pk,
                kind="claim_released",
                message="A reviewer released the submission; it is back in the queue",
                data={"adjudication": False},
            )
        )
        # then it is on the timeline, with its actor for the admins, in one insert
        assert timeline(application.pk)[-1] == (
            "claim_released",
            "A reviewer released the submission; it is back in the queue",
            {"adjudication": False},
            reviewer.pk,
        )
        assert len(ctx) == 1

    def test_a_long_message_is_cut_to_the_timelines_length(self, make_application: Any) -> None:
        application = make_application()
        services.application_event_record(
            application=application, actor_id=None, kind="note", message="x" * 400
        )
        assert timeline(application.pk)[-1] == ("note", "x" * 300, {}, None)


class TestSubmissionMarkForAdjudication:
    def test_a_disagreement_leaves_the_queue_for_a_senior_reviewer(
        self, make_application: Any, educator: User
    ) -> None:
        # given a submitted attempt whose two reviewers disagreed
        submission = submitted(make_application, educator)
        second = UserFactory()
        # when it is marked for adjudication
        services.submission_mark_for_adjudication(
            submission=submission, actor_id=second.pk, decisions=["approve", "not_awarded"]
        )
        # then it waits for adjudication, and the timeline says why
        assert Submission.objects.get(pk=submission.pk).needs_adjudication
        assert timeline(submission.application_id)[-1] == (
            "adjudication_needed",
            "The reviewers disagreed; a senior reviewer will make the final decision",
            {"decisions": ["approve", "not_awarded"]},
            second.pk,
        )

    def test_a_decided_attempt_is_refused_and_nothing_changes(
        self, make_application: Any, educator: User
    ) -> None:
        # given a decided attempt
        submission = submitted(make_application, educator)
        Submission.objects.filter(pk=submission.pk).update(outcome="approve")
        before = timeline(submission.application_id)
        # when it is marked for adjudication
        with pytest.raises(ApplicationError) as error:
            services.submission_mark_for_adjudication(
                submission=submission, actor_id=None, decisions=["approve", "not_awarded"]
            )
        # then it is refused, and neither the attempt nor the timeline changed
        assert error.value.message == "This submission has already been decided."
        assert not Submission.objects.get(pk=submission.pk).needs_adjudication
        assert timeline(submission.application_id) == before


class TestDecidedScoresAreChecked:
    def test_a_decision_with_a_malformed_row_is_refused_and_nothing_changes(
        self, make_application: Any, educator: User
    ) -> None:
        # given a submitted attempt
        submission = submitted(make_application, educator)
        application = Application.objects.get(pk=submission.application_id)
        before = timeline(application.pk)
        # when a decision arrives with a score that is not a number
        with pytest.raises(MalformedDecision, match="score 'high' is not a whole number"):
            services.application_decide(
                application=application,
                outcome="approve",
                summary="Well done.",
                feedback=[{"criterion_id": 1, "score": "high"}],
                actor=None,
            )
        # then nothing was decided
        row = Submission.objects.get(pk=submission.pk)
        assert (row.outcome, row.feedback, row.decided_at) == ("", [], None)
        assert Application.objects.get(pk=application.pk).status == Application.Status.SUBMITTED
        assert timeline(application.pk) == before
