"""Issued badges (signed Open Badges 3.0 credentials), the organizations' signing keys, their
revocation status lists, issuing failures and educators' public backpack profiles."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel, TimeStampedModel
from programs.content_language import LocalizedText, localized_text
from programs.models import CredentialVersion, Pathway, User
from submissions.models import Application


class SignedJSONField(models.JSONField):  # type: ignore[type-arg]
    """A signed document, kept as it was written: PostgreSQL ``json`` (not ``jsonb``, which
    reorders keys), so it is served with ``@context`` first and its keys in the order they
    were signed. Nothing queries inside it."""

    def db_type(self, connection: Any) -> str:
        return "json"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        # the text itself: Django's adapter casts to jsonb (``::jsonb``), which reorders keys
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else json.dumps(value, cls=self.encoder)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or isinstance(value, str):
            return super().from_db_value(value, expression, connection)
        return value  # psycopg2 decodes ``json`` columns itself


class PlatformSigningKey(TimeStampedModel):
    """Tessera's own Ed25519 key, which signs what the platform issues itself rather than an
    organization: an educator's Comprehensive Learner Record (badges.clr), which gathers badges
    of several organizations. Published in the platform's DID document
    (``did:web:<host>``, ``/.well-known/did.json``); a retired key stays published. Not a
    tenant row: it belongs to no organization."""

    key_id = models.CharField(max_length=80, unique=True, verbose_name=_("key id"))
    public_key_multibase = models.CharField(max_length=80, verbose_name=_("public key multibase"))
    private_key_encrypted = models.TextField(
        editable=False, verbose_name=_("private key encrypted")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    retired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("retired at"))

    class Meta:
        verbose_name = _("platform signing key")
        verbose_name_plural = _("platform signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_platform_key"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_id} ({'active' if self.is_active else 'retired'})"


STATUS_LIST_SIZE = 131_072  # bits; the minimum the Bitstring Status List spec asks for privacy


class SigningKey(TenantModel):
    """An organization's Ed25519 key. The private half is stored encrypted (badges.keys); the
    public half is published in the organization's DID document. Rotated (retired) keys stay
    published so that badges they signed keep verifying; a key marked compromised leaves the
    document at once, and the badges it signed are re-signed (``KeyCompromise``)."""

    key_id = models.CharField(
        max_length=80, help_text=_("The fragment after # in the DID URL."), verbose_name=_("key id")
    )
    public_key_multibase = models.CharField(max_length=80, verbose_name=_("public key multibase"))
    private_key_encrypted = models.TextField(
        editable=False, verbose_name=_("private key encrypted")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    retired_at = models.DateTimeField(null=True, blank=True, verbose_name=_("retired at"))
    compromised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Marked compromised: no longer published, nothing it signed verifies."),
        verbose_name=_("compromised at"),
    )

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_active=True), name="one_active_key_per_org"
            ),
            models.UniqueConstraint(fields=["organization", "key_id"], name="unique_key_id"),
            models.CheckConstraint(
                condition=Q(compromised_at__isnull=True) | Q(is_active=False),
                name="compromised_key_is_not_active",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_id} ({self.state})"

    @property
    def state(self) -> str:
        if self.compromised_at is not None:
            return "compromised"
        return "active" if self.is_active else "retired"


class StatusList(TenantModel):
    """One ``BitstringStatusListCredential`` of an organization: a bit per badge, set when the
    badge is revoked. Served signed at ``/o/<slug>/status/<number>``, valid until
    ``valid_until`` (``BADGE_STATUS_LIST_VALID_DAYS`` after it was signed) and re-signed before
    then."""

    number = models.PositiveIntegerField(default=1, verbose_name=_("number"))
    purpose = models.CharField(max_length=12, default="revocation", verbose_name=_("purpose"))
    size = models.PositiveIntegerField(default=STATUS_LIST_SIZE, verbose_name=_("size"))
    bits = models.BinaryField(editable=False, verbose_name=_("bits"))
    next_index = models.PositiveIntegerField(default=0, verbose_name=_("next index"))
    credential = SignedJSONField(
        default=dict, blank=True, editable=False, verbose_name=_("credential")
    )
    signed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("signed at"))
    valid_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The signed list's validUntil (re-signed before)."),
        verbose_name=_("valid until"),
    )
    signing_key = models.ForeignKey(
        SigningKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_lists",
        help_text=_("The key whose proof the signed list carries."),
        verbose_name=_("signing key"),
    )

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "purpose", "number"], name="unique_status_list"
            )
        ]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.purpose} list {self.number}"


class Badge(TenantModel):
    """A badge issued to an educator: for an approved application, or for a completed
    pathway. ``credential`` is the signed OpenBadgeCredential exactly as issued."""

    class Kind(models.TextChoices):
        CREDENTIAL = "credential", _("Micro-credential")
        PATHWAY = "pathway", _("Pathway certificate")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.CREDENTIAL, verbose_name=_("kind")
    )
    recipient = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="badges", verbose_name=_("recipient")
    )
    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="badge",
        help_text=_("The approved application (one badge each, ever)."),
        verbose_name=_("application"),
    )
    version = models.ForeignKey(
        CredentialVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version"),
    )
    pathway = models.ForeignKey(
        Pathway,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pathway"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    issued_at = models.DateTimeField(default=timezone.now, verbose_name=_("issued at"))
    valid_until = models.DateTimeField(null=True, blank=True, verbose_name=_("valid until"))
    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="badges", verbose_name=_("status list")
    )
    status_index = models.PositiveIntegerField(verbose_name=_("status index"))
    signing_key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, related_name="badges", verbose_name=_("signing key")
    )
    credential = SignedJSONField(editable=False, verbose_name=_("credential"))
    salt = models.CharField(max_length=40, editable=False, verbose_name=_("salt"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revocation_reason = models.CharField(
        _("public reason"),
        max_length=500,
        blank=True,
        help_text=_(
            "Why the badge was revoked, shown to anyone who checks it (the verification "
            "page, the Open Badges 2.0 assertion, the API)."
        ),
    )
    revocation_note = models.TextField(
        _("private note"),
        max_length=2000,
        blank=True,
        help_text=_(
            "Only the educator (by e-mail) and the organization's admins see this: never "
            "on a public page or public document."
        ),
    )
    revoked_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    is_public = models.BooleanField(
        default=True,
        help_text=_("Listed on the educator's public profile."),
        verbose_name=_("is public"),
    )
    expiry_notified_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("expiry notified at")
    )

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="one_badge_per_status_bit"
            ),
            # one valid certificate per pathway and person; revoked ones stay as the record
            # (a new one may follow when the educator re-earns what was revoked: pathways.py)
            models.UniqueConstraint(
                fields=["recipient", "pathway"],
                condition=Q(pathway__isnull=False, revoked_at__isnull=True),
                name="one_valid_certificate_per_pathway",
            ),
            models.CheckConstraint(
                condition=Q(application_id__isnull=False) | Q(pathway__isnull=False),
                name="badge_for_application_or_pathway",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-issued_at"]),
            models.Index(fields=["organization", "-issued_at"]),
            models.Index(
                fields=["valid_until"],
                name="badge_expiring",
                condition=Q(revoked_at__isnull=True, expiry_notified_at__isnull=True),
            ),
        ]
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"{self.name} — {self.recipient}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.valid_until is not None and self.valid_until <= timezone.now()

    @property
    def state(self) -> str:
        if self.is_revoked:
            return "revoked"
        return "expired" if self.is_expired else "valid"

    def localized_name(self) -> LocalizedText:
        """The name in the page's language: its version's edition when there is one, else the
        name it was issued with (programs.content_language)."""
        return localized_text(
            self.version if self.version_id else None,
            "title",
            text=self.name,
            organization=self.organization,
        )

    def localized_description(self, issued: str) -> LocalizedText:
        """``issued`` (the description its credential carries) in the page's language."""
        return localized_text(
            self.version if self.version_id else None,
            "summary",
            text=issued,
            organization=self.organization,
        )


