"""Organizations' Ed25519 signing keys, encrypted at rest with secrets from the environment
(``BADGE_KEY_SECRETS``: the first encrypts, every one decrypts, so the secret can be rotated)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.conf import settings

from . import dataintegrity


def _fernet() -> MultiFernet:
    keys = [
        Fernet(
            base64.urlsafe_b64encode(hashlib.sha256(b"tessera-badge-keys:" + s.encode()).digest())
        )
        for s in settings.BADGE_KEY_SECRETS
    ]
    return MultiFernet(keys)


def encrypt_private_key(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return _fernet().encrypt(raw).decode()


def decrypt_private_key(token: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_fernet().decrypt(token.encode()))


def new_key() -> tuple[Ed25519PrivateKey, str, str]:
    """A fresh key: (private key, its public Multikey value, the encrypted private half)."""
    private = Ed25519PrivateKey.generate()
    return (
        private,
        dataintegrity.public_key_multibase(private.public_key()),
        encrypt_private_key(private),
    )
