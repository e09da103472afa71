"""Single sign-on through django-allauth's ``openid_connect`` and ``saml`` providers.

Each organization's ``SignOnProvider`` rows are allauth apps: ``SocialAccountAdapter.list_apps``
builds them in memory (``social_app``) when allauth asks, with the client secret decrypted then,
so nothing is copied into allauth's ``SocialApp`` table. Their ids carry the organization:

- OpenID Connect: ``provider_id`` ``oidc-<org slug>``, at ``/accounts/oidc/oidc-<slug>/login/``
  and its ``…/login/callback/``;
- SAML: ``client_id`` (allauth's "organization slug") ``<org slug>``, ``provider_id``
  ``saml-<slug>``, at ``/accounts/saml/<slug>/login/``, ``…/acs/``, ``…/metadata/``.

**Trust.** An identity provider's e-mail reaches an account that already has it only when

1. the address is verified: OpenID Connect's ``email_verified`` claim is true; a SAML assertion
   has no such claim, so its address counts as verified when it is in the provider's
   ``email_domains`` (the domains the organization says the provider is the authority for), and
2. the organization ticked ``email_authentication`` for the provider, and the address is in
   those ``email_domains``.

Otherwise allauth treats the sign-in as a new person whose address is taken: nothing is signed
in and the account's owner is e-mailed (allauth's enumeration-safe path). An unverified address
on a new account must be confirmed by e-mail first (``ACCOUNT_EMAIL_VERIFICATION``).

**Membership.** After each sign-in through a provider, ``membership_join_by_sign_on`` makes the
person a member where the provider's rule says so (an e-mail domain, or a claim's value).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from credentials_site.tenancy import cross_organization

from .models import Organization, SignOnProvider, User
from .secrets import SecretUnreadable
from .services.sso import email_in_domains, membership_join_by_sign_on

logger = logging.getLogger(__name__)

# The sign-in URLs (/accounts/…) belong to no organization: the provider's id names it.
BY_PROVIDER_ID = "an organization's sign-in providers, for its sign-in pages and allauth"
PROTOCOL_PROVIDER = {
    SignOnProvider.Protocol.OIDC: "openid_connect",
    SignOnProvider.Protocol.SAML: "saml",
}
# Where a SAML assertion's attributes are read from: the short names, the OIDs (inetOrgPerson),
# and Microsoft's claim URIs. The NameID is the subject unless ``subject-id`` is sent.
SAML_ATTRIBUTES = {
    "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": [
        "email",
        "mail",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "first_name": [
        "givenName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    "last_name": [
        "sn",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
    "name": ["displayName", "cn", "urn:oid:2.16.840.1.113730.3.1.241"],
}


def provider_id_of(sign_on: SignOnProvider) -> str:
    return f"{sign_on.protocol}-{sign_on.organization.slug}"


def social_app(sign_on: SignOnProvider) -> SocialApp:
    """The allauth app of one provider (unsaved), its secret decrypted."""
    slug = sign_on.organization.slug
    common = {"sign_on_id": sign_on.pk, "organization_id": sign_on.organization_id}
    if sign_on.protocol == SignOnProvider.Protocol.OIDC:
        return SocialApp(
            provider="openid_connect",
            provider_id=provider_id_of(sign_on),
            name=sign_on.name,
            client_id=sign_on.client_id,
            secret=sign_on.client_secret,
            settings={**common, "server_url": sign_on.server_url, "oauth_pkce_enabled": True},
        )
    idp: dict[str, Any] = {"entity_id": sign_on.idp_entity_id}
    if sign_on.idp_metadata_url:
        idp["metadata_url"] = sign_on.idp_metadata_url
    else:
        idp.update(sso_url=sign_on.idp_sso_url, x509cert=sign_on.idp_x509_cert)
    return SocialApp(
        provider="saml",
        provider_id=provider_id_of(sign_on),
        name=sign_on.name,
        client_id=slug,
        settings={
            **common,
            "idp": idp,
            "attribute_mapping": SAML_ATTRIBUTES,
            # python3-saml refuses an unsigned response anyway; say what we require
            "advanced": {"want_assertion_signed": True, "strict": True},
        },
    )


def sign_on_list_for_allauth(
    *, provider: str | None = None, client_id: str | None = None
) -> list[SignOnProvider]:
    """The active providers matching what allauth asks by: its provider (``openid_connect``,
    ``saml``), a provider id (``oidc-<slug>``, ``saml-<slug>``) and/or a client id. Read across
    organizations: these URLs (/accounts/…) belong to none, the provider id names it."""
    filters: dict[str, Any] = {"is_active": True, "organization__is_active": True}
    if provider in ("openid_connect", "saml"):
        filters["protocol"] = next(p for p, name in PROTOCOL_PROVIDER.items() if name == provider)
    elif provider:
        protocol, _, slug = provider.partition("-")
        if protocol not in SignOnProvider.Protocol.values or not slug:
            return []
        filters.update(protocol=protocol, organization__slug=slug)
    with cross_organization(BY_PROVIDER_ID):
        sign_ons = list(SignOnProvider.objects.filter(**filters).select_related("organization"))
    if client_id is not None:
        sign_ons = [s for s in sign_ons if social_app_client_id(s) == client_id]
    return sign_ons


def social_app_client_id(sign_on: SignOnProvider) -> str:
    return (
        sign_on.client_id
        if sign_on.protocol == SignOnProvider.Protocol.OIDC
        else (sign_on.organization.slug)
    )


def sign_on_list_for_organization(*, organization: Organization) -> list[SignOnProvider]:
    """The organization's active providers, for the buttons of its pages and of the login page
    reached from them (one query)."""
    with cross_organization(BY_PROVIDER_ID):
        return list(SignOnProvider.objects.filter(organization=organization, is_active=True))


def login_url(sign_on: SignOnProvider, *, organization: Organization) -> str:
    if sign_on.protocol == SignOnProvider.Protocol.SAML:
        return reverse("saml_login", kwargs={"organization_slug": organization.slug})
    provider_id = f"{sign_on.protocol}-{organization.slug}"
    return reverse("openid_connect_login", kwargs={"provider_id": provider_id})


def sign_on_of_app(app: SocialApp | None) -> SignOnProvider | None:
    """The provider an allauth app was built from (its organization selected)."""
    if app is None or "sign_on_id" not in (app.settings or {}):
        return None
    with cross_organization(BY_PROVIDER_ID):
        return (
            SignOnProvider.objects.select_related("organization")
            .filter(pk=app.settings["sign_on_id"], is_active=True)
            .first()
        )


def claims_of(sociallogin: SocialLogin) -> dict[str, Any]:
    """What the provider said about the person: the ID token's and userinfo's claims (OIDC), or
    the assertion's attributes (SAML, each a list of values)."""
    data = sociallogin.account.extra_data or {}
    if "id_token" in data or "userinfo" in data:
        return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}
    return dict(data)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """allauth's social adapter (``SOCIALACCOUNT_ADAPTER``): the organizations' providers as
    apps, the trust rule, and the name the provider gives."""

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """The apps allauth asks for by provider, provider id or client id. Asked for every app
        (to list "connect a third-party account" choices), none: an organization's providers
        are offered on its own pages. A provider whose secret no key decrypts is left out (its
        sign-in answers 404; the admin says to enter the secret again)."""
        if provider is None and client_id is None:
            return []
        apps = []
        for sign_on in sign_on_list_for_allauth(provider=provider, client_id=client_id):
            try:
                apps.append(social_app(sign_on))
            except SecretUnreadable:
                logger.error("The client secret of sign-on provider %s is unreadable", sign_on.pk)
        return apps

    def is_email_verified(self, provider: Any, email: str) -> bool:
        """Force "verified" on SAML addresses in the provider's domains (OIDC says it itself)."""
        sign_on = sign_on_of_app(provider.app)
        if sign_on is None or sign_on.protocol != SignOnProvider.Protocol.SAML:
            return False
        return email_in_domains(email, sign_on.email_domains)

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A provider vouches only for its own domains: an address outside them is taken as
        unverified (to be confirmed by e-mail), even when the provider says otherwise."""
        sign_on = sign_on_of_app(sociallogin.provider.app)
        if sign_on is not None and sign_on.email_domains:
            for address in sociallogin.email_addresses:
                if not email_in_domains(address.email, sign_on.email_domains):
                    address.verified = False

    def can_authenticate_by_email(self, login: SocialLogin, email: str) -> bool:
        """Only a provider the organization trusts by e-mail, for its own domains."""
        sign_on = sign_on_of_app(login.provider.app)
        return bool(
            sign_on is not None
            and sign_on.email_authentication
            and email_in_domains(email, sign_on.email_domains)
        )

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[Any, str] | None:
        """Only an account on which the address is verified: one that merely typed it (and
        never confirmed it) is not the address's owner."""
        found = super().authenticate_by_email(sociallogin)
        if found is None:
            return None
        user, email = found
        if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
            return None
        return user, email

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: Any) -> User:
        user: User = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.full_name = " ".join(str(name or "").split())[:200]
        return user


