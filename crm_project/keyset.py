"""Keyset (cursor) pagination, shared by the API lists and the list pages.

A page is "the next N rows after this row" in the list's ordering (its sort columns, then the primary key to
break ties), never "skip N rows": a deep page costs what the first one costs, an index range scan where an index
matches the ordering, and no request counts the whole table. The position travels in an opaque cursor signed with
the SECRET_KEY: the sort values of the row it follows (or precedes), the direction and the ordering it belongs to.

NULLs sort as the largest value (PostgreSQL's own default: last going up, first going down, so its indexes serve
the ordering); the ordering is made explicit so SQLite sorts them the same way.
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass

from django.core import signing
from django.db.models import F, OrderBy, Q, QuerySet
from django.db.models.expressions import Col
from django.db.models.sql.constants import LOUTER

SALT = "crm.keyset"
FORWARD, BACKWARD = "n", "p"
NOTHING = Q(pk__in=[])
BROKEN_CURSOR = "This cursor is not valid: start again from the first page."
OTHER_ORDERING_CURSOR = "This cursor belongs to another ordering of the list: start again from the first page."


class InvalidCursor(ValueError):
    """A cursor that was not made here, was altered, or belongs to another ordering of the list."""


@dataclass(frozen=True)
class SortKey:
    expression: object  # F(...) or any other expression the list sorts by
    descending: bool
    nulls_first: bool

    def reversed(self) -> "SortKey":
        return SortKey(self.expression, not self.descending, not self.nulls_first)

    def order_by(self, alias: str) -> OrderBy:
        nulls_first, nulls_last = (True, None) if self.nulls_first else (None, True)
        return OrderBy(F(alias), descending=self.descending, nulls_first=nulls_first, nulls_last=nulls_last)


@dataclass
class KeysetPage:
    """One page of rows and where the pages before and after it start."""

    rows: list
    next_cursor: str | None
    previous_cursor: str | None
    start_index: int  # the 1-based position of the first row (counted from the pages walked, not from the table)
    total: int | None = None  # how many rows the list has, as far as it was counted (list pages)
    total_is_lower_bound: bool = False  # the list has more rows than `total`

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1


def sort_keys(queryset: QuerySet) -> list[SortKey]:
    """The ordering of `queryset` (its order_by, else its model's Meta ordering), ending with the primary key."""
    query = queryset.query
    terms = query.order_by or (query.get_meta().ordering if query.default_ordering else [])
    keys = []
    for term in terms:
        if isinstance(term, str):
            if term == "?":
                raise ValueError("A random ordering cannot be paginated by keyset.")
            descending = term.startswith("-")
            keys.append(SortKey(F(term.lstrip("-")), descending, descending))
        elif isinstance(term, OrderBy):
            nulls_first = True if term.nulls_first else False if term.nulls_last else term.descending
            keys.append(SortKey(term.expression, term.descending, nulls_first))
        else:
            keys.append(SortKey(term, False, False))
    pk_names = {"pk", query.get_meta().pk.name, query.get_meta().pk.attname}
    if not keys or not (isinstance(keys[-1].expression, F) and keys[-1].expression.name in pk_names):
        descending = keys[0].descending if keys else False
        keys.append(SortKey(F("pk"), descending, descending))
    return keys


def _signature(keys: list[SortKey]) -> str:
    return ",".join(f"{'-' if key.descending else ''}{key.expression}{'^' if key.nulls_first else ''}" for key in keys)


def _encode_value(value):
    if isinstance(value, datetime.datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, datetime.date):
        return ["d", value.isoformat()]
    if isinstance(value, decimal.Decimal):
        return ["n", str(value)]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    return value


def _decode_value(value):
    if not isinstance(value, list):
        return value
    kind, text = value
    return {
        "dt": datetime.datetime.fromisoformat,
        "d": datetime.date.fromisoformat,
        "n": decimal.Decimal,
        "u": uuid.UUID,
    }[kind](text)


def encode_cursor(keys: list[SortKey], values: list, direction: str, start_index: int) -> str:
    payload = {"o": _signature(keys), "d": direction, "v": [_encode_value(v) for v in values], "s": start_index}
    return signing.dumps(payload, salt=SALT, compress=True)


def decode_cursor(cursor: str, keys: list[SortKey]) -> tuple[list, str, int]:
    """(values, direction, start index) of a cursor made for this ordering; InvalidCursor for anything else."""
    try:
        payload = signing.loads(cursor, salt=SALT)
        values = [_decode_value(value) for value in payload["v"]]
        direction, start_index = payload["d"], int(payload["s"])
        signature = payload["o"]
    except (signing.BadSignature, KeyError, TypeError, ValueError, decimal.InvalidOperation) as error:
        raise InvalidCursor(BROKEN_CURSOR) from error
    if signature != _signature(keys) or len(values) != len(keys) or direction not in (FORWARD, BACKWARD):
        raise InvalidCursor(OTHER_ORDERING_CURSOR)
    return values, direction, max(start_index, 1)


def _never_null(queryset: QuerySet, alias: str) -> bool:
    """Whether the sort column can hold no NULL (a NOT NULL column of the list's table or of an inner join)."""
    column = queryset.query.annotations[alias]
    if not isinstance(column, Col):
        return False
    join = queryset.query.alias_map.get(column.alias)
    return not column.target.null and getattr(join, "join_type", None) != LOUTER


def _after(queryset: QuerySet, keys: list[SortKey], aliases: list[str], values: list) -> Q:
    """The rows after the row whose sort values are `values`, walking in the order of `keys`."""
    condition, tie = NOTHING, Q()
    bound = None
    for position, (key, alias, value) in enumerate(zip(keys, aliases, values, strict=True)):
        never_null = _never_null(queryset, alias)
        nulls_after = Q() if never_null else Q(**{f"{alias}__isnull": True})
        if value is None:
            beyond = Q(**{f"{alias}__isnull": False}) if key.nulls_first else NOTHING
            equal = Q(**{f"{alias}__isnull": True})
        else:
            comparison, comparison_or_equal = ("lt", "lte") if key.descending else ("gt", "gte")
            beyond = Q(**{f"{alias}__{comparison}": value})
            if not key.nulls_first and not never_null:
                beyond |= nulls_after
            equal = Q(**{alias: value})
            if position == 0:
                # A redundant bound on the first sort column: the index scan starts there instead of at the top.
                bound = Q(**{f"{alias}__{comparison_or_equal}": value})
                if not key.nulls_first and not never_null:
                    bound |= nulls_after
        condition |= tie & beyond
        tie &= equal
    return condition & bound if bound is not None else condition


def keyset_page(queryset: QuerySet, *, cursor: str | None, size: int) -> KeysetPage:
    """The page of `size` rows of `queryset` that `cursor` points at (the first page without one).

    One query, whatever the depth. InvalidCursor for a cursor not made for this ordering.
    """
    keys = sort_keys(queryset)
    aliases = [f"keyset_{position}" for position in range(len(keys))]
    queryset = queryset.annotate(**{alias: key.expression for alias, key in zip(aliases, keys, strict=True)})
    if cursor:
        values, direction, start_index = decode_cursor(cursor, keys)
    else:
        values, direction, start_index = None, FORWARD, 1
    walk = keys if direction == FORWARD else [key.reversed() for key in keys]
    rows_query = queryset.order_by(*[key.order_by(alias) for key, alias in zip(walk, aliases, strict=True)])
    if values is not None:
        rows_query = rows_query.filter(_after(queryset, walk, aliases, values))
    rows = list(rows_query[: size + 1])
    more = len(rows) > size
    rows = rows[:size]

    def position(row) -> list:
        return [row[alias] if isinstance(row, dict) else getattr(row, alias) for alias in aliases]

    if direction == BACKWARD:
        rows.reverse()
        if not more:
            start_index = 1
        has_previous, has_next = more, True
    else:
        has_previous, has_next = values is not None, more
    next_cursor = previous_cursor = None
    if rows and has_next:
        next_cursor = encode_cursor(keys, position(rows[-1]), FORWARD, start_index + len(rows))
    if rows and has_previous:
        previous_cursor = encode_cursor(keys, position(rows[0]), BACKWARD, max(start_index - size, 1))
    return KeysetPage(rows, next_cursor, previous_cursor, start_index)


def bounded_count(queryset: QuerySet, limit: int) -> int:
    """How many rows `queryset` has, counting no further than `limit` + 1 (a page shows "10,000+", not a total
    that costs a scan of the whole table)."""
    return queryset.order_by().values("pk")[: limit + 1].count()
