"""Program admins see their organization's review queue in the admin.

Claims, reviews (with their scores) and conflicts of interest are a record: reviewers change
them through the queue, so they are read-only here. Calibration exemplars are made in two steps
(choose a decided submission, then agree on its scores) through ``reviews.calibration``. Two
pages of their own hang off the Review admin: the queue's health and a submission's review
history. Every page is limited to the organizations the user administers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from credentials_site.exceptions import ApplicationError
from programs.admin import TenantAdmin, TenantInline
from programs.admin_site import admin_site, administered_org_ids
from programs.models import Organization, RubricCriterion, User
from submissions.models import Submission

from . import calibration, health
from .models import CalibrationExemplar, Claim, ConflictOfInterest, CriterionScore, Review

OBJECT_ACTIONS_TEMPLATE = "admin/programs/change_form_object_actions.html"
CANDIDATES_SHOWN = 200
OUTCOME_LABELS = dict(Review.Decision.choices)


def submission_label(submission: Submission) -> str:
    """“<credential title> — <anonymous code> attempt n” (needs application__version loaded)."""
    application = submission.application
    return f"{application.version.title} — {application.anonymous_code} attempt {submission.number}"


def person(user: User) -> str:
    return f"{user.full_name} <{user.email}>" if user.full_name else user.email


def history_url(submission_id: int) -> str:
    return reverse("admin:reviews_submission_history", args=[submission_id])


class ReadOnlyTenantAdmin(TenantAdmin):
    """A record: listed and viewed, never added, changed or deleted here."""

    change_list_template = "admin/reviews/change_list.html"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(TenantInline):
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SubmissionColumnsMixin:
    """Columns naming the submission without the educator (the anonymous code), with a link to
    its review history."""

    @admin.display(description="Submission", ordering="submission__submitted_at")
    def submission_title(self, obj: Claim | Review | CalibrationExemplar) -> str:
        return submission_label(obj.submission)

    @admin.display(description="History")
    def history(self, obj: Claim | Review) -> str:
        return format_html('<a href="{}">Review history</a>', history_url(obj.submission_id))

    @admin.display(description="Reviewer", ordering="reviewer__email")
    def reviewer_email(self, obj: Claim | Review) -> str:
        return person(obj.reviewer)


# --- Claims, reviews, conflicts of interest ------------------------------------------------------


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
    verbose_name_plural = "scores"

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
                    "label": "Review history of this submission",
                    "url": history_url(obj.submission_id),
                }
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Queue health ---

    def queue_health_view(self, request: HttpRequest) -> HttpResponse:
        """The health of one organization's queue; ``?org=<slug>`` picks among several."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organizations = list(
            Organization.objects.filter(pk__in=administered_org_ids(request)).order_by("name")
        )
        slug = request.GET.get("org", "")
        chosen = (
            next((o for o in organizations if o.slug == slug), None)
            if slug
            else (organizations[0] if organizations else None)
        )
        if chosen is None:
            raise Http404("No such organization.")
        report = health.queue_health(organization=chosen)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review queue health — {chosen.name}",
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
            raise Http404("No such submission.")
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
            "title": f"Review history: {submission_label(submission)}",
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

    @admin.display(description="Reviewer", ordering="reviewer__email")
    def reviewer_email(self, obj: ConflictOfInterest) -> str:
        return person(obj.reviewer)


# --- Calibration exemplars ---------------------------------------------------------------------


class ChooseSubmissionForm(forms.Form):
    """Step 1: a decided submission of one of the user's organizations (GET)."""

    q = forms.CharField(
        label="Search",
        required=False,
        help_text="Part of the credential's title or of the anonymous code (S-…).",
    )
    submission = forms.TypedChoiceField(coerce=int, label="Decided submission", required=False)


