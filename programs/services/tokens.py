"""Organization API tokens: made and revoked by an owner, shown once, stored as a SHA-256.

A token is ``tsr_`` and 43 URL-safe characters (256 random bits): hashing it without a salt is
enough, since nobody can guess a preimage, and it lets the look-up be one indexed equality.
``organization_token_authenticate`` is what the API's authentication class asks; it records the
last use at most once a minute (``LAST_USED_EVERY``), so a busy sync does not write per request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from credentials_site.exceptions import ApplicationError
from credentials_site.tenancy import cross_organization

from .. import selectors
from ..errors import ProgramErrorCode
from ..models import Organization, OrganizationToken, User
from .audit import audit_record

LAST_USED_EVERY = dt.timedelta(minutes=1)
TOKEN_BY_HASH = "an organization's API token, found by its hash"  # noqa: S105 - a reason
OWNER_ONLY_TOKENS = gettext_noop(
    "Only an owner of the organization can make or revoke its API tokens."
)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made, with its secret: the only time the secret exists outside the
    caller's system."""

    token: OrganizationToken
    secret: str


def organization_token_refusal(*, actor: User | None, organization_id: int) -> str | None:
    """Why ``actor`` may not make or revoke the organization's tokens (None: they may).
    Owners only (and platform operators, and the platform itself, ``actor=None``)."""
    if actor is None or organization_id in selectors.organization_ids_owned_by(user=actor):
        return None
    return gettext(OWNER_ONLY_TOKENS)


def _refuse_unless_owner(actor: User | None, organization_id: int) -> None:
    refusal = organization_token_refusal(actor=actor, organization_id=organization_id)
    if refusal is not None:
        raise ApplicationError(refusal, code=ProgramErrorCode.NOT_ALLOWED)


@transaction.atomic
def organization_token_create(
    *, organization: Organization, name: str, scopes: Iterable[str], actor: User | None
) -> NewToken:
    _refuse_unless_owner(actor, organization.pk)
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in OrganizationToken.Scope.values]
    if not scopes or unknown:
        message = (
            gettext("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}
            if unknown
            else gettext("Give the token a scope.")
        )
        raise ApplicationError(message, code=ProgramErrorCode.INVALID, fields={"scopes": [message]})
    if not name.strip():
        message = gettext("Name the token after what uses it.")
        raise ApplicationError(message, code=ProgramErrorCode.INVALID, fields={"name": [message]})
    secret = OrganizationToken.PREFIX + secrets.token_urlsafe(32)
    token = OrganizationToken.objects.create(
        organization=organization,
        name=name.strip()[:100],
        scopes=scopes,
        key_prefix=secret[:12],
        key_hash=token_hash(secret),
        created_by=actor,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="organization_token.created",
        obj=token,
        summary=f"API token “{token.name}” ({token.key_prefix}…) made: {', '.join(scopes)}",
        data={"scopes": scopes, "prefix": token.key_prefix},
    )
    return NewToken(token=token, secret=secret)


@transaction.atomic
def organization_token_revoke(*, token: OrganizationToken, actor: User | None) -> OrganizationToken:
    """Revoke a token: from now on it answers 401. Revoking twice changes nothing."""
    token = OrganizationToken.objects.select_for_update().get(pk=token.pk)
    _refuse_unless_owner(actor, token.organization_id)
    if token.revoked_at is not None:
        return token
    token.revoked_at, token.revoked_by = timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
    audit_record(
        organization=token.organization,
        actor=actor,
        action="organization_token.revoked",
        obj=token,
        summary=f"API token “{token.name}” ({token.key_prefix}…) revoked",
        data={"prefix": token.key_prefix},
    )
    return token


def organization_token_authenticate(*, secret: str) -> OrganizationToken | None:
    """The active token of this secret, whichever organization it belongs to (the caller
    compares that with the URL's: another organization's token answers 404, as any other
    organization's object does), or None for a secret that is no token or a revoked one."""
    if not secret.startswith(OrganizationToken.PREFIX) or len(secret) > 200:
        return None
    with cross_organization(TOKEN_BY_HASH):
        token = (
            OrganizationToken.objects.select_related("organization")
            .filter(key_hash=token_hash(secret), revoked_at__isnull=True)
            .first()
        )
    return token


def organization_token_touch(*, token: OrganizationToken, now: dt.datetime | None = None) -> bool:
    """Record that the token was used, at most once a minute: whether it wrote. Run in the
    token's organization's scope (the request's, once it matched)."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return False
    written = (
        OrganizationToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY))
        .update(last_used_at=now)
    )
    token.last_used_at = now
    return bool(written)
