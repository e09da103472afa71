"""LTI 1.3 tool endpoints of one organization (``/o/<slug>/lti/…``), through pylti1p3.

- ``login/``: OIDC login initiation from the platform; redirects to its authorization URL.
- ``launch/``: the platform's signed launch (``id_token``), validated by the library (state,
  nonce, the signature against the platform's JWKS fetched over HTTP, issuer, client id,
  deployment, expiry), then a nonce used once only. A resource launch signs the learner in and
  lands on the credential, or on their application for it; a deep-linking launch shows the
  credentials to choose from.
- ``deep-link/``: the chosen credential, returned to the platform as a signed
  ``LtiDeepLinkingResponse``.
- ``jwks/``: the tool's public keys, which the platform verifies our messages with.

A refused launch answers a page that says why (400; 404 when the platform is not registered
with this organization or the credential is not one of its).
"""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import jwt
from django.conf import settings
from django.contrib.auth import login
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import request_organization
from programs import selectors as program_selectors
from programs.lti import http_session, platform_for, tool_conf_of
from programs.models import LtiPlatform, Organization, User
from programs.services.lti import LaunchPerson, lti_grade_link_record, lti_user_for_launch

from . import selectors

logger = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NONCE_SECONDS = 2 * 60 * 60  # longer than any launch the library accepts (exp, iat)
LAUNCH_SECONDS = 60 * 60


class Refused(Exception):
    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _refused(request: HttpRequest, reason: str, status: int = 400) -> HttpResponse:
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


def _storage() -> DjangoCacheDataStorage:
    return DjangoCacheDataStorage(cache_name="default")


def _why(error: Exception) -> str:
    """A person's words for what the library refused."""
    text = str(error)
    if "expired" in text.lower():
        return _("The launch has expired. Open the activity again from your course.")
    if "Signature verification failed" in text or "Unable to find public key" in text:
        return _(
            "The launch's signature does not match the keys your learning platform publishes: "
            "it was not sent by the platform registered with this organization."
        )
    if "State not found" in text or "Missing state" in text:
        return _(
            "The launch does not continue a sign-in this browser started (its state is "
            "missing or unknown). Open the activity again from your course."
        )
    if "Nonce" in text or "nonce" in text:
        return _("The launch's nonce is unknown or was used already.")
    if "deployment" in text.lower():
        return _(
            "The launch comes from a deployment that is not registered with this organization."
        )
    return _("The launch is not valid: %(text)s") % {"text": text}


