"""The public verification page of one badge, its baked images, and the hosted Open Badges
2.0 documents (for backpacks and platforms that only read 2.0).

Badge pages are not under ``/o/<org>/``: the tenancy middleware finds the badge's organization
by its opaque id (``badge_public_id`` in the URL) and enters that scope, in which these views
read the badge. The OB 2.0 class and issuer documents are under ``/o/<org>/`` and scoped by the
middleware too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from csp.decorators import csp_replace
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from credentials_site import public_cache
from credentials_site.public_cache import public_page
from credentials_site.tenancy import request_organization, tenant_scope
from programs import selectors as program_selectors
from programs.models import CredentialVersion, Organization, Pathway
from programs.templatetags.wording import possessive
from submissions.models import EvidenceItem

from .. import artwork, baking, documents, ob2, selectors, services, sharing
from ..models import Badge
from .checks import checks_shown
from .documents import CREDENTIAL_TYPES, HTML, credential_response, json_response, negotiate

OB2_CONTENT_TYPE = "application/ld+json"
# the badge's address answers with its page or its credential, as the client prefers; a tie
# (``*/*``, or no Accept header) gets the page
PAGE_OR_CREDENTIAL = (HTML, *CREDENTIAL_TYPES)
STATUS_SENTENCE = {
    "revoked": gettext_lazy("This badge was revoked by %(issuer)s."),
    "expired": gettext_lazy("This badge from %(issuer)s has expired."),
    "invalid": gettext_lazy("This badge could not be verified."),
}
VALID_SENTENCE = gettext_lazy("A verifiable badge from %(issuer)s.")


# --- The verification page ------------------------------------------------------------------

# Sharing a badge means showing it on other sites: its card may be framed by any site (every
# other page of Tessera may not, its verification page included: CONTENT_SECURITY_POLICY's
# frame-ancestors 'none' and X-Frame-Options DENY; docs/decisions/0019-embedding-a-badge.md).
View = TypeVar("View", bound=Callable[..., HttpResponse])


def _frame_anywhere(view: View) -> View:
    framable = csp_replace({"frame-ancestors": ["*"]})(xframe_options_exempt(view))
    return cast(View, framable)


def _page_or_credential(request: HttpRequest) -> str:
    return str(negotiate(request, PAGE_OR_CREDENTIAL))


@public_page(
    cache_control=public_cache.STATUS,
    vary=("Accept",),  # and Cookie for the page (below)
    variant=_page_or_credential,
    meta=selectors.badge_cache_subject,
)
@require_safe
def badge_verify(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The public verification page; a client that prefers JSON (``application/vc``,
    ``application/ld+json`` or ``application/json``) gets the signed credential instead."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    media_type = negotiate(request, PAGE_OR_CREDENTIAL)
    if media_type in CREDENTIAL_TYPES:
        return credential_response(badge.credential, str(media_type))
    check = services.credential_verify(organization=badge.organization, credential=badge.credential)
    context = _badge_context(request, badge, check)
    response = render(request, "badges/verify.html", context)
    response["Vary"] = "Accept, Cookie"
    return response


@public_page(
    cache_control=public_cache.STATUS, vary=("Cookie",), meta=selectors.badge_cache_subject
)
@_frame_anywhere
@require_safe
def badge_card(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """A small card for other sites to embed (``sharing.embed_html``): the badge, its earner
    (as the signed credential names them), its issuer and its status checked now, linked to the
    verification page."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    check = services.credential_verify(organization=badge.organization, credential=badge.credential)
    credential = badge.credential
    response = render(
        request,
        "badges/card.html",
        {
            "badge": badge,
            "earner": documents.subject_name(credential),
            "issuer_name": (credential.get("issuer") or {}).get("name") or badge.organization.name,
            "status": _status(badge, check),
            "url": services.badge_url(badge),
            "image_url": sharing.image_url(badge),
        },
    )
    return response


OEMBED_NOT_FOUND = gettext_lazy("This is not the address of a badge on this site.")


def _oembed_error(status: int, code: str, message: str, field: str) -> HttpResponse:
    message = str(message)  # written as JSON by hand: no lazy text
    response = json_response({"code": code, "message": message, "fields": {field: [message]}})
    response.status_code = status
    return response


def _dimension(request: HttpRequest, name: str) -> int | None:
    """A ``maxwidth``/``maxheight`` of the request: None when absent; ValueError when not a
    positive whole number."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    number = int(value)  # ValueError for anything else
    if number < 1:
        raise ValueError(name)
    return number


@require_safe
def badge_oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed (https://oembed.com) for a badge's address: ``/oembed?url=<its page>&format=json``
    answers with its card's iframe (``sharing.oembed``). An address that names no badge of this
    site answers 404, a format other than JSON 501 (as the specification says), a bad size 400:
    each as a JSON error naming the field."""
    if request.GET.get("format", "json") != "json":
        return _oembed_error(501, "format", _("Only the JSON format is offered."), "format")
    sizes: dict[str, int | None] = {}
    for name in ("maxwidth", "maxheight"):
        try:
            sizes[name] = _dimension(request, name)
        except ValueError:
            return _oembed_error(400, "invalid", _("Give a whole number of pixels above 0."), name)
    url = request.GET.get("url", "")
    if not url.strip():
        return _oembed_error(400, "required", _("Give the address of a badge's page."), "url")
    public_id = sharing.badge_public_id_from_url(url)
    badge = selectors.badge_get_anywhere(public_id=public_id) if public_id else None
    if badge is None:
        return _oembed_error(404, "not_found", str(OEMBED_NOT_FOUND), "url")
    with tenant_scope(badge.organization):
        response = json_response(sharing.oembed(badge, **sizes))
    response["Cache-Control"] = public_cache.STATUS
    return response


