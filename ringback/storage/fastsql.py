"""Hot-path writes with their SQL composed once per statement shape.

peewee composes every query from scratch: on the start and transition paths that is ~0.3 ms of
Python per statement, about 70 % of a start's time in the group-commit writer (measured with
cProfile). These helpers keep peewee's models as the schema (column names, quoting, value
conversion through each field's `db_value`, Python-side defaults) and cache only the SQL text,
keyed by model and column set, so the writer's time goes to the database instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from ringback.storage.models import database_proxy

_SQL: dict[tuple[Any, ...], tuple[str, tuple[peewee.Field, ...]]] = {}


def _quoted(db: peewee.Database, name: str) -> str:
    """An identifier in the database's quote characters (peewee keeps them as a two-character string)."""
    return f"{db.quote[0]}{name}{db.quote[1]}"


def _with_defaults(model: type[peewee.Model], row: Mapping[str, Any]) -> dict[str, Any]:
    """Python-side defaults, as `Model.create` would apply them (the schema has none of its own)."""
    full = dict(row)
    for field in model._meta.sorted_fields:
        if field.name not in full and field.default is not None:
            full[field.name] = field.default() if callable(field.default) else field.default
    return full


def _insert_sql(model: type[peewee.Model], names: tuple[str, ...]) -> tuple[str, tuple[peewee.Field, ...]]:
    db = database_proxy.obj
    key = ("insert", db.param, model, names)  # one process may talk to SQLite and PostgreSQL (tests, backup)
    if key not in _SQL:
        fields = tuple(model._meta.fields[name] for name in names)
        columns = ", ".join(_quoted(db, f.column_name) for f in fields)
        marks = ", ".join(db.param for _ in fields)
        table = _quoted(db, model._meta.table_name)
        # Names come from the model's schema (an unknown one is a KeyError above); values are bound parameters.
        _SQL[key] = (f"INSERT INTO {table} ({columns}) VALUES ({marks})", fields)  # noqa: S608
    return _SQL[key]


def insert(model: type[peewee.Model], row: Mapping[str, Any]) -> None:
    """INSERT one row (no RETURNING: callers give the primary key, or need no auto id back)."""
    insert_many(model, [row])


def insert_returning_id(model: type[peewee.Model], row: Mapping[str, Any]) -> Any:
    """INSERT one row and return its auto-generated primary key."""
    db = database_proxy.obj
    full = _with_defaults(model, row)
    sql, fields = _insert_sql(model, tuple(full))
    if isinstance(db, peewee.SqliteDatabase):
        return db.execute_sql(sql, tuple(f.db_value(full[f.name]) for f in fields)).lastrowid
    key = _quoted(db, model._meta.primary_key.column_name)
    cursor = db.execute_sql(f"{sql} RETURNING {key}", tuple(f.db_value(full[f.name]) for f in fields))
    return cursor.fetchone()[0]


def insert_many(model: type[peewee.Model], rows: Iterable[Mapping[str, Any]]) -> None:
    """INSERT rows one statement each, sharing the composed SQL (rows of one shape after defaults)."""
    db = database_proxy.obj
    for row in rows:
        full = _with_defaults(model, row)
        sql, fields = _insert_sql(model, tuple(full))
        db.execute_sql(sql, tuple(f.db_value(full[f.name]) for f in fields))


def update(model: type[peewee.Model], changes: Mapping[str, Any], **where: Any) -> int:
    """UPDATE ... SET changes WHERE each `where` column equals its value; returns the rows changed."""
    db = database_proxy.obj
    key = ("update", db.param, model, tuple(changes), tuple(where))
    if key not in _SQL:
        fields = tuple(model._meta.fields[name] for name in (*changes, *where))
        sets = ", ".join(f"{_quoted(db, f.column_name)} = {db.param}" for f in fields[: len(changes)])
        conds = " AND ".join(f"{_quoted(db, f.column_name)} = {db.param}" for f in fields[len(changes) :])
        table = _quoted(db, model._meta.table_name)
        _SQL[key] = (f"UPDATE {table} SET {sets} WHERE {conds}", fields)  # noqa: S608 - as in _insert_sql
    sql, fields = _SQL[key]
    values = (*changes.values(), *where.values())
    cursor = db.execute_sql(sql, tuple(f.db_value(v) for f, v in zip(fields, values, strict=True)))
    return cursor.rowcount


def select_one(model: type[peewee.Model], columns: tuple[str, ...], **where: Any) -> dict[str, Any] | None:
    """The first row where each `where` column equals its value, as {column: python value}, or None."""
    rows = select(model, columns, limit=1, **where)
    return rows[0] if rows else None


def select(model: type[peewee.Model], columns: tuple[str, ...], limit: int = 0, **where: Any) -> list[dict[str, Any]]:
    """Rows where each `where` column equals its value, as {column: python value} (all of them, or `limit`)."""
    db = database_proxy.obj
    key = ("select", db.param, model, columns, tuple(where), limit)
    if key not in _SQL:
        fields = tuple(model._meta.fields[name] for name in (*columns, *where))
        picked = ", ".join(_quoted(db, f.column_name) for f in fields[: len(columns)])
        conds = " AND ".join(f"{_quoted(db, f.column_name)} = {db.param}" for f in fields[len(columns) :])
        table = _quoted(db, model._meta.table_name)
        bound = f" LIMIT {int(limit)}" if limit else ""
        _SQL[key] = (f"SELECT {picked} FROM {table} WHERE {conds}{bound}", fields)  # noqa: S608 - as above
    sql, fields = _SQL[key]
    params = tuple(f.db_value(v) for f, v in zip(fields[len(columns) :], where.values(), strict=True))
    return [
        {f.name: f.python_value(value) for f, value in zip(fields, row, strict=False)}
        for row in db.execute_sql(sql, params).fetchall()
    ]
