"""Who the directory shows to whom (one rule), and its search.

The rule (``directory_audience``): in the directory of an organization, a signed-in person who
belongs to it — a current member, or one of its staff — sees the profiles listed for "members of
my organizations" and the public ones; anyone else (signed out, or from another organization)
sees only the public ones. Only current members of the organization are ever listed, and only
people who opted in (``DirectoryProfile``; without one, or "not listed", nobody sees them).

The search reads ``DirectoryEntry`` (a GIN-indexed tsvector, no row-level security: decision
0032) and reaches people through their memberships, under the organization's policy, checking
the audience and the membership on the real rows. A page is one statement for the people plus
one for their public badges, whatever their number; pages are ``?page=N`` without a count (one
row more than a page says whether there is a next).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.functions import MD5, Concat, Left, Lower, Trim
from django.utils import timezone

from credentials_site.tenancy import cross_organization
from programs.models import (
    Category,
    Credential,
    FocusArea,
    Membership,
    Organization,
    School,
    StaffRole,
    User,
)

from ..models import Badge, DirectoryEntry, DirectoryProfile
from .index import CONFIG

PAGE_SIZE = 20
Visibility = DirectoryProfile.Visibility
PUBLIC_BADGES = "an educator's public badges, for the directory and the recognition pages"


def viewer_belongs(*, organization: Organization, user: User | AnonymousUser) -> bool:
    """Whether ``user`` belongs to the organization: a current member or one of its staff."""
    if not user.is_authenticated:
        return False
    today = timezone.localdate()
    member = Membership.objects.filter(
        Q(member_until__isnull=True) | Q(member_until__gte=today),
        organization=organization,
        user=user,
        status=Membership.Status.ACTIVE,
    )
    staff = StaffRole.objects.filter(organization=organization, user=user)
    return member.exists() or staff.exists()


def directory_audience(*, organization: Organization, user: User | AnonymousUser) -> list[str]:
    """The profile visibilities ``user`` may see in the organization's directory."""
    if viewer_belongs(organization=organization, user=user):
        return [Visibility.MEMBERS, Visibility.PUBLIC]
    return [Visibility.PUBLIC]


def current_members(*, organization: Organization, today: dt.date | None = None) -> Q:
    """The memberships that are current on ``today`` (the directory lists only those)."""
    today = today or timezone.localdate()
    return Q(organization=organization, status=Membership.Status.ACTIVE) & (
        Q(member_until__isnull=True) | Q(member_until__gte=today)
    )


@dataclass(frozen=True)
class DirectoryFilters:
    """What a search asks for; ids are checked against the organization's own rows by the
    view (``filter_choices``), so a search never names another organization's row."""

    q: str = ""
    credential: int | None = None
    category: int | None = None
    focus_area: int | None = None
    school: int | None = None
    district: str = ""

    @property
    def facets(self) -> list[str]:
        found = []
        if self.credential:
            found.append(f"cred:{self.credential}")
        if self.category:
            found.append(f"cat:{self.category}")
        if self.focus_area:
            found.append(f"fa:{self.focus_area}")
        if self.school:
            found.append(f"school:{self.school}")
        return found


