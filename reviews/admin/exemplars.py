"""Calibration exemplars, made in two steps: choose a decided submission, then agree on its
scores (``reviews.calibration``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials_site.exceptions import ApplicationError
from programs.admin import TenantAdmin
from programs.admin_site import admin_site, administered_org_ids
from programs.models import RubricCriterion, User
from submissions.models import Submission

from .. import calibration
from ..models import CalibrationExemplar, Review
from ._base import CANDIDATES_SHOWN, OUTCOME_LABELS, history_url, submission_label


class ChooseSubmissionForm(forms.Form):
    """Step 1: a decided submission of one of the user's organizations (GET)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Part of the credential's title or of the anonymous code (S-…)."),
    )
    submission = forms.TypedChoiceField(coerce=int, label=_("Decided submission"), required=False)


class ExemplarForm(forms.Form):
    """Step 2: title, agreed decision, one agreed level per rubric criterion, rationale."""

    title = forms.CharField(
        max_length=200, help_text=_("Shown to reviewers instead of any name or anonymous code.")
    )
    agreed_decision = forms.ChoiceField(choices=Review.Decision.choices)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        required=False,
        help_text=_("Why these scores: shown to a reviewer after they submit their own."),
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

    @admin.display(description=_("Submission"))
    def submission_title(self, obj: CalibrationExemplar) -> str:
        return submission_label(obj.submission)

    @admin.display(description=_("Reviewers who scored it"), ordering="attempts_total")
    def attempts_count(self, obj: CalibrationExemplar) -> int:
        return int(getattr(obj, "attempts_total", 0))

    @admin.display(description=_("History"))
    def history(self, obj: CalibrationExemplar) -> str:
        return format_html(
            '<a href="{}">{}</a>', history_url(obj.submission_id), gettext("Review history")
        )

    @admin.display(description=_("Agreed scores"))
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
            raise Http404(gettext("No such decided submission.")) from None
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
            **self._context(
                request, gettext("Add calibration exemplar: choose a decided submission")
            ),
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
                        gettext(
                            "“%(title)s” is now a calibration exemplar: new reviewers score it "
                            "before they take live submissions."
                        )
                        % {"title": exemplar.title},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:reviews_calibrationexemplar_change", args=[exemplar.pk])
                    )
        else:
            form = ExemplarForm(initial=initial, criteria=criteria)
        here = f"{reverse('admin:reviews_calibrationexemplar_add')}?submission={submission.pk}"
        context = {
            **self._context(
                request,
                gettext("Add calibration exemplar: %(submission)s")
                % {"submission": submission_label(submission)},
            ),
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
