"""One-row reads and writes with their SQL built once per process, for the few on every request's path.

The ORM builds each query anew: for a single-row INSERT or a primary-key SELECT that building costs two to
ten times running the statement (measured in issue 10). `insert_row` and `RowByPk` keep the statement and
the column converters, and still go through each field's own preparation and conversion (`pre_save`,
`get_db_prep_save`, `from_db_value`), so encrypted and hashed personal data, `auto_now` stamps and JSON
fields come out exactly as `Model.save()` and `Model.objects.get()` make them.

`insert_row` sends no `pre_save` / `post_save` signal; when a receiver is connected for the model it calls
`obj.save(force_insert=True)` instead, so a receiver added later is never skipped silently.

`insert_many` is the bulk counterpart for imports: many rows, values already prepared by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.models.expressions import Expression
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

M = TypeVar("M", bound=Model)

_INSERTS: dict[tuple[type[Model], str], tuple[str, list[Any]]] = {}


def _insert_statement(model: type[Model], using: str) -> tuple[str, list[Any]]:
    key = (model, using)
    if key not in _INSERTS:
        connection = connections[using]
        ops, meta = connection.ops, model._meta
        fields = [f for f in meta.local_concrete_fields if not (f.primary_key and f.auto_created)
                  and not getattr(f, "generated", False)]
        columns = ", ".join(ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        _INSERTS[key] = (f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks}) "
                         f"RETURNING {ops.quote_name(meta.pk.column)}", fields)
    return _INSERTS[key]


def insert_row(obj: M, *, using: str = DEFAULT_DB_ALIAS) -> M:
    """INSERT `obj` (a new instance with an automatic primary key) and set its primary key."""
    model = type(obj)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True, using=using)
        return obj
    sql, fields = _insert_statement(model, using)
    connection = connections[using]
    values = [field.pre_save(obj, add=True) for field in fields]
    if any(isinstance(value, Expression) for value in values):  # e.g. a database default: the ORM's job
        obj.save(force_insert=True, using=using)
        return obj
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, using
    return obj


class RowByPk(Generic[M]):
    """`model.objects.filter(pk=…).first()` without building the query each time."""

    def __init__(self, model: type[M]):
        self.model = model
        self._prepared: dict[str, tuple[str, list[str], list[tuple[int, list[Any], Any]]]] = {}

    def _statement(self, using: str) -> tuple[str, list[str], list[tuple[int, list[Any], Any]]]:
        if using not in self._prepared:
            connection = connections[using]
            ops, meta = connection.ops, self.model._meta
            fields = list(meta.concrete_fields)
            converters = []
            for i, field in enumerate(fields):
                column = field.get_col(meta.db_table)
                found = ops.get_db_converters(column) + column.get_db_converters(connection)
                if found:
                    converters.append((i, found, column))
            columns = ", ".join(ops.quote_name(f.column) for f in fields)
            self._prepared[using] = (
                f"SELECT {columns} FROM {ops.quote_name(meta.db_table)} WHERE {ops.quote_name(meta.pk.column)} = %s",
                [f.attname for f in fields], converters)
        return self._prepared[using]

    def get(self, pk: Any, *, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """The row as a model instance, or None when there is none (or `pk` is not a valid key)."""
        try:
            pk = self.model._meta.pk.to_python(pk)
        except ValidationError:  # not a key at all: no such row
            return None
        sql, attnames, converters = self._statement(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, found, column in converters:
            for convert in found:
                values[i] = convert(values[i], column, connection)
        return self.model.from_db(using, attnames, values)


def insert_many(model: type[Model], names: Sequence[str], rows: Iterable[Sequence[Any]], *,
                using: str = DEFAULT_DB_ALIAS) -> None:
    """INSERT `rows` of the fields `names` (attribute names: "grid_id" for a foreign key) with one executemany,
    for bulk loads (registry imports of hundreds of thousands of rows) where `bulk_create`'s per-value preparation
    costs several times the database's own work.

    The values must be as the database takes them: the caller encrypts personal numbers, computes their hashes,
    serialises JSON (`prepare(model, name, value)`) and adapts dates. Fields not named get their default (an
    `auto_now` stamp: now). No signal is sent and no primary key is returned: find the rows by their natural key.
    """
    connection = connections[using]
    ops, meta = connection.ops, model._meta
    by_attname = {f.attname: f for f in meta.local_concrete_fields}
    fields = [by_attname[name] for name in names]
    rest = [f for f in meta.local_concrete_fields if f.attname not in set(names)
            and not (f.primary_key and f.auto_created) and not getattr(f, "generated", False)]
    now = timezone.now()
    defaults = tuple(
        ops.adapt_datetimefield_value(now) if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(ops.quote_name(f.column) for f in (*fields, *rest))
    marks = ", ".join(["%s"] * (len(fields) + len(rest)))
    sql = f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) VALUES ({marks})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row, *defaults) for row in rows])


def prepare(model: type[Model], name: str, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> Any:
    """`value` of the field `name` as the database takes it (a JSON field's text, an adapted date)."""
    field = model._meta.get_field(name)
    return field.get_db_prep_save(value, connections[using])  # type: ignore[union-attr]