def after_sign_in(*, user: User, sociallogin: SocialLogin) -> None:
    """Run by the account adapter once a sign-in through a provider succeeded: the membership
    its rule gives, on the addresses the provider verified."""
    sign_on = sign_on_of_app(sociallogin.provider.app)
    if sign_on is None:
        return
    verified = [a.email for a in sociallogin.email_addresses if a.verified]
    membership_join_by_sign_on(
        sign_on=sign_on, user=user, verified_emails=verified, claims=claims_of(sociallogin)
    )


# --- The pages that start a sign-in: their forms may go to the providers ----------------------

FORM_ACTIONS_ATTR = "_sign_on_form_actions"


def provider_origin(sign_on: SignOnProvider) -> str:
    """Where a sign-in form's submission is redirected: the provider's origin (the issuer's for
    OpenID Connect, whose authorization endpoint it hosts; the SSO URL's, or else the metadata's,
    for SAML)."""
    url = sign_on.server_url or sign_on.idp_sso_url or sign_on.idp_metadata_url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def allow_form_actions(request: HttpRequest, sign_ons: Iterable[SignOnProvider]) -> None:
    """Let this page's forms be redirected to these providers (``SignOnFormActionMiddleware``
    adds them to the Content-Security-Policy's ``form-action``, which browsers enforce on the
    redirect of a form's submission too)."""
    allow_form_action_origins(request, [o for o in map(provider_origin, sign_ons) if o])


