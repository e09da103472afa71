"""Who may see a school's recognition page, and what it lists (one rule, used by the page,
its share image and the leaders' weekly digest).

A badge is celebrated when its owner made it public (the backpack's setting, ``Badge.is_public``,
not revoked) *and* opted in to being seen (a public backpack profile, or a directory listing):
``Badge.is_public`` is on by default, so the per-badge setting alone is no opt-in. Its owner is
a current member of the school (a ``SchoolMembership`` of a current membership). Badges from every
organization count (a district's teacher may earn an association's badge), read through the
named bypass the directory uses (``PUBLIC_BADGES``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from credentials_site.tenancy import cross_organization
from programs.models import Membership, Organization, School, User

from ..directory.selectors import PUBLIC_BADGES, current_members, viewer_belongs
from ..models import BackpackProfile, Badge, DirectoryProfile

PAGE_SIZE = 30


def school_get_for_recognition(
    *, organization: Organization, user: User | AnonymousUser, pk: int
) -> School:
    """A school of the organization whose recognition page ``user`` may open (its members and
    staff, the school's leaders among them); 404 for anyone else and for another organization's
    school (it is not public: it ties people to their workplace, which they did not publish)."""
    if not viewer_belongs(organization=organization, user=user):
        raise Http404("No such school.")
    school = School.objects.filter(organization=organization, pk=pk).first()
    if school is None:
        raise Http404("No such school.")
    return school


def school_staff_ids(*, schools: list[School]) -> list[int]:
    """The accounts of the schools' current members (one query)."""
    if not schools:
        return []
    organization = schools[0].organization
    return list(
        Membership.objects.filter(
            current_members(organization=organization), school_links__school__in=schools
        )
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )


def celebrated_badges(
    *, user_ids: list[int], issued_since: dt.datetime | None = None
) -> QuerySet[Badge]:
    """The badges of these people that are celebrated (see the module), newest first. Evaluate
    inside ``cross_organization(PUBLIC_BADGES)``."""
    opted_in = Exists(
        BackpackProfile.objects.filter(user_id=OuterRef("recipient_id"), is_public=True)
    ) | Exists(
        DirectoryProfile.objects.filter(user_id=OuterRef("recipient_id")).exclude(
            visibility=DirectoryProfile.Visibility.HIDDEN
        )
    )
    badges = Badge.objects.filter(
        opted_in, recipient_id__in=user_ids, is_public=True, revoked_at__isnull=True
    )
    if issued_since is not None:
        badges = badges.filter(issued_at__gte=issued_since)
    return (
        badges.select_related("organization", "recipient", "version__credential", "pathway")
        .defer("credential", "organization__description")
        .order_by("-issued_at", "-pk")
    )


def recognition_page(*, school: School, page: int = 1) -> tuple[list[Badge], bool, int]:
    """One page of the school's celebrated badges, whether there is a next, and how many in
    all. Three queries whatever the number of badges."""
    staff = school_staff_ids(schools=[school])
    start = (max(page, 1) - 1) * PAGE_SIZE
    with cross_organization(PUBLIC_BADGES):
        badges = celebrated_badges(user_ids=staff)
        total = badges.count() if staff else 0
        rows = list(badges[start : start + PAGE_SIZE + 1]) if staff else []
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE, total


def celebrated_in_period(
    *, schools: list[School], since: dt.datetime, until: dt.datetime
) -> list[Badge]:
    """The celebrated badges of the schools' staff issued in [since, until) (the digest)."""
    staff = school_staff_ids(schools=schools)
    if not staff:
        return []
    with cross_organization(PUBLIC_BADGES):
        return list(
            celebrated_badges(user_ids=staff, issued_since=since).filter(issued_at__lt=until)
        )
