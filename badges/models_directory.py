"""Find expertise: an educator's opt-in directory profile, its search entries, and the weekly
recognition digests sent to school leaders (docs/decisions/0032-directory-and-recognition.md).

Imported at the end of ``badges.models`` (so Django registers them in ``badges``).
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel, TimeStampedModel
from programs.models import Membership, School, User


class DirectoryProfile(TimeStampedModel):
    """Whether, and to whom, an educator is listed in the directories of the organizations they
    belong to. Not tenant data: one choice for every organization (like the backpack profile).
    Without a row, or with ``hidden``, the educator is listed nowhere."""

    class Visibility(models.TextChoices):
        HIDDEN = "hidden", _("Not listed")
        MEMBERS = "members", _("Members of my organizations")
        PUBLIC = "public", _("Anyone (public)")

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="directory_profile", verbose_name=_("user")
    )
    visibility = models.CharField(
        max_length=8,
        choices=Visibility.choices,
        default=Visibility.HIDDEN,
        verbose_name=_("visibility"),
    )
    headline = models.CharField(
        max_length=160,
        blank=True,
        help_text=_("e.g. “Grade 4 teacher, data-driven instruction”."),
        verbose_name=_("headline"),
    )

    class Meta:
        verbose_name = _("directory profile")
        verbose_name_plural = _("directory profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_visibility_display()})"


class DirectoryEntry(models.Model):
    """What the directory of one organization searches for one listed member: a tsvector of their
    name (A), headline (B), public badges' titles (A), those credentials' categories and focus
    areas (C), their schools and district (C), plus exact facet lexemes (``org:<id>``,
    ``vis:<visibility>``, ``cred:<id>``, ``cat:<id>``, ``fa:<id>``, ``school:<id>``,
    ``district:<hash>``).

    One row per membership of a person whose profile is listed, kept by
    ``badges.directory.index.directory_entries_refresh`` (called by the services that change a
    profile, a badge, a membership or a name). Like ``CatalogSearchEntry`` it has no
    ``organization_id``, so no row-level security policy keeps PostgreSQL from its GIN index
    (``@@`` is not leakproof); it holds lexemes only, and a search reaches people through their
    memberships, under their policy (docs/decisions/0014, 0032).
    """

    membership = models.OneToOneField(
        Membership,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="directory_entry",
        verbose_name=_("membership"),
    )
    document = SearchVectorField(verbose_name=_("document"))
    sort_name = models.CharField(max_length=200, verbose_name=_("sort name"))

    class Meta:
        verbose_name = _("directory entry")
        verbose_name_plural = _("directory entries")
        indexes = [
            GinIndex(fields=["document"], name="directoryentry_document", fastupdate=False),
            # the whole directory by name: walked in order, the GIN test on each row
            models.Index(fields=["sort_name", "membership"], name="directoryentry_by_name"),
        ]

    def __str__(self) -> str:
        return f"directory entry of membership {self.membership_id}"


class RecognitionDigest(TenantModel):
    """A weekly digest of new public badges sent to one school leader: its natural key (leader,
    week) makes the weekly task idempotent."""

    leader = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("leader")
    )
    week_start = models.DateField(
        help_text=_("The Monday of the week the digest was sent."), verbose_name=_("week start")
    )
    schools = models.ManyToManyField(
        School, related_name="+", blank=True, verbose_name=_("schools")
    )
    badge_count = models.PositiveIntegerField(default=0, verbose_name=_("badge count"))

    class Meta:
        verbose_name = _("recognition digest")
        verbose_name_plural = _("recognition digests")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "leader", "week_start"], name="one_digest_per_week"
            )
        ]
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"digest for {self.leader} ({self.week_start})"
