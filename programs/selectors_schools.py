"""Reads of school goals, their recommended sets and assignments (docs/decisions/0030).

A goal's set may hold another organization's credential (the cross-issuer catalog), which
row-level security hides from a code path in the school's organization. These reads therefore
run in two named bypasses, each filtered explicitly: the school's own rows by its organization,
and other organizations' credentials by ``credential_allowed`` (public and published only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Case, F, Prefetch, Q, Value, When
from django.http import Http404

from credentials_site.tenancy import cross_organization

from .models import (
    Credential,
    Organization,
    School,
    StaffRole,
    User,
)
from .models_schools import GoalRecommendation, SchoolAssignment, SchoolGoal
from .selectors import STAFF_ROLES_BY_USER

# a school's goals may recommend any organization's public, published credential
SCHOOL_CATALOG = "public credentials of every organization, for a school's goals"
# an educator's own schools' recommendations and assignments, wherever their organizations
MY_SCHOOLS = "an educator's own school recommendations and assignments, from every organization"

SEARCH_LIMIT = 20


def credential_allowed(*, organization_id: int | F, prefix: str = "") -> Q:
    """The credentials a school of ``organization_id`` may recommend or assign: its own
    organization's published ones, and published ones of any active organization that publishes
    its catalog. Never a draft, a retired credential or a private catalog's. ``prefix``: the path
    to the credential from the model queried (``"credential__"``)."""
    return Q(**{f"{prefix}status": Credential.Status.PUBLISHED}) & (
        Q(**{f"{prefix}organization_id": organization_id})
        | Q(
            **{
                f"{prefix}organization__is_active": True,
                f"{prefix}organization__publishes_catalog": True,
            }
        )
    )


def _credentials(organization_id: int) -> Any:
    return Prefetch(
        "recommendations",
        queryset=GoalRecommendation.objects.filter(
            credential__in=Credential.objects.filter(
                credential_allowed(organization_id=organization_id)
            )
        ).select_related("credential__organization", "credential__current_version"),
    )


def school_goal_list(*, school: School) -> list[SchoolGoal]:
    """The school's goals in order, each with its recommended set (still allowed credentials
    only, with organization and title): two queries."""
    with cross_organization(SCHOOL_CATALOG):
        return list(
            SchoolGoal.objects.filter(organization_id=school.organization_id, school=school)
            .prefetch_related(_credentials(school.organization_id))
            .order_by("position", "pk")
        )


def school_goal_get(*, school: School, pk: int) -> SchoolGoal:
    """One goal of the school, or 404."""
    goal = SchoolGoal.objects.filter(
        organization_id=school.organization_id, school=school, pk=pk
    ).first()
    if goal is None:
        raise Http404("No such goal.")
    return goal


def credential_get_allowed(*, organization_id: int, pk: int) -> Credential | None:
    """A credential a school of ``organization_id`` may recommend or assign, or None."""
    with cross_organization(SCHOOL_CATALOG):
        return (
            Credential.objects.filter(credential_allowed(organization_id=organization_id), pk=pk)
            .select_related("organization", "current_version")
            .first()
        )


def school_catalog_search(*, school: School, q: str) -> list[Credential]:
    """The picker: credentials whose title or organization matches ``q``, the school's own
    organization's first; other organizations' only when public and published."""
    q = q.strip()[:200]
    if not q:
        return []
    with cross_organization(SCHOOL_CATALOG):
        return list(
            Credential.objects.filter(credential_allowed(organization_id=school.organization_id))
            .filter(
                Q(current_version__title__icontains=q)
                | Q(organization__name__icontains=q)
                | Q(organization__short_name__iexact=q)
            )
            .select_related("organization", "current_version")
            .alias(
                elsewhere=Case(
                    When(organization_id=school.organization_id, then=Value(0)), default=Value(1)
                )
            )
            .order_by(
                "elsewhere",
                "organization__name",
                "current_version__title",
            )[:SEARCH_LIMIT]
        )


# --- What an educator sees -----------------------------------------------------------------------


@dataclass(frozen=True)
class Recommended:
    school: School
    goal: SchoolGoal
    credential: Credential


def recommendations_for_user(
    *, user: User | AnonymousUser, organization: Organization | None = None
) -> list[Recommended]:
    """What the schools the user is on the staff of recommend, by school and goal; with
    ``organization``, only that organization's credentials (its catalog page). One query for
    someone on no school's staff, two otherwise (the credentials' titles read only then)."""
    if not user.is_authenticated:
        return []
    with cross_organization(MY_SCHOOLS):
        rows = GoalRecommendation.objects.filter(
            credential_allowed(organization_id=F("organization_id"), prefix="credential__"),
            goal__school__links__membership__user=user,
        )
        if organization is not None:
            rows = rows.filter(credential__organization=organization)
        picked = list(
            rows.select_related("goal__school").order_by(
                "goal__school__name", "goal__position", "goal_id", "position", "pk"
            )
        )
        if not picked:
            return []
        credentials = Credential.objects.select_related("organization", "current_version").in_bulk(
            {r.credential_id for r in picked}
        )
    return [
        Recommended(school=r.goal.school, goal=r.goal, credential=credentials[r.credential_id])
        for r in picked
    ]


def assignment_list_for_user(*, user: User | AnonymousUser) -> list[SchoolAssignment]:
    """The user's school assignments in every organization, newest first (one query)."""
    if not user.is_authenticated:
        return []
    with cross_organization(MY_SCHOOLS):
        return list(
            SchoolAssignment.objects.filter(membership__user=user)
            .select_related(
                "school",
                "goal",
                "assigned_by",
                "credential__organization",
                "credential__current_version",
            )
            .order_by("-created_at", "-pk")
        )


def assignment_get_for_user(
    *, organization: Organization, user: User | AnonymousUser, public_id: str
) -> SchoolAssignment:
    """One of the user's own assignments in this organization, or 404."""
    assignment = (
        SchoolAssignment.objects.filter(
            organization=organization, membership__user_id=user.pk, public_id=public_id
        )
        .select_related("school")
        .first()
        if user.is_authenticated
        else None
    )
    if assignment is None:
        raise Http404("No such assignment.")
    return assignment


def schools_led_anywhere(*, user: User | AnonymousUser) -> list[School]:
    """The schools the user leads, in every organization, with their organization (one query):
    the links on My learning. The user's own roles, hence the named bypass."""
    if not user.is_authenticated:
        return []
    with cross_organization(STAFF_ROLES_BY_USER):
        return list(
            School.objects.filter(
                leaders__user=user,
                leaders__role=StaffRole.Role.SCHOOL_LEADER,
                leaders__organization_id=F("organization_id"),
                organization__is_active=True,
            )
            .select_related("organization")
            .distinct()
            .order_by("organization__name", "name")
        )
