"""CSV exports of the lists: every row the filters select, streamed, for people or in the import format.

A list declares its layout once as a `CsvFormat`: its columns (a header and where the value comes
from) and the joins they need. Two dialects:

- for people (`raw=False`): readable headers, labels instead of codes, and every text cell that a
  spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) gets a
  leading apostrophe (OWASP "CSV injection");
- for re-import (`raw=True`): the columns of `manage.py import_records <kind>`, values as they are
  stored, references by external id (`record_ref`), users by e-mail, booleans `true`/`false`.

Either way money is a plain number with a dot, dates are YYYY-MM-DD and times ISO 8601 with their
offset in settings.TIME_ZONE. Rows are read with `QuerySet.iterator()` (one query, fetched in
chunks; prefetches one query per chunk), so memory stays flat and the query count does not grow
with the rows.
"""

import csv
import dataclasses
import datetime
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .templatetags.crm import display_name

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000
BYTE_ORDER_MARK = "\ufeff"  # spreadsheets read a file that starts with it as UTF-8


def spreadsheet_safe(value):
    """A cell a spreadsheet will not run: text starting like a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def local_time(value: datetime.datetime) -> datetime.datetime:
    """The instant in settings.TIME_ZONE, whatever time zone is active for the request."""
    return timezone.localtime(value, timezone.get_default_timezone())


def raw_text(value) -> str:
    """A value as the import reads it: no formatting beyond the exact, unambiguous form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return local_time(value).isoformat()  # microseconds kept when there are some: re-import is exact
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def human_text(value) -> str:
    """A value as a person reads it in a spreadsheet; text that looks like a formula is neutralised."""
    if type(value) is str:  # the usual case first
        return spreadsheet_safe(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return local_time(value).isoformat(timespec="seconds")
    if isinstance(value, float):
        return str(round(value, 2))
    if isinstance(value, int | Decimal | datetime.date):
        return raw_text(value)
    return spreadsheet_safe(str(value))


# Where a column's value comes from ---------------------------------------------------------------


def follow(record, path: str | tuple[str, ...]):
    """`record.a.b.c` (path "a.b.c" or ("a", "b", "c")), or None as soon as a link is empty."""
    for name in path.split(".") if isinstance(path, str) else path:
        if record is None:
            return None
        record = getattr(record, name)
    return record


def record_ref(record) -> str:
    """How an export names a record for the import: its external_id, else a stable `crm-<model>-<id>`.

    The same rule names the record in its own row and wherever another row refers to it, so the
    references of a re-imported file hold together.
    """
    if record is None:
        return ""
    return record.external_id or made_here_ref(type(record), record.pk)


def made_here_ref(model, pk) -> str:
    """The name an export gives a record made in the CRM (it has no external_id): `crm-<model>-<id>`."""
    return f"crm-{model._meta.model_name}-{pk}"


def made_here(model, keys: Iterable[str], fields: tuple[str, ...] = ()) -> dict[str, tuple]:
    """The records made in the CRM among `keys` (names `made_here_ref` gave them), in one query: key -> (id,
    *fields). A file exported for re-import names them so; importing it back must find them, not add others."""
    prefix = f"crm-{model._meta.model_name}-"
    ids = {}
    for key in keys:
        number = key[len(prefix) :] if key.startswith(prefix) else ""
        if number.isascii() and number.isdigit() and len(number) <= 18:
            ids[int(number)] = key
    if not ids:
        return {}
    rows = model._default_manager.filter(pk__in=ids, external_id="").order_by().values_list("id", *fields)
    return {ids[row[0]]: row for row in rows}


def ref(relation: str) -> Callable[[Any], str]:
    """The related record, named as `record_ref` names it."""
    return lambda record: record_ref(follow(record, relation))


def email_of(relation: str) -> Callable[[Any], str]:
    """A user, by e-mail (how the import finds users)."""
    return lambda record: getattr(follow(record, relation), "email", "")


def person_of(relation: str) -> Callable[[Any], str]:
    """A user as staff know them: the full name, else the username."""
    return lambda record: display_name(follow(record, relation))


def name_of(relation: str) -> Callable[[Any], str]:
    """A channel, pipeline, stage or survey, by name."""
    return lambda record: getattr(follow(record, relation), "name", "")


def money(path: str) -> Callable[[Any], Decimal | None]:
    """An amount with two decimals (sums computed by SQLite come back with more)."""

    def amount(record):
        value = follow(record, path)
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))

    return amount


