"""Applications, their attempts (submissions), evidence items and quiz responses."""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel
from programs.models import Credential, CredentialVersion, EvidenceRequirement, FileKind, User
from programs.secrets import secret_decrypt, secret_encrypt

ANONYMOUS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_anonymous_code() -> str:
    return "S-" + "".join(secrets.choice(ANONYMOUS_ALPHABET) for _ in range(7))


def new_receipt_reference() -> str:
    return "R-" + "".join(secrets.choice(ANONYMOUS_ALPHABET) for _ in range(10))


class Application(TenantModel):
    """An educator's enrolment in one credential version, from applying to the badge."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("In progress")
        SUBMITTED = "submitted", _("Submitted")
        IN_REVIEW = "in_review", _("In review")
        NEEDS_REVISION = "needs_revision", _("Needs revision")
        APPROVED = "approved", _("Approved")
        NOT_AWARDED = "not_awarded", _("Not awarded")
        AWARDED = "awarded", _("Badge awarded")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    EDITABLE = (Status.APPLIED, Status.NEEDS_REVISION)
    WITHDRAWABLE = (Status.APPLIED, Status.SUBMITTED, Status.NEEDS_REVISION)
    CLOSED = (Status.WITHDRAWN, Status.NOT_AWARDED)
    # not yet decided, awarded or withdrawn: what publishing a new version leaves on the old one
    IN_PROGRESS = (Status.APPLIED, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_REVISION)

    class FeeStatus(models.TextChoices):
        NONE = "none", _("No fee")
        OWED = "owed", _("Owed")
        PAID = "paid", _("Paid")
        WAIVED = "waived", _("Waived")
        REFUNDED = "refunded", _("Refunded")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    anonymous_code = models.CharField(max_length=12, unique=True, default=new_anonymous_code)
    educator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="applications")
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(CredentialVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED)
    attempt = models.PositiveSmallIntegerField(
        default=1, help_text=_("The attempt being prepared, or the last one submitted.")
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    was_member = models.BooleanField(default=False, help_text=_("A current member when applying."))
    fee_amount = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    fee_currency = models.CharField(max_length=3, default="USD")
    fee_status = models.CharField(max_length=8, choices=FeeStatus.choices, default=FeeStatus.NONE)
    fee_note = models.CharField(max_length=300, blank=True)
    fee_updated_at = models.DateTimeField(null=True, blank=True)
    checkout_session_id = models.CharField(
        max_length=255, blank=True, help_text=_("The last Stripe Checkout Session made to pay it.")
    )
    evidence_delete_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Withdrawn while an attempt waited for review: when the evidence sweep deletes "
            "its files (the date the educator was told)."
        ),
    )
    evidence_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the evidence sweep deleted those files.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["educator", "credential"],
                condition=~Q(status__in=["withdrawn", "not_awarded"]),
                name="one_open_application_per_credential",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "submitted_at"]),
            models.Index(fields=["educator", "-updated_at"]),
            models.Index(
                fields=["evidence_delete_after"],
                name="application_evidence_due",
                condition=Q(evidence_delete_after__isnull=False, evidence_deleted_at__isnull=True),
            ),
        ]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.educator} — {self.version.title}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class Submission(TenantModel):
    """One numbered attempt as it was sent to review: which evidence, and what came back."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="submissions"
    )
    number = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField()
    items = models.ManyToManyField("EvidenceItem", related_name="submissions", blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    feedback_summary = models.TextField(blank=True)
    feedback = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Per criterion: [{criterion_id, title, requirement_id, score, label, comment}]"
        ),
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reviews_required = models.PositiveSmallIntegerField(default=1)
    needs_adjudication = models.BooleanField(default=False)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text=_("The program's turnaround target for a decision.")
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application", "number"], name="one_submission_per_attempt"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "submitted_at"],
                name="submission_undecided",
                condition=Q(outcome=""),
            ),
        ]
        ordering = ["number"]

    def __str__(self) -> str:
        return _("Attempt %(number)s of %(application)s") % {
            "number": self.number,
            "application": self.application_id,
        }


