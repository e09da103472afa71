"""Schools inside an organization, and which members belong to which (docs/decisions/0029).

A district or association has schools; a membership belongs to one or more of them. The roster
(and every other way a membership is written: the member API, requests to join) names a member's
school in words (``Membership.school`` / ``district``): ``programs.services.schools`` turns those
words into a ``School`` and a ``SchoolMembership`` of source "roster", kept in step each time.
A program admin may add further links by hand (a coach who serves two schools): those are of
source "admin" and a roster never takes them away.

Imported at the end of ``programs.models`` (so Django registers them in ``programs``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

from .models_roster import SchoolLevel


class School(TenantModel):  # type: ignore[django-manager-missing]
    """A school (or another site: a district office) of an organization."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    district = models.CharField(max_length=200, blank=True, verbose_name=_("district"))
    level = models.CharField(
        max_length=12, choices=SchoolLevel.choices, blank=True, verbose_name=_("level")
    )
    title_i = models.BooleanField(_("Title I school"), null=True, blank=True)

    class Meta:
        constraints = [
            # the roster names a school in words: one school per name and district, any case
            models.UniqueConstraint(
                "organization", Lower("name"), Lower("district"), name="one_school_per_name"
            )
        ]
        ordering = ["name", "district"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return f"{self.name} ({self.district})" if self.district else self.name


class SchoolMembership(TenantModel):
    """A member belongs to a school."""

    class Source(models.TextChoices):
        ROSTER = "roster", _("From the member's school on the roster")
        ADMIN = "admin", _("Added by a program admin")

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="links", verbose_name=_("school")
    )
    membership = models.ForeignKey(
        "programs.Membership",
        on_delete=models.CASCADE,
        related_name="school_links",
        verbose_name=_("membership"),
    )
    source = models.CharField(
        max_length=8, choices=Source.choices, default=Source.ADMIN, verbose_name=_("source")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "membership"], name="one_link_per_school")
        ]
        indexes = [models.Index(fields=["membership", "source"])]
        verbose_name = _("school membership")
        verbose_name_plural = _("school memberships")

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.school}"


# --- Goals, recommended sets and assignments (issue 21; docs/decisions/0030) --------------------


class SchoolGoal(TenantModel):  # type: ignore[django-manager-missing]
    """One of a school's improvement goals ("Literacy instruction"), in the leader's order."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="goals", verbose_name=_("school")
    )
    title = models.CharField(max_length=120, verbose_name=_("title"))
    description = models.TextField(max_length=2000, blank=True, verbose_name=_("description"))
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["school", "position"])]
        verbose_name = _("school goal")
        verbose_name_plural = _("school goals")

    def __str__(self) -> str:
        return self.title


class GoalRecommendation(TenantModel):
    """A credential in a goal's recommended set: of the school's organization, or another
    organization's public, published one (the cross-issuer catalog). The row belongs to the
    school's organization; the credential may belong to any."""

    goal = models.ForeignKey(
        SchoolGoal, on_delete=models.CASCADE, related_name="recommendations", verbose_name=_("goal")
    )
    credential = models.ForeignKey(
        "programs.Credential",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("credential"),
    )
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "credential"], name="one_recommendation")
        ]
        verbose_name = _("goal recommendation")
        verbose_name_plural = _("goal recommendations")

    def __str__(self) -> str:
        return f"{self.credential_id} for {self.goal}"


class SchoolAssignment(TenantModel):
    """A leader asks a staff member of the school to earn a credential, by an optional date.

    It never applies on the educator's behalf: they accept or decline, then apply as anyone
    does (membership, fees). The leader sees the status of the educator's application for it
    and its dates, never its evidence, scores or comments."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("school")
    )
    goal = models.ForeignKey(
        SchoolGoal,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goal"),
    )
    credential = models.ForeignKey(
        "programs.Credential",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("credential"),
    )
    membership = models.ForeignKey(
        "programs.Membership",
        on_delete=models.CASCADE,
        related_name="school_assignments",
        verbose_name=_("membership"),
    )
    assigned_by = models.ForeignKey(
        "programs.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    target_date = models.DateField(null=True, blank=True, verbose_name=_("target date"))
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    responded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("responded at"))
    # a seat code of the organization's (submissions.SeatCode.code), given with the assignment so
    # that the educator applies owing nothing; they type it when applying, as anyone does
    seat_code = models.CharField(max_length=12, blank=True, verbose_name=_("seat code"))
    # each reminder is sent once: a week before the target date and the day before
    reminded_week_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("reminded week at")
    )
    reminded_day_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reminded day at"))

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "membership", "credential"], name="one_assignment_per_credential"
            ),
            models.UniqueConstraint(
                fields=["organization", "seat_code"],
                condition=~models.Q(seat_code=""),
                name="one_assignment_per_seat_code",
            ),
        ]
        indexes = [models.Index(fields=["school", "credential"])]
        verbose_name = _("school assignment")
        verbose_name_plural = _("school assignments")

    def __str__(self) -> str:
        return f"{self.credential_id} for {self.membership_id}"

    @property
    def seat_code_display(self) -> str:
        """The seat code as printed: in groups of four."""
        code = self.seat_code
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
