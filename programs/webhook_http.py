"""Signing webhook deliveries and sending them without reaching inside our own network (SSRF).

**Signature** (docs/decisions/0028, README "Webhooks"): ``Tessera-Signature: t=<unix seconds>,
v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>``. A receiver recomputes it over
the raw body, compares in constant time and refuses a ``t`` older than a few minutes.

**Where a request may go**: only to global unicast addresses. The name is resolved here, every
address it resolves to is checked, and the connection is made to a checked address (with the
name kept for the ``Host`` header and TLS's SNI and certificate check), so a name that resolves
to 127.0.0.1 — or is changed to after the URL was checked (DNS rebinding) — is refused at
connect time. Redirects are not followed. ``settings.WEBHOOKS_ALLOW_LOOPBACK`` (the test profile
only) also admits loopback addresses and ``http://``, for the suite's own HTTP server.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

SIGNATURE_HEADER = "Tessera-Signature"
EVENT_ID_HEADER = "Tessera-Event-Id"
EVENT_TYPE_HEADER = "Tessera-Event-Type"
TIMEOUT_SECONDS = 10
# what is kept of a response body in the delivery log
RESPONSE_KEPT = 300

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """The URL's host is, or resolves to, an address a delivery must never reach."""


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256 over "<timestamp>.<body>">``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(
    *, secret: str, header: str, body: bytes, now: float | None = None, tolerance: int = 300
) -> bool:
    """What a receiver does (the README's snippet, in Python): recompute and compare in constant
    time; refuse a timestamp further than ``tolerance`` seconds from now."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature_header(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(
        expected.encode(), f"t={parts['t']},v1={parts.get('v1', '')}".encode()
    )


def _loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", False))


def address_refusal(address: Address) -> str | None:
    """Why a delivery may not go to ``address`` (None: it may): anything but a global unicast
    address — private, loopback, link-local (cloud metadata), shared, reserved, multicast,
    unspecified, and IPv6 forms that embed such an IPv4 address."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_loopback and _loopback_allowed():
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "an address that is not public"
    return None


def url_refusal(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint, before any DNS look-up (None: it can, as far as can be
    told now; the addresses are checked again at every connection)."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if _loopback_allowed() else ("https",)
    if parts.scheme not in allowed_schemes:
        return "Enter an https:// URL: deliveries are only sent over HTTPS."
    if not parts.hostname:
        return "Enter a URL with a host name, such as https://crm.example.org/tessera."
    if parts.username or parts.password:
        return "Leave user names and passwords out of the URL: the signature proves the sender."
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "Enter a valid port number."
    host = parts.hostname.rstrip(".").lower()
    inside = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if inside and not _loopback_allowed():
        return "Enter a public address: deliveries never go to this machine or its network."
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None
    why = address_refusal(literal)
    if why is not None:
        return f"Enter a public address: {host} is {why}."
    return None


def _resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


# Tests may name another resolver (a hostname mapped to 127.0.0.1) through this hook.
resolver: Callable[[str, int], list[str]] = _resolve


def checked_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, each checked: one refused refuses them all (a name
    that resolves to a public and a private address is not sent to either)."""
    try:
        found = resolver(host, port)
    except OSError as error:
        raise UnsafeTarget(f"{host} does not resolve ({error}).") from None
    if not found:
        raise UnsafeTarget(f"{host} does not resolve.")
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        why = address_refusal(address)
        if why is not None:
            raise UnsafeTarget(f"{host} resolves to {address}, {why}: refused.")
    return found


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand; ``host`` stays the name (Host header)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As ``_PinnedHTTPConnection``, over TLS with SNI and the certificate checked for the
    name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    status: int | None
    body: str
    error: str
    duration_ms: int


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url`` through a checked address; never raises for the network: a
    refused target, a time-out or a refused connection comes back as ``error``."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    refusal = url_refusal(url)
    if refusal is not None:
        return Response(None, "", refusal, took())
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = checked_addresses(host, port)[0]
    except UnsafeTarget as error:
        return Response(None, "", str(error), took())
    kind = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address=address, timeout=TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        text = answer.read(RESPONSE_KEPT).decode("utf-8", "replace")
        return Response(answer.status, text, "", took())
    except (OSError, http.client.HTTPException) as error:
        return Response(None, "", f"{type(error).__name__}: {error}"[:300], took())
    finally:
        connection.close()
