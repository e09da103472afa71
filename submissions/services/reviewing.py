"""What the review of an attempt changes here, besides its outcome (applications.py): a step
on the application's timeline, and an attempt sent to a senior reviewer when its reviewers
disagree. The reviews app changes these rows only through the functions below."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credentials_site.exceptions import ApplicationError

from ..errors import SubmissionErrorCode as Code
from ..models import Application, ApplicationEvent, Submission


def application_event_record(
    *,
    application: Application,
    actor_id: int | None,
    kind: str,
    message: str,
    data: Mapping[str, Any] | None = None,
) -> ApplicationEvent:
    """A step on the application's timeline: the educator sees the message (never the actor),
    program admins see both. Only ``application``'s key and organization are read, so a caller
    holding just those need not load the row."""
    return _record(application.pk, application.organization_id, actor_id, kind, message, data or {})


def _record(
    application_id: int,
    organization_id: int,
    actor_id: int | None,
    kind: str,
    message: str,
    data: Mapping[str, Any],
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        organization_id=organization_id,
        application_id=application_id,
        actor_id=actor_id,
        kind=kind,
        message=message[:300],
        data=dict(data),
    )


@transaction.atomic
def submission_mark_for_adjudication(
    *, submission: Submission, actor_id: int | None, decisions: list[str]
) -> Submission:
    """The attempt's reviewers disagreed (``decisions``, one per review): it leaves the review
    queue for the adjudication queue, and the timeline says so. Only an undecided attempt."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.outcome:
        raise ApplicationError(
            _("This submission has already been decided."), code=Code.NOT_EDITABLE
        )
    submission.needs_adjudication = True
    submission.save(update_fields=["needs_adjudication", "updated_at"])
    _record(
        submission.application_id,
        submission.organization_id,
        actor_id,
        "adjudication_needed",
        "The reviewers disagreed; a senior reviewer will make the final decision",
        {"decisions": decisions},
    )
    return submission
