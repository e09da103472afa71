"""Each organization's Ed25519 signing keys (created on first use, rotated from the admin) and
signing a document with the active one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from credentials_site import public_cache
from programs import services as program_services
from programs.models import Organization, User

from .. import clr, dataintegrity, documents, keys
from ..models import (
    PlatformSigningKey,
    SigningKey,
    StatusList,
)
from ._urls import status_list_url


def _create_key(organization: Organization) -> SigningKey:
    """A new active key; the organization's DID document changes (public pages, on commit)."""
    _, multibase, encrypted = keys.new_key()
    public_cache.changed(organizations=[organization.slug])
    return SigningKey.objects.create(
        organization=organization,
        key_id=multibase,
        public_key_multibase=multibase,
        private_key_encrypted=encrypted,
        is_active=True,
    )


def signing_key_active(*, organization: Organization) -> SigningKey:
    """The organization's current key, created on first use (concurrency-safe: the partial
    unique constraint lets only one active key exist)."""
    key = SigningKey.objects.filter(organization=organization, is_active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _create_key(organization)
    except IntegrityError:
        return SigningKey.objects.get(organization=organization, is_active=True)


# Signing key rows by primary key. What signs never changes on a row (a rotation makes a new
# row), so a worker reads a key once; which key is active is still read for every badge (an
# annotation of the issuing statement), so a rotation is seen on the next one.
_KEYS: dict[int, SigningKey] = {}
_KEYS_MAX = 64


def _signing_key(organization: Organization, active_pk: int | None) -> SigningKey:
    """The active key whose primary key the issuing statement read (``None``: there is none
    yet, so it is created)."""
    if active_pk is None:
        return signing_key_active(organization=organization)
    key = _KEYS.get(active_pk)
    if key is None or key.organization_id != organization.pk:
        key = SigningKey.objects.get(pk=active_pk, organization=organization)
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        _KEYS[active_pk] = key
    return key


@transaction.atomic
def signing_key_rotate(*, organization: Organization, actor: User | None) -> SigningKey:
    """Retire the active key (it stays published, so its badges keep verifying) and make a
    new one; the status lists are re-signed with it. (A key that may have leaked is marked
    compromised instead: ``signing_key_compromise``.)"""
    now = timezone.now()
    list(SigningKey.objects.select_for_update().filter(organization=organization, is_active=True))
    # read again after the lock: a marking that committed meanwhile may have made a new key
    active = SigningKey.objects.filter(organization=organization, is_active=True)
    old = list(active)
    active.update(is_active=False, retired_at=now)
    key = _create_key(organization)
    program_services.audit_record(
        organization=organization,
        actor=actor,
        action="signing_key.rotated",
        obj=key,
        summary=f"Signing key rotated; new key {key.key_id[:16]}…",
        data={"retired": [k.key_id for k in old]},
    )
    lists = StatusList.objects.select_for_update(of=("self",)).select_related("organization")
    for status_list in lists.filter(organization=organization).order_by("pk"):
        _status_list_sign(status_list, key=key)
    return key


def signing_key_list(*, organization: Organization) -> QuerySet[SigningKey]:
    return SigningKey.objects.filter(organization=organization).order_by(
        "-is_active", "-created_at"
    )


# Decrypted private keys, per signing key row and its stored ciphertext: decrypting (Fernet,
# with a key derived from each of ``BADGE_KEY_SECRETS``) for every badge is wasted work. Only the
# private half is kept: which key is active is still read for every badge, so a rotation (a
# new row, the old one inactive) is seen on the next one.
_PRIVATE_KEYS: dict[tuple[int, str], Any] = {}
_PRIVATE_KEYS_MAX = 64


def _private_key(key: SigningKey) -> Any:
    cache_key = (key.pk, key.private_key_encrypted)
    private = _PRIVATE_KEYS.get(cache_key)
    if private is None:
        private = keys.decrypt_private_key(key.private_key_encrypted)
        if key.pk is not None:
            if len(_PRIVATE_KEYS) >= _PRIVATE_KEYS_MAX:
                _PRIVATE_KEYS.clear()
            _PRIVATE_KEYS[cache_key] = private
    return private


def _sign(
    document: dict[str, Any],
    *,
    organization: Organization,
    key: SigningKey,
    timing: dataintegrity.Timing | None = None,
    created: dt.datetime | None = None,
    canonicalize: Any = None,
) -> dict[str, Any]:
    """``created``: the proof's time (default: now; a batch gives all its proofs one, so the
    proof options are canonicalized once for it: ``dataintegrity``). ``canonicalize``: see
    ``dataintegrity.sign``."""
    return dataintegrity.sign(
        document,
        private_key=_private_key(key),
        verification_method=documents.verification_method_id(organization, key.key_id),
        created=documents.iso(created or timezone.now()),
        timing=timing,
        canonicalize=canonicalize,
    )


def platform_key_active() -> PlatformSigningKey:
    """Tessera's own current key (``PlatformSigningKey``), created on first use
    (concurrency-safe: the partial unique constraint lets only one active key exist)."""
    key = PlatformSigningKey.objects.filter(is_active=True).first()
    if key is not None:
        return key
    _, multibase, encrypted = keys.new_key()
    try:
        with transaction.atomic():
            return PlatformSigningKey.objects.create(
                key_id=multibase,
                public_key_multibase=multibase,
                private_key_encrypted=encrypted,
                is_active=True,
            )
    except IntegrityError:
        return PlatformSigningKey.objects.get(is_active=True)


def platform_keys_public() -> list[tuple[str, str]]:
    """``(key_id, publicKeyMultibase)`` of every platform key, the active one first (the
    platform's DID document), creating the first one when there is none yet."""
    found = list(
        PlatformSigningKey.objects.order_by("-is_active", "-created_at").values_list(
            "key_id", "public_key_multibase"
        )
    )
    if found:
        return found
    key = platform_key_active()
    return [(key.key_id, key.public_key_multibase)]


def platform_sign(document: dict[str, Any], *, created: dt.datetime) -> dict[str, Any]:
    """Sign ``document`` with Tessera's own active key (what the platform issues itself: an
    educator's Comprehensive Learner Record)."""
    key = platform_key_active()
    return dataintegrity.sign(
        document,
        private_key=keys.decrypt_private_key(key.private_key_encrypted),
        verification_method=clr.platform_verification_method(key.key_id),
        created=documents.iso(created),
    )


def status_list_validity() -> dt.timedelta:
    """How long a signed status list is valid (``BADGE_STATUS_LIST_VALID_DAYS``)."""
    return dt.timedelta(days=settings.BADGE_STATUS_LIST_VALID_DAYS)


def _status_list_sign(status_list: StatusList, *, key: SigningKey | None = None) -> None:
    """Sign the list as it is now with ``key`` (default: the active key), valid from now for
    ``status_list_validity()``, and save it. The caller holds the row's lock."""
    organization = status_list.organization
    key = key or signing_key_active(organization=organization)
    now = timezone.now().replace(microsecond=0)  # as the document says it
    valid_until = now + status_list_validity()
    document = documents.status_list_credential(
        organization=organization,
        url=status_list_url(status_list),
        bits=bytes(status_list.bits),
        valid_from=now,
        valid_until=valid_until,
        ttl_seconds=min(
            settings.BADGE_STATUS_CACHE_SECONDS, int(status_list_validity().total_seconds())
        ),
    )
    status_list.credential = _sign(document, organization=organization, key=key)
    status_list.signed_at = now
    status_list.valid_until = valid_until
    status_list.signing_key = key
    status_list.save(
        update_fields=["credential", "signed_at", "valid_until", "signing_key", "updated_at"]
    )
    # the list's document and every badge page that checks against it (on commit)
    public_cache.changed(organizations=[organization.slug])
