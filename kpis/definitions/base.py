"""The KPI base class and registry: one small class per KPI of KPIS.md."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from kpis.sql import Query

Components = dict[str, Decimal | int | float]
Key = tuple[datetime.date, str]

TWO_PLACES = Decimal("0.01")
Z_95 = 1.96


def number(value) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


@dataclass
class Value:
    """One KPI value with what it is made of, so a reader can recompute it."""

    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    sample_size: int = 0
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None
    details: dict = field(default_factory=dict)


def count_value(count) -> Value:
    count = number(count)
    return Value(count, numerator=count, sample_size=int(count))


def sum_value(total, items) -> Value:
    return Value(number(total), numerator=number(total), sample_size=int(number(items)))


def rate_value(part, whole, sample_size=None) -> Value:
    """part / whole x 100, empty when whole is zero."""
    part, whole = number(part), number(whole)
    value = part / whole * 100 if whole else None
    return Value(value, part, whole, int(whole if sample_size is None else sample_size))


def mean_value(total, items) -> Value:
    total, items = number(total), number(items)
    return Value(total / items if items else None, total, items, int(items))


class Kpi:
    """A KPI of KPIS.md. `components` runs a few SQL aggregates for every period and segment
    of a query at once; `value` turns one period's components into its value."""

    key: str = ""
    name: str = ""
    area: str = ""
    unit: str = ""  # count, percent, money, hours, days, ratio, money_per_day, score, per_customer
    direction: str | None = "up"  # which way is good; None when neither
    formula: str = ""
    dimensions: tuple[str, ...] = ()
    # The tables its SQL reads (tests/kpis/test_reads.py checks them against the SQL a refresh runs): a stale mark
    # of another table does not recompute it (`kpis_refresh_open`). None: every table.
    reads: tuple[str, ...] | None = None
    note: str = ""
    version: int = 1
    # Its value builds up over the period: a count or sum of what happened in it (revenue, new leads), or a rate
    # of it over the customers at its start (churn, upsells). While the period is under way it is "so far", and
    # no better or worse than a whole period's, nor on or off target yet.
    accumulates: bool = False

    def components(self, query: Query) -> dict[Key, Components]:
        raise NotImplementedError

    def value(self, components: Components) -> Value:
        raise NotImplementedError

    def __repr__(self):
        return f"<Kpi {self.key}>"


def merge(*parts: dict[Key, dict]) -> dict[Key, Components]:
    """Several {key: components} dicts from different queries, as one."""
    merged: dict[Key, dict] = defaultdict(dict)
    for part in parts:
        for key, components in part.items():
            merged[key].update(components)
    return dict(merged)


def named(rows: dict[Key, tuple], *names: str) -> dict[Key, Components]:
    """{key: (a, b)} from `keyed` rows as {key: {"a": a, "b": b}}."""
    return {key: dict(zip(names, values, strict=True)) for key, values in rows.items()}


def wilson_interval(positives, total) -> tuple[Decimal | None, Decimal | None]:
    """95 % Wilson score interval of a proportion, in percent."""
    if not total:
        return None, None
    n = float(total)
    p = float(positives) / n
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    margin = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return number((centre - margin) * 100), number((centre + margin) * 100)


_registry: dict[str, Kpi] = {}


def register(cls: type[Kpi]) -> type[Kpi]:
    if cls.key in _registry:
        raise ValueError(f"KPI {cls.key!r} registered twice.")
    _registry[cls.key] = cls()
    return cls


def registry() -> dict[str, Kpi]:
    from kpis.definitions import customers, sales, support  # noqa: F401 (registers the KPIs)

    return _registry
