"""What the educator needs to share a badge: the verification link, LinkedIn's "Add to profile"
address, an e-mail signature snippet and the downloads. Used by the verification page (for its
owner) and the backpack, through ``badges/_share.html``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import documents, ob2, services
from .models import Badge

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"
# Link previews and embeds say the state too: a revoked badge must not preview as a credential.
# (lazy: shown in the language of the request; ``status_prefix`` gives the text)
STATUS_PREFIX = {
    "revoked": gettext_lazy("Revoked: "),
    "expired": gettext_lazy("Expired: "),
    "invalid": gettext_lazy("Unverified: "),
}
# the embedded card's size (``embed_html``), unless the embedding site asks for a smaller one
EMBED_WIDTH, EMBED_HEIGHT = 360, 180


def status_prefix(state: str) -> str:
    """What a link preview or an embed's title starts with for a badge in ``state``."""
    return str(STATUS_PREFIX.get(state, ""))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def linkedin_url(badge: Badge, *, verify_url: str | None = None) -> str:
    """LinkedIn's certification "Add to profile" address (standards/SOURCES.md): every value
    URL-encoded, empty ones left out, expiry only when the badge has one."""
    issued = _utc(badge.issued_at)
    credential = badge.credential or {}
    organization_name = (credential.get("issuer") or {}).get("name") or badge.organization.name
    params: list[tuple[str, str]] = [
        ("startTask", "CERTIFICATION_NAME"),
        ("name", badge.name),
        ("organizationName", organization_name),
        ("issueYear", str(issued.year)),
        ("issueMonth", str(issued.month)),
    ]
    if badge.valid_until is not None:
        until = _utc(badge.valid_until)
        params += [("expirationYear", str(until.year)), ("expirationMonth", str(until.month))]
    params += [
        ("certUrl", verify_url or services.badge_url(badge)),
        ("certId", str(badge.public_id)),
    ]
    query = urlencode([(key, value) for key, value in params if value], quote_via=quote)
    return f"{LINKEDIN_ADD_TO_PROFILE}?{query}"


def image_url(badge: Badge) -> str:
    """The absolute address of the badge's picture (the credential's achievement image)."""
    achievement = (badge.credential or {}).get("credentialSubject", {}).get("achievement", {})
    image = achievement.get("image") or {}
    return str(image.get("id", "") if isinstance(image, dict) else image)


def signature_html(badge: Badge, *, verify_url: str, picture_url: str) -> str:
    """An e-mail signature snippet: the badge picture linking to its verification page."""
    issuer = badge.organization.short_name or badge.organization.name
    return str(
        format_html(
            '<a href="{}" title="{}"><img src="{}" alt="{}" width="96" height="96" '
            'style="border:0;vertical-align:middle"></a>',
            verify_url,
            _("Verify my %(name)s badge") % {"name": badge.name},
            picture_url,
            _("%(name)s — verified badge from %(issuer)s") % {"name": badge.name, "issuer": issuer},
        )
    )


def embed_html(badge: Badge, *, width: int = EMBED_WIDTH, height: int = EMBED_HEIGHT) -> str:
    """A snippet for a portfolio or a school site: the badge's card (``/badges/<id>/card``, the
    one page of Tessera that any site may frame) in an iframe."""
    card_url = documents.site_url(reverse("badges:card", args=[badge.public_id]))
    return str(
        format_html(
            '<iframe src="{}" title="{}" width="{}" height="{}" '
            'style="border:0;max-width:100%" loading="lazy"></iframe>',
            card_url,
            _("%(name)s: a verified badge") % {"name": badge.name},
            width,
            height,
        )
    )


# --- oEmbed (https://oembed.com): sites that paste a badge's address get its card -------------


def oembed_url(badge: Badge) -> str:
    """The oEmbed address of the badge's verification page (its page's discovery link)."""
    query = urlencode({"url": services.badge_url(badge), "format": "json"})
    return documents.site_url(reverse("badges:oembed")) + "?" + query


def badge_public_id_from_url(url: str) -> uuid.UUID | None:
    """The badge that an address of this site names: its verification page or its card. None
    for another site's address, or any other page."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if parts.netloc.lower() != urlsplit(settings.SITE_URL).netloc.lower():
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.namespace != "badges" or match.url_name not in ("verify", "card"):
        return None
    return uuid.UUID(str(match.kwargs["badge_public_id"]))


def oembed(badge: Badge, *, maxwidth: int | None = None, maxheight: int | None = None) -> dict:
    """The oEmbed answer for a badge (type ``rich``): its card's iframe, no larger than the
    consumer allows. A revoked or expired badge still embeds: its card and title say so."""
    width = min(EMBED_WIDTH, maxwidth or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, maxheight or EMBED_HEIGHT)
    credential = badge.credential or {}
    organization = badge.organization
    document: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": status_prefix(badge.state) + badge.name,
        "provider_name": organization.name,
        "provider_url": documents.site_url(reverse("programs:catalog", args=[organization.slug])),
        "html": embed_html(badge, width=width, height=height),
        "width": width,
        "height": height,
    }
    earner = documents.subject_name(credential)
    if earner:
        document["author_name"] = earner
    return document


def download_filename(badge: Badge, extension: str, *, suffix: str = "") -> str:
    return f"{slugify(badge.name) or 'badge'}{suffix}.{extension}"


def share_context(badge: Badge) -> dict[str, Any]:
    """Everything ``badges/_share.html`` shows (``badge`` with its organization loaded)."""
    verify_url = services.badge_url(badge)
    picture_url = image_url(badge)
    return {
        "verify_url": verify_url,
        "image_url": picture_url,
        "linkedin_url": linkedin_url(badge, verify_url=verify_url),
        "signature_html": signature_html(badge, verify_url=verify_url, picture_url=picture_url),
        "embed_html": embed_html(badge),
        "json_url": reverse("badges:json", args=[badge.public_id]),
        "png_url": reverse("badges:png", args=[badge.public_id]),
        "svg_url": reverse("badges:svg", args=[badge.public_id]),
        "png_ob2_url": reverse("badges:png_ob2", args=[badge.public_id]),
        "png_ob2_filename": download_filename(badge, "png", suffix="-ob2"),
        "ob2_url": ob2.assertion_url(badge),
        "png_filename": download_filename(badge, "png"),
        "svg_filename": download_filename(badge, "svg"),
        "json_filename": download_filename(badge, "json"),
        "can_share": not badge.is_revoked,
        "state": badge.state,
    }