def label_of(field: str) -> Callable[[Any], str]:
    """A choice field's label ("New business") rather than its code ("new")."""
    return lambda record: getattr(record, f"get_{field}_display")() if getattr(record, field) else ""


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: its header and where the value comes from (an attribute path like "contact.email", or a callable)."""

    header: str
    value: str | Callable[[Any], Any] = ""

    def __post_init__(self):
        if not self.value:
            object.__setattr__(self, "value", self.header)
        if not callable(self.value):
            path = tuple(self.value.split("."))
            object.__setattr__(self, "value", lambda record: follow(record, path))

    def get(self, record):
        return self.value(record)


@dataclasses.dataclass(frozen=True)
class CsvFormat:
    """The layout of one list's CSV.

    `columns` take a Column, or a plain name for an attribute written under its own name.
    `select_related` names the joins the columns need beyond the list's own. `raw` makes it the
    import format. `only` keeps the rows the import can take (e.g. invitations that were sent).
    `via` reads each row from a relation of the listed records (see `through`). `order_by` replaces the
    list's order where the import needs one (a record before the records of the same file that refer to it).
    """

    name: str
    columns: tuple[Column | str, ...]
    select_related: tuple[str, ...] = ()
    raw: bool = False
    only: Q | None = None
    via: str = ""
    order_by: tuple[str, ...] = ()

    def __post_init__(self):
        columns = tuple(column if isinstance(column, Column) else Column(column) for column in self.columns)
        object.__setattr__(self, "columns", columns)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def through(self, relation: str, *, select_related: tuple[str, ...] | None = None) -> "CsvFormat":
        """The same layout for a list of records that each lead to one row record (a response -> its invitation).

        `select_related` replaces the joins, relative to the row record, when the listed records already hold some.
        """
        joins = self.select_related if select_related is None else select_related
        return dataclasses.replace(self, via=relation, select_related=joins)

    def prepare(self, queryset: QuerySet) -> QuerySet:
        prefix = f"{self.via}__" if self.via else ""
        if self.select_related:
            queryset = queryset.select_related(*(prefix + relation for relation in self.select_related))
        if self.only is not None:
            queryset = queryset.filter(_prefixed(self.only, prefix))
        if self.order_by:
            queryset = queryset.order_by(*(prefix + field for field in self.order_by))
        return queryset

    def rows(self, queryset: QuerySet) -> Iterator[list[str]]:
        """The header, then a row per record: one query, read in chunks."""
        text = raw_text if self.raw else human_text
        yield self.headers
        for record in self.prepare(queryset).iterator(chunk_size=CHUNK_SIZE):
            row_record = follow(record, self.via) if self.via else record
            yield [text(column.get(row_record)) for column in self.columns]


def _prefixed(condition: Q, prefix: str) -> Q:
    if not prefix:
        return condition
    prefixed = Q(*[
        _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1])
        for child in condition.children
    ])  # fmt: skip
    prefixed.connector, prefixed.negated = condition.connector, condition.negated
    return prefixed


# The response ------------------------------------------------------------------------------------


class _Echo:
    """csv.writer writes a row into this and hands the line back, so rows stream one by one."""

    def write(self, value):
        return value


def csv_lines(rows: Iterable[list], *, byte_order_mark: bool) -> Iterator[str]:
    writer = csv.writer(_Echo())
    if byte_order_mark:
        yield BYTE_ORDER_MARK
    for row in rows:
        yield writer.writerow(row)


def export_filename(name: str, *, reimport: bool = False) -> str:
    """contacts-2026-03-01.csv; contacts-reimport-2026-03-01.csv for the import format."""
    today = timezone.localdate(timezone=timezone.get_default_timezone()).isoformat()
    return f"{name}-reimport-{today}.csv" if reimport else f"{name}-{today}.csv"


def csv_response(rows: Iterable[list], *, filename: str, byte_order_mark: bool) -> StreamingHttpResponse:
    """A streamed CSV download; the rows are read while the response is sent."""
    lines = csv_lines(rows, byte_order_mark=byte_order_mark)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_response(csv_format: CsvFormat, queryset: QuerySet) -> StreamingHttpResponse:
    """A list page's export: a byte order mark for spreadsheets in the export for people, none in the import format."""
    return csv_response(
        csv_format.rows(queryset),
        filename=export_filename(csv_format.name, reimport=csv_format.raw),
        byte_order_mark=not csv_format.raw,
    )