class _LiteralQuery(SearchQuery):
    """A tsquery written as its text (exact lexemes: the facets), cast, not parsed."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, *args: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::tsquery", list(params)


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _district_lexeme(district: str) -> Any:
    """The district's facet lexeme, by the index's own expression (``index.district_lexeme_sql``:
    'district:' and the first 12 hex digits of md5 of the lower-cased, trimmed words)."""
    return Concat(Value("district:"), Left(MD5(Lower(Trim(Value(district)))), 12))


def directory_search(
    *,
    organization: Organization,
    audience: list[str],
    filters: DirectoryFilters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Membership], bool]:
    """One page of the organization's listed members whom ``audience`` may see, matching
    ``filters``: best matches first for a text search, else by name; and whether there is a
    next page. Each membership carries ``user`` and ``user.directory_profile``; their public
    badges come from ``directory_badges``. Two queries.

    The page is chosen in the index alone (its GIN answers the organization, the audience, the
    facets and the words, ranked there), then its people are read under the organization's
    policy and checked again on the real rows: a current member, a profile the audience may
    see. An entry not yet refreshed after a change (``index``) is left out, not shown."""
    visible = " | ".join(_quoted(f"vis:{v}") for v in audience)
    lexemes = [_quoted(f"org:{organization.pk}"), f"( {visible} )"]
    lexemes += [_quoted(facet) for facet in filters.facets]
    query: Any = _LiteralQuery(Value(" & ".join(lexemes)))
    if filters.district:
        district = Func(_district_lexeme(filters.district), function="quote_literal")
        query = query & _LiteralQuery(district)
    text = SearchQuery(filters.q, search_type="websearch", config=CONFIG) if filters.q else None
    entries = DirectoryEntry.objects.filter(document=query & text if text else query)
    if text is not None:
        entries = entries.annotate(rank=SearchRank(F("document"), text)).order_by(
            "-rank", "sort_name", "membership_id"
        )
    else:
        entries = entries.order_by("sort_name", "membership_id")
    start = (max(page, 1) - 1) * page_size
    ids = list(entries.values_list("membership_id", flat=True)[start : start + page_size + 1])
    found = {
        m.pk: m
        for m in Membership.objects.filter(
            current_members(organization=organization),
            pk__in=ids[:page_size],
            user__directory_profile__visibility__in=audience,
        )
        .select_related("user", "user__directory_profile")
        .only(
            "id",
            "organization_id",
            "school",
            "district",
            "user__id",
            "user__full_name",
            "user__directory_profile__visibility",
            "user__directory_profile__headline",
            "user__directory_profile__user_id",
        )
    }
    return [found[pk] for pk in ids[:page_size] if pk in found], len(ids) > page_size


@dataclass
class DirectoryBadges:
    """The public badges of the people on a page, by user id."""

    by_user: dict[int, list[Badge]] = field(default_factory=dict)

    def of(self, user_id: int) -> list[Badge]:
        return self.by_user.get(user_id, [])


def public_badges(user_ids: list[int]) -> QuerySet[Badge]:
    """The badges of these people that they show publicly (the backpack's rule: public, not
    revoked), from every organization, newest first. Evaluate inside ``cross_organization``."""
    return (
        Badge.objects.filter(recipient_id__in=user_ids, is_public=True, revoked_at__isnull=True)
        .select_related("organization")
        .only(
            "id",
            "public_id",
            "name",
            "issued_at",
            "recipient_id",
            "organization__id",
            "organization__name",
            "organization__slug",
            "organization__short_name",
        )
        .order_by("-issued_at", "pk")
    )


def directory_badges(*, members: list[Membership]) -> DirectoryBadges:
    """The public badges of the listed people on a page (one query)."""
    found = DirectoryBadges()
    if not members:
        return found
    with cross_organization(PUBLIC_BADGES):
        for badge in public_badges([m.user_id for m in members]):
            found.by_user.setdefault(badge.recipient_id, []).append(badge)
    return found


@dataclass
class FilterChoices:
    credentials: list[Credential]
    categories: list[Category]
    focus_areas: list[FocusArea]
    schools: list[School]
    districts: list[str]


def filter_choices(*, organization: Organization) -> FilterChoices:
    """The organization's own credentials, categories, focus areas, schools and districts: what
    the directory's filters offer, and all they accept."""
    schools = list(School.objects.filter(organization=organization).order_by("name", "district"))
    return FilterChoices(
        credentials=list(
            Credential.objects.filter(organization=organization, current_version__isnull=False)
            .select_related("current_version")
            .only("id", "slug", "current_version__title")
            .order_by("current_version__title")
        ),
        categories=list(Category.objects.filter(organization=organization).order_by("name")),
        focus_areas=list(FocusArea.objects.filter(organization=organization)),
        schools=schools,
        districts=sorted({s.district for s in schools if s.district.strip()}, key=str.lower),
    )


def profile_get_for_user(*, user: User) -> DirectoryProfile | None:
    return DirectoryProfile.objects.filter(user=user).first()
