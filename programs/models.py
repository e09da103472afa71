"""Organizations, people and roles, and the credential catalog they publish."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel, TimeStampedModel

from .models_roster import MembershipRosterFields, MembershipSource, ProfileField
from .models_roster import RosterApplyReport as RosterApplyReport
from .models_roster import RosterImport as RosterImport

# --- People -----------------------------------------------------------------------------------


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One account across all organizations; what a person may do in one comes from roles there."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    name_on_badges_public = models.BooleanField(
        _("name on badges"),
        default=True,
        help_text=_(
            "Badges issued from now on carry the full name; untick to issue them without it "
            "(badges already issued keep what they carry)."
        ),
    )
    school = models.CharField(max_length=200, blank=True)
    district = models.CharField(max_length=200, blank=True)
    # the language of their pages and e-mails ("": their browser's), credentials_site.locale
    language = models.CharField(max_length=8, blank=True, default="", choices=settings.LANGUAGES)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False,
        help_text=_("Platform operators only; program admins get admin access by role."),
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # Drawn again by the database (triggers, migration 0015) whenever the person's memberships,
    # staff roles, requests to join or e-mail addresses change, or an organization they staff is
    # renamed or (de)activated: the key of what their pages read from the cache about them
    # (programs.user_facts). Random, not a counter: a database restored from a backup, or made
    # again, never meets an entry kept for other data under the same value. Read with the user
    # on every signed-in request, at no extra cost.
    facts_revision = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        # addresses are matched in any case (``email__iexact``, the roster's bulk look-up)
        indexes = [models.Index(Upper("email"), name="programs_user_email_upper")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def needs_badge_name(self) -> bool:
        """No name on record yet: asked before their next submission and on My badges."""
        return not self.full_name.strip()

    @property
    def name_for_badges(self) -> str:
        """The name a badge issued now carries in its signed credential: the full name, or ""
        when they chose not to be named publicly (or have no name yet)."""
        return self.full_name.strip() if self.name_on_badges_public else ""


# --- Organizations ----------------------------------------------------------------------------

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB, e.g. #0b5394."))


def _relative_luminance(hex_value: str) -> float:
    channels = [int(hex_value[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def readable_on_white(value: str) -> None:
    """The brand colour is used behind white text and for borders: it needs WCAG AA contrast."""
    if not hex_colour.regex.match(value or ""):
        return  # the format validator reports it
    ratio = 1.05 / (_relative_luminance(value) + 0.05)
    if ratio < 4.5:
        raise ValidationError(
            _(
                "White text on %(colour)s has a contrast of %(ratio)s:1; choose a darker colour "
                "(at least 4.5:1) so buttons and headings stay readable."
            )
            % {"colour": value, "ratio": f"{ratio:.1f}"}
        )


class Organization(TimeStampedModel):
    """The tenant: an association, district or agency that runs a micro-credential program."""

    slug = models.SlugField(unique=True, help_text=_("Used in addresses: /o/<slug>/"))
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    tagline = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    logo = models.ImageField(upload_to="logos/", blank=True)
    brand_colour = models.CharField(
        max_length=7, default="#1f4e79", validators=[hex_colour, readable_on_white]
    )
    website = models.URLField(blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default="USD")
    publishes_catalog = models.BooleanField(
        default=True, help_text=_("List this organization and its catalog on the site home.")
    )
    is_active = models.BooleanField(default=True)
    # Issuer profile (Open Badges 3.0 Profile), used on the badges this organization issues.
    issuer_name = models.CharField(max_length=200, blank=True, help_text=_("Defaults to the name."))
    issuer_url = models.URLField(blank=True, help_text=_("Defaults to the website."))
    issuer_email = models.EmailField(blank=True, help_text=_("Defaults to the contact e-mail."))
    issuer_description = models.TextField(blank=True)
    # Program insight (badges.insights): what members may tell about themselves, and the
    # smallest group the equity views show.
    profile_fields = ArrayField(
        models.CharField(max_length=20, choices=ProfileField.choices),
        default=list,
        blank=True,
        help_text=_(
            "Optional questions members answer on their profile, used (grouped, never per "
            "person) by the equity views."
        ),
    )
    suppression_threshold = models.PositiveSmallIntegerField(
        _("smallest group shown"),
        default=10,
        validators=[MinValueValidator(5)],
        help_text=_(
            "Equity views hide any group of fewer people than this (and any cell from "
            "which one could be worked out)."
        ),
    )
    insights_monthly_email = models.BooleanField(
        _("monthly summary e-mail"),
        default=False,
        help_text=_(
            "On the first of each month, e-mail the owners and program admins last "
            "month's headline numbers with a link to the program dashboard."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programs:catalog", kwargs={"org_slug": self.slug})


class Membership(TenantModel, MembershipRosterFields):
    """A person's membership of an organization: members may pay less, or be the only ones
    eligible."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Member")
        LAPSED = "lapsed", _("Lapsed")
        CANCELLED = "cancelled", _("Cancelled")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    member_number = models.CharField(max_length=40, blank=True)
    member_until = models.DateField(null=True, blank=True, help_text=_("Empty: no expiry."))

    Source = MembershipSource

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} — {self.describe()}"

    def is_current(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == self.Status.ACTIVE and (
            self.member_until is None or self.member_until >= today
        )

    def describe(self) -> str:
        label = self.organization.short_name or self.organization.name
        if self.status == self.Status.LAPSED:
            return gettext("%(organization)s membership lapsed") % {"organization": label}
        if self.status == self.Status.CANCELLED:
            return gettext("%(organization)s membership cancelled") % {"organization": label}
        if self.member_until is None:
            return gettext("%(organization)s Member") % {"organization": label}
        values = {"organization": label, "date": self.member_until.isoformat()}
        if self.is_current():
            return gettext("%(organization)s Member until %(date)s") % values
        return gettext("%(organization)s Member expired %(date)s") % values


class StaffRole(TenantModel):
    """What a person may do in an organization beyond applying: review, run programs, own it."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Organization owner")
        PROGRAM_ADMIN = "program_admin", _("Program admin")
        REVIEWER = "reviewer", _("Reviewer")
        SENIOR_REVIEWER = "senior_reviewer", _("Senior reviewer (adjudicates)")
        ANALYST = "analyst", _("Analyst (reads program insight, changes nothing)")
        SCHOOL_LEADER = "school_leader", _("School leader (their schools only)")

    ADMIN_ROLES = (Role.OWNER, Role.PROGRAM_ADMIN)
    # who may open the program insight dashboard (badges.insights): read-only for analysts
    INSIGHT_ROLES = (Role.OWNER, Role.PROGRAM_ADMIN, Role.ANALYST)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    programs = models.ManyToManyField(
        "Program",
        blank=True,
        related_name="+",
        help_text=_("Reviewers only: limit to these programs. Empty: all programs."),
    )
    credentials = models.ManyToManyField(
        "Credential",
        blank=True,
        related_name="+",
        help_text=_("Reviewers only: limit to these credentials. Empty: all credentials."),
    )
    schools = models.ManyToManyField(
        "School",
        blank=True,
        related_name="leaders",
        help_text=_("School leaders only: the schools they lead (at least one)."),
    )
    title = models.CharField(
        max_length=60,
        blank=True,
        help_text=_(
            "School leaders: e.g. “Principal”, “Assistant principal”, “Instructional coach”."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "role"], name="one_role_per_kind"
            )
        ]
        indexes = [models.Index(fields=["user", "role"])]
        ordering = ["role", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


# --- Catalog structure -------------------------------------------------------------------------


class Program(TenantModel):
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True, help_text=_("Defaults to the organization's."))
    blind_review = models.BooleanField(
        default=False,
        help_text=_("Reviewers see an anonymous code, never the educator's identity."),
    )
    turnaround_business_days = models.PositiveSmallIntegerField(
        default=10, help_text=_("The promised time from submission to decision, in business days.")
    )
    claim_hours = models.PositiveSmallIntegerField(
        default=48, help_text=_("A reviewer's claim returns to the queue after this many hours.")
    )

    class WithdrawalRefund(models.TextChoices):
        NONE = "none", _("No refund when an educator withdraws")
        BEFORE_REVIEW = "before_review", _("Full refund if withdrawn before a review starts")

    withdrawal_refund = models.CharField(
        _("refund on withdrawal"),
        max_length=16,
        choices=WithdrawalRefund.choices,
        default=WithdrawalRefund.NONE,
        help_text=_("Fees paid online (Stripe): whether withdrawing offers the educator a refund."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="program_slug")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FocusArea(TenantModel):
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="focusarea_slug")
        ]
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Category(TenantModel):
    slug = models.SlugField()
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="category_slug")
        ]
        ordering = ["name"]
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Audience(TenantModel):
    """Who a credential is for: teachers, school leaders, central-office leaders, ..."""

    slug = models.SlugField()
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="audience_slug")
        ]
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


# --- Credentials and their versions ------------------------------------------------------------


class Credential(TenantModel):
    """The lasting identity of a micro-credential; its content lives in versions.

    ``current_version`` is the published version the catalog shows. Editing a published credential
    makes a new draft version; publishing it supersedes the old one, which stays readable.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="credentials")
    slug = models.SlugField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "CredentialVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The published version shown in the catalog."),
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="credential_slug"),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(current_version__isnull=False),
                name="published_credential_has_version",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "position"]),
            # the catalog's stamp (programs.selectors.focus_area_list_for_catalog)
            models.Index(fields=["organization", "updated_at"], name="credential_catalog_stamp"),
        ]
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.current_version.title if self.current_version else self.slug

    def get_absolute_url(self) -> str:
        return reverse(
            "programs:credential_detail",
            kwargs={"org_slug": self.organization.slug, "credential_slug": self.slug},
        )