def allow_form_action_origins(request: HttpRequest, origins: Iterable[str]) -> None:
    """Let this page's forms be redirected to these origins (a payment provider's hosted page,
    an identity provider): added to its ``form-action`` by ``SignOnFormActionMiddleware``."""
    allowed: set[str] = getattr(request, FORM_ACTIONS_ATTR, set())
    allowed.update(origins)
    setattr(request, FORM_ACTIONS_ATTR, allowed)


class SignOnFormActionMiddleware:
    """Adds the origins of the providers a page offers (``allow_form_actions``) to its
    ``form-action``; and on allauth's own "continue to the provider" page
    (``/accounts/oidc/<id>/login/``, ``/accounts/saml/<slug>/login/``), that provider's. After
    ``csp.middleware.CSPMiddleware`` in ``MIDDLEWARE``."""

    LOGIN_VIEWS = {"openid_connect_login": "provider_id", "saml_login": "organization_slug"}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = getattr(request, "resolver_match", None)
        response = self.get_response(request)
        match = match or getattr(request, "resolver_match", None)
        if match is not None and match.url_name in self.LOGIN_VIEWS:
            key = match.kwargs.get(self.LOGIN_VIEWS[match.url_name], "")
            provider = key if match.url_name == "openid_connect_login" else f"saml-{key}"
            allow_form_actions(request, sign_on_list_for_allauth(provider=provider))
        origins = getattr(request, FORM_ACTIONS_ATTR, None)
        if origins:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["form-action"] = [*update.get("form-action", []), *sorted(origins)]
            response._csp_update = update  # type: ignore[attr-defined]  # django-csp's hook
        return response
