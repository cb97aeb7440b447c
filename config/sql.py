"""The toolkit of the hand-written statements that every request runs (the session's user,
the access getters, a mark save, the grid's poll).

Building a queryset and compiling it costs far more CPU than running the statement: 1.8 ms
for the subject gradebook's class query against 0.2 ms to execute the same SQL (bench/
RESULTS.md, issue 7). The hot paths therefore write their SQL once, as text, and turn rows
into model instances exactly as the ORM would — same fields, same database converters
(SQLite's booleans and aware date-times included) — so the rest of the code sees ordinary
model instances. Everything else stays on the ORM.

Only the apps' fenced modules import this one (`accounts/hot.py`, `schools/hot.py`,
`gradebook/hot.py`, `transcripts/hot.py`; ruff's TID251 refuses the import elsewhere): each
statement there is a named function beside its ORM twin, and tests/gradebook/test_hot_sql.py
holds the pairs equal.

The SQL here must run on SQLite and PostgreSQL alike: `%s` placeholders, double-quoted
names, no vendor functions. `FOR UPDATE` is added only where the database has it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table(model: type[models.Model]) -> str:
    """The model's table, quoted, for a FROM or JOIN clause."""
    return quote(model._meta.db_table)


@cache
def columns(model: type[models.Model], alias: str) -> str:
    """Every concrete column of the model, in field order, qualified by `alias`: what
    `build` expects to find at its position in a row."""
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@dataclass(frozen=True)
class _Aliased:
    """A model under an alias in a statement: `{c.table}`, `{c.columns}`."""

    model: type[models.Model]
    alias: str

    @property
    def table(self) -> str:
        return table(self.model)

    @property
    def columns(self) -> str:
        return columns(self.model, self.alias)


def statement(template: str, **aliases: type[models.Model]) -> str:
    """The SQL of `template` with each alias's `{a.table}` and `{a.columns}` filled in from
    the model's metadata. Values never go into the text: they are `%s` parameters."""
    return template.format(**{a: _Aliased(model, a) for a, model in aliases.items()})


@cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    """The attribute names of the model's concrete fields, in field order."""
    return tuple(f.attname for f in model._meta.concrete_fields)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The concrete field ``name`` of the model (not a reverse relation or a generic key)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field


def width(model: type[models.Model]) -> int:
    """How many values of a row `columns(model, …)` selects."""
    return len(model._meta.concrete_fields)


def _connection() -> BaseDatabaseWrapper:
    """This thread's connection (`django.db.connection` is a proxy shared by threads)."""
    return connections[DEFAULT_DB_ALIAS]


def locks_rows() -> bool:
    """Whether the database locks selected rows (`FOR UPDATE`); SQLite locks the whole file
    on a transaction's first write instead."""
    return _connection().features.has_select_for_update


def _converters(
    model: type[models.Model], connection: BaseDatabaseWrapper
) -> list[tuple[int, Any, list[Callable]]]:
    """The fields whose values the ORM converts on this connection (SQLite's booleans and
    date-times, say): position, expression, converters. Cached on the connection, whose `ops`
    the converters are bound to."""
    cached = connection.__dict__.setdefault("_hot_sql_converters", {})
    found = cached.get(model)
    if found is None:
        found = []
        for index, field in enumerate(model._meta.concrete_fields):
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column)
            converters += column.get_db_converters(connection)
            if converters:
                found.append((index, column, converters))
        cached[model] = found
    return found


def build(model: type[M], values: Sequence[Any]) -> M:
    """The instance the ORM would make of a row's values selected by `columns(model, …)`."""
    connection = _connection()
    converted = list(values)
    for index, column, converters in _converters(model, connection):
        for converter in converters:
            converted[index] = converter(converted[index], column, connection)
    return model.from_db(connection.alias, _attnames(model), converted)


