"""“Add to wallet”: the educator's page for handing one of their badges to a wallet
(/me/badges/<id>/wallet/). A POST makes a new one-time link (``wallet_offer_create``); the page
shows the open link as a QR code to scan with the Learner Credential Wallet, the same link to
tap on a phone, the exchange URL for any other VC-API wallet, and when the link stops working.
The tenancy middleware enters the badge's organization scope from ``badge_public_id``; anyone
but the badge's earner gets 404. Works without JavaScript (static/js/wallet-offer.js only counts
the minutes down)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from programs.models import User

from .. import selectors, services
from ..errors import BadgeError


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an inline SVG drawn here (nothing fetched, no script)."""
    return segno.make(text, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff")


@login_required
@require_http_methods(["GET", "POST"])
def wallet_offer(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    badge = selectors.access_badge_by_public_id(actor=user, public_id=badge_public_id)
    page = reverse("badges:wallet", args=[badge.public_id])
    if request.method == "POST":
        try:
            services.wallet_offer_create(badge=badge, user=user)
        except BadgeError as error:
            messages.error(request, error.message)
            return redirect(reverse("badges:backpack") + f"#badge-{badge.public_id}")
        return redirect(page)
    offer = None if badge.is_revoked else selectors.wallet_offer_open(badge=badge, user=user)
    context: dict[str, Any] = {
        "badge": badge,
        "offer": offer,
        "minutes": services.OFFER_LIFETIME.seconds // 60,
    }
    if offer is not None:
        deep_link = services.lcw_deep_link(offer)
        seconds_left = (offer.expires_at - timezone.now()).total_seconds()
        context |= {
            "minutes_left": max(1, math.ceil(seconds_left / 60)),
            "deep_link": deep_link,
            "exchange_url": services.exchange_url(offer),
            "qr_svg": mark_safe(qr_svg(deep_link)),  # noqa: S308 (segno's own markup)
        }
    return render(request, "badges/wallet.html", context)
