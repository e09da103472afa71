"""The public catalog: thin views over selectors. Anonymous visitors get its pages from the
shared cache (``public_page``: keyed by the organization's public revision)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_safe

from credentials_site import public_cache
from credentials_site.pagination import WindowCountPaginator
from credentials_site.public_cache import public_page
from credentials_site.tenancy import request_organization

from . import selectors, selectors_schools, services
from .models import CredentialVersion, Membership, Organization, User
from .user_facts import user_facts_get

CATALOG_PAGE_SIZE = 12


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    organizations = selectors.organization_list_public()
    return render(request, "programs/home.html", {"organizations": organizations})


@public_page(cache_control=public_cache.PAGE, vary=("Cookie",))
@require_safe
def catalog(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = request_organization(request)
    filters = selectors.CatalogFilters(
        focus_area=request.GET.get("focus", "").strip(),
        category=request.GET.get("category", "").strip(),
        level=request.GET.get("level", "").strip(),
        audience=request.GET.get("audience", "").strip(),
        q=request.GET.get("q", "").strip()[:200],
    )
    credentials = selectors.credential_list_published(organization=organization, filters=filters)
    paginator = WindowCountPaginator(credentials, CATALOG_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    # the list, filters and pathways are read only when the cached fragment is missing
    return render(
        request,
        "programs/catalog.html",
        {
            "organization": organization,
            "page": SimpleLazyObject(lambda: paginator.get_page(request.GET.get("page"))),
            "filters": filters,
            "querystring": query.urlencode(),
            "focus_areas": SimpleLazyObject(
                lambda: selectors.focus_area_list_for_catalog(organization=organization)
            ),
            "categories": selectors.category_list(organization=organization),
            "audiences": selectors.audience_list(organization=organization),
            "levels": CredentialVersion.Level.choices,
            "pathways": selectors.pathway_list_published(organization=organization),
            "fragment_version": public_cache.fragment_version(organizations=[organization.slug]),
            "fragment_seconds": settings.PUBLIC_CACHE_SECONDS,
            "membership": membership_on_page(request=request, organization=organization),
            # what the visitor's schools recommend from this catalog (decision 0030)
            "recommended": recommended_on_page(request=request, organization=organization),
        },
    )


@public_page(cache_control=public_cache.PAGE, vary=("Cookie",))
@require_safe
def credential_detail(
    request: HttpRequest, org_slug: str, credential_slug: str, number: int | None = None
) -> HttpResponse:
    organization = request_organization(request)
    fragment_version = public_cache.fragment_version(organizations=[organization.slug])
    version = _version_on_page(organization, credential_slug, number, fragment_version)
    context = credential_page_context(request=request, organization=organization, version=version)
    # what the page shows of the version is the same for every visitor: the fragments kept in
    # the shared cache under the organization's revision, read from the database on a miss only
    context.update(
        {
            "contents": SimpleLazyObject(
                lambda: selectors.credential_version_contents(
                    organization=organization, pk=version.pk
                )
            ),
            "fragment_version": fragment_version,
            "fragment_seconds": settings.PUBLIC_CACHE_SECONDS,
        }
    )
    return render(request, CREDENTIAL_PAGE_TEMPLATE, context)


CREDENTIAL_PAGE_TEMPLATE = "programs/credential_detail.html"


def _version_on_page(
    organization: Organization, credential_slug: str, number: int | None, fragment_version: str
) -> CredentialVersion:
    """The version the page shows (``selectors.credential_version_get_public``, a 404 for a
    draft or another organization's), kept in the shared cache under the organization's public
    revision like the page's fragments: what publishes, retires or edits it changes that
    revision, so an entry is never read stale. Only a found version is kept."""
    key = f"credential-page-version:{organization.pk}:{fragment_version}:{credential_slug}:{number}"
    version: CredentialVersion | None = public_cache.shared_cache.get(key)
    if version is None:
        version = selectors.credential_version_get_public(
            organization=organization,
            credential_slug=credential_slug,
            number=number,
            with_contents=False,
        )
        public_cache.shared_cache.set(key, version, settings.PUBLIC_CACHE_SECONDS)
    version.organization = organization  # the request's (not kept with the entry)
    return version


def credential_page_context(
    *,
    request: HttpRequest,
    organization: Organization,
    version: CredentialVersion,
    history: Iterable[CredentialVersion] | None = None,
) -> dict[str, Any]:
    """What a credential's public page shows (its page here, the admin's preview of a draft,
    whose ``contents`` is the version and whose fragments are not cached)."""
    user = request.user
    facts = user_facts_get(user=user, organization=organization) if isinstance(user, User) else None
    return {
        "organization": organization,
        "version": version,
        "credential": version.credential,
        "contents": version,
        "fragment_version": None,
        "history": selectors.credential_version_history(credential=version.credential)
        if history is None
        else history,
        "membership": membership_on_page(request=request, organization=organization),
        "join_request": facts.here.join_request if facts is not None and facts.here else None,
    }


def membership_on_page(*, request: HttpRequest, organization: Organization) -> Membership | None:
    """``services.membership_join_by_domain`` for a page: the membership on record read from
    the visitor's cached facts (programs.user_facts), the database asked only when they have
    none here and hold a verified address (one of whose domains may be listed)."""
    user = request.user
    if not isinstance(user, User):
        return None
    facts = user_facts_get(user=user, organization=organization)
    membership = facts.here.membership if facts.here is not None else None
    if membership is not None:
        membership.organization = organization  # the request's, as fresh as the page's
        return membership
    return services.membership_join_by_listed_domain(
        organization=organization, user=user, domains=facts.person.verified_domains
    )


def recommended_on_page(
    *, request: HttpRequest, organization: Organization
) -> list[selectors_schools.Recommended]:
    """What the visitor's schools recommend from this catalog: asked of the database only when
    their cached facts say they are on the staff of a school (of any organization: a school may
    recommend another organization's credentials)."""
    user = request.user
    if not isinstance(user, User):
        return []
    if not user_facts_get(user=user, organization=organization).person.on_school_staff:
        return []
    return selectors_schools.recommendations_for_user(user=user, organization=organization)


@public_page(cache_control=public_cache.PAGE, vary=("Cookie",))
@require_safe
def pathway_detail(request: HttpRequest, org_slug: str, pathway_slug: str) -> HttpResponse:
    organization = request_organization(request)
    pathway = selectors.pathway_get_published(organization=organization, slug=pathway_slug)
    return render(
        request, "programs/pathway_detail.html", {"organization": organization, "pathway": pathway}
    )
