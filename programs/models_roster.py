"""What a roster adds to memberships, and the roster imports themselves.

Kept apart from ``programs.models`` (which imports it): ``MembershipRosterFields`` is the part of
``Membership`` that a roster, the member API and the other ways of joining fill in;
``RosterImport`` is one uploaded file on its way from preview to dry run to apply.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel


class MembershipSource(models.TextChoices):
    """How a membership came to be (or was last set)."""

    ADMIN = "admin", _("Added in the admin")
    ROSTER = "roster", _("Roster import")
    API = "api", _("Member API")
    REQUEST = "request", _("Request to join")
    DOMAIN = "domain", _("E-mail domain")
    SSO = "sso", _("Single sign-on")


class SchoolLevel(models.TextChoices):
    """The level of the school a member works at (self-reported, when the organization asks)."""

    ELEMENTARY = "elementary", _("Elementary")
    MIDDLE = "middle", _("Middle")
    HIGH = "high", _("High")
    K12 = "k12", _("K-12 / combined")
    OTHER = "other", _("Other")


class ProfileField(models.TextChoices):
    """The optional self-reported fields an organization may ask its members for (used, grouped
    and never shown per person, by the equity views)."""

    YEARS_EXPERIENCE = "years_experience", _("Years of experience")
    SCHOOL_LEVEL = "school_level", _("School level")
    TITLE_I = "title_i", _("Title I school")


class MembershipRosterFields(models.Model):
    """Roster columns of a membership: where the member works and since when they belong, and
    the optional fields the organization asks for (``Organization.profile_fields``)."""

    school = models.CharField(max_length=200, blank=True, verbose_name=_("school"))
    district = models.CharField(max_length=200, blank=True, verbose_name=_("district"))
    position = models.CharField(_("role / position"), max_length=200, blank=True)
    member_since = models.DateField(_("membership start"), null=True, blank=True)
    source = models.CharField(
        max_length=12,
        choices=MembershipSource.choices,
        default=MembershipSource.ADMIN,
        verbose_name=_("source"),
    )
    years_experience = models.PositiveSmallIntegerField(
        _("years of experience"), null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    school_level = models.CharField(
        max_length=12, choices=SchoolLevel.choices, blank=True, verbose_name=_("school level")
    )
    title_i = models.BooleanField(_("works at a Title I school"), null=True, blank=True)

    class Meta:
        abstract = True


class RosterImport(TenantModel):
    """One roster file uploaded by a program admin: kept (bounded, in the database) until it is
    checked and applied; the report of the last run is kept beside it."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded: map the columns")
        CHECKING = "checking", _("Dry run in progress")
        CHECKED = "checked", _("Dry run done")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    RUNNING = (State.CHECKING, State.APPLYING)

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file_name = models.CharField(max_length=255, verbose_name=_("file name"))
    file_kind = models.CharField(max_length=4, verbose_name=_("file kind"))  # "csv" or "xlsx"
    file_data = models.BinaryField(verbose_name=_("file data"))
    headers = models.JSONField(default=list, verbose_name=_("headers"))
    mapping = models.JSONField(
        default=dict, help_text=_("Roster field → column number."), verbose_name=_("mapping")
    )
    lapse_missing = models.BooleanField(
        _("members missing from this file lapse"),
        default=False,
        help_text=_(
            "Active members of the organization whose e-mail is not in the file lapse. "
            "Nobody is deleted."
        ),
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.UPLOADED, verbose_name=_("state")
    )
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))
    errors = models.JSONField(
        default=list, blank=True, help_text=_("The first problems found."), verbose_name=_("errors")
    )
    failure = models.TextField(blank=True, verbose_name=_("failure"))
    report = models.TextField(
        blank=True, help_text=_("CSV: one line per row of the file."), verbose_name=_("report")
    )
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked at"))
    applied_at = models.DateTimeField(null=True, blank=True, verbose_name=_("applied at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_state_display().lower()})"


class RosterApplyReport(TenantModel):
    """What one apply of a roster did, a line per row of the file and per member lapsed (the
    report's CSV as the apply wrote it), kept for the audit trail: the apply's one audit entry
    (``roster_import.applied``) links it. A later dry run or apply of the same import leaves it
    as it is."""

    roster_import = models.ForeignKey(
        RosterImport,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("roster import"),
    )
    file_name = models.CharField(max_length=255, verbose_name=_("file name"))
    counts = models.JSONField(default=dict, verbose_name=_("counts"))
    report = models.TextField(
        help_text=_("CSV: one line per row of the file."), verbose_name=_("report")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster apply report")
        verbose_name_plural = _("roster apply reports")

    def __str__(self) -> str:
        return f"{self.file_name}, applied {self.created_at:%Y-%m-%d %H:%M}"
