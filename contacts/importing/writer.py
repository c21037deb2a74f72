"""Bulk writes of the import: a batch of rows in a few statements, whatever its size.

`Upserter` inserts or updates rows by a unique key, external_id by default, knowing which keys exist
(the engine asks first, and sends only the rows that are new or differ). On PostgreSQL the new rows go
straight into the table by COPY, in binary format, and may do so from another thread while the engine
reads the next batch (`upsert(..., background=True)`, then `wait()`); the changed ones by COPY into a
temporary table, then one UPDATE ... FROM it. Other databases (SQLite) get one executemany of INSERT ...
ON CONFLICT (external_id) WHERE NOT (external_id = '') DO UPDATE (the unique constraint on external_id is
partial, which Django's bulk_create(update_conflicts=True) cannot target). `insert` adds rows that have no
key (a deal's first stage change).

Rows are plain dicts of attribute names; values go through the database's adapters, as the ORM would send
them. Model `save()` is not called, so whatever it normalises (e-mails, domains) the parsers did already.
"""

import datetime
import threading
from collections.abc import Callable, Iterable
from functools import partial
from operator import itemgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from crm_project.exports import made_here


def _adapter(model_field):
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


# Column types PostgreSQL receives in COPY's binary format from the Python values the parsers make; a table
# with any other is copied as text.
_BINARY_TYPES = {"varchar", "text", "int2", "int4", "int8", "bool", "date", "timestamptz", "numeric"}


def _binary_types(fields) -> list[int] | None:
    """The type oids of these columns for a binary COPY, or None when one of them is not a plain one."""
    connection.ensure_connection()
    registry = connection.connection.adapters.types
    oids = []
    for field in fields:
        info = registry.get(field.db_type(connection).split("(")[0].strip())
        if info is None or info.name not in _BINARY_TYPES:
            return None
        oids.append(info.oid)
    return oids


def _copy(cursor, table: str, names: str, types: list[int] | None, rows) -> None:
    """PostgreSQL's COPY through a psycopg cursor of Django's connection (so in its transaction).

    The binary format spares both sides formatting and parsing times, dates and numbers as text."""
    statement = f"COPY {table} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if types else "")
    with cursor.copy(statement) as copy:
        if types:
            copy.set_types(types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


class _Background:
    """One piece of database work at a time in another thread, on this thread's connection.

    PostgreSQL takes a batch's rows in while the engine reads and parses the next batch of the file. Until
    `wait()` returns, nothing else may use the connection: the Upserter waits before each of its queries,
    the engine before its own."""

    def __init__(self):
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self, work: Callable[[], None]) -> None:
        self.wait()

        def run():
            try:
                work()
            except BaseException as error:  # handed to the thread that waits
                self._error = error

        self._thread = threading.Thread(target=run, name="import-copy", daemon=True)
        self._thread.start()

    def wait(self, *, quietly: bool = False) -> None:
        """Until the work is done; its error is raised here (as Django's), unless `quietly`."""
        if self._thread is None:
            return
        self._thread.join()
        self._thread, error, self._error = None, self._error, None
        if error is not None and not quietly:
            with connection.wrap_database_errors:
                raise error


def _values(queryset) -> Iterable[tuple]:
    """The rows of a values_list() queryset, for comparing: on PostgreSQL, times are read by psycopg's own
    loader (in C, with psycopg's binary package) rather than by Django's, in Python and five times slower;
    a re-import reads every record's times back. They differ only in the tzinfo object the times carry."""
    if connection.vendor != "postgresql":
        return queryset
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", _c_time_loader())
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return compiler.results_iter([rows], tuple_expected=True)  # with Django's converters, if any


def _c_time_loader():
    from psycopg import adapters
    from psycopg.postgres import types
    from psycopg.pq import Format

    return adapters.get_loader(types["timestamptz"].oid, Format.TEXT)


def _column(model: type[Model], attname: str) -> str:
    return next(field.column for field in model._meta.concrete_fields if field.attname == attname)


