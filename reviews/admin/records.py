"""Claims, reviews (with their scores) and conflicts of interest: a read-only record."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from programs.admin.base import ReadOnlyInline
from programs.admin_site import admin_site, administered_org_ids, organization_chosen
from submissions.models import Submission

from .. import health
from ..models import Claim, ConflictOfInterest, CriterionScore, Review
from ._base import (
    OBJECT_ACTIONS_TEMPLATE,
    OUTCOME_LABELS,
    ReadOnlyTenantAdmin,
    SubmissionColumnsMixin,
    history_url,
    person,
    submission_label,
)


@admin.register(Claim, site=admin_site)
class ClaimAdmin(SubmissionColumnsMixin, ReadOnlyTenantAdmin):
    list_display = (
        "submission_title",
        "reviewer_email",
        "status",
        "is_adjudication",
        "created_at",
        "expires_at",
        "ended_at",
        "history",
    )
    list_filter = ("status", "is_adjudication")
    search_fields = (
        "reviewer__email",
        "reviewer__full_name",
        "submission__application__anonymous_code",
    )
    list_select_related = ("submission__application__version", "reviewer", "organization")
    fields = (
        "submission_title",
        "reviewer_email",
        "status",
        "is_adjudication",
        "created_at",
        "expires_at",
        "ended_at",
        "reminded_at",
        "history",
    )
    readonly_fields = fields
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Claim]:
        return super().get_queryset(request).select_related(*self.list_select_related)


class CriterionScoreInline(ReadOnlyInline):
    model = CriterionScore
    fields = ("criterion", "score", "comment")
    readonly_fields = fields
    ordering = ("criterion__position", "criterion__pk")
    verbose_name_plural = _("scores")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CriterionScore]:
        return super().get_queryset(request).select_related("criterion")


@admin.register(Review, site=admin_site)
class ReviewAdmin(SubmissionColumnsMixin, ReadOnlyTenantAdmin):
    list_display = (
        "submission_title",
        "reviewer_email",
        "status",
        "decision",
        "is_adjudication",
        "submitted_at",
        "history",
    )
    list_filter = ("status", "decision", "is_adjudication")
    search_fields = (
        "reviewer__email",
        "reviewer__full_name",
        "submission__application__anonymous_code",
    )
    list_select_related = ("submission__application__version", "reviewer", "organization")
    fields = (
        "submission_title",
        "reviewer_email",
        "status",
        "is_adjudication",
        "decision",
        "overall_feedback",
        "revision_request",
        "submitted_at",
        "history",
    )
    readonly_fields = fields
    inlines = (CriterionScoreInline,)
    change_form_template = OBJECT_ACTIONS_TEMPLATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "queue-health/",
                self.admin_site.admin_view(self.queue_health_view),
                name="reviews_queue_health",
            ),
            path(
                "submission/<int:submission_id>/history/",
                self.admin_site.admin_view(self.submission_history_view),
                name="reviews_submission_history",
            ),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None:
            context["object_actions"] = [
                {
                    "label": gettext("Review history of this submission"),
                    "url": history_url(obj.submission_id),
                }
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Queue health ---

    def queue_health_view(self, request: HttpRequest) -> HttpResponse:
        """The health of one organization's queue; ``?org=<slug>`` picks among several."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        chosen, organizations = organization_chosen(request)
        report = health.queue_health(organization=chosen)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Review queue health — %(organization)s")
            % {"organization": chosen.name},
            "health": report,
            "organization": chosen,
            "organizations": organizations if len(organizations) > 1 else [],
        }
        return TemplateResponse(request, "admin/reviews/queue_health.html", context)

    # --- A submission's review history ---

    def submission_history_view(self, request: HttpRequest, submission_id: int) -> HttpResponse:
        """Every claim and review of one attempt, oldest first, with the scores given."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        submission = (
            Submission.objects.filter(
                pk=submission_id, organization__in=administered_org_ids(request)
            )
            .select_related(
                "organization",
                "application__version",
                "application__credential__program",
            )
            .first()
        )
        if submission is None:
            raise Http404(gettext("No such submission."))
        claims = list(
            Claim.objects.filter(submission=submission)
            .select_related("reviewer")
            .order_by("created_at", "pk")
        )
        reviews = {
            review.claim_id: review
            for review in Review.objects.filter(submission=submission).prefetch_related(
                Prefetch(
                    "scores",
                    CriterionScore.objects.select_related("criterion").order_by(
                        "criterion__position", "criterion__pk"
                    ),
                )
            )
        }
        attempts = list(
            Submission.objects.filter(application_id=submission.application_id)
            .order_by("number")
            .values_list("pk", "number", "outcome")
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Review history: %(submission)s")
            % {"submission": submission_label(submission)},
            "submission": submission,
            "rows": [(claim, reviews.get(claim.pk)) for claim in claims],
            "attempts": [
                {
                    "number": number,
                    "outcome": OUTCOME_LABELS.get(outcome, outcome),
                    "url": history_url(pk),
                    "current": pk == submission.pk,
                }
                for pk, number, outcome in attempts
            ],
            "outcome_label": OUTCOME_LABELS.get(submission.outcome, submission.outcome),
            "application_url": reverse(
                "admin:submissions_application_change", args=[submission.application_id]
            ),
        }
        return TemplateResponse(request, "admin/reviews/submission_history.html", context)


@admin.register(ConflictOfInterest, site=admin_site)
class ConflictOfInterestAdmin(ReadOnlyTenantAdmin):
    list_display = ("reviewer_email", "kind", "person", "note", "created_at")
    list_filter = ("kind",)
    search_fields = ("reviewer__email", "reviewer__full_name", "person__email", "note")
    list_select_related = ("reviewer", "person", "organization")
    fields = ("reviewer_email", "kind", "person", "note", "created_at")
    readonly_fields = fields

    @admin.display(description=_("Reviewer"), ordering="reviewer__email")
    def reviewer_email(self, obj: ConflictOfInterest) -> str:
        return person(obj.reviewer)


# --- Calibration exemplars ---------------------------------------------------------------------
