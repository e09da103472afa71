"""Shared pieces of the reviews admin: read-only bases and the submission columns."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programs.admin.base import RecordAdmin
from programs.models import User
from submissions.models import Submission

from ..models import CalibrationExemplar, Claim, Review

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"
CANDIDATES_SHOWN = 200
OUTCOME_LABELS = dict(Review.Decision.choices)


def submission_label(submission: Submission) -> str:
    """“<credential title> — <anonymous code> attempt n” (needs application__version loaded)."""
    application = submission.application
    return gettext("%(title)s — %(code)s attempt %(number)s") % {
        "title": application.version.title,
        "code": application.anonymous_code,
        "number": submission.number,
    }


def person(user: User) -> str:
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def history_url(submission_id: int) -> str:
    return reverse("admin:reviews_submission_history", args=[submission_id])


class ReadOnlyTenantAdmin(RecordAdmin):
    """A record: listed and viewed, never added, changed or deleted here."""

    change_list_template = "admin/reviews/change_list.html"


class SubmissionColumnsMixin:
    """Columns naming the submission without the educator (the anonymous code), with a link to
    its review history."""

    @admin.display(description=_("Submission"), ordering="submission__submitted_at")
    def submission_title(self, obj: Claim | Review | CalibrationExemplar) -> str:
        return submission_label(obj.submission)

    @admin.display(description=_("History"))
    def history(self, obj: Claim | Review) -> str:
        return format_html(
            '<a href="{}">{}</a>', history_url(obj.submission_id), gettext("Review history")
        )

    @admin.display(description=_("Reviewer"), ordering="reviewer__email")
    def reviewer_email(self, obj: Claim | Review) -> str:
        return person(obj.reviewer)


# --- Claims, reviews, conflicts of interest ------------------------------------------------------
