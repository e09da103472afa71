"""Badges into wallets: an educator's one-time offer of a badge, and the VC-API exchange that a
wallet redeems it through (docs/decisions/0034).

- ``wallet_offer_create``: the signed-in educator asks for a link for one of their badges (never
  a revoked one): a ``WalletExchange`` with an unguessable id, valid ``OFFER_LIFETIME``. Any
  earlier open offer of the same badge by them ends at once (one live link per badge).
- ``wallet_exchange_redeem``: the wallet POSTs to the exchange URL (the id is the capability;
  no session). Under a row lock: refused if expired, already used or the badge was revoked
  since, else marked used and the credential returned in an unsigned presentation, exactly as
  issued.
- ``lcw_deep_link``: how the Learner Credential Wallet is pointed at the exchange: its "wallet
  API request" (``request={"credentialRequestOrigin", "protocols": {"vcapi": <exchange>}}``)
  through lcw.app's redirect page, which opens ``dccrequest://request?...`` in the app.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from programs.models import User

from .. import documents
from ..errors import BadgeError
from ..errors import BadgeErrorCode as Code
from ..models import Badge, WalletExchange

OFFER_LIFETIME = dt.timedelta(minutes=15)
LCW_REQUEST_PAGE = "https://lcw.app/request.html"
PRESENTATION_CONTEXT = ["https://www.w3.org/ns/credentials/v2"]

REVOKED = gettext_lazy("This badge was revoked, so it cannot be added to a wallet.")
EXPIRED = gettext_lazy(
    "This wallet link has expired. Make a new link on your badge's page and scan it again."
)
USED = gettext_lazy(
    "This wallet link was already used: each link hands the badge over once. Make a new link "
    "on your badge's page."
)


def wallet_offer_create(*, badge: Badge, user: User) -> WalletExchange:
    """A new one-time link for ``user``'s own ``badge`` (the caller fetched it with
    ``access_badge_by_public_id``: anyone else's is 404 before this). Refused for a revoked
    badge, nothing created."""
    with transaction.atomic():
        badge = Badge.objects.select_for_update().get(pk=badge.pk)
        if badge.recipient_id != user.pk:
            raise BadgeError(
                _("Only the badge's earner can add it to a wallet."), code=Code.NOT_ALLOWED
            )
        if badge.is_revoked:
            raise BadgeError(str(REVOKED), code=Code.REVOKED)
        now = timezone.now()
        # one live link per badge: the earlier, unused ones end now
        WalletExchange.objects.filter(
            badge=badge, user=user, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now, updated_at=now)
        return WalletExchange.objects.create(
            organization_id=badge.organization_id,
            badge=badge,
            user=user,
            expires_at=now + OFFER_LIFETIME,
        )


def wallet_exchange_redeem(*, public_id: str) -> dict[str, Any]:
    """The wallet's POST to the exchange: the VC-API answer ``{"verifiablePresentation": ...}``
    holding the badge's credential exactly as issued, once. Refused (``EXCHANGE_EXPIRED``,
    ``EXCHANGE_USED``, ``REVOKED``) with nothing changed; an id that names no exchange in the
    current scope is ``WalletExchange.DoesNotExist``."""
    with transaction.atomic():
        exchange = (
            WalletExchange.objects.select_for_update(of=("self",))
            .select_related("badge")
            .get(public_id=public_id)
        )
        now = timezone.now()
        if exchange.used_at is not None:
            raise BadgeError(str(USED), code=Code.EXCHANGE_USED)
        if exchange.expires_at <= now:
            raise BadgeError(str(EXPIRED), code=Code.EXCHANGE_EXPIRED)
        if exchange.badge.is_revoked:
            raise BadgeError(str(REVOKED), code=Code.REVOKED)
        exchange.used_at = now
        exchange.save(update_fields=["used_at", "updated_at"])
        return {"verifiablePresentation": presentation(exchange.badge)}


def presentation(badge: Badge) -> dict[str, Any]:
    """An unsigned presentation offering the credential (a VC-API credential offer needs no
    holder proof: the credential carries the issuer's)."""
    return {
        "@context": PRESENTATION_CONTEXT,
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [badge.credential],
    }


def exchange_url(exchange: WalletExchange) -> str:
    return documents.site_url(
        reverse("badges_api:wallet-exchange", kwargs={"exchange_id": exchange.public_id})
    )


def lcw_deep_link(exchange: WalletExchange) -> str:
    """The Learner Credential Wallet's link to the exchange (also what the QR code holds)."""
    site = urlsplit(settings.SITE_URL)
    request = {
        "credentialRequestOrigin": f"{site.scheme}://{site.netloc}",
        "protocols": {"vcapi": exchange_url(exchange)},
    }
    text = json.dumps(request, separators=(",", ":"))
    return f"{LCW_REQUEST_PAGE}?request={quote(text, safe='')}"
