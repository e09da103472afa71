"""Start the test identity provider (see __init__) in its own process, for a test session."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "tessera-test-client"
CLIENT_SECRET = "tessera-test-client-secret-" + "s" * 20


@dataclass
class IdentityProvider:
    url: str
    state: Path
    saml_cert: str  # PEM, for the service provider's configuration
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    @property
    def oidc_issuer(self) -> str:
        return f"{self.url}/o"

    @property
    def saml_entity_id(self) -> str:
        return f"{self.url}/saml/metadata/"

    @property
    def saml_sso_url(self) -> str:
        return f"{self.url}/saml/sso/"

    def set_people(self, people: dict[str, dict[str, Any]]) -> None:
        """Who exists at the provider, and what it says about them."""
        (self.state / "people.json").write_text(json.dumps(people))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _keys(state: Path) -> str:
    """An RS256 key for ID tokens, and a SAML signing key with its self-signed certificate."""
    (state / "oidc-rs256.pem").write_bytes(
        _pem_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test identity provider")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (state / "saml-key.pem").write_bytes(_pem_key(key))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    (state / "saml-cert.pem").write_text(pem)
    return pem


def _environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.sso_idp.settings",
        IDP_STATE_DIR=str(state),
        IDP_USERS_FILE=str(state / "people.json"),
        PYTHONPATH=str(ROOT),
    )
    return env


REGISTER = """
from oauth2_provider.models import Application
Application.objects.update_or_create(client_id={client_id!r}, defaults=dict(
    name="Tessera (tests)", client_secret={client_secret!r}, client_type="confidential",
    authorization_grant_type="authorization-code", redirect_uris={redirect_uris!r},
    algorithm="RS256", skip_authorization=True))
"""


@contextmanager
def identity_provider_running(
    state: Path, *, redirect_uris: list[str]
) -> Iterator[IdentityProvider]:
    """Migrate, register the service provider's redirect URIs as an OIDC client, serve, and
    stop at the end."""
    state.mkdir(parents=True, exist_ok=True)
    saml_cert = _keys(state)
    (state / "people.json").write_text("{}")
    env = _environment(state)
    django = [sys.executable, "-m", "django"]
    subprocess.run([*django, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    register = REGISTER.format(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=" ".join(redirect_uris)
    )
    subprocess.run([*django, "shell", "-c", register], cwd=ROOT, env=env, check=True)
    port = _free_port()
    log = (state / "server.log").open("w")
    server = subprocess.Popen(
        [*django, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "The test identity provider did not start: "
                        + (state / "server.log").read_text()
                    ) from None
                time.sleep(0.1)
        yield IdentityProvider(url=f"http://127.0.0.1:{port}", state=state, saml_cert=saml_cert)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
