"""Set-based writes for the bulk paths (the roster import): one statement per table per chunk,
with no model instance per row.

``bulk_insert`` and ``bulk_update`` send each column as one array (``unnest``); the values are
prepared by the model's own fields (defaults, ``auto_now``, JSON), so a column added to a model
is filled as the ORM would fill it. An update of a tenant table is filtered by the current
tenant scope (``scoped_sql``), as the scoped managers filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

from credentials_site.models import TenantModel
from credentials_site.tenancy import scoped_sql


def _array_type_of(field: Any, connection: Any) -> str:
    db_type = (
        field.target_field.rel_db_type(connection)
        if field.is_relation
        else field.db_type(connection)
    )
    if db_type is None:
        raise TypeError(f"{field} has no column type")
    return db_type.split("(")[0] if db_type.startswith("varchar") else db_type


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and not getattr(f, "db_returning", False)
    ]


def _column_values(
    field: models.Field[Any, Any], rows: Sequence[Mapping[str, Any]], now: Any, db: Any
) -> list[Any]:
    """The column's values, as the ORM would send them: the row's value, else ``now`` for
    ``auto_now`` fields, else the field's default (called per row when it is a callable). Only
    JSON needs the field's preparation; the driver adapts the other types itself."""
    name = field.attname
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if all(name in row for row in rows):
        values = [row[name] for row in rows]
    elif auto:
        values = [row.get(name, now) for row in rows]
    else:
        values = [row[name] if name in row else field.get_default() for row in rows]
    if isinstance(field, models.JSONField):
        return [field.get_db_prep_save(value, db) for value in values]
    return values


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    returning: Sequence[str] = (),
    on_conflict_do_nothing: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts by attribute name: ``user_id``, not ``user``); columns a row does
    not give take the field's default. Returns the ``returning`` columns of the rows inserted
    (in no promised order)."""
    if not rows:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    fields = _fields(model)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%s::{_array_type_of(f, connection)}[]" for f in fields)
    # names come from the model, values go as parameters
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    if on_conflict_do_nothing:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += " RETURNING " + ", ".join(connection.ops.quote_name(c) for c in returning)
    params = [_column_values(f, rows, now, connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()] if returning else []


def bulk_update(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], names: Sequence[str]
) -> int:
    """Set the ``names`` columns (attribute names) of the rows given by ``pk`` to each row's
    values (and ``updated_at`` to now where the model has it); returns how many changed."""
    if not rows:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    fields: list[Any] = [meta.get_field(n) for n in names]
    if any(f.name == "updated_at" for f in meta.concrete_fields) and "updated_at" not in names:
        fields.append(meta.get_field("updated_at"))
    now = timezone.now()
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every concrete model has one
    assignments = ", ".join(f"{quote(f.column)} = v.c{i}" for i, f in enumerate(fields))
    arrays = ", ".join(
        [f"%(pk)s::{_array_type_of(pk, connection)}[]"]
        + [f"%(c{i})s::{_array_type_of(f, connection)}[]" for i, f in enumerate(fields)]
    )
    aliases = ", ".join(["pk"] + [f"c{i}" for i in range(len(fields))])
    table = quote(meta.db_table)
    # names come from the model, values go as parameters
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) AS v({aliases}) "  # noqa: S608
        f"WHERE t.{quote(pk.column)} = v.pk"
    )
    params: dict[str, Any] = {"pk": [row["pk"] for row in rows]}
    for i, f in enumerate(fields):
        params[f"c{i}"] = _column_values(f, rows, now, connection)
    if issubclass(model, TenantModel):
        sql, params = scoped_sql(sql + " AND {tenant}", params, tenant="t.organization_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
