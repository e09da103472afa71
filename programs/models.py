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

from . import content_language
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

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(max_length=200, blank=True, verbose_name=_("full name"))
    name_on_badges_public = models.BooleanField(
        _("name on badges"),
        default=True,
        help_text=_(
            "Badges issued from now on carry the full name; untick to issue them without it "
            "(badges already issued keep what they carry)."
        ),
    )
    school = models.CharField(max_length=200, blank=True, verbose_name=_("school"))
    district = models.CharField(max_length=200, blank=True, verbose_name=_("district"))
    # the language of their pages and e-mails ("": their browser's), credentials_site.locale
    language = models.CharField(
        max_length=8, blank=True, default="", choices=settings.LANGUAGES, verbose_name=_("language")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_staff = models.BooleanField(
        default=False,
        help_text=_("Platform operators only; program admins get admin access by role."),
        verbose_name=_("is staff"),
    )
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))
    # Drawn again by the database (triggers, migration 0015) whenever the person's memberships,
    # staff roles, requests to join or e-mail addresses change, or an organization they staff is
    # renamed or (de)activated: the key of what their pages read from the cache about them
    # (programs.user_facts). Random, not a counter: a database restored from a backup, or made
    # again, never meets an entry kept for other data under the same value. Read with the user
    # on every signed-in request, at no extra cost.
    facts_revision = models.UUIDField(
        default=uuid.uuid4,
        db_default=RandomUUID(),
        editable=False,
        verbose_name=_("facts revision"),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        # addresses are matched in any case (``email__iexact``, the roster's bulk look-up)
        indexes = [models.Index(Upper("email"), name="programs_user_email_upper")]
        verbose_name = _("user")
        verbose_name_plural = _("users")

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

    slug = models.SlugField(
        unique=True, help_text=_("Used in addresses: /o/<slug>/"), verbose_name=_("slug")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    short_name = models.CharField(max_length=40, blank=True, verbose_name=_("short name"))
    tagline = models.CharField(max_length=300, blank=True, verbose_name=_("tagline"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    logo = models.ImageField(upload_to="logos/", blank=True, verbose_name=_("logo"))
    brand_colour = models.CharField(
        max_length=7,
        default="#1f4e79",
        validators=[hex_colour, readable_on_white],
        verbose_name=_("brand colour"),
    )
    website = models.URLField(blank=True, verbose_name=_("website"))
    contact_name = models.CharField(max_length=200, blank=True, verbose_name=_("contact name"))
    contact_email = models.EmailField(blank=True, verbose_name=_("contact email"))
    currency = models.CharField(max_length=3, default="USD", verbose_name=_("currency"))
    publishes_catalog = models.BooleanField(
        default=True,
        help_text=_("List this organization and its catalog on the site home."),
        verbose_name=_("publishes catalog"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    # The language its credentials are written in (programs.content_language; decision 0037)
    content_language = models.CharField(
        _("content language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_(
            "The language your credentials are written in. Each credential may add a Spanish "
            "title and summary, shown to visitors who read the site in Spanish."
        ),
    )
    # Issuer profile (Open Badges 3.0 Profile), used on the badges this organization issues.
    issuer_name = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Defaults to the name."),
        verbose_name=_("issuer name"),
    )
    issuer_url = models.URLField(
        blank=True, help_text=_("Defaults to the website."), verbose_name=_("issuer url")
    )
    issuer_email = models.EmailField(
        blank=True, help_text=_("Defaults to the contact e-mail."), verbose_name=_("issuer email")
    )
    issuer_description = models.TextField(blank=True, verbose_name=_("issuer description"))
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
        verbose_name=_("profile fields"),
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
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

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

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    member_number = models.CharField(max_length=40, blank=True, verbose_name=_("member number"))
    member_until = models.DateField(
        null=True, blank=True, help_text=_("Empty: no expiry."), verbose_name=_("member until")
    )

    Source = MembershipSource

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]
        ordering = ["user__email"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

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

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="staff_roles", verbose_name=_("user")
    )
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name=_("role"))
    programs = models.ManyToManyField(
        "Program",
        blank=True,
        related_name="+",
        help_text=_("Reviewers only: limit to these programs. Empty: all programs."),
        verbose_name=_("programs"),
    )
    credentials = models.ManyToManyField(
        "Credential",
        blank=True,
        related_name="+",
        help_text=_("Reviewers only: limit to these credentials. Empty: all credentials."),
        verbose_name=_("credentials"),
    )
    schools = models.ManyToManyField(
        "School",
        blank=True,
        related_name="leaders",
        help_text=_("School leaders only: the schools they lead (at least one)."),
        verbose_name=_("schools"),
    )
    title = models.CharField(
        max_length=60,
        blank=True,
        help_text=_(
            "School leaders: e.g. “Principal”, “Assistant principal”, “Instructional coach”."
        ),
        verbose_name=_("title"),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "role"], name="one_role_per_kind"
            )
        ]
        indexes = [models.Index(fields=["user", "role"])]
        ordering = ["role", "user__email"]
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"


# --- Catalog structure -------------------------------------------------------------------------


class Program(TenantModel):
    slug = models.SlugField(verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    contact_name = models.CharField(max_length=200, blank=True, verbose_name=_("contact name"))
    contact_email = models.EmailField(
        blank=True, help_text=_("Defaults to the organization's."), verbose_name=_("contact email")
    )
    blind_review = models.BooleanField(
        default=False,
        help_text=_("Reviewers see an anonymous code, never the educator's identity."),
        verbose_name=_("blind review"),
    )
    turnaround_business_days = models.PositiveSmallIntegerField(
        default=10,
        help_text=_("The promised time from submission to decision, in business days."),
        verbose_name=_("turnaround business days"),
    )
    claim_hours = models.PositiveSmallIntegerField(
        default=48,
        help_text=_("A reviewer's claim returns to the queue after this many hours."),
        verbose_name=_("claim hours"),
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
        verbose_name = _("program")
        verbose_name_plural = _("programs")

    def __str__(self) -> str:
        return self.name


class FocusArea(TenantModel):
    slug = models.SlugField(verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="focusarea_slug")
        ]
        ordering = ["position", "name"]
        verbose_name = _("focus area")
        verbose_name_plural = _("focus areas")

    def __str__(self) -> str:
        return self.name


class Category(TenantModel):
    slug = models.SlugField(verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="category_slug")
        ]
        ordering = ["name"]
        verbose_name_plural = _("categories")
        verbose_name = _("category")

    def __str__(self) -> str:
        return self.name


class Audience(TenantModel):
    """Who a credential is for: teachers, school leaders, central-office leaders, ..."""

    slug = models.SlugField(verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="audience_slug")
        ]
        ordering = ["position", "name"]
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")

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

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="credentials", verbose_name=_("program")
    )
    slug = models.SlugField(verbose_name=_("slug"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    current_version = models.ForeignKey(
        "CredentialVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The published version shown in the catalog."),
        verbose_name=_("current version"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

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
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

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

    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="versions", verbose_name=_("credential")
    )
    number = models.PositiveIntegerField(default=1, verbose_name=_("number"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.DRAFT, verbose_name=_("state")
    )
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))

    title = models.CharField(max_length=200, verbose_name=_("title"))
    summary = models.CharField(
        max_length=400,
        help_text=_("One or two sentences for the catalog card."),
        verbose_name=_("summary"),
    )
    competency = models.TextField(
        help_text=_("The skill the educator demonstrates."), verbose_name=_("competency")
    )
    key_method = models.TextField(blank=True, verbose_name=_("key method"))
    method_components = models.TextField(
        blank=True, help_text=_("One component per line."), verbose_name=_("method components")
    )
    learning_objectives = models.TextField(
        blank=True, help_text=_("One objective per line."), verbose_name=_("learning objectives")
    )
    research = models.TextField(
        blank=True, help_text=_("Research and rationale."), verbose_name=_("research")
    )
    # The Spanish edition (decision 0037): both or neither (clean), frozen with the rest once
    # published; shown by programs.content_language to visitors reading in Spanish.
    title_es = models.CharField(_("Spanish title"), max_length=200, blank=True)
    summary_es = models.CharField(_("Spanish summary"), max_length=400, blank=True)

    focus_area = models.ForeignKey(
        FocusArea,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("focus area"),
    )
    categories = models.ManyToManyField(
        Category, blank=True, related_name="versions", verbose_name=_("categories")
    )
    audiences = models.ManyToManyField(
        Audience, blank=True, related_name="versions", verbose_name=_("audiences")
    )
    level = models.CharField(
        max_length=14, choices=Level.choices, default=Level.FOUNDATIONAL, verbose_name=_("level")
    )
    estimated_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0"))],
        default=Decimal("5"),
        verbose_name=_("estimated hours"),
    )
    credit_hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Continuing-education or college credit hours, if any."),
        verbose_name=_("credit hours"),
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
    members_only = models.BooleanField(default=False, verbose_name=_("members only"))
    member_fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("member fee"),
    )
    non_member_fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty when the credential is for members only."),
        verbose_name=_("non member fee"),
    )
    badge_image = models.ImageField(upload_to="badges/", blank=True, verbose_name=_("badge image"))
    # Badge artwork (programs.artwork): an uploaded PNG/SVG in ``badge_image``, or a design drawn
    # from ``badge_design`` ({shape, icon, title, level}); ``badge_image_alt`` describes either.
    badge_design = models.JSONField(
        null=True, blank=True, editable=False, verbose_name=_("badge design")
    )
    badge_image_alt = models.CharField(
        max_length=250,
        blank=True,
        editable=False,
        help_text=_("What the badge artwork shows."),
        verbose_name=_("badge image alt"),
    )
    expiry_policy = models.CharField(
        max_length=8,
        choices=ExpiryPolicy.choices,
        default=ExpiryPolicy.NEVER,
        verbose_name=_("expiry policy"),
    )
    expiry_months = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("expiry months")
    )
    reviewers_required = models.PositiveSmallIntegerField(
        default=1,
        choices=[(1, _("One reviewer")), (2, _("Two reviewers (double review)"))],
        verbose_name=_("reviewers required"),
    )
    max_attempts = models.PositiveSmallIntegerField(default=3, verbose_name=_("max attempts"))
    # What catalog search matches, weighted (title A, competency B, summary C): computed and
    # stored by PostgreSQL when a row is written (to_tsvector with a fixed configuration is
    # immutable), indexed below. A query reads it instead of parsing every version's text.
    search_vector = models.GeneratedField(
        expression=SEARCH_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
        editable=False,
        verbose_name=_("search vector"),
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
        verbose_name = _("credential version")
        verbose_name_plural = _("credential versions")

    def __str__(self) -> str:
        return f"{self.title} (v{self.number}, {self.get_state_display().lower()})"

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT

    def clean(self) -> None:
        content_language.edition_clean(self)

    def edition_languages(self) -> list[str]:
        """The languages this version has an edition in besides the organization's."""
        return content_language.edition_languages(self)

    def localized_title(self) -> content_language.LocalizedText:
        """The title in the page's language when this version has it, else the organization's."""
        return content_language.localized(self, "title")

    def localized_summary(self) -> content_language.LocalizedText:
        return content_language.localized(self, "summary")

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
        verbose_name=_("version"),
    )
    document = SearchVectorField(verbose_name=_("document"))

    class Meta:
        # fastupdate off: entries go into the index when written (publishing is rare), not into
        # a pending list that every search would read until a vacuum merges it
        indexes = [
            GinIndex(fields=["document"], name="catalogsearchentry_document", fastupdate=False)
        ]
        verbose_name = _("catalog search entry")
        verbose_name_plural = _("catalog search entries")

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
        CredentialVersion,
        on_delete=models.CASCADE,
        related_name="resources",
        verbose_name=_("version"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    kind = models.CharField(
        max_length=8, choices=Kind.choices, default=Kind.LINK, verbose_name=_("kind")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    url = models.URLField(blank=True, verbose_name=_("url"))
    file = models.FileField(upload_to="resources/", blank=True, verbose_name=_("file"))

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

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
        CredentialVersion,
        on_delete=models.CASCADE,
        related_name="requirements",
        verbose_name=_("version"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    instructions = models.TextField(verbose_name=_("instructions"))
    kind = models.CharField(
        max_length=5, choices=Kind.choices, default=Kind.FILE, verbose_name=_("kind")
    )
    required = models.BooleanField(default=True, verbose_name=_("required"))
    accepted_file_kinds = ArrayField(
        models.CharField(max_length=12, choices=FileKind.choices),
        default=list,
        blank=True,
        help_text=_("File uploads only."),
        verbose_name=_("accepted file kinds"),
    )
    max_file_size_mb = models.PositiveIntegerField(
        default=100, help_text=_("File uploads only."), verbose_name=_("max file size mb")
    )
    max_files = models.PositiveSmallIntegerField(
        default=1, help_text=_("File uploads only."), verbose_name=_("max files")
    )
    word_min = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Written answers only."), verbose_name=_("word min")
    )
    word_max = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Written answers only."), verbose_name=_("word max")
    )
    pass_mark_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Quizzes only: the share of correct answers needed to pass."),
        verbose_name=_("pass mark percent"),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("evidence requirement")
        verbose_name_plural = _("evidence requirements")

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
        EvidenceRequirement,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("requirement"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    prompt = models.TextField(verbose_name=_("prompt"))

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")

    def __str__(self) -> str:
        return self.prompt[:80]


class QuizChoice(TenantModel):
    question = models.ForeignKey(
        QuizQuestion, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    text = models.CharField(max_length=300, verbose_name=_("text"))
    is_correct = models.BooleanField(default=False, verbose_name=_("is correct"))

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("quiz choice")
        verbose_name_plural = _("quiz choices")

    def __str__(self) -> str:
        return self.text


class RubricCriterion(TenantModel):
    """A criterion the reviewer rates on its scale of levels."""

    version = models.ForeignKey(
        CredentialVersion,
        on_delete=models.CASCADE,
        related_name="criteria",
        verbose_name=_("version"),
    )
    requirement = models.ForeignKey(
        EvidenceRequirement,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="criteria",
        help_text=_("The evidence this criterion scores; empty for the submission as a whole."),
        verbose_name=_("requirement"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    passing_score = models.PositiveSmallIntegerField(
        default=2,
        help_text=_("The lowest level score that meets the standard."),
        verbose_name=_("passing score"),
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = _("rubric criteria")
        verbose_name = _("rubric criterion")

    def __str__(self) -> str:
        return self.title

    def reaches_passing(self, score: int | None) -> bool:
        """Whether a rating meets this criterion's standard: the one definition of "passing"
        that the review service, the review form and the badge checks all use."""
        return score is not None and score >= self.passing_score


class RubricLevel(TenantModel):
    criterion = models.ForeignKey(
        RubricCriterion,
        on_delete=models.CASCADE,
        related_name="levels",
        verbose_name=_("criterion"),
    )
    score = models.PositiveSmallIntegerField(verbose_name=_("score"))
    label = models.CharField(max_length=60, verbose_name=_("label"))
    descriptor = models.TextField(verbose_name=_("descriptor"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["criterion", "score"], name="rubric_level_score")
        ]
        ordering = ["score"]
        verbose_name = _("rubric level")
        verbose_name_plural = _("rubric levels")

    def __str__(self) -> str:
        return f"{self.score} — {self.label}"


# --- Pathways ----------------------------------------------------------------------------------


class Pathway(TenantModel):
    """A stack of credentials that together award a larger certificate."""

    slug = models.SlugField(verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    certificate_name = models.CharField(
        max_length=200,
        help_text=_("e.g. STEM Foundations Certificate"),
        verbose_name=_("certificate name"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    credentials = models.ManyToManyField(
        Credential, related_name="pathways", blank=True, verbose_name=_("credentials")
    )
    badge_image = models.ImageField(
        upload_to="pathways/", blank=True, verbose_name=_("badge image")
    )
    is_published = models.BooleanField(default=True, verbose_name=_("is published"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="pathway_slug")
        ]
        ordering = ["name"]
        verbose_name = _("pathway")
        verbose_name_plural = _("pathways")

    def __str__(self) -> str:
        return self.name


# --- Audit trail -------------------------------------------------------------------------------


class AuditEvent(TenantModel):
    """One recorded state change, written by the service that made it."""

    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=60, verbose_name=_("action"))
    object_type = models.CharField(max_length=60, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object id"))
    summary = models.CharField(max_length=300, verbose_name=_("summary"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))

    class Meta:
        indexes = [models.Index(fields=["organization", "object_type", "object_id", "-created_at"])]
        ordering = ["-created_at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

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
