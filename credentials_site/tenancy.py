"""Tenancy: which organization a request, a task or an admin page works in.

Two walls. Every tenant model's manager is scoped (django-scopes) and raises outside a scope;
and PostgreSQL row-level security admits only the rows of the organizations this code path is
in (``credentials_site/db``: the database backend sends ``database_tenant()`` to the server as
the session setting ``tessera.tenant`` before a statement, whenever it changed). This module is
the only place that enters scopes for requests and tasks, and the only one that reads what the
current scope allows (``scope_organization_ids``, ``scope_allows``, ``scoped_sql``).

- ``tenant_scope(organization)`` enters both walls for one organization (or a list of them).
- ``cross_organization("why")`` is the explicit, named bypass of both, for the reads that are
  meant to cross organizations (a badge found by its opaque id, an educator's own data across
  organizations, staff roles by user, platform sweeps, migrations, the demo data). Each reason
  is listed and tested (tests/credentials_site/test_rls.py).
- Anything else sees no tenant row: outside both, the database admits nothing (fail closed).

It imports no app (import-linter forbids the arrow): the look-ups it needs from the apps are
named by dotted path in ``settings.TENANCY_LOOKUPS`` and ``TENANCY_OBJECT_URL_KWARGS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING, Any

from celery import Task
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

if TYPE_CHECKING:  # credentials_site never imports the apps at module level
    from rest_framework.request import Request

    from programs.models import Organization

ORG_URL_KWARG = "org_slug"

# What row-level security admits on the current code path, as the database session setting
# ``tessera.tenant`` holds it: "" nothing (the default: fail closed), "3" or "3,4" those
# organizations' rows, "bypass:<why>" every row (the named bypass). See credentials_site/db.
BYPASS_PREFIX = "bypass:"
_database_tenant: ContextVar[str] = ContextVar("tessera_database_tenant", default="")


def database_tenant() -> str:
    """The value of ``tessera.tenant`` that the next statement on this code path runs with."""
    return _database_tenant.get()


@contextmanager
def _database_tenant_set(value: str) -> Iterator[None]:
    token = _database_tenant.set(value)
    try:
        yield
    finally:
        _database_tenant.reset(token)


_SEVERAL = (list, tuple, set, frozenset)


@contextmanager
def tenant_scope(organization: Any) -> Iterator[None]:
    """Work in one organization (an Organization or its id) or several (a list of ids, as the
    admin does): the scoped managers filter on them and row-level security admits only their
    rows."""
    several = isinstance(organization, _SEVERAL)
    ids = sorted({int(getattr(o, "pk", o)) for o in (organization if several else [organization])})
    with (
        scope(organization=ids if several else ids[0]),
        _database_tenant_set(",".join(map(str, ids))),
    ):
        yield


@contextmanager
def cross_organization(reason: str) -> Iterator[None]:
    """The explicit, named bypass of both walls, for a read (or a platform job) that is meant
    to cross organizations: scopes disabled, and row-level security told ``bypass:<reason>``.
    Keep the block to the statements that need it: querysets are lazy, so evaluate inside it
    (a queryset read after the block ends sees no tenant row). Every reason is listed in
    tests/credentials_site/test_rls.py."""
    if not reason.strip():
        raise ValueError("A bypass of tenancy says why.")
    with scopes_disabled(), _database_tenant_set(BYPASS_PREFIX + reason):
        yield


@cache
def _imported(path: str) -> Callable[..., Any]:
    return import_string(path)  # type: ignore[no-any-return]


def _lookup(name: str) -> Callable[..., Any]:
    """The apps' look-up ``settings.TENANCY_LOOKUPS[name]``."""
    return _imported(settings.TENANCY_LOOKUPS[name])


class TenantScopeMiddleware:
    """Enter the organization's scope for ``/o/<slug>/...`` and ``/api/v1/orgs/<slug>/...``,
    and for a URL that names one tenant object by its opaque id (a URL keyword of
    ``settings.TENANCY_OBJECT_URL_KWARGS``, such as a badge's ``/badges/<id>/...``): that
    object's organization, which ``request.organization`` then holds. An organization or object
    that does not exist answers 404.

    Any other URL runs with no organization scope, except the admin, which is scoped to the
    organizations its user administers (all of them for a superuser). There the database admits
    no tenant row, whatever the caller's context held, unless a named ``cross_organization``
    read asks.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            with _database_tenant_set(""):
                return self.get_response(request)

        slug = match.kwargs.get(ORG_URL_KWARG)
        if slug is not None:
            organization = _lookup("ORGANIZATION_BY_SLUG")(slug=slug)
            return self._in_organization(request, organization, _("No such organization."))

        for kwarg, path in settings.TENANCY_OBJECT_URL_KWARGS.items():
            if kwarg in match.kwargs:
                organization = _imported(path)(public_id=match.kwargs[kwarg])
                return self._in_organization(request, organization, _("Not found."))

        if match.app_name == "admin" or match.namespace == "admin":
            org_ids = _lookup("ORGANIZATION_IDS_ADMINISTERED_BY")(user=request.user)
            with tenant_scope(list(org_ids)):
                return self.get_response(request)

        with _database_tenant_set(""):
            return self.get_response(request)

    def _in_organization(
        self, request: HttpRequest, organization: Any, not_found: str
    ) -> HttpResponse:
        if organization is None:
            # rendered by the normal 404 machinery
            return _not_found(request, not_found)
        request.organization = organization  # type: ignore[attr-defined]
        with tenant_scope(organization.pk):
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
    manager raises) outside any organization scope. (The one place that reads django-scopes'
    private ``_enabled``: ``scope_allows`` and ``scoped_sql`` ask this.)"""
    current = get_scope()
    if not current.get("_enabled", True):
        return None
    if "organization" not in current:
        raise ScopeError("A scope on dimension(s) organization needs to be active for this query.")
    value = current["organization"]
    if value is None:
        return None
    return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]


def scope_allows(organization_id: int) -> bool:
    """Whether the current scope admits the organization's rows, as the scoped managers would:
    True when scopes are disabled or the scope is every organization; ScopeError outside any
    organization scope (fail closed)."""
    organizations = scope_organization_ids()
    return organizations is None or organization_id in organizations


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


def _not_found(request: HttpRequest, message: str) -> HttpResponse:
    from .exceptions import page_not_found

    return page_not_found(request, Http404(message), message=message)


class TenantTask(Task):  # type: ignore[misc]
    """Base for Celery tasks on tenant data: re-enters the scope (both walls) from
    ``organization_id``."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        organization_id = kwargs.get("organization_id")
        if organization_id is None:
            raise TypeError(f"{self.name} must be called with organization_id=")
        with tenant_scope(organization_id):
            return super().__call__(*args, **kwargs)


def fan_out(task: Task) -> int:
    """Queue ``task`` once per active organization (each runs in its own tenant scope); beat
    entries call this. Returns how many were queued. (A platform sweep: the one read of every
    organization, ``settings.TENANCY_LOOKUPS["ORGANIZATION_IDS_ACTIVE"]``.)"""
    ids = _lookup("ORGANIZATION_IDS_ACTIVE")()
    for organization_id in ids:
        task.delay(organization_id=organization_id)
    return len(ids)