def _status(badge: Badge, check: dict[str, Any]) -> str:
    """valid | expired | revoked | invalid: the check made now, and the issuer's own record."""
    if badge.is_revoked:
        return "revoked"
    return str(check.get("status") or "invalid")


def _results(achievement: dict[str, Any], subject: dict[str, Any]) -> list[dict[str, Any]]:
    """The rubric: each criterion with the level the educator reached and the passing level."""
    reached = {
        r.get("resultDescription"): r.get("achievedLevel") for r in subject.get("result") or []
    }
    rows = []
    for description in achievement.get("resultDescription") or []:
        levels = description.get("rubricCriterionLevel") or []
        by_id = {level.get("id"): level for level in levels}
        rows.append(
            {
                "name": description.get("name", ""),
                "achieved": by_id.get(reached.get(description.get("id"))),
                "required": by_id.get(description.get("requiredLevel")),
                "levels": levels,
            }
        )
    return rows


def _evidence(badge: Badge, credential: dict[str, Any]) -> list[dict[str, Any]]:
    """The credential's evidence entries; a file is linked only while the educator still shares
    it (the redirect refuses otherwise), and nothing is shown once the badge is revoked."""
    entries = credential.get("evidence") or []
    if badge.is_revoked or not entries:
        return []
    shared: set[str] = set()
    placeholder = uuid.UUID(int=0)
    evidence_prefix = documents.site_url(
        reverse("badges:evidence", args=[badge.public_id, placeholder])
    ).removesuffix(f"{placeholder}/")
    if badge.application_id is not None and any(
        str(e.get("id", "")).startswith(evidence_prefix) for e in entries
    ):
        shared = {
            str(public_id)
            for public_id in EvidenceItem.objects.filter(
                application_id=badge.application_id,
                visibility=EvidenceItem.Visibility.PUBLIC,
                status=EvidenceItem.Status.READY,
                kind=EvidenceItem.Kind.FILE,
            ).values_list("public_id", flat=True)
        }
    out = []
    for entry in entries:
        address = str(entry.get("id", ""))
        item: dict[str, Any] = {
            "name": entry.get("name", _("Evidence")),
            "narrative": entry.get("narrative", ""),
            "description": entry.get("description", ""),
            "genre": entry.get("genre", ""),
            "url": "",
            "kind": "text",
        }
        if address.startswith(evidence_prefix):
            item["kind"] = "file"
            item_id = address[len(evidence_prefix) :].strip("/")
            item["url"] = address if item_id in shared else ""
        elif address.startswith(("https://", "http://")):
            item["kind"] = "link"
            item["url"] = address
        out.append(item)
    return out


def _catalog_owner(organization: Organization) -> str:
    """Whose catalog the page links to: "Maple's" in English; the plain name in another language
    (the sentence around it says "el catálogo de Maple")."""
    if (get_language() or "en").split("-")[0] == "en":
        return possessive(organization.name)
    return organization.name


def _badge_context(request: HttpRequest, badge: Badge, check: dict[str, Any]) -> dict[str, Any]:
    credential = badge.credential
    subject = credential.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    organization = badge.organization
    url = services.badge_url(badge)
    is_owner = request.user.is_authenticated and request.user.pk == badge.recipient_id
    email_identity = documents.subject_identity(credential, "emailAddress") or {}
    status = _status(badge, check)
    image_url = sharing.image_url(badge)
    description = (achievement.get("description") or "").strip()
    # the name and description in the page's language where the credential has that edition
    name = badge.localized_name()
    localized_description = badge.localized_description(description)
    # the name the signed credential carries, never the live profile: renaming oneself later
    # does not change a badge already issued
    earner = documents.subject_name(credential)
    issuer_name = (credential.get("issuer") or {}).get("name") or organization.name
    return {
        "badge": badge,
        "badge_name": name,
        "badge_description": localized_description,
        "organization": organization,
        "issuer_name": issuer_name,
        "earner": earner,
        # a badge without a name: said plainly why, as far as the issuer knows it now
        "earner_unnamed_by_choice": not earner and not badge.recipient.name_on_badges_public,
        "credential": credential,
        "achievement": achievement,
        "results": _results(achievement, subject),
        "components": (achievement.get("alignment") or []) if badge.pathway_id else [],
        "alignments": [] if badge.pathway_id else (achievement.get("alignment") or []),
        "evidence": _evidence(badge, credential),
        "check": checks_shown(check),
        "status": status,
        "url": url,
        "image_url": image_url,
        "og_title": sharing.status_prefix(status)
        + (
            _("%(name)s — earned by %(earner)s") % {"name": badge.name, "earner": earner}
            if earner
            else badge.name
        ),
        "og_description": (
            str(STATUS_SENTENCE.get(status, VALID_SENTENCE)) % {"issuer": issuer_name}
            + " "
            + description[:240]
        ).strip(),
        "json_url": reverse("badges:json", args=[badge.public_id]),
        "oembed_url": sharing.oembed_url(badge),
        "check_url": reverse("badges:check", args=[badge.public_id]),
        "ob2_url": ob2.assertion_url(badge),
        "catalog_url": reverse("programs:catalog", args=[organization.slug]),
        "catalog_owner": _catalog_owner(organization),
        "identity_hash": email_identity.get("identityHash", ""),
        "identity_salt": email_identity.get("salt", ""),
        "is_owner": is_owner,
        "share": sharing.share_context(badge) if is_owner else None,
    }


