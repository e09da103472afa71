"""Input and output serializers of the review API (the queue, claims, reviews).

Inputs only parse and type-check; every rule (who may claim what, which ratings are on the scale,
what a submission needs) is the services'. Outputs render rows the API already loaded; what a row
cannot know by itself comes from the context (``steps``: {requirement pk: step}, ``file_url``: a
callable, ``now``), so none of them runs a query per row.

Submissions have no public id: the queue and claims name an attempt by its application's
anonymous code and the attempt number (``S-ABC2345-2``). Criteria are named by ``criterion_id``,
the rubric criterion's id, as in the services' error fields (``criterion_<id>``); it appears in
payloads only, never in a URL. No educator identity is rendered anywhere except the claim's
``educator``, which the API fills only for a live claim in a program without blind review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials_site.inputs import QueryInput, StrictInput
from programs.models import EvidenceRequirement
from submissions.models import Application, EvidenceItem, QuizResponse, Submission

from .models import Claim, CriterionScore, Review


def submission_code(submission: Submission) -> str:
    """The opaque name of one attempt: the application's anonymous code and the attempt."""
    return f"{submission.application.anonymous_code}-{submission.number}"


# --- Inputs --------------------------------------------------------------------------------


class QueueFilterInput(QueryInput):
    program = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=50,
        default="",
        help_text=_("A program's slug."),
    )
    credential = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=50,
        default="",
        help_text=_("A credential's slug."),
    )
    order = serializers.ChoiceField(
        choices=[("oldest", "oldest"), ("newest", "newest")],
        required=False,
        default="oldest",
        help_text=_("By submission time; oldest first unless told."),
    )


class ClaimCreateInput(StrictInput):
    program = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=50,
        default="",
        help_text=_("Only from this program (its slug)."),
    )
    credential = serializers.SlugField(
        required=False,
        allow_blank=True,
        max_length=50,
        default="",
        help_text=_("Only of this credential (its slug)."),
    )
    adjudication = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Take a submission whose two reviews disagree (program admins and senior "
            "reviewers only)."
        ),
    )


class ScoreInput(StrictInput):
    criterion_id = serializers.IntegerField(
        min_value=1, help_text=_("The criterion's id, from the claim's review.scores.")
    )
    score = serializers.IntegerField(
        min_value=0,
        max_value=32767,
        required=False,
        allow_null=True,
        help_text=_("One of the criterion's level scores; null clears it. Unchanged when absent."),
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        trim_whitespace=False,
        help_text=_("Unchanged when absent."),
    )


class ReviewInput(StrictInput):
    """A draft may leave anything out; a submitted review needs every criterion rated, overall
    feedback, a decision and, for needs revision, what to change."""

    scores = ScoreInput(many=True, required=False, default=list)
    overall_feedback = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    revision_request = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=_("What the educator should change (needs revision)."),
    )
    decision = serializers.ChoiceField(
        choices=Review.Decision.choices, required=False, allow_blank=True, default=""
    )

    def validate_scores(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [row["criterion_id"] for row in value]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(gettext("Each criterion may appear once."))
        return value

    @staticmethod
    def scores_by_criterion(data: dict[str, Any]) -> dict[int, dict[str, Any]]:
        """As the services take them: {criterion id: {"score"?, "comment"?}}."""
        return {
            row["criterion_id"]: {k: v for k, v in row.items() if k != "criterion_id"}
            for row in data["scores"]
        }


# --- Outputs -------------------------------------------------------------------------------


class ReviewCredentialOutput(serializers.Serializer[Application]):
    slug = serializers.SlugField(source="credential.slug")
    title = serializers.CharField(source="version.title")


class QueueItemOutput(serializers.Serializer[Submission]):
    """One waiting attempt. Anonymous in every program: no educator identity."""

    id = serializers.SerializerMethodField(
        help_text=_("The attempt's opaque name: anonymous code and attempt, e.g. S-ABC2345-2.")
    )
    credential = ReviewCredentialOutput(source="application")
    attempt = serializers.IntegerField(source="number")
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(
        allow_null=True, help_text=_("The organization's turnaround target for a decision.")
    )
    overdue = serializers.SerializerMethodField(help_text=_("Past its turnaround target."))
    reviews_required = serializers.IntegerField()
    reviews_done = serializers.IntegerField(
        source="submitted_reviews", help_text=_("Reviews submitted so far (double review).")
    )
    assigned_to_you = serializers.BooleanField(
        help_text=_(
            "A program admin assigned it to the caller (listed first). Work assigned to "
            "someone else is not in the caller's queue."
        )
    )

    def get_id(self, obj: Submission) -> str:
        return submission_code(obj)

    def get_overdue(self, obj: Submission) -> bool:
        return obj.due_at is not None and obj.due_at < self.context["now"]


class ClaimSubmissionOutput(serializers.Serializer[Submission]):
    id = serializers.SerializerMethodField(help_text=_("As in the queue, e.g. S-ABC2345-2."))
    code = serializers.CharField(
        source="application.anonymous_code", help_text=_("The application's anonymous code.")
    )
    attempt = serializers.IntegerField(source="number")
    max_attempts = serializers.IntegerField(source="application.version.max_attempts")
    credential = ReviewCredentialOutput(source="application")
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)

    def get_id(self, obj: Submission) -> str:
        return submission_code(obj)


