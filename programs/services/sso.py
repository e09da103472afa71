"""Memberships made at sign-in through an organization's identity provider."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from credentials_site.tenancy import tenant_scope

from ..models import Membership, MembershipSource, SignOnProvider, User
from .members import member_row_clean, member_upsert


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def email_in_domains(email: str, domains: Iterable[str]) -> bool:
    """Whether an address is at one of the domains (exactly: a subdomain is another domain)."""
    return bool(email) and _domain(email) in {d.strip().lower().lstrip("@") for d in domains}


def claim_has_value(claims: dict[str, Any], *, name: str, value: str) -> bool:
    """Whether a claim (OIDC: a string or a list) or attribute (SAML: a list) holds the value."""
    held = claims.get(name)
    if isinstance(held, list | tuple | set):
        return value in {str(v) for v in held}
    return held is not None and str(held) == value


def sign_on_grants_membership(
    *, sign_on: SignOnProvider, verified_emails: Iterable[str], claims: dict[str, Any]
) -> bool:
    """The provider's rule: by a verified address in its membership domains, or by a claim."""
    rule = sign_on.membership_rule
    if rule == SignOnProvider.MembershipRule.DOMAIN:
        return any(email_in_domains(e, sign_on.membership_domains) for e in verified_emails)
    if rule == SignOnProvider.MembershipRule.CLAIM:
        return claim_has_value(
            claims, name=sign_on.membership_claim, value=sign_on.membership_claim_value
        )
    return False


def membership_join_by_sign_on(
    *,
    sign_on: SignOnProvider,
    user: User,
    verified_emails: Iterable[str],
    claims: dict[str, Any],
) -> Membership | None:
    """Make ``user`` a member of the provider's organization when its rule says so and they
    have no membership there yet (a lapsed or cancelled one is the admin's to change, not a
    sign-in's). Returns the new membership, or None."""
    if not sign_on_grants_membership(
        sign_on=sign_on, verified_emails=list(verified_emails), claims=claims
    ):
        return None
    organization = sign_on.organization
    with tenant_scope(organization), transaction.atomic():
        if Membership.objects.filter(organization=organization, user=user).exists():
            return None
        # the one member rule (programs.services.members), as rosters, the API and domains use
        row, _problems = member_row_clean({"email": user.email})
        if row is None:
            return None
        try:
            with transaction.atomic():
                member_upsert(
                    organization=organization, row=row, actor=user, source=MembershipSource.SSO
                )
        except IntegrityError:  # a second sign-in at the same moment made it
            return None
        # audited by the rule: "membership.created", source "sso"
        return Membership.objects.filter(organization=organization, user=user).first()