def build_all(row: Sequence[Any], *models_: type[models.Model]) -> list[models.Model | None]:
    """Split a row of several models' `columns` (in this order) into instances; a model whose
    primary key is NULL (an outer join that found nothing) gives None."""
    found: list[models.Model | None] = []
    start = 0
    for model in models_:
        values = row[start : start + width(model)]
        start += width(model)
        pk_at = model._meta.concrete_fields.index(model._meta.pk)
        found.append(None if values[pk_at] is None else build(model, values))
    return found


def ids_fit(*ids: int | None) -> bool:
    """Whether every given id (None: not given) fits the database's id columns (bigint). An id
    from a request may not: the ORM answers a primary key's lookup of one with no row, but a
    foreign key's lookup and a statement here fail (SQLite cannot bind the number), so a hot
    function and its ORM twin answer None for it first."""
    low, high = _connection().ops.integer_field_range("BigIntegerField")
    return all(value is None or low <= value <= high for value in ids)


def datetime_param(value: datetime.datetime) -> Any:
    """A date-time as the ORM would pass it (SQLite stores naive UTC text)."""
    return _connection().ops.adapt_datetimefield_value(value)


def fetch_one(sql: str, params: Sequence[Any]) -> tuple | None:
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; the number of rows it touched."""
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _param(field: models.Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    if isinstance(value, models.Model):
        value = value.pk
    return field.get_db_prep_save(value, connection)


def select_for_update(model: type[M], **lookup: Any) -> M | None:
    """`model.objects.select_for_update().filter(**lookup).first()` for a lookup of plain
    field equalities (None: IS NULL) that matches at most one row."""
    connection = _connection()
    conditions, params = [], []
    for name, value in lookup.items():
        field = _field(model, name)
        if value is None:
            conditions.append(f"{quote(field.column)} IS NULL")
        else:
            conditions.append(f"{quote(field.column)} = %s")
            params.append(_param(field, value, connection))
    where = " AND ".join(conditions)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    row = fetch_one(
        f"SELECT {columns(model, table(model))} FROM {table(model)} WHERE {where}{lock}",  # noqa: S608 — names from model metadata
        params,
    )
    return None if row is None else build(model, row)


def update(instance: models.Model, fields: Sequence[str]) -> None:
    """`instance.save(update_fields=fields)` (no signals: nothing listens on these models)."""
    connection = _connection()
    meta = instance._meta
    targets = [_field(type(instance), name) for name in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    params = [_param(f, getattr(instance, f.attname), connection) for f in targets]
    execute(
        f"UPDATE {table(type(instance))} SET {assignments} WHERE {quote(meta.pk.column)} = %s",  # noqa: S608 — names from model metadata
        [*params, _param(meta.pk, instance.pk, connection)],
    )


def insert(instance: models.Model, *, ignore_conflicts: bool = False) -> None:
    """`instance.save(force_insert=True)`: a new row with every concrete field but an
    automatic primary key, which is set on the instance (no signals). `ignore_conflicts`:
    a row that breaks a unique constraint is not inserted (`ON CONFLICT DO NOTHING`), and
    the instance's primary key stays None."""
    meta = instance._meta
    auto_pk = meta.pk if isinstance(meta.pk, models.AutoField) else None
    fields = [f for f in meta.concrete_fields if f is not auto_pk]
    names = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    connection = _connection()
    params = [_param(f, f.pre_save(instance, add=True), connection) for f in fields]
    text = f"INSERT INTO {table(type(instance))} ({names}) VALUES ({placeholders})"  # noqa: S608 — names from model metadata
    if ignore_conflicts:
        text += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        if auto_pk is not None and connection.features.can_return_columns_from_insert:
            cursor.execute(f"{text} RETURNING {quote(auto_pk.column)}", params)
            inserted = cursor.fetchone()
            instance.pk = None if inserted is None else inserted[0]
        else:
            cursor.execute(text, params)
            if auto_pk is not None and cursor.rowcount == 1:
                instance.pk = connection.ops.last_insert_id(cursor, meta.db_table, auto_pk.column)
    instance._state.adding = instance.pk is None
    instance._state.db = connection.alias
