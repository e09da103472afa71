"""Wallet offers: one "Add to wallet" link of an educator for one of their badges, redeemed once
by a wallet through the VC-API exchange (``badges.services.wallet``, docs/decisions/0034)."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credentials_site.models import TenantModel
from programs.models import User

from .models import Badge


def new_exchange_id() -> str:
    """The exchange's id, the capability the wallet holds: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class WalletExchange(TenantModel):
    """One offer of a badge to a wallet: its unguessable id is in the exchange URL the deep link
    and QR code carry. It expires (``expires_at``) and is used once (``used_at``, set under a
    row lock when a wallet collects the credential). Kept as the record of what was handed
    over; a new link for the same badge ends the earlier, unused ones."""

    public_id = models.CharField(
        max_length=64,
        unique=True,
        default=new_exchange_id,
        editable=False,
        verbose_name=_("public id"),
    )
    badge = models.ForeignKey(
        Badge, on_delete=models.CASCADE, related_name="+", verbose_name=_("badge")
    )
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("The educator who made it."),
        verbose_name=_("user"),
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))

    class Meta:
        verbose_name = _("wallet exchange")
        verbose_name_plural = _("wallet exchanges")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["user", "badge", "-created_at"],
                name="wallet_exchange_open",
                condition=Q(used_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"wallet offer of badge {self.badge_id} ({'used' if self.used_at else 'open'})"
