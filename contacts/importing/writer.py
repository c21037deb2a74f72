"""Bulk writes of the import: a batch of rows in a few statements, whatever its size.

`Upserter` inserts or updates rows by a unique key, external_id by default, knowing which keys exist
(the engine asks first, and sends only the rows that are new or differ). On PostgreSQL the new rows go
straight into the table by COPY; the changed ones by COPY into a temporary table, then one UPDATE ... FROM
it. Other databases (SQLite) get one executemany of INSERT ... ON CONFLICT (external_id) WHERE NOT
(external_id = '') DO UPDATE (the unique constraint on external_id is partial, which Django's
bulk_create(update_conflicts=True) cannot target). `insert` adds rows that have no key (a deal's first
stage change).

Rows are plain dicts of attribute names; values go through the database's adapters, as the ORM would send
them. Model `save()` is not called, so whatever it normalises (e-mails, domains) the parsers did already.
"""

import datetime
from functools import partial
from operator import itemgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.utils import timezone


def _adapter(model_field):
    if connection.vendor == "postgresql":
        return None  # psycopg takes dates, times and decimals as they are (Django's adapters return them so)
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "DecimalField":
        return partial(
            connection.ops.adapt_decimalfield_value,
            max_digits=model_field.max_digits,
            decimal_places=model_field.decimal_places,
        )
    return None


def _copy(cursor, statement: str, params: list) -> None:
    """PostgreSQL's COPY through psycopg, on Django's connection (its transaction), errors as Django's."""
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for values in params:
            copy.write_row(values)


def _column(model: type[Model], attname: str) -> str:
    return next(field.column for field in model._meta.concrete_fields if field.attname == attname)


class _Table:
    """The columns of a model (all but the primary key) and how a record's values are sent for them."""

    def __init__(self, model: type[Model], given: set[str]):
        self.model = model
        self.fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        unknown = given - {field.attname for field in self.fields}
        if unknown:
            raise ImproperlyConfigured(f"{model._meta.label} has no fields {', '.join(sorted(unknown))}")
        self.given = given
        self.adapters = [_adapter(field) for field in self.fields]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.names = ", ".join(quote(field.column) for field in self.fields)

    def _defaults(self, now: datetime.datetime) -> dict[str, object]:
        """Values of the columns the records leave out, as a new row would get them."""
        defaults = {}
        for field in self.fields:
            if field.attname in self.given:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                defaults[field.attname] = now
            elif field.has_default():
                # One instant for the whole batch rather than one per row (created_at=timezone.now).
                defaults[field.attname] = now if field.default is timezone.now else field.get_default()
            elif field.null:
                defaults[field.attname] = None
            elif field.empty_strings_allowed:
                defaults[field.attname] = ""
            else:
                raise ImproperlyConfigured(f"The import gives no value for {field} and it has no default.")
        return defaults

    def params(self, records: list[dict], now: datetime.datetime) -> list:
        """The rows' values in the order of the columns, adapted for the database."""
        defaults = self._defaults(now)
        values_of = itemgetter(*(field.attname for field in self.fields))
        rows = [values_of({**defaults, **record}) for record in records]
        adapted = [(index, adapt) for index, adapt in enumerate(self.adapters) if adapt is not None]
        if not adapted:
            return rows
        params = []
        for row in rows:
            row = list(row)
            for index, adapt in adapted:
                if row[index] is not None:
                    row[index] = adapt(row[index])
            params.append(row)
        return params

    def copy_to_staging(self, cursor, params: list[list]) -> str:
        """PostgreSQL: COPY the rows into a temporary table shaped like the model's; its quoted name."""
        staging = connection.ops.quote_name(f"import_staging_{self.model._meta.db_table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS SELECT {self.names} "
            f"FROM {self.table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")
        _copy(cursor, f"COPY {staging} ({self.names}) FROM STDIN", params)
        return staging