class ClaimSummaryOutput(serializers.Serializer[Claim]):
    id = serializers.UUIDField(source="public_id")
    status = serializers.SerializerMethodField(
        help_text=_("active, released, expired or completed; a claim past expires_at is expired.")
    )
    expires_at = serializers.DateTimeField()
    is_adjudication = serializers.BooleanField()
    submission = ClaimSubmissionOutput()

    # Labelled apart from ClaimOutput's so that each enum belongs to one component (the schema
    # generator warns when one choice set appears in several components under one field name).
    @extend_schema_field(serializers.ChoiceField(choices=[(v, v) for v in Claim.Status.values]))
    def get_status(self, obj: Claim) -> str:
        if obj.status == Claim.Status.ACTIVE and obj.expires_at <= self.context["now"]:
            return str(Claim.Status.EXPIRED)
        return str(obj.status)


class ReviewLevelOutput(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    # The metaclass pops declared fields from the class, so this does not shadow .label.
    label = serializers.CharField()  # type: ignore[assignment]
    descriptor = serializers.CharField()


class ReviewScoreOutput(serializers.Serializer[CriterionScore]):
    criterion_id = serializers.IntegerField(
        help_text=_("The criterion's id: send it back in scores[].criterion_id.")
    )
    criterion_title = serializers.CharField(source="criterion.title")
    criterion_description = serializers.CharField(source="criterion.description")
    step = serializers.SerializerMethodField(
        help_text=_("The step whose evidence this criterion scores; null for the whole submission.")
    )
    passing_score = serializers.IntegerField(source="criterion.passing_score")
    score = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    levels = ReviewLevelOutput(source="criterion.levels.all", many=True)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_step(self, obj: CriterionScore) -> int | None:
        requirement_id = obj.criterion.requirement_id
        if requirement_id is None:
            return None
        return self.context["steps"].get(requirement_id)  # type: ignore[no-any-return]


class ReviewOutput(serializers.Serializer[Review]):
    """The reviewer's review: a draft until submitted. Scores are in rubric order."""

    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=Review.Status.choices)
    decision = serializers.ChoiceField(
        choices=Review.Decision.choices, allow_blank=True, help_text=_("Empty while undecided.")
    )
    overall_feedback = serializers.CharField()
    revision_request = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    scores = serializers.SerializerMethodField()

    @extend_schema_field(ReviewScoreOutput(many=True))
    def get_scores(self, obj: Review) -> Any:
        return ReviewScoreOutput(self.context["scores"], many=True, context=self.context).data


class PriorReviewScoreOutput(serializers.Serializer[CriterionScore]):
    criterion_id = serializers.IntegerField()
    score = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()


class PriorReviewOutput(serializers.Serializer[Review]):
    """One of the two disagreeing reviews an adjudicator decides between."""

    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    overall_feedback = serializers.CharField()
    revision_request = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    scores = serializers.SerializerMethodField(help_text=_("In rubric order."))

    @extend_schema_field(PriorReviewScoreOutput(many=True))
    def get_scores(self, obj: Review) -> Any:
        rows = sorted(obj.scores.all(), key=lambda s: s.pk)  # made in rubric order at claim time
        return PriorReviewScoreOutput(rows, many=True).data  # type: ignore[arg-type]


class ReviewStepOutput(serializers.Serializer[EvidenceRequirement]):
    """What the step asked the educator for."""

    step = serializers.SerializerMethodField()
    title = serializers.CharField()
    # A plain string: the catalog and the application API already name this choice set twice.
    kind = serializers.CharField(help_text=_("file, text, link or quiz."))
    instructions = serializers.CharField()

    def get_step(self, obj: EvidenceRequirement) -> int:
        return int(self.context["steps"][obj.pk])


