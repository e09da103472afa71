"""Fixtures for the single sign-on tests: the identity provider in its own process, and a
``requests`` "browser" that follows redirects and submits forms across the two sites."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
import requests
from pytest_django.live_server_helper import LiveServer

from programs.models import Organization, SignOnProvider

from .launch import IdentityProvider, identity_provider_running

# Organizations whose OpenID Connect callback the provider knows (its client's redirect URIs).
SLUGS = ("riverside", "gael", "elsewhere", "riverside-usd")
PASSWORD = "idp password"


@pytest.fixture(scope="session")
def identity_provider(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IdentityProvider]:
    callbacks = [f"{live_server.url}/accounts/oidc/oidc-{slug}/login/callback/" for slug in SLUGS]
    with identity_provider_running(
        tmp_path_factory.mktemp("identity-provider"), redirect_uris=callbacks
    ) as provider:
        yield provider


def oidc_provider(
    organization: Organization, idp: IdentityProvider, **fields: Any
) -> SignOnProvider:
    sign_on = SignOnProvider(
        organization=organization,
        protocol=SignOnProvider.Protocol.OIDC,
        name=fields.pop("name", f"{organization.short_name} accounts"),
        server_url=idp.oidc_issuer,
        client_id=idp.client_id,
        **fields,
    )
    sign_on.client_secret = idp.client_secret
    sign_on.full_clean()
    sign_on.save()
    return sign_on


def saml_provider(
    organization: Organization, idp: IdentityProvider, **fields: Any
) -> SignOnProvider:
    sign_on = SignOnProvider(
        organization=organization,
        protocol=SignOnProvider.Protocol.SAML,
        name=fields.pop("name", f"{organization.short_name} SAML"),
        **{
            "idp_entity_id": idp.saml_entity_id,
            "idp_sso_url": idp.saml_sso_url,
            "idp_x509_cert": idp.saml_cert,
            **fields,
        },
    )
    sign_on.full_clean()
    sign_on.save()
    return sign_on


def person(email: str, **claims: Any) -> dict[str, Any]:
    """One person at the provider (the username is the e-mail)."""
    return {
        "password": PASSWORD,
        "email": email,
        "email_verified": True,
        "name": "Ana Ruiz",
        "given_name": "Ana",
        "family_name": "Ruiz",
        **claims,
    }


class Browser:
    """A requests session that behaves as a browser on the two sites: follows redirects, and
    submits the forms pages hold (hidden fields and CSRF token included)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.page: requests.Response | None = None

    def get(self, path: str) -> requests.Response:
        self.page = self.session.get(self.base_url + path, timeout=30)
        return self.page

    def submit(self, button_text: str = "", **fields: str) -> requests.Response:
        """Submit the form of the current page whose button says ``button_text`` (or its only
        form), with ``fields`` filled in."""
        assert self.page is not None
        document = lxml.html.fromstring(self.page.text, base_url=self.page.url)
        forms = [
            f
            for f in document.forms
            if not button_text
            or any(button_text in (b.text_content() or "") for b in f.xpath(".//button"))
        ]
        assert forms, f"No form with “{button_text}” on {self.page.url}:\n{self.page.text[:3000]}"
        form = forms[0]
        data = {name: value for name, value in form.form_values()}
        data.update(fields)
        action = form.action or self.page.url
        self.page = self.session.request(
            (form.method or "GET").upper(),
            action,
            data=data,
            timeout=30,
            headers={"Referer": self.page.url},
        )
        return self.page

    def sign_in_at_provider(self, email: str) -> requests.Response:
        """On the provider's login page: sign in, then follow where it sends the browser
        (for SAML, the auto-posted form to the service provider)."""
        assert self.page is not None and "Test identity provider" in self.page.text, (
            self.page.url + "\n" + self.page.text[:3000]
        )
        page = self.submit("Sign in", username=email, password=PASSWORD)
        if 'name="SAMLResponse"' in page.text:
            page = self.submit("Continue")
        return page

    def signed_in_email(self) -> str | None:
        """Whom the service provider's session belongs to (the header shows the e-mail)."""
        page = self.session.get(self.base_url + "/me/name/", timeout=30, allow_redirects=False)
        if page.status_code != 200:
            return None
        document = lxml.html.fromstring(page.text)
        shown = document.xpath("//header//span[@class='muted']/text()")
        return shown[0].strip() if shown else None
