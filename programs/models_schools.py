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

from django.db import models
from django.db.models.functions import Lower

from credentials_site.models import TenantModel

from .models_roster import SchoolLevel


class School(TenantModel):  # type: ignore[django-manager-missing]
    """A school (or another site: a district office) of an organization."""

    name = models.CharField(max_length=200)
    district = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=12, choices=SchoolLevel.choices, blank=True)
    title_i = models.BooleanField("Title I school", null=True, blank=True)

    class Meta:
        constraints = [
            # the roster names a school in words: one school per name and district, any case
            models.UniqueConstraint(
                "organization", Lower("name"), Lower("district"), name="one_school_per_name"
            )
        ]
        ordering = ["name", "district"]

    def __str__(self) -> str:
        return f"{self.name} ({self.district})" if self.district else self.name


class SchoolMembership(TenantModel):
    """A member belongs to a school."""

    class Source(models.TextChoices):
        ROSTER = "roster", "From the member's school on the roster"
        ADMIN = "admin", "Added by a program admin"

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="links")
    membership = models.ForeignKey(
        "programs.Membership", on_delete=models.CASCADE, related_name="school_links"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "membership"], name="one_link_per_school")
        ]
        indexes = [models.Index(fields=["membership", "source"])]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.school}"
