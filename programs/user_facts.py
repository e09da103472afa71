"""What every signed-in page reads about its visitor, from the cache: the organizations where
they hold a staff role (the header's review links), the domains of their verified addresses
(joining by e-mail domain) and, per organization, their membership and their latest request to
join. docs/decisions/0024-signed-in-pages.md.

Kept under ``(user, User.facts_revision)``: the database bumps that number in the same
transaction as any change of those rows, whoever writes it (triggers, migration 0022), and the
number is read with the user at the start of the request, before the facts. So an entry written
from data older than a change is only ever found under a revision that change retired: correct
by construction, the TTL only frees memory. One Redis round trip per request (both entries in one
``get_many``), memoized on the user object for the rest of the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from credentials_site.tenancy import cross_organization

from .models import Membership, MembershipRequest, Organization, StaffRole, User
from .models_schools import SchoolMembership
from .selectors import STAFF_ROLES_BY_USER
from .selectors_schools import MY_SCHOOLS
from .services.joining import verified_domains

KEY_PREFIX = "uf2"  # a new one when the entries' shape changes
_MEMO = "_tessera_user_facts"


@dataclass(frozen=True)
class PersonFacts:
    """The active organizations where the person holds staff roles (by name, with the roles),
    and the domains of their verified e-mail addresses (for membership by domain)."""

    organizations: tuple[tuple[Organization, frozenset[str]], ...]
    verified_domains: frozenset[str]
    # on the staff of a school of any organization: their schools' recommendations (which may
    # name any organization's credentials) are read only then (decision 0030)
    on_school_staff: bool = False

    def organizations_with(self, roles: tuple[str, ...] | list[str]) -> list[Organization]:
        return [org for org, held in self.organizations if held.intersection(roles)]


@dataclass(frozen=True)
class OrganizationFacts:
    """The person in one organization (read in its scope)."""

    membership: Membership | None
    join_request: MembershipRequest | None


@dataclass(frozen=True)
class UserFacts:
    person: PersonFacts
    here: OrganizationFacts | None


def _keys(user: User, organization: Organization | None) -> tuple[str, str | None]:
    base = f"{KEY_PREFIX}:{user.pk}:{user.facts_revision}"
    return base, (f"{base}:o{organization.pk}" if organization is not None else None)


def _read_person(user: User) -> PersonFacts:
    with cross_organization(STAFF_ROLES_BY_USER):
        roles: dict[int, set[str]] = {}
        for org_id, role in StaffRole.objects.filter(user=user).values_list(
            "organization_id", "role"
        ):
            roles.setdefault(org_id, set()).add(role)
        organizations = (
            list(Organization.objects.filter(pk__in=roles, is_active=True).order_by("name"))
            if roles
            else []
        )
    with cross_organization(MY_SCHOOLS):
        on_school_staff = SchoolMembership.objects.filter(membership__user=user).exists()
    return PersonFacts(
        organizations=tuple((org, frozenset(roles[org.pk])) for org in organizations),
        verified_domains=frozenset(verified_domains(user=user)),
        on_school_staff=on_school_staff,
    )


def _read_here(user: User, organization: Organization) -> OrganizationFacts:
    """In the organization's scope (the request's)."""
    membership = Membership.objects.filter(organization=organization, user=user).first()
    join_request = (
        MembershipRequest.objects.filter(organization=organization, user=user)
        .order_by("-created_at")
        .first()
    )
    return OrganizationFacts(membership=membership, join_request=join_request)


def user_facts_get(*, user: User, organization: Organization | None = None) -> UserFacts:
    """The person's facts (and, given the request's organization, theirs there): from the
    cache, or read and kept."""
    memo: dict[str, Any] | None = getattr(user, _MEMO, None)
    if memo is None:
        memo = {}
        setattr(user, _MEMO, memo)  # through request.user's lazy wrapper, onto the user
    person_key, here_key = _keys(user, organization)
    wanted = [key for key in (person_key, here_key) if key is not None and key not in memo]
    if wanted:
        found = cache.get_many(wanted)
        fresh: dict[str, Any] = {}
        if person_key in wanted and person_key not in found:
            fresh[person_key] = _read_person(user)
        if here_key in wanted and here_key not in found and organization is not None:
            fresh[here_key] = _read_here(user, organization)
        if fresh:
            cache.set_many(fresh, settings.USER_FACTS_CACHE_SECONDS)
        memo.update(found | fresh)
    return UserFacts(person=memo[person_key], here=memo[here_key] if here_key else None)
