"""Claims on submitted attempts, reviews with their rubric scores, conflicts of interest."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel
from programs.models import RubricCriterion, User
from submissions.models import Submission


class Claim(TenantModel):
    """A reviewer's reservation of one submission; it lapses back to the queue."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired")
        COMPLETED = "completed", _("Completed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_adjudication = models.BooleanField(default=False)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "reviewer"],
                condition=Q(status="active"),
                name="one_active_claim_per_reviewer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "expires_at"],
                name="claim_active_expiry",
                condition=Q(status="active"),
            ),
            models.Index(fields=["organization", "reviewer", "status"]),
        ]

    def __str__(self) -> str:
        return f"Claim by {self.reviewer} on {self.submission_id}"


class Review(TenantModel):
    """One reviewer's judgement of one submission: a score per criterion and a decision."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        NEEDS_REVISION = "needs_revision", _("Needs revision")
        NOT_AWARDED = "not_awarded", _("Not awarded")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="review")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_adjudication = models.BooleanField(default=False)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    overall_feedback = models.TextField(blank=True)
    revision_request = models.TextField(blank=True, help_text=_("What to change (needs revision)."))
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "reviewer"],
                condition=Q(status="submitted"),
                name="one_submitted_review_per_reviewer",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "submitted_at"]),
            # a reviewer's recent and last reviews (queue health, the insight dashboard): a
            # range of this index instead of every review they ever wrote
            models.Index(
                fields=["reviewer", "submitted_at"],
                condition=Q(status="submitted"),
                name="review_submitted_by_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"Review by {self.reviewer} ({self.get_status_display().lower()})"


class CriterionScore(TenantModel):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class ConflictOfInterest(TenantModel):
    """A reviewer's declaration: never give me submissions from my school, my district, or
    this person."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("Educators from my school")
        DISTRICT = "district", _("Educators from my district")
        PERSON = "person", _("A named person")

    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    person = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = _("conflicts of interest")
        constraints = [
            # one declaration of each: a school, a district, a person (NULL for the first two,
            # where NULLs count as equal)
            models.UniqueConstraint(
                fields=["organization", "reviewer", "kind", "person"],
                nulls_distinct=False,
                name="one_conflict_declaration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer}: {self.get_kind_display()}"


class CalibrationExemplar(TenantModel):
    """A past submission with the scores the program agreed on; new reviewers score it before
    they may take live submissions, and their agreement is measured against it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200, help_text=_("Shown to reviewers instead of any name."))
    agreed_decision = models.CharField(max_length=16, choices=Review.Decision.choices)
    agreed_scores = models.JSONField(
        default=dict, help_text=_("{criterion_id: score} as agreed by the program.")
    )
    rationale = models.TextField(
        blank=True, help_text=_("Shown to the reviewer after they submit.")
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission"], name="one_exemplar_per_submission")
        ]

    def __str__(self) -> str:
        return self.title


class CalibrationAttempt(TenantModel):
    """A reviewer's scoring of one exemplar."""

    exemplar = models.ForeignKey(
        CalibrationExemplar, on_delete=models.CASCADE, related_name="attempts"
    )
    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    scores = models.JSONField(default=dict, help_text=_("{criterion_id: score}"))
    decision = models.CharField(max_length=16, choices=Review.Decision.choices)
    matching = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["exemplar", "reviewer"], name="one_attempt_per_exemplar"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.exemplar}"


class Assignment(TenantModel):
    """A program admin's choice of who reviews one submission (one attempt): it reserves one of
    the reviews the submission needs for that reviewer, so the queue does not offer it to
    anyone else while the reviewer has not taken it (reviews.selectors' rule). One per
    submission; assigning again moves it (docs/decisions/0018-reviewer-assignment.md)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission"], name="one_assignment_per_submission")
        ]
        indexes = [models.Index(fields=["organization", "reviewer"])]

    def __str__(self) -> str:
        return f"{self.submission_id} assigned to {self.reviewer}"


class QueueSubmission(Submission):
    """The admin's view of submissions waiting for review, where they are assigned."""

    class Meta:
        proxy = True
        verbose_name = _("submission to assign")
        verbose_name_plural = _("submissions to assign")
