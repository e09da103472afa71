"""How people become members and how an organization's own systems reach Tessera: API tokens
for member sync, requests to join, and e-mail domains whose verified holders are members.

Imported at the end of ``programs.models`` (so Django registers them in ``programs``)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel

from .models import Credential, User

# --- API tokens -------------------------------------------------------------------------------


class OrganizationToken(TenantModel):
    """A secret an organization's own system (a membership CRM's nightly job) sends as
    ``Authorization: Bearer tsr_…``. Only its SHA-256 is stored; the secret is shown once, when
    it is made. It acts in this organization only, within its scopes."""

    PREFIX = "tsr_"

    class Scope(models.TextChoices):
        MEMBERS_READ = "members:read", _("Read members")
        MEMBERS_WRITE = "members:write", _("Create and update members")
        # the admin API (docs/decisions/0033)
        CREDENTIALS_READ = "credentials:read", _("Read credentials and their drafts")
        CREDENTIALS_WRITE = "credentials:write", _("Create, edit and publish credentials")
        APPLICATIONS_READ = "applications:read", _("Read applications and decisions")
        BADGES_READ = "badges:read", _("Read badges")
        BADGES_WRITE = "badges:write", _("Award and revoke badges")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    name = models.CharField(
        max_length=100,
        help_text=_("What uses it, e.g. “CRM nightly sync”."),
        verbose_name=_("name"),
    )
    scopes = ArrayField(
        models.CharField(max_length=20, choices=Scope.choices), verbose_name=_("scopes")
    )
    key_prefix = models.CharField(
        _("token starts with"),
        max_length=16,
        help_text=_("Enough to recognize it, never to use it."),
    )
    key_hash = models.CharField(max_length=64, unique=True, verbose_name=_("key hash"))
    created_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


# --- Asking to join ---------------------------------------------------------------------------


class MembershipRequest(TenantModel):
    """A signed-in person asks to be a member; a program admin approves or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="membership_requests", verbose_name=_("user")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    member_number = models.CharField(max_length=40, blank=True, verbose_name=_("member number"))
    school = models.CharField(max_length=200, blank=True, verbose_name=_("school"))
    note = models.TextField(blank=True, max_length=1000, verbose_name=_("note"))
    credential = models.ForeignKey(
        Credential,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The members-only credential they asked from."),
        verbose_name=_("credential"),
    )
    decided_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=Q(status="pending"),
                name="one_pending_membership_request",
            )
        ]
        indexes = [models.Index(fields=["organization", "status", "-created_at"])]
        ordering = ["-created_at"]
        verbose_name = _("membership request")
        verbose_name_plural = _("membership requests")

    def __str__(self) -> str:
        return f"{self.user.email} ({self.get_status_display().lower()})"


# --- Membership by e-mail domain --------------------------------------------------------------

domain_name = RegexValidator(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a domain such as riverside.k12.ca.us (no @, no address, lower case)."),
)


class MemberEmailDomain(TenantModel):
    """Everyone with a verified e-mail address at this domain is a member (``@domain`` exactly,
    not its subdomains)."""

    domain = models.CharField(max_length=253, validators=[domain_name], verbose_name=_("domain"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"], name="member_domain_once")
        ]
        indexes = [models.Index(fields=["domain"])]
        ordering = ["domain"]
        verbose_name = _("member e-mail domain")
        verbose_name_plural = _("member e-mail domains")

    def __str__(self) -> str:
        return f"@{self.domain}"
