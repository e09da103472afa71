"""Public badge documents and pages. Everything here is readable by anyone holding the URL
(that is the point of a verifiable badge); nothing exposes a private key or a private badge's
listing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_safe

from credentials_site import public_cache
from credentials_site.public_cache import public_page
from credentials_site.tenancy import request_organization
from programs import selectors as program_selectors
from submissions import storage
from submissions.models import EvidenceItem

from .. import artwork, documents, selectors, services
from ..models import StatusList
from .checks import checks_shown

# --- Media types -----------------------------------------------------------------------------
# A signed credential is served as the media types VC Data Model 2.0 registers (§ "Media Types"):
# ``application/vc`` for a verifiable credential (IANA, 2024), or, to a client that asks for it,
# as the JSON-LD (``application/ld+json``) or JSON (``application/json``) it also is. Before its
# registration the type was drafted as ``application/vc+ld+json``; a client still asking for that
# gets ``application/vc``.
VC = "application/vc"
JSON_LD = "application/ld+json"
JSON = "application/json"
HTML = "text/html"
CREDENTIAL_TYPES = (VC, JSON_LD, JSON)
_ALIASES = {"application/vc+ld+json": VC}


def _accepted(request: HttpRequest) -> list[tuple[str, float]]:
    """The ranges of the Accept header with their quality (no header: anything)."""
    ranges: list[tuple[str, float]] = []
    for part in (request.headers.get("Accept") or "*/*").split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        if not kind:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        kind = kind.lower()
        ranges.append((_ALIASES.get(kind, kind), quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> tuple[float, bool]:
    """The quality the client gives ``offer`` (from its most specific matching range), and
    whether it named the type itself rather than through ``*/*`` or ``application/*``."""
    major = offer.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for kind, quality in ranges:
        if kind == offer:
            specificity = 2
        elif kind == f"{major}/*":
            specificity = 1
        elif kind == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[0]:
            best = (specificity, quality)
    return best[1], best[0] == 2


def negotiate(request: HttpRequest, offers: tuple[str, ...]) -> str | None:
    """The offer the client prefers (``offers`` in the server's order of preference, which breaks
    ties), or ``None`` when it accepts none of them."""
    ranges = _accepted(request)
    scored = [
        (_quality(offer, ranges)[0], -position, offer) for position, offer in enumerate(offers)
    ]
    quality, _, offer = max(scored)
    return offer if quality > 0 else None


def credential_media_type(request: HttpRequest) -> str:
    """How the credential file is labelled for this client: what it asks for by name, else
    ``application/vc``; a browser (which names only ``text/html``) gets ``application/json``,
    which it shows instead of downloading."""
    ranges = _accepted(request)
    named = [offer for offer in CREDENTIAL_TYPES if _quality(offer, ranges)[1]]
    if named:
        return negotiate(request, tuple(named)) or VC
    if _quality(HTML, ranges)[1] and _quality(JSON, ranges)[0] > 0:
        return JSON
    return VC


def credential_response(document: dict[str, Any], media_type: str) -> HttpResponse:
    """A signed credential labelled ``media_type``, chosen from the Accept header."""
    response = json_response(document, content_type=media_type)
    response["Vary"] = "Accept"
    return response


def json_response(
    document: dict[str, Any], *, content_type: str = "application/json"
) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type=content_type
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- Issuer documents -----------------------------------------------------------------------


@public_page(cache_control=None)
@require_safe
def did_document(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's DID document: every signing key it ever used (public halves only)
    except those marked compromised. Cached as briefly as the status lists, so a compromised
    key is gone from every cache within ``BADGE_STATUS_CACHE_SECONDS``."""
    organization = request_organization(request)
    keys = selectors.signing_key_public_list(organization=organization)
    if not keys:
        services.signing_key_active(organization=organization)
        keys = selectors.signing_key_public_list(organization=organization)
    response = json_response(
        documents.did_document(organization, keys), content_type="application/did+json"
    )
    response["Cache-Control"] = f"public, max-age={settings.BADGE_STATUS_CACHE_SECONDS}"
    return response


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def issuer_profile(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    profile = {
        "@context": documents.CONTEXT,
        **documents.issuer_profile(organization),
    }
    return json_response(profile, content_type="application/ld+json")


@public_page(cache_control=None)
@require_safe
def status_list(request: HttpRequest, org_slug: str, number: int) -> HttpResponse:
    """The signed BitstringStatusListCredential, never lapsed (``services.status_list_get``).
    Cached publicly for ``BADGE_STATUS_CACHE_SECONDS`` (its ``ttl``: revocation shows within
    that time), and never past the list's own ``validUntil``."""
    organization = request_organization(request)
    try:
        status = services.status_list_get(organization=organization, number=number)
    except StatusList.DoesNotExist as error:
        raise Http404("No such status list.") from error
    response = json_response(status.credential, content_type="application/vc+ld+json")
    left = int((status.valid_until - timezone.now()).total_seconds()) if status.valid_until else 0
    max_age = max(0, min(settings.BADGE_STATUS_CACHE_SECONDS, left))
    response["Cache-Control"] = f"public, max-age={max_age}"
    if status.valid_until:  # a stored copy always has its full max-age left
        response.public_cache_until = status.valid_until - dt.timedelta(  # type: ignore[attr-defined]
            seconds=settings.BADGE_STATUS_CACHE_SECONDS
        )
    return response


@public_page(cache_control=public_cache.IMAGE)
@require_safe
def achievement_image(
    request: HttpRequest, org_slug: str, credential_slug: str, number: int
) -> HttpResponse:
    organization = request_organization(request)
    version = program_selectors.credential_version_get_public(
        organization=organization, credential_slug=credential_slug, number=number
    )
    data, media_type = artwork.version_image(version, organization)
    return image_response(data, media_type)


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def achievement_edition(
    request: HttpRequest, org_slug: str, credential_slug: str, number: int, language: str
) -> HttpResponse:
    """A published version's Achievement in another language: the document its badges'
    ``achievement.related`` points to (decision 0037). 404 for a language it has no edition in,
    a draft, or another organization's credential."""
    organization = request_organization(request)
    version = program_selectors.credential_version_get_public(
        organization=organization, credential_slug=credential_slug, number=number
    )
    if language not in documents.edition_languages(version):
        raise Http404("No such edition.")
    criteria = sorted(version.criteria.all(), key=lambda c: (c.position, c.pk))
    edition = documents.achievement_edition(
        version,
        language,
        criteria=criteria,
        image_url=services.achievement_image_url(version),
    )
    return json_response(
        {"@context": documents.CONTEXT, **edition}, content_type="application/ld+json"
    )


def image_response(data: bytes, media_type: str) -> HttpResponse:
    """An image, labelled with the type its content was checked to be; an SVG may not run
    script or load anything, even when opened on its own."""
    response = HttpResponse(data, content_type=media_type)
    response["X-Content-Type-Options"] = "nosniff"
    if media_type == artwork.SVG:
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def pathway_image(request: HttpRequest, org_slug: str, pathway_slug: str) -> HttpResponse:
    organization = request_organization(request)
    pathway = program_selectors.pathway_get_published(organization=organization, slug=pathway_slug)
    return HttpResponse(artwork.pathway_png(pathway, organization), content_type="image/png")


# --- One badge ------------------------------------------------------------------------------


@public_page(
    cache_control=public_cache.STATUS,
    vary=("Accept",),
    variant=credential_media_type,
    meta=selectors.badge_cache_subject,
)
@require_safe
def badge_json(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The signed credential, as a file (``credential_media_type`` says how it is labelled)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    response = credential_response(badge.credential, credential_media_type(request))
    response["Content-Disposition"] = f'inline; filename="badge-{badge.public_id}.json"'
    return response


@require_safe
def badge_check(request: HttpRequest, badge_public_id: uuid.UUID) -> JsonResponse:
    """Re-check signature, status and dates now (the "Verify" button of the page)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    result = services.credential_verify(
        organization=badge.organization, credential=badge.credential
    )
    response = JsonResponse(checks_shown(result))
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def badge_evidence(
    request: HttpRequest, badge_public_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    """Public evidence of a badge: a short-lived signed URL, only for items the educator made
    public, and never once the badge is revoked."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    if badge.is_revoked or badge.application_id is None:
        raise Http404("No such evidence.")
    item = EvidenceItem.objects.filter(
        application_id=badge.application_id,
        public_id=item_id,
        visibility=EvidenceItem.Visibility.PUBLIC,
        status=EvidenceItem.Status.READY,
        kind=EvidenceItem.Kind.FILE,
    ).first()
    if item is None:
        raise Http404("No such evidence.")
    return redirect(storage.evidence_file_url(item, public=True))
