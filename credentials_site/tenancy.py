"""Tenancy: which organization a request, a task or an admin page works in.

Every tenant model's manager is scoped (django-scopes) and raises outside a scope. This module
is the only place that enters scopes for requests and tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from celery import Task
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django_scopes import ScopeError, get_scope, scope

if TYPE_CHECKING:  # credentials_site never imports the apps at module level
    from rest_framework.request import Request

    from programs.models import Organization

ORG_URL_KWARG = "org_slug"


class TenantScopeMiddleware:
    """Enter the organization's scope for ``/o/<slug>/...`` and ``/api/v1/orgs/<slug>/...``.

    Any other URL runs with no organization scope, except the admin, which is scoped to the
    organizations its user administers (all of them for a superuser).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from programs import selectors

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)

        slug = match.kwargs.get(ORG_URL_KWARG)
        if slug is not None:
            organization = selectors.organization_get_public(slug=slug)
            if organization is None:
                # rendered by the normal 404 machinery
                return _not_found(request)
            request.organization = organization  # type: ignore[attr-defined]
            with scope(organization=organization.pk):
                return self.get_response(request)

        if match.app_name == "admin" or match.namespace == "admin":
            user = request.user
            org_ids = selectors.organization_ids_administered_by(user=user)
            with scope(organization=list(org_ids)):
                return self.get_response(request)

        return self.get_response(request)


def request_organization(request: HttpRequest | Request) -> Organization:
    """The organization of a request to ``/o/<slug>/...`` or ``/api/v1/orgs/<slug>/...``, as
    ``TenantScopeMiddleware`` set it (``request.organization``), for views and API classes
    alike. Any other URL has none: asking for it there is a programming error, not a 404."""
    organization: Organization | None = getattr(request, "organization", None)
    if organization is None:
        raise LookupError(f"{request.path} is not under an organization's URL.")
    return organization


def scope_organization_ids() -> list[int] | None:
    """The organizations the current scope allows, for a hand-written statement to filter on
    as the scoped managers do: ``None`` when scopes are disabled; ScopeError (as a scoped
    manager raises) outside any organization scope."""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    if "organization" not in current:
        raise ScopeError("A scope on dimension(s) organization needs to be active for this query.")
    value = current["organization"]
    if value is None:
        return None
    return list(value) if isinstance(value, list | tuple) else [value]


def scoped_sql(
    sql: str, params: Mapping[str, Any] | None = None, **tenant_columns: str
) -> tuple[str, dict[str, Any]]:
    """A hand-written statement with the tenant filter applied here, never by the statement's
    author: each ``{name}`` in ``sql`` becomes the current scope's filter on the column
    ``tenant_columns[name]`` (``TRUE`` when scopes are disabled), exactly as the scoped managers
    filter. Outside any organization scope it raises ScopeError, as they do (fail closed).

        sql, params = scoped_sql(
            "SELECT ... FROM submissions_application a WHERE a.id = %(id)s AND {tenant}",
            {"id": application_id},
            tenant="a.organization_id",
        )
        cursor.execute(sql, params)
    """
    if not tenant_columns:
        raise ValueError("A scoped statement filters at least one tenant column.")
    for name in tenant_columns:
        if "{" + name + "}" not in sql:
            raise ValueError(f"The statement has no {{{name}}} for its tenant filter.")
    organizations = scope_organization_ids()
    conditions = {
        name: "TRUE" if organizations is None else f"{column} = ANY(%(_tenant_organizations)s)"
        for name, column in tenant_columns.items()
    }
    return sql.format(**conditions), {**(params or {}), "_tenant_organizations": organizations}


def _not_found(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": "No such organization.", "fields": {}}, status=404
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, Http404("No such organization."))


class TenantTask(Task):  # type: ignore[misc]
    """Base for Celery tasks on tenant data: re-enters the scope from ``organization_id``."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        organization_id = kwargs.get("organization_id")
        if organization_id is None:
            raise TypeError(f"{self.name} must be called with organization_id=")
        with scope(organization=organization_id):
            return super().__call__(*args, **kwargs)


def fan_out(task: Task) -> int:
    """Queue ``task`` once per active organization (each runs in its own tenant scope); beat
    entries call this. Returns how many were queued."""
    from programs import selectors

    ids = selectors.organization_ids_active()
    for organization_id in ids:
        task.delay(organization_id=organization_id)
    return len(ids)
