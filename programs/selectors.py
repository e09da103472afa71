"""Read queries of programs: the organizations, the public catalog, roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from credentials_site.tenancy import cross_organization

from .models import (
    SEARCH_CONFIG,
    Audience,
    Category,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    Membership,
    MembershipRequest,
    Organization,
    Pathway,
    QuizChoice,
    QuizQuestion,
    Resource,
    RubricCriterion,
    School,
    StaffRole,
    User,
)

# --- Organizations and roles -------------------------------------------------------------------


def organization_get_public(*, slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug, is_active=True).first()


def organization_list_public() -> list[Organization]:
    """Organizations that publish a catalog, with the number of published credentials."""
    # A public count across organizations, read per organization by the subquery.
    with cross_organization("the public catalogs' credential counts"):
        published = (
            Credential.objects.filter(
                organization=OuterRef("pk"), status=Credential.Status.PUBLISHED
            )
            .order_by()
            .values("organization")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return list(
            Organization.objects.filter(is_active=True, publishes_catalog=True)
            .annotate(published_count=Coalesce(Subquery(published), 0))
            .order_by("name")
        )


# a user's staff roles, in every organization (the admin's scope, the menus)
STAFF_ROLES_BY_USER = "a user's staff roles, looked up by user across organizations"


def organization_ids_administered_by(*, user: User | AnonymousUser) -> list[int]:
    """The organizations whose admin a user may use: all for a superuser, else by role."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return list(Organization.objects.values_list("pk", flat=True))
    with cross_organization(STAFF_ROLES_BY_USER):
        return list(
            StaffRole.objects.filter(
                user=user, role__in=StaffRole.ADMIN_ROLES, organization__is_active=True
            )
            .order_by()  # the model's ordering would make DISTINCT keep one row per role
            .values_list("organization_id", flat=True)
            .distinct()
        )


def organization_slugs(*, ids: list[int]) -> set[str]:
    """The addresses (``/o/<slug>/``) of these organizations."""
    return set(Organization.objects.filter(pk__in=ids).values_list("slug", flat=True))


def organization_ids_owned_by(*, user: User | AnonymousUser) -> list[int]:
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return list(Organization.objects.values_list("pk", flat=True))
    with cross_organization(STAFF_ROLES_BY_USER):
        return list(
            StaffRole.objects.filter(
                user=user, role=StaffRole.Role.OWNER, organization__is_active=True
            ).values_list("organization_id", flat=True)
        )


def user_has_staff_role(*, user: User | AnonymousUser) -> bool:
    """Platform staff, or any staff role (reviewer, program admin, owner …) in any organization:
    such a session times out sooner when idle (programs.security)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    with cross_organization(STAFF_ROLES_BY_USER):
        return StaffRole.objects.filter(user=user).exists()


_REVIEWER_ROLES = (StaffRole.Role.REVIEWER, StaffRole.Role.SENIOR_REVIEWER)


@dataclass(frozen=True)
class Workplace:
    """Where a person's work is, for the page they land on after signing in: the admin
    (``org_slug`` empty), a reviewer's queue (``org_slug`` its organization), or, for an
    educator, None from ``workplace_get``."""

    kind: str  # "admin", "review" or "insights"
    org_slug: str = ""


def workplace_get(*, user: User | AnonymousUser) -> Workplace | None:
    """The admin for a superuser or a program admin or owner anywhere; else the review queue of
    the first organization (by name) where the person reviews; else the program insight of the
    first where they are an analyst; else None (an educator)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Workplace("admin")
    with cross_organization(STAFF_ROLES_BY_USER):
        roles = list(
            StaffRole.objects.filter(user=user, organization__is_active=True)
            .order_by("organization__name")
            .values_list("role", "organization__slug")
        )
    if any(role in StaffRole.ADMIN_ROLES for role, _ in roles):
        return Workplace("admin")
    reviewing = [slug for role, slug in roles if role in _REVIEWER_ROLES]
    if reviewing:
        return Workplace("review", reviewing[0])
    analysing = [slug for role, slug in roles if role == StaffRole.Role.ANALYST]
    return Workplace("insights", analysing[0]) if analysing else None


