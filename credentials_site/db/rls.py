"""Row-level security on every tenant table, and the two database roles.

The app (web, worker, beat: ``DATABASE_URL``) connects as a role that is neither superuser nor
the tables' owner nor ``BYPASSRLS``. Migrations run as the owner (``DATABASE_OWNER_URL``): the
``migrate`` command logs the connection in as it (``as_owner``), and after every migrate
(post_migrate) ``secure_tenant_tables`` makes sure, as the owner, that

- every tenant table (``tenant_tables``: of a concrete model with an ``organization_id``
  column, so a new model gets it too) has row-level security enabled and forced (the owner
  too is held to it) with the policy ``POLICY`` on reads and writes: it reads
  ``tessera.tenant``, which the database backend sets from the code path's tenant scope
  (``credentials_site/db/base.py``);
- the app role may read and write every table and use every sequence, and nothing more (not
  TRUNCATE, which ignores row-level security; no DDL).

Only what is missing is changed, so a migrate on a live database takes no lock it need not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

TENANT_COLUMN = "organization_id"
# The policy's name carries its version: a new expression gets a new name, and the policies of
# older names are dropped when it is applied.
POLICY_PREFIX = "tenant_isolation"
POLICY_NAME = f"{POLICY_PREFIX}_v1"
# what a login is made of: DATABASE_URL and DATABASE_OWNER_URL name the same database
LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")

# ``tessera.tenant`` holds "" (no tenant row), "3" or "3,4" (those organizations' rows) or
# "bypass:<why>" (every row: credentials_site.tenancy.cross_organization). Unset, as in a
# session that never set it, it admits nothing. Each half is a scalar subquery, evaluated once
# per statement (an InitPlan), not once per row; written out rather than as SQL functions,
# which cost planning time on every statement (docs/decisions/0010).
_SETTING = "current_setting('tessera.tenant', true)"
_BYPASS = f"starts_with({_SETTING}, 'bypass:')"
POLICY = (
    f"(SELECT {_BYPASS}) OR {TENANT_COLUMN} = ANY ((SELECT CASE WHEN {_BYPASS} THEN '{{}}' "
    f"ELSE string_to_array(nullif({_SETTING}, ''), ',') END)::bigint[])"
)


def tenant_tables() -> list[str]:
    """The table of every concrete model with an ``organization_id`` column."""
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model._meta.managed
            and not model._meta.proxy
            and any(f.column == TENANT_COLUMN for f in model._meta.concrete_fields)
        }
    )


def app_role() -> str:
    """The role the app logs in as (``DATABASE_URL``'s user)."""
    return str(settings.DATABASE_LOGINS["app"]["USER"] or "")


# --- Logging a connection in as one role or the other -----------------------------------------


@contextmanager
def as_owner(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The connection ``alias`` logged in as the owner role while the block runs (nothing
    changes when ``DATABASE_OWNER_URL`` is not set: one role does everything)."""
    owner = settings.DATABASE_LOGINS.get("owner")
    if owner is None or alias != DEFAULT_DB_ALIAS:
        yield
        return
    with _logged_in(connections[alias], owner):
        yield


@contextmanager
def as_app(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """The connection ``alias`` logged in as the app role while the block runs."""
    with _logged_in(connections[alias], settings.DATABASE_LOGINS["app"]):
        yield


@contextmanager
def _logged_in(connection: BaseDatabaseWrapper, login: dict[str, Any]) -> Iterator[None]:
    saved = {key: connection.settings_dict[key] for key in LOGIN_KEYS}
    connection.close()
    connection.settings_dict.update({key: login[key] for key in LOGIN_KEYS})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


# --- After migrate: the policies and the app role's privileges -------------------------------

_TABLE_STATE = """
SELECT t.name, c.relrowsecurity, c.relforcerowsecurity,
       coalesce(array_agg(p.polname) FILTER (WHERE p.polname IS NOT NULL), '{}')
FROM unnest(%s::text[]) AS t(name)
JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname LIKE %s
GROUP BY t.name, c.relrowsecurity, c.relforcerowsecurity
"""


def secure_tenant_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """As the tables' owner: RLS enabled and forced with the policy on each tenant table, and
    the app role's privileges. Returns what it changed. Run as anyone else
    (the app role, when a test empties the tables) it does nothing."""
    changed: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, pg_has_role(current_user, c.relowner, 'USAGE') "
            "FROM pg_class c WHERE c.oid = to_regclass('django_migrations')"
        )
        row = cursor.fetchone()
        if row is None or not row[1]:
            return changed
        current_user = row[0]
        cursor.execute(_TABLE_STATE, [tenant_tables(), POLICY_PREFIX + "%"])
        for name, enabled, forced, policies in cursor.fetchall():
            table = connection.ops.quote_name(name)
            if not enabled:
                cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            if not forced:
                cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            if POLICY_NAME not in policies:
                cursor.execute(
                    f"CREATE POLICY {POLICY_NAME} ON {table} USING ({POLICY}) WITH CHECK ({POLICY})"
                )
            for older in set(policies) - {POLICY_NAME}:
                cursor.execute(f"DROP POLICY {connection.ops.quote_name(older)} ON {table}")
            if not (enabled and forced) or policies != [POLICY_NAME]:
                changed.append(name)
        app = app_role()
        if "owner" in settings.DATABASE_LOGINS and app and app != current_user:
            _grant(cursor, connection, app)
    return changed


def _grant(cursor: Any, connection: BaseDatabaseWrapper, app: str) -> None:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app])
    if cursor.fetchone() is None:
        raise ImproperlyConfigured(
            f"The app's database role {app!r} (the user of DATABASE_URL) does not exist. "
            "Create it (LOGIN, not superuser, no BYPASSRLS) before migrating: see the README, "
            "'Database roles'."
        )
    cursor.execute("SELECT current_schema()")
    schema = connection.ops.quote_name(cursor.fetchone()[0])
    role = connection.ops.quote_name(app)
    tables = "SELECT, INSERT, UPDATE, DELETE"
    cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    cursor.execute(f"GRANT {tables} ON ALL TABLES IN SCHEMA {schema} TO {role}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    # tables a later migration creates are the app's to use at once, before this runs again
    cursor.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {tables} ON TABLES TO {role}"
    )
    cursor.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}"
    )


def secure_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate (sent once per migrate for this app): ``secure_tenant_tables``."""
    changed = secure_tenant_tables(connections[using])
    stdout = kwargs.get("stdout")
    if changed and stdout is not None and kwargs.get("verbosity", 1) >= 1:
        stdout.write(f"  Row-level security applied to {len(changed)} tenant table(s).\n")


# --- The system check (run by migrate, and by ``check --database default``) -------------------


def app_role_problems(connection: BaseDatabaseWrapper) -> list[str]:
    """What makes row-level security not hold for the app's role: superuser, BYPASSRLS, owning
    the tables (or being a member of their owner), or one role doing everything."""
    problems = []
    owner_configured = "owner" in settings.DATABASE_LOGINS
    if not owner_configured:
        problems.append(
            "DATABASE_OWNER_URL is not set: the app's own role runs the migrations, so it owns "
            "the tables and could switch their row-level security off."
        )
    with connection.cursor() as cursor:
        app = app_role()
        if not app and not owner_configured:
            cursor.execute("SELECT current_user")
            app = cursor.fetchone()[0]
        if not app:
            return problems
        cursor.execute(
            "SELECT r.rolsuper, r.rolbypassrls, pg_has_role(r.oid, c.relowner, 'MEMBER') "
            "FROM pg_roles r LEFT JOIN pg_class c ON c.oid = to_regclass('django_migrations') "
            "WHERE r.rolname = %s",
            [app],
        )
        row = cursor.fetchone()
    if row is None:
        return [*problems, f"The app's database role {app!r} (DATABASE_URL) does not exist."]
    superuser, bypass, owns = row
    if superuser:
        problems.append(
            f"The app's database role {app!r} is a superuser: it ignores row-level security."
        )
    if bypass:
        problems.append(f"The app's database role {app!r} has BYPASSRLS.")
    if owns and owner_configured and not superuser:
        problems.append(
            f"The app's database role {app!r} owns the tables (or is a member of their owner): "
            "it could switch row-level security off."
        )
    return problems


def check_app_role(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Row-level security holds only if the app's role is neither superuser, nor BYPASSRLS,
    nor the tables' owner: an error in production (migrate refuses to run), a warning
    elsewhere."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    production = settings.DJANGO_ENV == "production"
    level, code = (Error, "E001") if production else (Warning, "W001")
    hint = (
        "Let the app log in as its own role (DATABASE_URL) and migrate as the owner "
        "(DATABASE_OWNER_URL): see the README, 'Database roles'."
    )
    return [
        level(problem, hint=hint, id=f"credentials_site.{code}")
        for problem in app_role_problems(connections[DEFAULT_DB_ALIAS])
    ]
