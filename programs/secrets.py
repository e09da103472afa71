"""Secrets stored encrypted at rest (an identity provider's client secret).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``), as the badge signing keys are, with
one Fernet key derived (HKDF-SHA256) from each of ``settings.SSO_SECRET_KEYS`` (environment
``SSO_SECRET_KEYS``, comma-separated secrets of 32+ characters): the first encrypts, every one
decrypts, so a new secret is put in front to rotate. Unset, the one secret is ``SECRET_KEY``;
changing it then makes the stored client secrets unreadable, which the admin says (enter them
again).
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret that none of the keys decrypts (the keys changed)."""


def _derived_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tessera-sso-secrets")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


@cache
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_derived_key(secret)) for secret in secrets])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SSO_SECRET_KEYS or [settings.SECRET_KEY]))


def secret_encrypt(value: str) -> str:
    return _current().encrypt(value.encode()).decode()


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "This secret was stored under another key: enter it again in the admin."
        ) from None