# --- Baked images ---------------------------------------------------------------------------


def _download(data: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _credential_json(badge: Badge) -> str:
    return json.dumps(badge.credential, indent=2, ensure_ascii=False)


@require_safe
def badge_png(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The badge picture with the signed credential baked in (iTXt ``openbadgecredential``)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    picture = artwork.achievement_png(badge)
    return _download(
        baking.bake_png(picture, _credential_json(badge)),
        content_type="image/png",
        filename=sharing.download_filename(badge, "png"),
    )


@require_safe
def badge_png_ob2(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The badge picture baked for Open Badges 2.0 backpacks: iTXt ``openbadges`` holding the
    hosted Assertion's URL (which such a backpack fetches and verifies)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    picture = artwork.achievement_png(badge)
    return _download(
        baking.bake_png(picture, ob2.assertion_url(badge), keyword=baking.OB2_KEYWORD),
        content_type="image/png",
        filename=sharing.download_filename(badge, "png", suffix="-ob2"),
    )


@require_safe
def badge_svg(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """An SVG badge with the signed credential baked in (``<openbadges:credential>``)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    picture = artwork.achievement_svg_href(badge) or artwork.achievement_png(badge)
    return _download(
        baking.bake_svg(
            _credential_json(badge), picture, title=_("%(name)s badge") % {"name": badge.name}
        ),
        content_type="image/svg+xml",
        filename=sharing.download_filename(badge, "svg"),
    )


# --- Open Badges 2.0 hosted documents -------------------------------------------------------


@public_page(
    cache_control=public_cache.STATUS, statuses=(200, 410), meta=selectors.badge_cache_subject
)
@require_safe
def ob2_assertion(request: HttpRequest, badge_public_id: uuid.UUID) -> HttpResponse:
    """The hosted OB 2.0 Assertion; a revoked badge's answers 410 Gone, its body the Assertion
    with ``revoked: true`` and the reason (``ob2.assertion_status`` says why both)."""
    badge = selectors.badge_get_by_public_id(public_id=badge_public_id)
    response = json_response(ob2.assertion(badge), content_type=OB2_CONTENT_TYPE)
    response.status_code = ob2.assertion_status(badge)
    return response


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def ob2_badgeclass(
    request: HttpRequest, org_slug: str, credential_slug: str, number: int
) -> HttpResponse:
    organization = request_organization(request)
    version = program_selectors.credential_version_get_public(
        organization=organization, credential_slug=credential_slug, number=number
    )
    document = ob2.version_badge_class(version, image_url=services.achievement_image_url(version))
    response = json_response(document, content_type=OB2_CONTENT_TYPE)
    return response


def _pathway(organization: Organization, slug: str) -> Pathway:
    """A published pathway, or one that already awarded certificates (their assertions point
    here, so its class must stay readable after the pathway is unpublished)."""
    awarded = Badge.objects.filter(organization=organization, pathway__slug=slug)
    pathway = (
        Pathway.objects.filter(organization=organization, slug=slug)
        .filter(Q(is_published=True) | Q(pk__in=awarded.values("pathway")))
        .prefetch_related("credentials__current_version")
        .first()
    )
    if pathway is None:
        raise Http404("No such pathway.")
    pathway.organization = organization
    return pathway


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def ob2_pathway_badgeclass(request: HttpRequest, org_slug: str, pathway_slug: str) -> HttpResponse:
    organization = request_organization(request)
    pathway = _pathway(organization, pathway_slug)
    components: list[CredentialVersion] = []
    for credential in sorted(pathway.credentials.all(), key=lambda c: (c.position, c.pk)):
        version = credential.current_version
        if version is None:
            continue
        version.credential = credential
        version.organization = organization
        components.append(version)
    document = ob2.pathway_badge_class(
        pathway, components=components, image_url=services.pathway_image_url(pathway)
    )
    response = json_response(document, content_type=OB2_CONTENT_TYPE)
    return response


@public_page(cache_control=public_cache.DOCUMENT)
@require_safe
def ob2_issuer(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    response = json_response(ob2.issuer(organization), content_type=OB2_CONTENT_TYPE)
    return response