class EvidenceItem(TenantModel):
    """One piece of evidence: a file in object storage, a written answer or a link."""

    class Kind(models.TextChoices):
        FILE = "file", _("File")
        TEXT = "text", _("Written answer")
        LINK = "link", _("Link")

    class Status(models.TextChoices):
        PENDING = "pending", _("Uploading")
        READY = "ready", _("Ready")
        REJECTED = "rejected", _("Rejected")
        REMOVED = "removed", _("Removed")

    class Visibility(models.TextChoices):
        REVIEWERS = "reviewers", _("Reviewers only")
        PUBLIC = "public", _("May be shown as public evidence on the badge")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    requirement = models.ForeignKey(EvidenceRequirement, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempt_added = models.PositiveSmallIntegerField(default=1)

    text = models.TextField(blank=True)
    url = models.URLField(max_length=1000, blank=True)

    storage_key = models.CharField(
        max_length=300,
        blank=True,
        help_text=_(
            "The object the item refers to: its upload slot while it is uploading; once "
            "confirmed, the app's own copy of the checked bytes, which no browser can write."
        ),
    )
    slot_key = models.CharField(
        max_length=300,
        blank=True,
        help_text=_(
            "Where the browser was allowed to upload (signatures valid for minutes). "
            "Files confirmed before final keys existed still live there (storage_key = slot_key)."
        ),
    )
    upload_id = models.CharField(max_length=300, blank=True, help_text=_("Open multipart upload."))
    slot_expires_at = models.DateTimeField(null=True, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    declared_size = models.BigIntegerField(null=True, blank=True)
    declared_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=100, blank=True)
    content_type = models.CharField(
        max_length=120, blank=True, help_text=_("Sniffed from the bytes.")
    )
    file_kind = models.CharField(max_length=12, choices=FileKind.choices, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Object deleted from storage.")
    )

    students_identifiable = models.BooleanField(null=True, blank=True)
    consent_on_file = models.BooleanField(null=True, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.REVIEWERS
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storage_key"], condition=~Q(storage_key=""), name="one_item_per_object"
            ),
        ]
        indexes = [
            models.Index(fields=["application", "requirement", "status"]),
            models.Index(
                fields=["status", "slot_expires_at"],
                name="evidence_pending_expiry",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["status"],
                name="evidence_to_purge",
                condition=Q(status__in=["rejected", "removed"], purged_at__isnull=True)
                & ~Q(storage_key=""),
            ),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.display_name or self.get_kind_display()

    @property
    def privacy_complete(self) -> bool:
        if self.kind != self.Kind.FILE:
            return True
        if self.students_identifiable is None:
            return False
        return not self.students_identifiable or bool(self.consent_on_file)


class QuizResponse(TenantModel):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="quiz_responses"
    )
    requirement = models.ForeignKey(EvidenceRequirement, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict, help_text=_("{question_id: choice_id}"))
    correct = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    score_percent = models.PositiveSmallIntegerField(default=0)
    passed = models.BooleanField(default=False)
    tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "requirement"], name="one_quiz_response")
        ]

    def __str__(self) -> str:
        return f"{self.score_percent}%"