def membership_get(*, organization: Organization, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is not None:
        membership.organization = organization  # loaded already: describe() reads its name
    return membership


# --- The public catalog ------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogFilters:
    focus_area: str = ""
    category: str = ""
    level: str = ""
    audience: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        return any((self.focus_area, self.category, self.level, self.audience, self.q))


_NOT_ON_A_CARD = (
    "competency",
    "key_method",
    "method_components",
    "learning_objectives",
    "research",
    "search_vector",
)


def credential_list_published(
    *, organization: Organization, filters: CatalogFilters | None = None
) -> QuerySet[Credential]:
    """Published credentials of one organization, with what a catalog card shows, in a fixed
    number of queries; with a search, the best matches first.

    Search reads the published version's stored tsvector through its GIN-indexed copy,
    ``CatalogSearchEntry`` (``websearch`` syntax, English stemming; title, competency and
    summary weighted in that order). The category and audience filters are ``EXISTS`` tests,
    so a credential is one row whatever it matches: the list needs no ``DISTINCT`` and a window
    count over it is the number of credentials (``credentials_site.pagination``).
    """
    filters = filters or CatalogFilters()
    qs = Credential.objects.filter(
        organization=organization, status=Credential.Status.PUBLISHED
    ).select_related(
        "organization",
        "current_version",
        "current_version__focus_area",
        # the card's text in the page's language (programs.content_language)
        "current_version__organization",
    )
    # a card (page or API) shows none of the version's long texts nor its search vector
    qs = qs.defer(*(f"current_version__{name}" for name in _NOT_ON_A_CARD))
    if filters.focus_area:
        qs = qs.filter(current_version__focus_area__slug=filters.focus_area)
    if filters.category:
        qs = qs.filter(
            Exists(
                Category.objects.filter(
                    organization=organization,
                    slug=filters.category,
                    versions=OuterRef("current_version_id"),
                )
            )
        )
    if filters.level:
        qs = qs.filter(current_version__level=filters.level)
    if filters.audience:
        qs = qs.filter(
            Exists(
                Audience.objects.filter(
                    organization=organization,
                    slug=filters.audience,
                    versions=OuterRef("current_version_id"),
                )
            )
        )
    ordering = ["current_version__focus_area__position", "position", "current_version__title"]
    if filters.q:
        query = SearchQuery(filters.q, search_type="websearch", config=SEARCH_CONFIG)
        # the published version's copy (CatalogSearchEntry), whose GIN index PostgreSQL uses
        document = "current_version__catalog_search__document"
        qs = qs.filter(**{document: query}).annotate(rank=SearchRank(F(document), query))
        ordering = ["-rank", *ordering]
    return qs.prefetch_related(
        Prefetch("current_version__categories", queryset=Category.objects.all()),
        Prefetch("current_version__audiences", queryset=Audience.objects.all()),
    ).order_by(*ordering)


def focus_area_list(*, organization: Organization) -> QuerySet[FocusArea]:
    """The organization's focus areas, each with its number of published credentials.

    The count is a sub-query per area over that organization's versions (by the partial index
    ``credentialversion_published``), not a join of every version row that row-level security
    then filters one by one."""
    published = (
        CredentialVersion.objects.filter(
            organization=organization,
            focus_area=OuterRef("pk"),
            state=CredentialVersion.State.PUBLISHED,
            credential__status=Credential.Status.PUBLISHED,
        )
        .order_by()
        .values("focus_area")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        FocusArea.objects.filter(organization=organization)
        .annotate(published_count=Coalesce(Subquery(published), 0))
        .order_by("position", "name")
    )


CATALOG_COUNTS_SECONDS = 24 * 60 * 60


def focus_area_list_for_catalog(*, organization: Organization) -> list[FocusArea]:
    """``focus_area_list`` for the catalog page, its counts kept in the cache under the
    organization's catalog stamp: the latest ``updated_at`` of its credentials, read with the
    areas in one statement (one entry of the index ``credential_catalog_stamp``).

    Counting reads every published version (10,000 rows for 10,000 credentials); the stamp does
    not. A count changes only when a credential is published or retired (a published one cannot
    be deleted: ``published_credential_has_version``), and each of those saves the credential
    with a new ``updated_at`` (a published version is never edited in place,
    docs/decisions/0002); so does creating one. This assumes the web servers' clocks agree
    (NTP), as ``auto_now`` does. Names and order are read each time."""
    latest = (
        Credential.objects.filter(organization=organization)
        .order_by("-updated_at")
        .values("updated_at")[:1]
    )
    areas: list[FocusArea] = list(
        FocusArea.objects.filter(organization=organization)
        .annotate(stamp=Subquery(latest))
        .order_by("position", "name")
    )
    if not areas:
        return areas
    stamp = areas[0].stamp  # type: ignore[attr-defined]
    key = f"catalog-focus-counts:{organization.pk}:{stamp.timestamp() if stamp else 0}"
    counts: dict[int, int] | None = cache.get(key)
    if counts is None:
        counted = focus_area_list(organization=organization)
        # published_count is the selector's annotation, which the type checker cannot see
        counts = dict(counted.values_list("pk", "published_count"))  # type: ignore[misc]
        cache.set(key, counts, CATALOG_COUNTS_SECONDS)
    for area in areas:
        area.published_count = counts.get(area.pk, 0)  # type: ignore[attr-defined]
    return areas


def category_list(*, organization: Organization) -> QuerySet[Category]:
    return Category.objects.filter(organization=organization)


def audience_list(*, organization: Organization) -> QuerySet[Audience]:
    return Audience.objects.filter(organization=organization)


def pathway_list_published(*, organization: Organization) -> QuerySet[Pathway]:
    return Pathway.objects.filter(organization=organization, is_published=True).prefetch_related(
        Prefetch(
            "credentials",
            queryset=Credential.objects.filter(status=Credential.Status.PUBLISHED).select_related(
                "organization", "current_version"
            ),
        )
    )


def pathway_get_published(*, organization: Organization, slug: str) -> Pathway:
    pathway = pathway_list_published(organization=organization).filter(slug=slug).first()
    if pathway is None:
        raise Http404("No such pathway.")
    return pathway


def _version_queryset() -> QuerySet[CredentialVersion]:
    questions: Any = Prefetch("questions", queryset=QuizQuestion.objects.all())
    return CredentialVersion.objects.select_related(
        "organization",
        "credential",
        "credential__organization",
        "credential__program",
        "focus_area",
    ).prefetch_related(
        Prefetch("categories", queryset=Category.objects.all()),
        Prefetch("audiences", queryset=Audience.objects.all()),
        Prefetch("resources", queryset=Resource.objects.all()),
        Prefetch(
            "requirements",
            queryset=EvidenceRequirement.objects.prefetch_related(questions),
        ),
        Prefetch(
            "criteria",
            queryset=RubricCriterion.objects.select_related("requirement").prefetch_related(
                "levels"
            ),
        ),
    )


def credential_version_get_public(
    *,
    organization: Organization,
    credential_slug: str,
    number: int | None = None,
    with_contents: bool = True,
) -> CredentialVersion:
    """The version a visitor may read: the current one, or an earlier published one by number;
    ``with_contents=False``: without its categories, audiences, resources, requirements and
    rubric (a page whose cached fragments hold them: ``credential_version_contents``).

    Drafts and other organizations' credentials answer 404.
    """
    if with_contents:
        qs = _version_queryset()
    else:  # the page's own columns: the organization is the caller's, the search vector unread
        qs = CredentialVersion.objects.select_related(
            "credential", "credential__program", "focus_area"
        ).defer("search_vector")
    qs = qs.filter(organization=organization, credential__slug=credential_slug)
    if number is None:
        qs = qs.filter(
            state=CredentialVersion.State.PUBLISHED,
            credential__status=Credential.Status.PUBLISHED,
        )
    else:
        qs = qs.filter(
            number=number,
            state__in=[CredentialVersion.State.PUBLISHED, CredentialVersion.State.SUPERSEDED],
        )
    version = qs.first()
    if version is None:
        raise Http404("No such credential.")
    if not with_contents:
        version.organization = version.credential.organization = organization
    return version


def credential_version_contents(*, organization: Organization, pk: int) -> CredentialVersion:
    """This version (of this organization) with everything its page shows, for the page's
    fragments when they are not in the cache."""
    return _version_queryset().get(organization=organization, pk=pk)


def credential_version_get_preview(*, organization_ids: list[int], pk: int) -> CredentialVersion:
    """Any version of the given organizations, draft or not, loaded as its public page reads it
    (the admin's preview). Another organization's version answers 404."""
    version = _version_queryset().filter(organization_id__in=organization_ids, pk=pk).first()
    if version is None:
        raise Http404("No such version.")
    return version


def credential_version_with_contents(*, version_ids: list[int]) -> dict[int, CredentialVersion]:
    """Versions with everything a comparison of two versions reads (quiz choices included), in
    a constant number of queries."""
    queryset = _version_queryset().prefetch_related(
        Prefetch("requirements__questions__choices", queryset=QuizChoice.objects.all())
    )
    return {version.pk: version for version in queryset.filter(pk__in=version_ids)}


def credential_version_history(*, credential: Credential) -> QuerySet[CredentialVersion]:
    return CredentialVersion.objects.filter(
        credential=credential,
        state__in=[CredentialVersion.State.PUBLISHED, CredentialVersion.State.SUPERSEDED],
    ).only("pk", "number", "state", "published_at", "credential_id", "organization_id")


def organization_ids_active() -> list[int]:
    return list(Organization.objects.filter(is_active=True).values_list("pk", flat=True))


# --- Members and requests to join ----------------------------------------------------------------


def membership_request_latest(
    *, organization: Organization, user: User | AnonymousUser
) -> MembershipRequest | None:
    """The person's latest request to join, whatever its state (the credential page shows it)."""
    if not user.is_authenticated:
        return None
    return (
        MembershipRequest.objects.filter(organization=organization, user=user)
        .order_by("-created_at")
        .first()
    )


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    """The organization's members with their accounts, by e-mail (the member sync API)."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__email", "pk")
    )


def member_get_by_key(*, organization: Organization, key: str) -> Membership | None:
    """A member by e-mail address (any case) or, for a key without ``@``, member number."""
    members = Membership.objects.filter(organization=organization).select_related("user")
    if "@" in key:
        return members.filter(user__email__iexact=key.strip()).first()
    return members.filter(member_number=key.strip()).order_by("pk").first() if key.strip() else None


# --- Schools (docs/decisions/0029) -------------------------------------------------------------


def school_list_led_by(
    *, organization: Organization, user: User | AnonymousUser
) -> QuerySet[School]:
    """The schools of the organization that ``user`` leads (a school leader's role); none for
    anyone else. A school leader sees these and nothing of the organization's other schools."""
    if not user.is_authenticated:
        return School.objects.none()
    return School.objects.filter(
        organization=organization,
        leaders__user=user,
        leaders__role=StaffRole.Role.SCHOOL_LEADER,
        leaders__organization=organization,
    ).distinct()


def school_get_led_by(*, organization: Organization, user: User | AnonymousUser, pk: int) -> School:
    """One school ``user`` leads, or 404 (another school, of this organization or any other)."""
    school = school_list_led_by(organization=organization, user=user).filter(pk=pk).first()
    if school is None:
        raise Http404("No such school.")
    return school


def school_members(*, school: School) -> QuerySet[Membership]:
    """The members of a school, with their accounts, by name."""
    return (
        Membership.objects.filter(
            organization_id=school.organization_id, school_links__school=school
        )
        .select_related("user")
        .order_by("user__full_name", "user__email", "pk")
    )