class _Table:
    """The columns of a model (all but the primary key) and how a record's values are sent for them.

    The columns go in two groups: those the records give, then those every new row gets the default of.
    A row of values is then the record's values (one C call) and the defaults (the same for the batch)."""

    def __init__(self, model: type[Model], given: set[str]):
        self.model = model
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        unknown = given - {field.attname for field in fields}
        if unknown:
            raise ImproperlyConfigured(f"{model._meta.label} has no fields {', '.join(sorted(unknown))}")
        self.given = given
        self.fields = [field for field in fields if field.attname in given]
        self.fields += [field for field in fields if field.attname not in given]
        self._values_of = itemgetter(*(field.attname for field in self.fields if field.attname in given))
        self.postgresql = connection.vendor == "postgresql"
        # psycopg takes dates, times and decimals as they are (Django's adapters return them so)
        self.adapters = [None if self.postgresql else _adapter(field) for field in self.fields]
        self.binary_types = _binary_types(self.fields) if self.postgresql else None
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.names = ", ".join(quote(field.column) for field in self.fields)
        self._deferred_keys: str | None = None  # the table's foreign keys checked at the commit, quoted

    def _defaults(self, now: datetime.datetime) -> tuple:
        """Values of the columns the records leave out, as a new row would get them."""
        defaults = []
        for field in self.fields[len(self.given) :]:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                defaults.append(now)
            elif field.has_default():
                # One instant for the whole batch rather than one per row (created_at=timezone.now).
                defaults.append(now if field.default is timezone.now else field.get_default())
            elif field.null:
                defaults.append(None)
            elif field.empty_strings_allowed:
                defaults.append("")
            else:
                raise ImproperlyConfigured(f"The import gives no value for {field} and it has no default.")
        return tuple(defaults)

    def params(self, records: list[dict], now: datetime.datetime) -> list[tuple]:
        """The rows' values in the order of the columns, adapted for the database."""
        defaults = self._defaults(now)
        values_of = self._values_of
        if len(self.given) == 1:  # itemgetter of one name gives the value, not a tuple
            rows = [(values_of(record), *defaults) for record in records]
        else:
            rows = [values_of(record) + defaults for record in records]
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

    def copy(self, cursor, params: list, table: str | None = None) -> None:
        """PostgreSQL: COPY the rows into the table (or another shaped like it), with a Django cursor."""
        with connection.wrap_database_errors:
            _copy(cursor.cursor, table or self.table, self.names, self.binary_types, params)

    def copy_in_background(self, background: "_Background", params: list, then: tuple[str, list] | None) -> None:
        """PostgreSQL: COPY the rows into the table from another thread (its errors come with `wait`), then run
        the statement `then`, if any, there too.

        Their foreign keys are checked there and then rather than all at the commit, which would be a second
        or so for 100,000 rows with nothing else to do meanwhile: SET CONSTRAINTS ... IMMEDIATE checks what
        is pending, DEFERRED sets them back as Django declares them."""
        raw = connection.connection  # psycopg's connection, shared; Django's cursors are for this thread only
        if self._deferred_keys is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' AND condeferred",
                    [self.table],
                )
                self._deferred_keys = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
        keys = self._deferred_keys

        def work():
            with raw.cursor() as cursor:
                _copy(cursor, self.table, self.names, self.binary_types, params)
                if keys:
                    cursor.execute(f"SET CONSTRAINTS {keys} IMMEDIATE")
                    cursor.execute(f"SET CONSTRAINTS {keys} DEFERRED")
                if then is not None:
                    cursor.execute(*then)

        background.start(work)

    def copy_to_staging(self, cursor, params: list) -> str:
        """PostgreSQL: COPY the rows into a temporary table shaped like the model's; its quoted name."""
        staging = connection.ops.quote_name(f"import_staging_{self.model._meta.db_table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS SELECT {self.names} "
            f"FROM {self.table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {staging}")
        self.copy(cursor, params, staging)
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
        self._background = _Background()

    def wait(self, *, quietly: bool = False) -> None:
        """Until the rows an `upsert(..., background=True)` sends are in; its error is raised here."""
        self._background.wait(quietly=quietly)

    def _rows(self, keys):
        rows = self.model._default_manager.filter(**{f"{self.key}__any_of": set(keys)}).order_by()
        # `external_id <> ''` spelled out lets PostgreSQL use the partial unique index for the IN list.
        return rows.exclude(external_id="") if self.key == "external_id" else rows

    def existing(self, keys: list, fields: tuple[str, ...] = ()) -> dict[object, tuple]:
        """key -> (id, *fields) of the rows that exist, in one query."""
        if not keys:
            return {}
        self.wait()
        found = {row[0]: row[1:] for row in _values(self._rows(keys).values_list(self.key, "id", *fields))}
        if self.key == "external_id":  # records made in the CRM, as an export for re-import names them
            found.update(made_here(self.model, [key for key in keys if key not in found], fields))
        return found

    def ids(self, keys: list) -> dict[object, int]:
        return {key: row[0] for key, row in self.existing(keys).items()}

    def upsert(
        self,
        records: list[dict],
        now: datetime.datetime,
        existing,
        *,
        background: bool = False,
        then: tuple[str, list] | None = None,
    ) -> None:
        """Write the records: insert those whose key is not in `existing`, update the others; then run the
        statement `then` (SQL, parameters), if any, which may read the new rows (the audit trail's entries).

        With `background`, on PostgreSQL, the new rows may still be going in when this returns (see `wait`),
        and `then` runs after them in the same thread."""
        if not records:
            return
        self.wait()
        quote = connection.ops.quote_name
        table = self.columns.table
        key = quote(_column(self.model, self.key))
        with connection.cursor() as cursor:
            if self.key == "external_id":
                # A record made in the CRM that the file changes takes the name the export gave it, so that the
                # update below (by key) finds it; later imports of the same file find it by that name too.
                adopted = [
                    (record[self.key], existing[record[self.key]][0])
                    for record in records
                    if record[self.key].startswith("crm-") and record[self.key] in existing
                ]
                if adopted:
                    cursor.executemany(
                        f"UPDATE {table} SET {key} = %s WHERE {quote('id')} = %s AND {key} = ''", adopted
                    )
            if connection.vendor != "postgresql":
                self._upsert_statement(cursor, records, now)
                if then is not None:
                    cursor.execute(*then)
                return
            new = [record for record in records if record[self.key] not in existing]
            old = [record for record in records if record[self.key] in existing]
            if old and self.updated:
                staging = self.columns.copy_to_staging(cursor, self.columns.params(old, now))
                assignments = ", ".join(f"{quote(f.column)} = staged.{quote(f.column)}" for f in self.updated)
                partial = f" AND NOT ({table}.{key} = '')" if self.key == "external_id" else ""
                cursor.execute(
                    f"UPDATE {table} SET {assignments} FROM {staging} AS staged WHERE {table}.{key} = staged.{key}"
                    + partial
                )
            if new:  # straight into the table: the cheapest way in
                params = self.columns.params(new, now)
                if background:
                    self.columns.copy_in_background(self._background, params, then)
                    return
                self.columns.copy(cursor, params)
            if then is not None:
                cursor.execute(*then)

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
        self.wait()
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
            columns.copy(cursor, params)
            return
        placeholders = ", ".join(["%s"] * len(columns.fields))
        cursor.executemany(f"INSERT INTO {columns.table} ({columns.names}) VALUES ({placeholders})", params)