class ApplicationEvent(TenantModel):
    """The application's timeline, shown to the educator and to program admins."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.message


# --- Payments (issue 22, docs/decisions/0022-payments.md) ----------------------------------------


class PaymentSettings(TenantModel):
    """How an organization takes fees: by hand (it invoices; admins record them paid) or with
    its own Stripe account, whose keys are stored encrypted (``programs.secrets``)."""

    class Provider(models.TextChoices):
        MANUAL = "manual", _("Manual: we invoice, and record fees as paid in the admin")
        STRIPE = "stripe", _("Stripe Checkout: educators pay by card when they apply")

    provider = models.CharField(max_length=8, choices=Provider.choices, default=Provider.MANUAL)
    secret_key_encrypted = models.TextField(blank=True, editable=False)
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    publishable_key = models.CharField(max_length=200, blank=True)
    receipt_address = models.TextField(
        blank=True, help_text=_("The organization's postal address, printed on receipts.")
    )
    tax_id = models.CharField(
        "tax id", max_length=60, blank=True, help_text=_("Printed on receipts when set.")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_payment_settings_per_org")
        ]
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return f"Payments: {self.get_provider_display().split(':')[0]}"

    @property
    def secret_key(self) -> str:
        return secret_decrypt(self.secret_key_encrypted)

    @secret_key.setter
    def secret_key(self, value: str) -> None:
        self.secret_key_encrypted = secret_encrypt(value) if value else ""

    @property
    def webhook_secret(self) -> str:
        return secret_decrypt(self.webhook_secret_encrypted)

    @webhook_secret.setter
    def webhook_secret(self, value: str) -> None:
        self.webhook_secret_encrypted = secret_encrypt(value) if value else ""

    @property
    def uses_stripe(self) -> bool:
        return self.provider == self.Provider.STRIPE and bool(self.secret_key_encrypted)


class PaymentEntry(TenantModel):
    """The payment ledger: one row per payment or refund Stripe reported (or an admin recorded),
    never changed afterwards. The application's fee status is computed from its rows."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    application = models.ForeignKey(
        Application,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_entries",
    )
    seat_batch = models.ForeignKey(
        "SeatBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_entries",
        help_text=_("A batch of seat codes bought with one Checkout payment."),
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=8, default="stripe")
    provider_id = models.CharField(
        max_length=255, help_text=_("Stripe's id: the payment intent of a payment, the refund's.")
    )
    checkout_session_id = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    event_id = models.CharField(max_length=255, blank=True)
    payer = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reference = models.CharField(max_length=20, unique=True, default=new_receipt_reference)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "provider_id"],
                name="one_ledger_row_per_provider_id",
            ),
            models.CheckConstraint(
                condition=(Q(application__isnull=False) & Q(seat_batch__isnull=True))
                | (Q(application__isnull=True) & Q(seat_batch__isnull=False)),
                name="ledger_row_for_an_application_or_a_seat_batch",
            ),
        ]
        ordering = ["created_at", "pk"]
        verbose_name = _("payment ledger entry")
        verbose_name_plural = _("payment ledger")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:.2f} {self.currency} ({self.reference})"


class WebhookEvent(TenantModel):
    """Every Stripe event received (signature verified), once: the event id is unique, so a
    replay or a duplicate changes nothing."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        HELD = "held", _("Held: the payment it refunds has not arrived yet")
        IGNORED = "ignored", _("Ignored (an event type we do not act on)")
        UNMATCHED = "unmatched", _("Unmatched: no application of this organization")

    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "event_id"], name="one_webhook_event_per_id"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


def new_seat_code() -> str:
    """12 symbols of 32 (60 bits): not guessable; no 0/O or 1/I to misread."""
    return "".join(secrets.choice(ANONYMOUS_ALPHABET) for _ in range(12))


def normalized_seat_code(typed: str) -> str:
    """As typed, in any case, with or without the dashes and spaces."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


class SeatBatch(TenantModel):
    """Seats bought or given in one go: N single-use codes for one credential, or for any of the
    organization's credentials (``credential`` empty), until ``expires_at``. A batch bought by
    card is usable only once Stripe's signed webhook put its payment on the ledger."""

    class Payment(models.TextChoices):
        FREE = "free", _("Issued free")
        UNPAID = "unpaid", _("Not paid yet (codes not usable)")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded (codes not usable)")

    USABLE = (Payment.FREE, Payment.PAID)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.ForeignKey(
        Credential,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: any credential of the catalog."),
    )
    size = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    note = models.CharField(
        max_length=200, blank=True, help_text=_("e.g. the district that bought them, the invoice.")
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment = models.CharField(max_length=8, choices=Payment.choices, default=Payment.FREE)
    price_each = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    buyer_organization = models.ForeignKey(
        "programs.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The district (or school) that bought the seats for its staff, if any."),
    )
    checkout_session_id = models.CharField(max_length=255, blank=True)
    payment_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("seat code batch")
        verbose_name_plural = _("seat code batches")

    def __str__(self) -> str:
        return f"{self.size} seats" + (f" ({self.note})" if self.note else "")

    @property
    def usable(self) -> bool:
        return self.payment in self.USABLE

    @property
    def amount(self) -> Decimal:
        return (self.price_each or Decimal(0)) * self.size


class SeatCode(TenantModel):
    batch = models.ForeignKey(SeatBatch, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=12, default=new_seat_code)
    application = models.OneToOneField(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="seat_code"
    )
    used_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="one_seat_code_per_org")
        ]
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))
