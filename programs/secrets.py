"""Secrets stored encrypted at rest (an identity provider's client secret).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with the keys of
``settings.FIELD_ENCRYPTION_KEYS`` (environment ``FIELD_ENCRYPTION_KEYS``, comma-separated
Fernet keys, the first encrypts, every one decrypts: add a new key in front to rotate). When it
is unset the one key is derived from ``SECRET_KEY`` (HKDF-SHA256), so changing ``SECRET_KEY``
then makes the stored secrets unreadable: the admin asks for them again.
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


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tessera field encryption")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    material = [k.encode() for k in keys] or [_derived_key(secret_key)]
    return MultiFernet([Fernet(k) for k in material])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


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
