"""Who may open an organization's program insight: its owners, program admins and analysts
(``StaffRole.INSIGHT_ROLES``; a platform superuser too). Anyone else, in this organization or
another, gets 404: the dashboard does not reveal that it exists.

Analysts read and change nothing: every service and the admin check ``StaffRole.ADMIN_ROLES``
(owner, program admin), which an analyst does not hold."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from programs.models import Organization, StaffRole, User


def insight_allowed(*, organization: Organization, user: User | AnonymousUser) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return StaffRole.objects.filter(
        organization=organization, user=user, role__in=StaffRole.INSIGHT_ROLES
    ).exists()


def access_insights_by_organization(
    *, organization: Organization, user: User | AnonymousUser
) -> None:
    """404 unless the user may read this organization's insight."""
    if not insight_allowed(organization=organization, user=user):
        raise Http404("No such page.")
