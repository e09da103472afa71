"""LTI 1.3 through pylti1p3: the tool configuration of one organization, built from its
``LtiPlatform`` rows, and the HTTP the library does (the platform's JWKS, its token endpoint,
AGS) through a session that refuses private, loopback and link-local addresses.

Every launch URL carries the organization (``/o/<slug>/lti/…``), so a platform registered for
one organization is unknown to every other: its login and launch there are refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from pylti1p3.tool_config import ToolConfDict

from .models import LtiPlatform, Organization

LTI_TIMEOUT_SECONDS = 10


class UnsafeAddress(requests.RequestException):
    """A platform URL whose host is (or resolves to) a private, loopback or link-local address."""


def _address_refused(host: str) -> str | None:
    if settings.LTI_ALLOW_PRIVATE_ADDRESSES:
        return None
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return f"{host} does not resolve."
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            return f"{host} is a private, loopback or link-local address ({address})."
    return None


class PublicOnlySession(requests.Session):
    """requests, refusing hosts that are not on the public internet (SSRF), with a timeout.
    ``settings.LTI_ALLOW_PRIVATE_ADDRESSES`` (the test profile only) lets the suite's simulated
    platform on loopback through."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        host = urlsplit(request.url or "").hostname or ""
        if problem := _address_refused(host):
            raise UnsafeAddress(problem)
        kwargs["timeout"] = kwargs.get("timeout") or LTI_TIMEOUT_SECONDS
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


def http_session() -> requests.Session:
    session = PublicOnlySession()
    session.headers["User-Agent"] = "Tessera LTI tool"
    return session


def key_pair_generate() -> tuple[str, str]:
    """A new RSA key pair for a registration: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def tool_conf(platforms: Iterable[LtiPlatform]) -> ToolConfDict:
    """pylti1p3's configuration of these registrations, their tool keys loaded."""
    platforms = [p for p in platforms if p.tool_public_key]
    by_issuer: dict[str, list[dict[str, Any]]] = {}
    for platform in platforms:
        by_issuer.setdefault(platform.issuer, []).append(
            {
                "default": False,
                "client_id": platform.client_id,
                "auth_login_url": platform.auth_login_url,
                "auth_token_url": platform.auth_token_url,
                "auth_audience": None,
                "key_set_url": platform.key_set_url,
                "key_set": None,
                "deployment_ids": list(platform.deployment_ids),
            }
        )
    conf = ToolConfDict(cast(Any, by_issuer))  # its TypedDict, built from our rows
    for platform in platforms:
        conf.set_private_key(platform.issuer, platform.tool_private_key, platform.client_id)
        conf.set_public_key(platform.issuer, platform.tool_public_key, platform.client_id)
    return conf


def platform_list_active(*, organization: Organization) -> list[LtiPlatform]:
    return list(
        LtiPlatform.objects.filter(organization=organization, is_active=True).order_by("pk")
    )


def tool_conf_of(organization: Organization) -> ToolConfDict:
    return tool_conf(platform_list_active(organization=organization))


def platform_for(*, organization: Organization, issuer: str, client_id: str) -> LtiPlatform | None:
    return LtiPlatform.objects.filter(
        organization=organization, issuer=issuer, client_id=client_id, is_active=True
    ).first()
