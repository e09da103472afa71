"""Read queries of programs: the organizations, the public catalog, roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from credentials_site.tenancy import cross_organization

from .models import (
    Audience,
    Category,
    Credential,
    CredentialVersion,
    EvidenceRequirement,
    FocusArea,
    Membership,
    Organization,
    Pathway,
    QuizQuestion,
    Resource,
    RubricCriterion,
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


def membership_get(*, organization: Organization, user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(organization=organization, user=user).first()


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


def credential_list_published(
    *, organization: Organization, filters: CatalogFilters | None = None
) -> QuerySet[Credential]:
    """Published credentials of one organization, with what a catalog card shows, in a fixed
    number of queries."""
    filters = filters or CatalogFilters()
    qs = Credential.objects.filter(
        organization=organization, status=Credential.Status.PUBLISHED
    ).select_related("organization", "current_version", "current_version__focus_area", "program")
    if filters.focus_area:
        qs = qs.filter(current_version__focus_area__slug=filters.focus_area)
    if filters.category:
        qs = qs.filter(current_version__categories__slug=filters.category)
    if filters.level:
        qs = qs.filter(current_version__level=filters.level)
    if filters.audience:
        qs = qs.filter(current_version__audiences__slug=filters.audience)
    if filters.q:
        matching = CredentialVersion.objects.annotate(
            search=SearchVector("title", "summary", "competency", config="english")
        ).filter(
            organization=organization,
            search=SearchQuery(filters.q, search_type="websearch", config="english"),
        )
        qs = qs.filter(current_version__in=matching.values("pk"))
    return (
        qs.distinct()
        .prefetch_related(
            Prefetch("current_version__categories", queryset=Category.objects.all()),
            Prefetch("current_version__audiences", queryset=Audience.objects.all()),
        )
        .order_by("current_version__focus_area__position", "position", "current_version__title")
    )


def focus_area_list(*, organization: Organization) -> QuerySet[FocusArea]:
    return (
        FocusArea.objects.filter(organization=organization)
        .annotate(
            published_count=Count(
                "versions",
                filter=Q(
                    versions__state=CredentialVersion.State.PUBLISHED,
                    versions__credential__status=Credential.Status.PUBLISHED,
                ),
            )
        )
        .order_by("position", "name")
    )


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
    *, organization: Organization, credential_slug: str, number: int | None = None
) -> CredentialVersion:
    """The version a visitor may read: the current one, or an earlier published one by number.

    Drafts and other organizations' credentials answer 404.
    """
    qs = _version_queryset().filter(organization=organization, credential__slug=credential_slug)
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
    return version


def credential_version_history(*, credential: Credential) -> QuerySet[CredentialVersion]:
    return CredentialVersion.objects.filter(
        credential=credential,
        state__in=[CredentialVersion.State.PUBLISHED, CredentialVersion.State.SUPERSEDED],
    ).only("pk", "number", "state", "published_at", "credential_id", "organization_id")


def organization_ids_active() -> list[int]:
    return list(Organization.objects.filter(is_active=True).values_list("pk", flat=True))
