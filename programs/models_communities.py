"""Learning communities: a cohort of an organization's members around its credentials or a goal,
with facilitators, a simple threaded board and shared links (issue 21, docs/decisions/0031).

Imported at the end of ``programs.models`` (so Django registers them in ``programs``). Every row
carries ``organization_id``: row-level security covers them like every tenant table.
"""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

# the longest post or reply the board takes (a 1 MB post is refused with this number in words)
POST_MAX_CHARS = 20_000


def new_join_token() -> str:
    """The community's join link secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Community(TenantModel):  # type: ignore[django-manager-missing]
    """A learning community (cohort) of one organization."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    goal = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("What the community works towards, in words."),
        verbose_name=_("goal"),
    )
    description = models.TextField(blank=True, max_length=2000, verbose_name=_("description"))
    credentials = models.ManyToManyField(
        "programs.Credential", blank=True, related_name="+", verbose_name=_("credentials")
    )
    join_token = models.CharField(
        max_length=64, unique=True, default=new_join_token, verbose_name=_("join token")
    )
    created_by = models.ForeignKey(
        "programs.User",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = _("communities")
        verbose_name = _("community")

    def __str__(self) -> str:
        return self.name


class CommunityMember(TenantModel):
    """A person in a community: facilitator or member; one who left or was removed is kept (the
    board keeps their posts and a removed person cannot come back by the link)."""

    class Role(models.TextChoices):
        FACILITATOR = "facilitator", _("Facilitator")
        MEMBER = "member", _("Member")

    class State(models.TextChoices):
        ACTIVE = "active", _("Member")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed by a facilitator")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="members", verbose_name=_("community")
    )
    user = models.ForeignKey(
        "programs.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    role = models.CharField(
        max_length=12, choices=Role.choices, default=Role.MEMBER, verbose_name=_("role")
    )
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.ACTIVE, verbose_name=_("state")
    )
    digest = models.BooleanField(
        default=True,
        help_text=_("A daily e-mail of new posts (the member may turn it off)."),
        verbose_name=_("digest"),
    )
    # the digest: the day it last went out (one per member per day), and up to which post time
    digest_sent_on = models.DateField(null=True, blank=True, verbose_name=_("digest sent on"))
    digest_through = models.DateTimeField(null=True, blank=True, verbose_name=_("digest through"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="one_member_per_community")
        ]
        indexes = [models.Index(fields=["user", "state"])]
        verbose_name = _("community member")
        verbose_name_plural = _("community members")

    def __str__(self) -> str:
        return f"{self.user_id} in {self.community_id} ({self.role}, {self.state})"

    @property
    def is_facilitator(self) -> bool:
        return self.state == self.State.ACTIVE and self.role == self.Role.FACILITATOR


class CommunityInvitation(TenantModel):
    """A facilitator invited a member of the organization by e-mail."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("community")
    )
    user = models.ForeignKey(
        "programs.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    invited_by = models.ForeignKey(
        "programs.User",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("invited by"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="one_invitation_per_person")
        ]
        verbose_name = _("community invitation")
        verbose_name_plural = _("community invitations")

    def __str__(self) -> str:
        return f"{self.user_id} invited to {self.community_id}"


class CommunityPost(TenantModel):  # type: ignore[django-manager-missing]
    """A post on a community's board, or a reply to one (one level: a reply has no replies)."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="posts", verbose_name=_("community")
    )
    author = models.ForeignKey(
        "programs.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        verbose_name=_("parent"),
    )
    body = models.TextField(help_text=_("Markdown, rendered without HTML."), verbose_name=_("body"))
    pinned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("pinned at"))
    hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden at"))
    hidden_by = models.ForeignKey(
        "programs.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("hidden by"),
    )
    hidden_reason = models.CharField(max_length=300, blank=True, verbose_name=_("hidden reason"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), POST_MAX_CHARS),
                name="community_post_length",
            )
        ]
        indexes = [models.Index(fields=["community", "parent", "-created_at"])]
        ordering = ["created_at", "pk"]
        verbose_name = _("community post")
        verbose_name_plural = _("community posts")

    def __str__(self) -> str:
        return f"post {self.public_id}"


class CommunityResource(TenantModel):
    """A link a member shared with the community (title and an https address)."""

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="resources", verbose_name=_("community")
    )
    added_by = models.ForeignKey(
        "programs.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("added by")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    url = models.URLField(max_length=2000, verbose_name=_("url"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("community resource")
        verbose_name_plural = _("community resources")

    def __str__(self) -> str:
        return self.title