# The catalog's text search configuration and weights (programs.selectors searches with the same).
SEARCH_CONFIG = "english"
SEARCH_VECTOR = (
    SearchVector("title", weight="A", config=SEARCH_CONFIG)
    + SearchVector("competency", weight="B", config=SEARCH_CONFIG)
    + SearchVector("summary", weight="C", config=SEARCH_CONFIG)
)


class CredentialVersion(TenantModel):
    """Everything a person reads before applying, frozen once published."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published (current)")
        SUPERSEDED = "superseded", _("Superseded")

    class Level(models.TextChoices):
        FOUNDATIONAL = "foundational", _("Foundational")
        LEVEL_1 = "level_1", _("Level 1")
        LEVEL_2 = "level_2", _("Level 2")
        ADVANCED = "advanced", _("Advanced")

    class ExpiryPolicy(models.TextChoices):
        NEVER = "never", _("Never expires")
        MONTHS = "months", _("Expires a number of months after it is awarded")

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)

    title = models.CharField(max_length=200)
    summary = models.CharField(
        max_length=400, help_text=_("One or two sentences for the catalog card.")
    )
    competency = models.TextField(help_text=_("The skill the educator demonstrates."))
    key_method = models.TextField(blank=True)
    method_components = models.TextField(blank=True, help_text=_("One component per line."))
    learning_objectives = models.TextField(blank=True, help_text=_("One objective per line."))
    research = models.TextField(blank=True, help_text=_("Research and rationale."))

    focus_area = models.ForeignKey(
        FocusArea, null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="versions")
    audiences = models.ManyToManyField(Audience, blank=True, related_name="versions")
    level = models.CharField(max_length=14, choices=Level.choices, default=Level.FOUNDATIONAL)
    estimated_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0"))],
        default=Decimal("5"),
    )
    credit_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Continuing-education or college credit hours, if any."),
    )
    ceus = models.DecimalField(
        _("CEUs"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "Continuing Education Units, if any (1 CEU is 10 contact hours), shown on "
            "educators' transcripts."
        ),
    )
    members_only = models.BooleanField(default=False)
    member_fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    non_member_fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty when the credential is for members only."),
    )
    badge_image = models.ImageField(upload_to="badges/", blank=True)
    # Badge artwork (programs.artwork): an uploaded PNG/SVG in ``badge_image``, or a design drawn
    # from ``badge_design`` ({shape, icon, title, level}); ``badge_image_alt`` describes either.
    badge_design = models.JSONField(null=True, blank=True, editable=False)
    badge_image_alt = models.CharField(
        max_length=250, blank=True, editable=False, help_text=_("What the badge artwork shows.")
    )
    expiry_policy = models.CharField(
        max_length=8, choices=ExpiryPolicy.choices, default=ExpiryPolicy.NEVER
    )
    expiry_months = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewers_required = models.PositiveSmallIntegerField(
        default=1, choices=[(1, _("One reviewer")), (2, _("Two reviewers (double review)"))]
    )
    max_attempts = models.PositiveSmallIntegerField(default=3)
    # What catalog search matches, weighted (title A, competency B, summary C): computed and
    # stored by PostgreSQL when a row is written (to_tsvector with a fixed configuration is
    # immutable), indexed below. A query reads it instead of parsing every version's text.
    search_vector = models.GeneratedField(
        expression=SEARCH_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
        editable=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "number"], name="version_number"),
            models.UniqueConstraint(
                fields=["credential"], condition=Q(state="published"), name="one_published_version"
            ),
            models.UniqueConstraint(
                fields=["credential"], condition=Q(state="draft"), name="one_draft_version"
            ),
        ]
        indexes = [
            # the catalog's count of published credentials per focus area
            models.Index(
                fields=["organization", "focus_area"],
                condition=Q(state="published"),
                name="credentialversion_published",
            ),
        ]
        ordering = ["credential", "-number"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number}, {self.get_state_display().lower()})"

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def has_artwork(self) -> bool:
        """Whether an admin gave this version badge artwork (uploaded or designed)."""
        return bool(self.badge_design or self.badge_image)

    def components_list(self) -> list[str]:
        return [line.strip() for line in self.method_components.splitlines() if line.strip()]

    def objectives_list(self) -> list[str]:
        return [line.strip() for line in self.learning_objectives.splitlines() if line.strip()]

    def expiry_display(self) -> str:
        if self.expiry_policy == self.ExpiryPolicy.MONTHS and self.expiry_months:
            years, months = divmod(self.expiry_months, 12)
            if months == 0:
                return ngettext(
                    "Valid for %(count)s year after it is awarded",
                    "Valid for %(count)s years after it is awarded",
                    years,
                ) % {"count": years}
            return ngettext(
                "Valid for %(count)s month after it is awarded",
                "Valid for %(count)s months after it is awarded",
                self.expiry_months,
            ) % {"count": self.expiry_months}
        return gettext("Does not expire")


class CatalogSearchEntry(models.Model):
    """The search vector of a published version, for catalog search: a copy of
    ``CredentialVersion.search_vector`` that a trigger keeps (migration 0006,
    ``programs_catalog_search_sync``) on every insert and update of a version, whoever writes it.

    Why a copy: row-level security keeps PostgreSQL from using an index for a condition that is
    not leakproof, and ``@@`` is not, so on ``programs_credentialversion`` a search reads every
    version of the organization. This table has no ``organization_id`` and no policy, so its GIN
    index is used; it holds only published versions' text, which every visitor may read, and a
    search reaches rows through the versions, under their policy
    (docs/decisions/0014-catalog-search.md).
    """

    version = models.OneToOneField(
        CredentialVersion,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="catalog_search",
    )
    document = SearchVectorField()

    class Meta:
        # fastupdate off: entries go into the index when written (publishing is rare), not into
        # a pending list that every search would read until a vacuum merges it
        indexes = [
            GinIndex(fields=["document"], name="catalogsearchentry_document", fastupdate=False)
        ]

    def __str__(self) -> str:
        return f"search entry of version {self.version_id}"


class Resource(TenantModel):
    """Research and resources: a link, a file or a video to study before practising."""

    class Kind(models.TextChoices):
        LINK = "link", _("Link")
        VIDEO = "video", _("Video")
        FILE = "file", _("File")
        READING = "reading", _("Reading")

    version = models.ForeignKey(
        CredentialVersion, on_delete=models.CASCADE, related_name="resources"
    )
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LINK)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)
    file = models.FileField(upload_to="resources/", blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class FileKind(models.TextChoices):
    DOCUMENT = "document", _("Documents (PDF, Word)")
    PRESENTATION = "presentation", _("Presentations (PowerPoint, PDF)")
    SPREADSHEET = "spreadsheet", _("Spreadsheets (Excel, CSV)")
    IMAGE = "image", _("Images (JPEG, PNG, HEIC)")
    AUDIO = "audio", _("Audio (MP3, M4A, WAV)")
    VIDEO = "video", _("Video (MP4, MOV, WebM)")


class EvidenceRequirement(TenantModel):
    """One piece of evidence the educator submits, in order."""

    class Kind(models.TextChoices):
        FILE = "file", _("File upload")
        TEXT = "text", _("Written answer")
        LINK = "link", _("Link")
        QUIZ = "quiz", _("Quiz")

    version = models.ForeignKey(
        CredentialVersion, on_delete=models.CASCADE, related_name="requirements"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.FILE)
    required = models.BooleanField(default=True)
    accepted_file_kinds = ArrayField(
        models.CharField(max_length=12, choices=FileKind.choices),
        default=list,
        blank=True,
        help_text=_("File uploads only."),
    )
    max_file_size_mb = models.PositiveIntegerField(default=100, help_text=_("File uploads only."))
    max_files = models.PositiveSmallIntegerField(default=1, help_text=_("File uploads only."))
    word_min = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Written answers only.")
    )
    word_max = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Written answers only.")
    )
    pass_mark_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Quizzes only: the share of correct answers needed to pass."),
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    def accepted_kinds_display(self) -> list[str]:
        labels = dict(FileKind.choices)
        return [str(labels.get(kind, kind)) for kind in self.accepted_file_kinds]

    def max_size_display(self) -> str:
        if self.max_file_size_mb >= 1024 and self.max_file_size_mb % 1024 == 0:
            return f"{self.max_file_size_mb // 1024} GB"
        return f"{self.max_file_size_mb} MB"


class QuizQuestion(TenantModel):
    requirement = models.ForeignKey(
        EvidenceRequirement, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.prompt[:80]


class QuizChoice(TenantModel):
    question = models.ForeignKey(QuizQuestion, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class RubricCriterion(TenantModel):
    """A criterion the reviewer rates on its scale of levels."""

    version = models.ForeignKey(
        CredentialVersion, on_delete=models.CASCADE, related_name="criteria"
    )
    requirement = models.ForeignKey(
        EvidenceRequirement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="criteria",
        help_text=_("The evidence this criterion scores; empty for the submission as a whole."),
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    passing_score = models.PositiveSmallIntegerField(
        default=2, help_text=_("The lowest level score that meets the standard.")
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = _("rubric criteria")

    def __str__(self) -> str:
        return self.title

    def reaches_passing(self, score: int | None) -> bool:
        """Whether a rating meets this criterion's standard: the one definition of "passing"
        that the review service, the review form and the badge checks all use."""
        return score is not None and score >= self.passing_score


class RubricLevel(TenantModel):
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.CASCADE, related_name="levels")
    score = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=60)
    descriptor = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["criterion", "score"], name="rubric_level_score")
        ]
        ordering = ["score"]

    def __str__(self) -> str:
        return f"{self.score} — {self.label}"


# --- Pathways ----------------------------------------------------------------------------------


class Pathway(TenantModel):
    """A stack of credentials that together award a larger certificate."""

    slug = models.SlugField()
    name = models.CharField(max_length=200)
    certificate_name = models.CharField(
        max_length=200, help_text=_("e.g. STEM Foundations Certificate")
    )
    description = models.TextField(blank=True)
    credentials = models.ManyToManyField(Credential, related_name="pathways", blank=True)
    badge_image = models.ImageField(upload_to="pathways/", blank=True)
    is_published = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="pathway_slug")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Audit trail -------------------------------------------------------------------------------


class AuditEvent(TenantModel):
    """One recorded state change, written by the service that made it."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    summary = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "object_type", "object_id", "-created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.summary


# The models of access (API tokens, requests to join, member e-mail domains), in their own module.
from .models_access import (  # noqa: E402, F401
    MemberEmailDomain,
    MembershipRequest,
    OrganizationToken,
)

# Learning communities: cohorts, their board and shared links (docs/decisions/0031).
from .models_communities import (  # noqa: E402, F401
    Community,
    CommunityInvitation,
    CommunityMember,
    CommunityPost,
    CommunityResource,
)
from .models_lti import LtiGradeLink, LtiIdentity, LtiPlatform  # noqa: E402, F401

# Schools and who belongs to them (docs/decisions/0029).
from .models_schools import School, SchoolMembership  # noqa: E402, F401

# Single sign-on: its own module (imported here so the app's models are found in one place).
from .models_sso import SignOnProvider  # noqa: E402, F401

# Outgoing webhooks: endpoints, the event outbox, deliveries and their attempts (decision 0028).
from .models_webhooks import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