class ExemplarForm(forms.Form):
    """Step 2: title, agreed decision, one agreed level per rubric criterion, rationale."""

    title = forms.CharField(
        max_length=200, help_text="Shown to reviewers instead of any name or anonymous code."
    )
    agreed_decision = forms.ChoiceField(choices=Review.Decision.choices)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        required=False,
        help_text="Why these scores: shown to a reviewer after they submit their own.",
    )

    def __init__(self, *args: Any, criteria: list[RubricCriterion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.TypedChoiceField(
                label=criterion.title,
                coerce=int,
                choices=[("", "—")]
                + [
                    (level.score, f"{level.score} — {level.label}")
                    for level in criterion.levels.all()
                ],
                help_text=criterion.description,
            )

    def criterion_fields(self) -> list[forms.BoundField]:
        return [self[f"criterion_{criterion.pk}"] for criterion in self.criteria]

    def other_fields(self) -> list[forms.BoundField]:
        return [self["title"], self["agreed_decision"]]

    def agreed_scores(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"criterion_{c.pk}"] for c in self.criteria}


@admin.register(CalibrationExemplar, site=admin_site)
class CalibrationExemplarAdmin(TenantAdmin):
    list_display = (
        "title",
        "submission_title",
        "agreed_decision",
        "is_active",
        "attempts_count",
        "created_by",
        "created_at",
    )
    list_filter = ("is_active", "agreed_decision")
    search_fields = ("title", "submission__application__anonymous_code")
    list_select_related = ("submission__application__version", "created_by", "organization")
    fields = (
        "title",
        "rationale",
        "is_active",
        "submission_title",
        "agreed_decision",
        "scores",
        "created_by",
        "history",
    )
    readonly_fields = ("submission_title", "agreed_decision", "scores", "created_by", "history")
    change_list_template = "admin/reviews/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalibrationExemplar]:
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(attempts_total=Count("attempts"))
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # reviewers' attempts are measured against it: deactivate instead

    @admin.display(description="Submission")
    def submission_title(self, obj: CalibrationExemplar) -> str:
        return submission_label(obj.submission)

    @admin.display(description="Reviewers who scored it", ordering="attempts_total")
    def attempts_count(self, obj: CalibrationExemplar) -> int:
        return int(getattr(obj, "attempts_total", 0))

    @admin.display(description="History")
    def history(self, obj: CalibrationExemplar) -> str:
        return format_html('<a href="{}">Review history</a>', history_url(obj.submission_id))

    @admin.display(description="Agreed scores")
    def scores(self, obj: CalibrationExemplar) -> str:
        criteria = {
            c.pk: c
            for c in RubricCriterion.objects.filter(
                version_id=obj.submission.application.version_id
            ).prefetch_related("levels")
        }
        lines = []
        for key, score in (obj.agreed_scores or {}).items():
            criterion = criteria.get(int(key))
            if criterion is None:
                lines.append(f"criterion {key}: {score}")
                continue
            label = next((lv.label for lv in criterion.levels.all() if lv.score == score), "")
            lines.append(f"{criterion.title}: {score}" + (f" — {label}" if label else ""))
        return "\n".join(lines) or "—"

    # --- Adding, in two steps ---

    def _candidates(self, request: HttpRequest) -> QuerySet[Submission]:
        taken = CalibrationExemplar.objects.filter(
            organization__in=administered_org_ids(request)
        ).values("submission_id")
        return (
            Submission.objects.filter(organization__in=administered_org_ids(request))
            .exclude(outcome="")
            .exclude(pk__in=taken)
            .select_related("application__version", "organization")
            .order_by("-decided_at", "-pk")
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        chosen = request.POST.get("submission") or request.GET.get("submission")
        if not chosen:
            return self._choose_submission(request)
        try:
            submission = self._candidates(request).get(pk=int(chosen))
        except (ValueError, Submission.DoesNotExist):
            raise Http404("No such decided submission.") from None
        return self._agree_scores(request, submission)

    def _context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "add_url": reverse("admin:reviews_calibrationexemplar_add"),
        }

    def _choose_submission(self, request: HttpRequest) -> HttpResponse:
        form = ChooseSubmissionForm(request.GET or None)
        candidates = self._candidates(request)
        query = request.GET.get("q", "").strip()
        if query:
            candidates = candidates.filter(
                Q(application__anonymous_code__icontains=query)
                | Q(application__version__title__icontains=query)
            )
        shown = list(candidates[: CANDIDATES_SHOWN + 1])
        several_orgs = len(administered_org_ids(request)) > 1

        def label(submission: Submission) -> str:
            text = f"{submission_label(submission)} ({OUTCOME_LABELS.get(submission.outcome, '')})"
            return f"{text} · {submission.organization.name}" if several_orgs else text

        choice = form.fields["submission"]
        assert isinstance(choice, forms.TypedChoiceField)  # noqa: S101 - declared above
        choice.choices = [("", "—")] + [(s.pk, label(s)) for s in shown[:CANDIDATES_SHOWN]]
        context = {
            **self._context(request, "Add calibration exemplar: choose a decided submission"),
            "form": form,
            "candidates": shown[:CANDIDATES_SHOWN],
            "more": len(shown) > CANDIDATES_SHOWN,
            "query": query,
        }
        return TemplateResponse(request, "admin/reviews/exemplar_choose.html", context)

    def _prefill(
        self, request: HttpRequest, submission: Submission, reviews: list[Review]
    ) -> tuple[dict[str, Any], Review | None]:
        """Initial values: the scores of the chosen review (``?from_review=<id>``), else those of
        the decision the submission received."""
        source = next((r for r in reviews if str(r.pk) == request.GET.get("from_review", "")), None)
        initial: dict[str, Any] = {
            "title": f"{submission.application.version.title}: calibration exemplar",
        }
        if source is not None:
            initial["agreed_decision"] = source.decision
            for score in source.scores.all():
                if score.score is not None:
                    initial[f"criterion_{score.criterion_id}"] = score.score
        else:
            if submission.outcome in Review.Decision.values:
                initial["agreed_decision"] = submission.outcome
            for entry in submission.feedback or []:
                if isinstance(entry, dict) and entry.get("score") is not None:
                    initial[f"criterion_{entry.get('criterion_id')}"] = entry["score"]
        return initial, source

    def _agree_scores(self, request: HttpRequest, submission: Submission) -> HttpResponse:
        criteria = list(
            RubricCriterion.objects.filter(version_id=submission.application.version_id)
            .prefetch_related("levels")
            .order_by("position", "pk")
        )
        reviews = list(
            Review.objects.filter(submission=submission, status=Review.Status.SUBMITTED)
            .select_related("reviewer")
            .prefetch_related("scores")
            .order_by("submitted_at")
        )
        initial, source = self._prefill(request, submission, reviews)
        if request.method == "POST":
            form = ExemplarForm(request.POST, criteria=criteria)
            if form.is_valid():
                exemplar = self._create(request, submission, form)
                if exemplar is not None:
                    self.message_user(
                        request,
                        f"“{exemplar.title}” is now a calibration exemplar: new reviewers score "
                        "it before they take live submissions.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:reviews_calibrationexemplar_change", args=[exemplar.pk])
                    )
        else:
            form = ExemplarForm(initial=initial, criteria=criteria)
        here = f"{reverse('admin:reviews_calibrationexemplar_add')}?submission={submission.pk}"
        context = {
            **self._context(request, f"Add calibration exemplar: {submission_label(submission)}"),
            "form": form,
            "submission": submission,
            "criteria": criteria,
            "reviews": [
                {
                    "review": review,
                    "url": f"{here}&from_review={review.pk}",
                    "current": source is not None and review.pk == source.pk,
                }
                for review in reviews
            ],
            "decision_url": here,
            "from_decision": source is None,
            "history_url": history_url(submission.pk),
            "outcome_label": OUTCOME_LABELS.get(submission.outcome, submission.outcome),
        }
        return TemplateResponse(request, "admin/reviews/exemplar_agree.html", context)

    def _create(
        self, request: HttpRequest, submission: Submission, form: ExemplarForm
    ) -> CalibrationExemplar | None:
        try:
            return calibration.exemplar_create(
                organization=submission.organization,
                submission=submission,
                title=form.cleaned_data["title"],
                agreed_decision=form.cleaned_data["agreed_decision"],
                agreed_scores=form.agreed_scores(),
                rationale=form.cleaned_data["rationale"],
                actor=request.user if isinstance(request.user, User) else None,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            for name, problems in error.fields.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    form.add_error(name if name in form.fields else None, str(problem))
            return None