class KeyCompromise(TenantModel):
    """A signing key marked compromised, and the job that re-signs, with the organization's
    active key, every still-valid badge it signed (``services.signing_key_compromise``; the
    ``badges.key_compromise_resign`` task, a batch at a time). One per key, ever: the natural
    key of the job, so marking twice or running the job twice does nothing more."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Re-signing")
        DONE = "done", _("Done")

    key = models.OneToOneField(
        SigningKey, on_delete=models.PROTECT, related_name="compromise", verbose_name=_("key")
    )
    replacement = models.ForeignKey(
        SigningKey,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The organization's active key when the key was marked."),
        verbose_name=_("replacement"),
    )
    marked_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked by"),
    )
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.QUEUED, verbose_name=_("state")
    )
    total = models.PositiveIntegerField(
        default=0, help_text=_("Badges to re-sign, all told."), verbose_name=_("total")
    )
    done = models.PositiveIntegerField(
        default=0, help_text=_("Badges re-signed so far."), verbose_name=_("done")
    )
    status_lists_resigned = models.PositiveIntegerField(
        default=0, verbose_name=_("status lists resigned")
    )
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))

    class Meta:
        verbose_name = _("key compromise")
        verbose_name_plural = _("key compromises")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key.key_id[:16]}… compromised: {self.done} of {self.total} re-signed"


class IssueFailure(TenantModel):
    """A failed attempt to issue a badge, kept for program admins (the task retries)."""

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("application"),
    )
    pathway = models.ForeignKey(
        Pathway,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pathway"),
    )
    recipient = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient"),
    )
    attempt = models.PositiveSmallIntegerField(default=1, verbose_name=_("attempt"))
    error = models.TextField(verbose_name=_("error"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))

    class Meta:
        verbose_name = _("issue failure")
        verbose_name_plural = _("issue failures")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.error[:80]


handle_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$",
    _("3 to 40 lower-case letters, digits or hyphens, not starting or ending with a hyphen."),
)


class BackpackProfile(TimeStampedModel):
    """An educator's opt-in public profile at ``/u/<handle>/`` (not tenant data: it lists
    public badges from every organization)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="backpack", verbose_name=_("user")
    )
    handle = models.CharField(
        max_length=40, unique=True, validators=[handle_validator], verbose_name=_("handle")
    )
    is_public = models.BooleanField(default=False, verbose_name=_("is public"))
    headline = models.CharField(max_length=200, blank=True, verbose_name=_("headline"))

    class Meta:
        verbose_name = _("backpack profile")
        verbose_name_plural = _("backpack profiles")

    def __str__(self) -> str:
        return self.handle


from .insights.aggregates import (  # noqa: E402,F401  (the insight dashboard's facts)
    ApplicationFact,
    BadgeEngagement,
    CriterionFact,
    InsightBuild,
    InsightSection,
    InsightSummaryMail,
    SubmissionFact,
)
from .models_award import AwardRecord, BulkAward  # noqa: E402,F401  (a module of its own)
from .models_directory import (  # noqa: E402,F401  (the directory; decision 0032)
    DirectoryEntry,
    DirectoryProfile,
    RecognitionDigest,
)
from .models_wallet import WalletExchange  # noqa: E402,F401  (a module of its own)
