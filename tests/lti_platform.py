"""A learning platform (LMS) simulated for the LTI 1.3 tests: an RSA key whose JWKS, OAuth2
token endpoint and AGS line item are served by a real HTTP server on loopback (a thread), so
pylti1p3's own validation fetches the keys over HTTP; launches are JWTs signed with the key.
The server records every request it receives."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from programs.models import LtiPlatform, Organization
from programs.services.lti import lti_platform_keys_ensure

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ISSUER = "https://lms.example.edu"
CLIENT_ID = "tessera-client"
DEPLOYMENT_ID = "deployment-1"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class SimulatedPlatform:
    key: rsa.RSAPrivateKey
    kid: str
    base_url: str
    requests: list[Recorded] = field(default_factory=list)

    @property
    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def register(self, organization: Organization, **fields: Any) -> LtiPlatform:
        platform = LtiPlatform(
            organization=organization,
            name="Riverside Canvas",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            deployment_ids=[DEPLOYMENT_ID],
            auth_login_url=f"{self.base_url}/auth",
            auth_token_url=f"{self.base_url}/token",
            key_set_url=f"{self.base_url}/jwks",
            **fields,
        )
        lti_platform_keys_ensure(platform=platform)
        platform.save()
        return platform

    def sign(self, claims: dict[str, Any], *, key: Any = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def claims(
        self,
        *,
        nonce: str,
        org_slug: str,
        credential: str = "",
        sub: str = "lms-user-1",
        email: str = "learner@example.org",
        message_type: str = "LtiResourceLinkRequest",
        **overrides: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": email,
            "name": "Lee Learner",
            CLAIM + "deployment_id": DEPLOYMENT_ID,
            CLAIM + "message_type": message_type,
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "target_link_uri": f"http://testserver/o/{org_slug}/lti/launch/",
            CLAIM + "resource_link": {"id": "resource-link-1"},
            CLAIM + "custom": {"credential": credential},
            AGS + "claim/endpoint": {
                "scope": [AGS + "scope/lineitem", AGS + "scope/score"],
                "lineitems": f"{self.base_url}/lineitems",
                "lineitem": f"{self.base_url}/lineitems/1/lineitem",
            },
        }
        if message_type == "LtiDeepLinkingRequest":
            claims.pop(CLAIM + "resource_link")
            claims[DL + "deep_linking_settings"] = {
                "deep_link_return_url": f"{self.base_url}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["window", "iframe"],
                "data": "opaque-platform-data",
            }
        claims.update(overrides)
        return claims

    def login(self, client: Client, org_slug: str, *, issuer: str = ISSUER) -> tuple[str, str]:
        """The platform starts an OIDC login at the tool; the tool redirects the browser to the
        platform's authorization URL: the (state, nonce) it asks the launch to carry."""
        response = client.get(
            f"/o/{org_slug}/lti/login/",
            {
                "iss": issuer,
                "client_id": CLIENT_ID,
                "login_hint": "lms-user-1",
                "target_link_uri": f"http://testserver/o/{org_slug}/lti/launch/",
            },
        )
        assert response.status_code == 302, response.content
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == f"{self.base_url}/auth"
        query = parse_qs(location.query)
        return query["state"][0], query["nonce"][0]


def _handler(platform_box: list[SimulatedPlatform]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _record(self) -> Recorded:
            length = int(self.headers.get("Content-Length") or 0)
            recorded = Recorded(
                self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
            )
            platform_box[0].requests.append(recorded)
            return recorded

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._record()
            if self.path == "/jwks":
                self._json(200, platform_box[0].jwks)
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            self._record()
            if self.path == "/token":
                self._json(
                    200,
                    {"access_token": "platform-token", "token_type": "bearer", "expires_in": 3600},
                )
            elif self.path == "/lineitems/1/lineitem/scores":
                self._json(200, {})
            else:
                self._json(404, {})

    return Handler


@pytest.fixture
def lms() -> Iterator[SimulatedPlatform]:
    box: list[SimulatedPlatform] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    box.append(
        SimulatedPlatform(
            key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            kid=uuid.uuid4().hex,
            base_url=f"http://127.0.0.1:{server.server_address[1]}",
        )
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