class Upserter:
    """Insert or update rows of `model` by `key` (external_id, unique when not empty, or a plain unique field).

    `write_fields` are set on insert and on update, `insert_only` ones on insert only; every other column
    gets its default on insert and stays as it is on update (but `auto_now` times, which move)."""

    def __init__(
        self,
        model: type[Model],
        write_fields: tuple[str, ...],
        insert_only: tuple[str, ...] = (),
        *,
        key: str = "external_id",
    ):
        self.model = model
        self.key = key
        self.columns = _Table(model, set(write_fields) | set(insert_only))
        self.updated = [
            field
            for field in self.columns.fields
            if (field.attname in write_fields and field.attname != key)
            or (getattr(field, "auto_now", False) and field.attname not in self.columns.given)
        ]

    def _rows(self, keys):
        rows = self.model._default_manager.filter(**{f"{self.key}__any_of": keys}).order_by()
        # `external_id <> ''` spelled out lets PostgreSQL use the partial unique index for the IN list.
        return rows.exclude(external_id="") if self.key == "external_id" else rows

    def existing(self, keys: list, fields: tuple[str, ...] = ()) -> dict[object, tuple]:
        """key -> (id, *fields) of the rows that exist, in one query."""
        if not keys:
            return {}
        return {row[0]: row[1:] for row in self._rows(keys).values_list(self.key, "id", *fields)}

    def ids(self, keys: list) -> dict[object, int]:
        return {key: row[0] for key, row in self.existing(keys).items()}

    def upsert(self, records: list[dict], now: datetime.datetime, existing) -> None:
        """Write the records: insert those whose key is not in `existing`, update the others."""
        if not records:
            return
        quote = connection.ops.quote_name
        table, names = self.columns.table, self.columns.names
        key = quote(_column(self.model, self.key))
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                self._upsert_statement(cursor, records, now)
                return
            new = [record for record in records if record[self.key] not in existing]
            old = [record for record in records if record[self.key] in existing]
            if new:  # straight into the table: the cheapest way in
                _copy(cursor, f"COPY {table} ({names}) FROM STDIN", self.columns.params(new, now))
            if old and self.updated:
                staging = self.columns.copy_to_staging(cursor, self.columns.params(old, now))
                assignments = ", ".join(f"{quote(f.column)} = staged.{quote(f.column)}" for f in self.updated)
                partial = f" AND NOT ({table}.{key} = '')" if self.key == "external_id" else ""
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM {staging} AS staged WHERE {table}.{key} = staged.{key}"
                    + partial
                )

    def _upsert_statement(self, cursor, records: list[dict], now: datetime.datetime) -> None:
        """SQLite and the like: one executemany of INSERT ... ON CONFLICT DO UPDATE."""
        quote = connection.ops.quote_name
        key = quote(_column(self.model, self.key))
        conflict = f"ON CONFLICT ({key})"
        if self.key == "external_id":
            # The predicate of the partial unique index, as Django wrote it: SQLite wants it word for word.
            conflict += f" WHERE NOT ({key} = '')"
        if self.updated:
            assignments = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in self.updated)
            conflict += f" DO UPDATE SET {assignments}"
        else:
            conflict += " DO NOTHING"
        placeholders = ", ".join(["%s"] * len(self.columns.fields))
        cursor.executemany(
            f"INSERT INTO {self.columns.table} ({self.columns.names}) VALUES ({placeholders}) {conflict}",
            self.columns.params(records, now),
        )

    def set_references(self, attname: str, pairs: list[tuple[int, int]]) -> None:
        """Point `attname` of the rows with these ids at other rows: [(row id, target id)], one statement."""
        if not pairs:
            return
        quote = connection.ops.quote_name
        column = quote(_column(self.model, attname))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {self.columns.table} SET {column} = %s WHERE {quote('id')} = %s",
                [(target, row) for row, target in pairs],
            )


def insert(model: type[Model], records: list[dict], now: datetime.datetime) -> None:
    """Add rows (dicts of attribute names) in one statement, or a COPY on PostgreSQL."""
    if not records:
        return
    columns = _Table(model, set(records[0]))
    params = columns.params(records, now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, f"COPY {columns.table} ({columns.names}) FROM STDIN", params)
            return
        placeholders = ", ".join(["%s"] * len(columns.fields))
        cursor.executemany(f"INSERT INTO {columns.table} ({columns.names}) VALUES ({placeholders})", params)