class ReviewEvidenceOutput(serializers.Serializer[EvidenceItem]):
    """One piece of the attempt's evidence: a file, a written answer or a link."""

    id = serializers.UUIDField(source="public_id")
    step = serializers.SerializerMethodField()
    title = serializers.CharField(source="requirement.title", help_text=_("The step's title."))
    # Labelled apart from the application API's EvidenceItemOutputKindEnum (see StepOutput).
    kind = serializers.ChoiceField(choices=[(k, k) for k in EvidenceItem.Kind.values])
    display_name = serializers.CharField()
    content_type = serializers.CharField(help_text=_("Sniffed from the bytes (files)."))
    file_kind = serializers.CharField(help_text=_("document, image, video, ... (files)."))
    size = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    url = serializers.CharField(help_text=_("The link (links)."))
    file_url = serializers.SerializerMethodField(
        help_text=_(
            "The reviewer's web page for the file (it redirects to a short-lived signed "
            "link, shown inline for video, audio, images and PDF); files only."
        )
    )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_step(self, obj: EvidenceItem) -> int | None:
        return self.context["steps"].get(obj.requirement_id)  # type: ignore[no-any-return]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_file_url(self, obj: EvidenceItem) -> str | None:
        if obj.kind != EvidenceItem.Kind.FILE or obj.purged_at is not None:
            return None
        file_url: Callable[[EvidenceItem], str] = self.context["file_url"]
        return file_url(obj)


class ReviewQuizOutput(serializers.Serializer[QuizResponse]):
    step = serializers.SerializerMethodField()
    title = serializers.CharField(source="requirement.title")
    score_percent = serializers.IntegerField()
    correct = serializers.IntegerField()
    total = serializers.IntegerField()
    passed = serializers.BooleanField()

    def get_step(self, obj: QuizResponse) -> int | None:
        return self.context["steps"].get(obj.requirement_id)  # type: ignore[no-any-return]


class EducatorOutput(serializers.Serializer[Any]):
    """Who submitted: only in programs without blind review."""

    name = serializers.CharField(source="full_name")
    email = serializers.EmailField()
    school = serializers.CharField()
    district = serializers.CharField()


class ClaimOutput(ClaimSummaryOutput):
    """A claim with everything needed to review: the steps, the evidence, the quiz results, the
    review (null once the claim was released or expired) and, for an adjudication, the reviews
    that disagree. Evidence is listed only while the claim is active or after it was completed."""

    review = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    quiz_results = serializers.SerializerMethodField()
    prior_reviews = serializers.SerializerMethodField(
        help_text=_("Adjudication claims only: the submitted reviews that disagree.")
    )
    educator = serializers.SerializerMethodField(
        help_text=_("Null in a program with blind review, where reviewers see only the code.")
    )

    @extend_schema_field(serializers.ChoiceField(choices=Claim.Status.choices))
    def get_status(self, obj: Claim) -> str:
        return super().get_status(obj)

    @extend_schema_field(ReviewOutput(allow_null=True))
    def get_review(self, obj: Claim) -> Any:
        review = self.context["review"]
        return None if review is None else ReviewOutput(review, context=self.context).data

    @extend_schema_field(ReviewStepOutput(many=True))
    def get_steps(self, obj: Claim) -> Any:
        return ReviewStepOutput(self.context["requirements"], many=True, context=self.context).data

    @extend_schema_field(ReviewEvidenceOutput(many=True))
    def get_evidence(self, obj: Claim) -> Any:
        return ReviewEvidenceOutput(self.context["items"], many=True, context=self.context).data

    @extend_schema_field(ReviewQuizOutput(many=True))
    def get_quiz_results(self, obj: Claim) -> Any:
        return ReviewQuizOutput(self.context["quizzes"], many=True, context=self.context).data

    @extend_schema_field(PriorReviewOutput(many=True))
    def get_prior_reviews(self, obj: Claim) -> Any:
        return PriorReviewOutput(self.context["prior_reviews"], many=True).data

    @extend_schema_field(EducatorOutput(allow_null=True))
    def get_educator(self, obj: Claim) -> Any:
        educator = self.context["educator"]
        return None if educator is None else EducatorOutput(educator).data


class ClaimEnvelopeOutput(serializers.Serializer[dict[str, Any]]):
    claim = ClaimOutput()


class ReviewSaveOutput(serializers.Serializer[dict[str, Any]]):
    review = ReviewOutput()


class ReviewSubmitOutput(serializers.Serializer[dict[str, Any]]):
    review = ReviewOutput()
    # Labelled apart from ApplicationDetailOutput's status (see ClaimSummaryOutput.get_status).
    application_status = serializers.ChoiceField(
        choices=[(v, v) for v in Application.Status.values],
        help_text=_(
            "in_review while a second review or an adjudication is pending; approved, "
            "needs_revision or not_awarded once decided."
        ),
    )
