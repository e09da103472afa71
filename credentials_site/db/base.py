"""Django's PostgreSQL backend, with the code path's tenant sent to the server.

Before a statement, when ``credentials_site.tenancy.database_tenant()`` differs from what this
session last got, one ``SELECT set_config('tessera.tenant', …, false)`` goes first: one small
statement per change of scope on a connection, not per query. The row-level security policies
(``credentials_site.db.rls``) read that setting.

A rollback (of the transaction, or to a savepoint) undoes a set_config made inside it, so the
value is sent again after one; a new connection starts with nothing sent.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from credentials_site.tenancy import database_tenant

SET_TENANT = "SELECT set_config('tessera.tenant', %s, false)"
# Django's own savepoint statements: they read no row, and in a transaction that failed only
# ROLLBACK TO SAVEPOINT may run (a set_config before it would fail too)
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE")


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant_sent: str | None = None  # what this session holds (None: not known)
        self.tenant_changes = 0  # set_config statements sent (benchmarks report them)
        self.execute_wrappers.append(self._send_tenant)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.tenant_sent = None
        return super().get_new_connection(conn_params)

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.tenant_sent = None

    def savepoint_rollback(self, sid: str) -> None:
        try:
            super().savepoint_rollback(sid)
        finally:
            self.tenant_sent = None

    def _send_tenant(
        self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        wanted = database_tenant()
        if wanted != self.tenant_sent and not _is_transaction_control(sql):
            with self.wrap_database_errors, self.connection.cursor() as cursor:
                cursor.execute(SET_TENANT, [wanted])
            self.tenant_sent = wanted
            self.tenant_changes += 1
        return execute(sql, params, many, context)


def _is_transaction_control(sql: Any) -> bool:
    return isinstance(sql, str) and sql.lstrip()[:9].upper().startswith(_TRANSACTION_CONTROL)