def _unverified_claims(id_token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise Refused(_("The launch carries no readable id_token.")) from None
    return claims if isinstance(claims, dict) else {}


def _platform_of_launch(organization: Organization, claims: dict[str, Any]) -> LtiPlatform:
    """The registration a launch is addressed to: its issuer must be registered here (else 404:
    another organization's platform) and its audience must be the client id registered."""
    issuer = str(claims.get("iss") or "")
    aud = claims.get("aud")
    audiences = [str(a) for a in (aud if isinstance(aud, list) else [aud]) if a]
    if not LtiPlatform.objects.filter(
        organization=organization, issuer=issuer, is_active=True
    ).exists():
        raise Refused(
            _("No learning platform with the issuer “%(issuer)s” is registered with %(org)s.")
            % {"issuer": issuer, "org": organization.name},
            status=404,
        )
    platform = platform_for(
        organization=organization, issuer=issuer, client_id=audiences[0] if audiences else ""
    )
    if platform is None:
        raise Refused(
            _(
                "The launch is addressed to the audience %(audience)s, not to the client ID "
                "%(org)s registered for this platform."
            )
            % {"audience": ", ".join(audiences) or _("(none)"), "org": organization.name}
        )
    return platform


def _nonce_use_once(platform: LtiPlatform, claims: dict[str, Any]) -> None:
    """pylti1p3 checks that the nonce is one it issued, not that it is used once: we do."""
    nonce = str(claims.get("nonce") or "")
    if not cache.add(f"lti-nonce:{platform.pk}:{nonce}", 1, timeout=NONCE_SECONDS):
        raise Refused(
            _(
                "This launch was already used (its nonce was seen before): a launch is good "
                "once. Open the activity again from your course."
            )
        )


@csrf_exempt  # the platform's cross-site GET or POST; it starts no state change of ours
def login_initiate(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    params = request.POST if request.method == "POST" else request.GET
    issuer = params.get("iss", "")
    client_id = params.get("client_id", "")
    target = params.get("target_link_uri", "")
    platforms = [
        p
        for p in LtiPlatform.objects.filter(
            organization=organization, issuer=issuer, is_active=True
        )
        if not client_id or p.client_id == client_id
    ]
    if not platforms:
        return _refused(
            request,
            _("No learning platform with the issuer “%(issuer)s” is registered with %(org)s.")
            % {"issuer": issuer, "org": organization.name},
            status=404,
        )
    expected = request.build_absolute_uri(
        reverse("submissions:lti_launch", kwargs={"org_slug": organization.slug})
    )
    if urlsplit(target).path != urlsplit(expected).path:
        return _refused(request, _("The launch's target is not this organization's launch URL."))
    oidc_login = DjangoOIDCLogin(
        request, tool_conf_of(organization), launch_data_storage=_storage()
    )
    try:
        return oidc_login.redirect(target)  # type: ignore[no-any-return]
    except LtiException as error:
        return _refused(request, _why(error))


@csrf_exempt  # signed by the platform (id_token) and bound to our state cookie instead
@require_POST
def launch(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    try:
        claims = _unverified_claims(request.POST.get("id_token", ""))
        platform = _platform_of_launch(organization, claims)
        message_launch = DjangoMessageLaunch(
            request,
            tool_conf_of(organization),
            launch_data_storage=_storage(),
            requests_session=http_session(),
        )
        message_launch.set_launch_data_lifetime(LAUNCH_SECONDS)
        try:
            data = cast(dict[str, Any], message_launch.get_launch_data())
        except LtiException as error:
            raise Refused(_why(error)) from None
        except Exception as error:  # the library's config look-ups raise bare Exception
            logger.info("LTI launch refused: %s", error)
            raise Refused(_why(error)) from None
        _nonce_use_once(platform, data)
        if message_launch.is_deep_link_launch():
            return _deep_link_choose(request, organization, message_launch.get_launch_id())
        if not message_launch.is_resource_launch():
            raise Refused(_("Tessera takes resource and deep-linking launches only."))
        return _resource_launch(request, organization, platform, data)
    except Refused as refused:
        return _refused(request, refused.reason, refused.status)


def _credential_slug(data: dict[str, Any]) -> str:
    custom = data.get(CLAIM + "custom") or {}
    slug = str(custom.get("credential") or "") if isinstance(custom, dict) else ""
    if not slug:
        query = parse_qs(urlsplit(str(data.get(CLAIM + "target_link_uri") or "")).query)
        slug = (query.get("credential") or [""])[0]
    if not slug:
        raise Refused(
            _(
                "The course's link names no credential. Ask your instructor to choose one "
                "(“add a Tessera credential” in the course)."
            )
        )
    return slug


def _resource_launch(
    request: HttpRequest, organization: Organization, platform: LtiPlatform, data: dict[str, Any]
) -> HttpResponse:
    # a credential of another organization is not found here: 404
    version = program_selectors.credential_version_get_public(
        organization=organization, credential_slug=_credential_slug(data)
    )
    credential = version.credential
    person = LaunchPerson(
        subject=str(data.get("sub") or ""),
        email=str(data.get("email") or ""),
        full_name=str(data.get("name") or ""),
    )
    if not person.subject:
        raise Refused(_("The launch names no user (sub): Tessera cannot sign anyone in."))
    try:
        user = lti_user_for_launch(
            platform=platform,
            person=person,
            signed_in=cast(User, request.user) if request.user.is_authenticated else None,
        )
    except ApplicationError as error:
        raise Refused(error.message, status=403) from None
    resource_link = data.get(CLAIM + "resource_link") or {}
    lti_grade_link_record(
        platform=platform,
        user=user,
        credential=credential,
        subject=person.subject,
        resource_link_id=str(resource_link.get("id") or ""),
        endpoint=data.get(AGS_ENDPOINT_CLAIM) or {},
    )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    application = selectors.application_latest_for_educator(
        organization=organization, user=user, credential=credential
    )
    if application is not None:
        return redirect(
            "submissions:application",
            org_slug=organization.slug,
            public_id=application.public_id,
        )
    return redirect(
        "programs:credential_detail", org_slug=organization.slug, credential_slug=credential.slug
    )


def _deep_link_choose(
    request: HttpRequest, organization: Organization, launch_id: str
) -> HttpResponse:
    credentials = program_selectors.credential_list_published(organization=organization)
    return render(
        request,
        "lti/deep_link_choose.html",
        {"organization": organization, "credentials": credentials, "launch_id": launch_id},
    )


@csrf_exempt  # the form of a deep-linking launch, bound to it by its unguessable launch id
@require_POST
def deep_link_return(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    try:
        message_launch = DjangoMessageLaunch.from_cache(
            request.POST.get("launch_id", ""),
            request,
            tool_conf_of(organization),
            launch_data_storage=_storage(),
            requests_session=http_session(),
        )
    except LtiException:
        return _refused(
            request, _("This choice belongs to no deep-linking launch (or it expired)."), 400
        )
    if not message_launch.is_deep_link_launch():
        return _refused(request, _("This choice belongs to no deep-linking launch."), 400)
    version = program_selectors.credential_version_get_public(
        organization=organization, credential_slug=request.POST.get("credential", "")
    )
    credential = version.credential
    launch_url = settings.SITE_URL.rstrip("/") + reverse(
        "submissions:lti_launch", kwargs={"org_slug": organization.slug}
    )
    resource = (
        DeepLinkResource()
        .set_url(launch_url)
        .set_title(version.title)
        .set_custom_params({"credential": credential.slug})
        .set_lineitem(
            LineItem()
            .set_label(version.title)
            .set_score_maximum(1)
            .set_resource_id(str(credential.public_id))
            .set_tag("tessera-credential")
        )
    )
    deep_link = message_launch.get_deep_link()
    token = deep_link.get_response_jwt([resource])
    return_url = str(
        message_launch.get_launch_data()[
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
        ]["deep_link_return_url"]
    )
    response = render(
        request,
        "lti/deep_link_return.html",
        {"jwt": token, "return_url": return_url, "title": version.title},
    )
    parts = urlsplit(return_url)
    response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    return response


@require_safe
def jwks(request: HttpRequest, org_slug: str) -> JsonResponse:
    organization = request_organization(request)
    return JsonResponse(tool_conf_of(organization).get_jwks())
