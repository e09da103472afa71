"""Bulk awards: a program admin's CSV of past earners (or a cohort), checked then applied; each
good row becomes an ``AwardRecord`` whose approved application the worker issues a badge for
(``badges.services.award``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel
from programs.models import Credential, User
from submissions.models import Application


class BulkAward(TenantModel):
    """One uploaded file: kept until applied, with the result of its last check."""

    class State(models.TextChoices):
        CHECKED = "checked", _("Dry run done")
        APPLIED = "applied", _("Applied: badges issuing")

    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, verbose_name=_("public id")
    )
    uploaded_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file_name = models.CharField(max_length=255, verbose_name=_("file name"))
    file_data = models.BinaryField(verbose_name=_("file data"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.CHECKED, verbose_name=_("state")
    )
    counts = models.JSONField(
        default=dict, blank=True, verbose_name=_("counts")
    )  # rows, award, already, errors
    errors = models.JSONField(
        default=list, blank=True, verbose_name=_("errors")
    )  # [{row, column, message}], the first few
    applied_at = models.DateTimeField(null=True, blank=True, verbose_name=_("applied at"))

    class Meta:
        verbose_name = _("bulk award")
        verbose_name_plural = _("bulk awards")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name


class AwardRecord(TenantModel):
    """A credential awarded outside review to one e-mail address: once per (credential,
    address), whatever file brings it again."""

    award = models.ForeignKey(
        BulkAward, on_delete=models.PROTECT, related_name="+", verbose_name=_("award")
    )
    credential = models.ForeignKey(
        Credential, on_delete=models.PROTECT, related_name="+", verbose_name=_("credential")
    )
    email = models.EmailField(max_length=254, verbose_name=_("email"))
    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        related_name="award_record",
        verbose_name=_("application"),
    )
    awarded_on = models.DateField(verbose_name=_("awarded on"))
    evidence_url = models.URLField(max_length=2000, blank=True, verbose_name=_("evidence url"))
    narrative = models.TextField(blank=True, verbose_name=_("narrative"))
    row = models.PositiveIntegerField(
        help_text=_("Its line in the file that brought it."), verbose_name=_("row")
    )

    class Meta:
        verbose_name = _("award record")
        verbose_name_plural = _("award records")
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "email"], name="one_award_record_per_credential_and_email"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.credential_id}"
