"""Refreshing KPI snapshots: compute with the registry's SQL, write in bulk, one scope at a time."""

import concurrent.futures
import contextlib
import datetime
import functools
import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from kpis.definitions.base import Kpi, Value, registry
from kpis.models import KpiRefresh, KpiSnapshot, KpiStaleMark, KpiTarget
from kpis.periods import (
    GRANULARITIES,
    Period,
    history_floor,
    local_today,
    local_zone,
    open_periods,
    periods_between,
)
from kpis.rollups import DailyStore
from kpis.sql import ALL, HISTORY_FIRST_DAY, Query
from kpis.stale import ALL_HISTORY

logger = logging.getLogger(__name__)

LOCK_SECONDS = 30 * 60
GENERATION_KEY = "kpis:generation"
PLACES = Decimal("0.00000001")


class RefreshBusy(Exception):
    """Another refresh of the same scope is running."""


@dataclass
class RefreshSummary:
    kpis: int = 0
    periods: int = 0
    rows_written: int = 0
    queries: int = 0
    seconds: float = 0.0
    first_period: datetime.date | None = None
    steps: list[str] = field(default_factory=list)


def history_start() -> datetime.date:
    """The local date of the oldest record any KPI counts (today when there is none), not before
    `history_floor()`."""
    columns = [
        ("contacts_contact", "customer_since"),
        ("contacts_interaction", "occurred_at"),
        ("sales_order", "ordered_at"),
        ("sales_deal", "created_at"),
        ("sales_lead", "created_at"),
        ("support_ticket", "created_at"),
        ("surveys_invitation", "sent_at"),
        ("surveys_response", "submitted_at"),
    ]
    dates = [("sales_spend", "spent_on"), ("sales_subscription", "ends_on")]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(f"SELECT MIN({column}) FROM {table}" for table, column in columns))
        instants = [row[0] for row in cursor.fetchall() if row[0] is not None]
        cursor.execute(" UNION ALL ".join(f"SELECT MIN({column}) FROM {table}" for table, column in dates))
        days = [row[0] for row in cursor.fetchall() if row[0] is not None]
    candidates = [local_today()]
    for instant in instants:
        if isinstance(instant, str):  # SQLite returns MIN() of a datetime column as text
            instant = datetime.datetime.fromisoformat(instant).replace(tzinfo=datetime.UTC)
        if timezone.is_naive(instant):
            instant = instant.replace(tzinfo=datetime.UTC)
        candidates.append(instant.astimezone(local_zone()).date())
    candidates += [day if isinstance(day, datetime.date) else datetime.date.fromisoformat(day) for day in days]
    return max(min(candidates), history_floor())


# The columns a refresh writes, in order; the first five are the unique key.
COLUMNS = (
    "kpi",
    "granularity",
    "dimension",
    "period_start",
    "segment",
    "period_end",
    "value",
    "numerator",
    "denominator",
    "sample_size",
    "ci_low",
    "ci_high",
    "details",
    "definition_version",
    "computed_at",
)
KEY_COLUMNS = COLUMNS[:5]


def _snapshots(
    kpi: Kpi, granularity: str, dimension: str, periods: list[Period], components: dict, computed_at
) -> list[tuple]:
    """Every period x every segment seen in the range (a period with nothing gets the empty value), as rows
    of COLUMNS."""
    segments = sorted({segment for (_, segment) in components}) if dimension != ALL else [ALL]
    rows = []
    for period in periods:
        for segment in segments:
            value = kpi.value(components.get((period.start, segment), {}))
            rows.append(
                (
                    kpi.key,
                    granularity,
                    dimension,
                    period.start,
                    segment[:200],
                    period.end,
                    _decimal(value.value),
                    _decimal(value.numerator),
                    _decimal(value.denominator),
                    value.sample_size,
                    _decimal(value.ci_low),
                    _decimal(value.ci_high),
                    value.details,
                    kpi.version,
                    computed_at,
                )
            )
    return rows


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(PLACES)


def _write(
    kpi: Kpi, granularity: str, periods: list[Period], rows: list[tuple], computed_at, dimensions=None, whole=False
) -> int:
    """Upsert one KPI's snapshots of one granularity and drop the segments that no longer exist, atomically
    (of `dimensions` only, when the refresh covered only those). A refresh of the `whole` history also drops the
    periods before its first: no record counts in them any more (an earlier refresh wrote them, for a record
    since moved or deleted), and their segments would live on in the segment lists."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _upsert_by_copy(rows)
        else:
            KpiSnapshot.objects.bulk_create(
                [KpiSnapshot(**dict(zip(COLUMNS, row, strict=True))) for row in rows],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=list(KEY_COLUMNS),
                update_fields=list(COLUMNS[5:]),
            )
        written = KpiSnapshot.objects.filter(kpi=kpi.key, granularity=granularity, period_start__lte=periods[-1].start)
        if not whole:
            written = written.filter(period_start__gte=periods[0].start)
        if dimensions is not None:
            written = written.filter(dimension__in=dimensions)
        written.exclude(computed_at=computed_at).delete()
    return len(rows)


def _upsert_by_copy(rows: list[tuple]) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE from it
    (building tens of thousands of model instances and INSERT statements costs more than computing them)."""
    table = KpiSnapshot._meta.db_table
    names = ", ".join(COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in COLUMNS[5:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS kpi_snapshot_load AS SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE kpi_snapshot_load")
        with cursor.copy(f"COPY kpi_snapshot_load ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:12], json.dumps(row[12]), *row[13:]))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM kpi_snapshot_load "
            f"ON CONFLICT ({', '.join(KEY_COLUMNS)}) DO UPDATE SET {updates}"
        )


# Refresh locks held by this thread (its database session): {scope: (token, "advisory" | "cache" | None)}.
# Refuses a refresh started from inside another of the same scope: an advisory lock is re-entrant in a session.
_local = threading.local()


def _held() -> dict[str, tuple[str, str | None]]:
    return _local.__dict__.setdefault("held", {})


INTERRUPTED = "Interrupted: the process running it stopped before the end (a later refresh redid it)."


def _advisory_key(scope: str) -> int:
    digest = hashlib.blake2b(f"crm:kpis-refresh:{scope}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _acquire(scope: str) -> str:
    """Take the refresh lock of `scope` or raise RefreshBusy; returns the token that releases it.

    On PostgreSQL, a session advisory lock: it holds across processes and machines without Redis, and dies
    with the connection, so a worker killed mid-refresh does not keep the next one out. Elsewhere (SQLite,
    one process) a lock that expires in the cache, skipped when the cache is unreachable."""
    scope = scope[:100]
    token = uuid.uuid4().hex
    if scope in _held():
        raise RefreshBusy(f"A refresh of {scope} is already running.")
    kind = _take_advisory_lock(scope) if connection.vendor == "postgresql" else _take_cache_lock(scope, token)
    _held()[scope] = (token, kind)
    return token


def _take_advisory_lock(scope: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_advisory_key(scope)])
        if not cursor.fetchone()[0]:
            raise RefreshBusy(f"A refresh of {scope} is already running.")
    # Holding the lock, a run of this scope still marked running was cut short (its process died).
    KpiRefresh.objects.filter(scope=scope, status=KpiRefresh.Status.RUNNING).update(
        status=KpiRefresh.Status.FAILED, finished_at=timezone.now(), error=INTERRUPTED
    )
    return "advisory"


def _take_cache_lock(scope: str, token: str) -> str | None:
    try:
        if not cache.add(f"kpis:lock:{scope}", token, timeout=LOCK_SECONDS):
            raise RefreshBusy(f"A refresh of {scope} is already running.")
    except RefreshBusy:
        raise
    except Exception:  # cache unreachable: refresh anyway (the upserts stay safe)
        logger.warning("KPI refresh lock unavailable; refreshing without it", exc_info=True)
        return None
    return "cache"


def _release(scope: str, token: str | None) -> None:
    scope = scope[:100]
    held = _held().get(scope)
    if held is None or held[0] != token:
        return
    del _held()[scope]
    try:
        if held[1] == "advisory":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_advisory_key(scope)])
        elif held[1] == "cache" and cache.get(f"kpis:lock:{scope}") == token:
            cache.delete(f"kpis:lock:{scope}")
    except Exception:
        logger.warning("KPI refresh lock could not be released", exc_info=True)


@contextlib.contextmanager
def refresh_lock(scope: str):
    """Hold the refresh lock of `scope` (RefreshBusy when another holds it) for the block."""
    token = _acquire(scope)
    try:
        yield
    finally:
        _release(scope, token)


def _bump_generation() -> None:
    """Invalidate every cached KPI read: their keys include this generation."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("KPI cache generation could not be bumped", exc_info=True)


def kpis_refresh(
    *,
    keys: Iterable[str] | None = None,
    granularities: Iterable[str] = GRANULARITIES,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    starts: dict[str, datetime.date] | None = None,
    dimensions: Iterable[str] | None = None,
    scope: str = "manual",
    progress: Callable[[str, int, int], None] | None = None,
    reuse_before: datetime.date | None = None,
    workers: int | None = None,
    stale: dict[str, datetime.date] | None = None,
    read_from: dict[str, datetime.date] | None = None,
) -> RefreshSummary:
    """Recompute the snapshots of the chosen KPIs for every period from `since` (or each granularity's
    `starts`) to `until`, every segment of their dimensions (or of `dimensions` only, `all` being one); a KPI
    of `stale` (key -> day) from that day too. Each KPI and granularity is written in one transaction, so a
    refresh cut short leaves the previous snapshots in place. The per-day parts of the days before
    `reuse_before` (and a stale KPI's day, or its `read_from` day when earlier: a relabel changes the records of
    every day) come from those an earlier refresh kept (`kpis.rollups`; None: every day from the records). On
    PostgreSQL, the KPIs are split by area between `workers` (default `KPI_REFRESH_WORKERS`) database sessions
    at once (`refresh_groups`). Raises RefreshBusy when a refresh of
    the same scope runs."""
    kpis = _selected(keys)
    granularities = list(granularities)
    until = until or local_today()
    whole = since is None and not starts and not stale
    if since is None and not starts:
        since = history_start()
    floor = history_floor()
    since = since and max(since, floor)
    # A stale KPI's periods start at the floor at the earliest, but its per-day parts are read from the records
    # from its own day (`read_from`, else its stale day): a customer from before the floor counts in every later
    # period's S and E.
    read_from = {**(stale or {}), **(read_from or {})}
    stale = {key: max(day, floor) for key, day in (stale or {}).items()}
    token = _acquire(scope)
    _planner_for_aggregates(on=True)
    started = time.monotonic()
    run = KpiRefresh.objects.create(scope=scope[:100], first_period=since)
    summary = RefreshSummary(kpis=len(kpis), first_period=since)
    total = len(kpis) * len(granularities)
    done = itertools.count(1)
    chosen = None if dimensions is None else set(dimensions)
    # One instant for every granularity, so that the parts that depend on it (an SLA overdue by now) read the
    # same rows for all four and run once.
    now = timezone.now()
    # The KPIs recomputed from the same day go together, those of the open periods alone first.
    batches: dict[datetime.date | None, list[Kpi]] = {}
    for kpi in kpis:
        batches.setdefault((stale or {}).get(kpi.key), []).append(kpi)

    def refresh_batch(day: datetime.date | None, batch: list[Kpi]) -> None:
        ranges = {}
        for granularity in granularities:
            first = min((starts or {}).get(granularity, since), day or until, until)
            ranges[granularity] = periods_between(granularity, first, until)
        summary.periods = max(summary.periods, sum(len(periods) for periods in ranges.values()))
        # Parts shared by KPIs, and by granularities for the per-day ones, which cover the days of every range.
        memo: dict = {"ranges": ranges}
        if chosen is not None:
            memo["dimensions"] = chosen
        if ranges:
            memo["day_range"] = (
                min(periods[0].start for periods in ranges.values()),
                max(periods[-1].end for periods in ranges.values()),
            )
        earliest = min((read_from[kpi.key] for kpi in batch), default=None) if day else None
        reuse = min(reuse_before, earliest) if reuse_before and earliest else reuse_before

        def refresh_group(group: list[Kpi]) -> RefreshSummary:
            """The group's KPIs over every granularity, with a memo of their own."""
            done_here = RefreshSummary()
            group_memo = {**memo, "store": DailyStore(reuse_before=reuse, as_of=now)}
            for granularity, periods in ranges.items():
                computed_at = timezone.now()
                for kpi in group:
                    snapshots = []
                    for dimension in (ALL, *kpi.dimensions):
                        if chosen is not None and dimension not in chosen:
                            continue
                        query = Query(granularity, periods, dimension, settings.TIME_ZONE, memo=group_memo, now=now)
                        components = kpi.components(query)
                        snapshots += _snapshots(kpi, granularity, dimension, periods, components, computed_at)
                        done_here.queries += query.queries
                    done_here.rows_written += _write(kpi, granularity, periods, snapshots, computed_at, chosen, whole)
                    done_here.queries += 2
                    if progress:
                        progress(f"{kpi.key} by {granularity}", next(done), total)
                _forget(group_memo, granularity)
            return done_here

        groups = refresh_groups(batch, settings.KPI_REFRESH_WORKERS if workers is None else workers)
        for done_here in _in_sessions(refresh_group, groups):
            summary.rows_written += done_here.rows_written
            summary.queries += done_here.queries

    try:
        for day, batch in sorted(batches.items(), key=lambda item: (item[0] is not None, item[0] or until)):
            refresh_batch(day, batch)
        run.status = KpiRefresh.Status.SUCCEEDED
    except Exception as error:
        run.status = KpiRefresh.Status.FAILED
        run.error = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        summary.seconds = time.monotonic() - started
        run.finished_at = timezone.now()
        run.kpis, run.periods, run.rows_written, run.queries = (
            summary.kpis,
            summary.periods,
            summary.rows_written,
            summary.queries,
        )
        run.save()
        _planner_for_aggregates(on=False)
        _release(scope, token)
        # Whatever the outcome, the pages' notice of the last refresh changes with it.
        _bump_generation()
    return summary


def refresh_groups(kpis: list[Kpi], workers: int) -> list[list[Kpi]]:
    """The KPIs split into at most `workers` groups, one per database session of a refresh: whole areas (the
    parts a refresh shares, such as the orders per day, stay within an area), each to the group with the fewest
    KPIs so far. One group on SQLite, which serves one writer at a time."""
    if connection.vendor != "postgresql" or workers < 2:
        return [kpis] if kpis else []
    areas: dict[str, list[Kpi]] = {}
    for kpi in kpis:
        areas.setdefault(kpi.area, []).append(kpi)
    groups: list[list[Kpi]] = [[] for _ in range(min(workers, len(areas)))]
    for area in sorted(areas.values(), key=len, reverse=True):
        min(groups, key=len).extend(area)
    return [group for group in groups if group]


def _in_sessions(work: Callable[[list[Kpi]], RefreshSummary], groups: list[list[Kpi]]) -> list[RefreshSummary]:
    """`work` of each group at once, the first in this thread and the others in threads of their own, each
    with its own database session (its planner settings as the refresh's); the first error is raised once all
    have ended."""

    def in_thread(group: list[Kpi]) -> RefreshSummary:
        try:
            _planner_for_aggregates(on=True)
            return work(group)
        finally:
            connection.close()

    if len(groups) < 2:
        return [work(group) for group in groups]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(groups) - 1) as pool:
        others = [pool.submit(in_thread, group) for group in groups[1:]]
        try:
            first = work(groups[0])
        finally:
            concurrent.futures.wait(others)
    return [first, *(future.result() for future in others)]


def _forget(memo: dict, granularity: str) -> None:
    """Drop from the memo what no later granularity reads, so that memory holds one granularity's rows: the
    raw rows of queries (every dimension has read them by now) and this granularity's parts and rows of the
    parts read for every granularity at once. The per-day rows and the parts every granularity shares (customer
    counts, CLV window orders) stay."""
    for key in list(memo):
        if not isinstance(key, tuple):
            continue
        if key[0] == "across":
            for done in [part for part in memo[key] if part[0] == granularity]:
                del memo[key][done]
        elif (
            key[0] in ("split", "split_columns")
            or key[1] == granularity
            or (key[0] == "daily" and key[2] == granularity)
        ):
            del memo[key]


def _planner_for_aggregates(*, on: bool) -> None:
    """KPI queries join the few rows of the periods list to large tables on a computed bucket; PostgreSQL
    underestimates such joins and picks nested loops that take minutes where a hash join takes a second."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # JIT compilation would start on the penalised estimates and costs more than it saves here.
        for setting in ("enable_nestloop", "jit"):
            cursor.execute(f"SET {setting} = off" if on else f"RESET {setting}")
        # Grouping sets and medians sort or hash a few hundred thousand rows: in memory, not on disk.
        cursor.execute(f"SET work_mem = '{settings.KPI_REFRESH_WORK_MEM}'" if on else "RESET work_mem")


def _selected(keys: Iterable[str] | None) -> list[Kpi]:
    definitions = registry()
    if not keys:
        return list(definitions.values())
    unknown = sorted(set(keys) - set(definitions))
    if unknown:
        raise ValueError(f"Unknown KPI: {', '.join(unknown)}. Known: {', '.join(definitions)}.")
    return [definitions[key] for key in definitions if key in set(keys)]


def kpis_refresh_open(*, progress=None) -> RefreshSummary:
    """The periodic refresh: the current and previous period of each granularity, and, for each KPI, every
    period from the earliest stale mark of a table it reads on. Marks are removed only once the refresh
    succeeded.

    The per-day parts of the days before that mark (and before the last `KPI_SETTLED_DAYS`) come from those the
    last refresh kept: no record of those days changed since (`kpis.rollups`)."""
    marks = list(KpiStaleMark.objects.order_by("since").values_list("id", "since", "table"))
    first_record = functools.cache(history_start)
    stale, read_from = {}, {}
    for kpi in _selected(None):
        # A mark of all history (`stale.ALL_HISTORY`) means the periods from the first record, and the records
        # of every day (a relabel moves customers from before the history floor too); any other mark means from
        # its own day, even before the first record (the first record moved or deleted: its old periods are
        # emptied).
        days = [
            (first_record(), HISTORY_FIRST_DAY)
            if since <= ALL_HISTORY
            else (since.astimezone(local_zone()).date(),) * 2
            for _, since, table in marks
            if not table or kpi.reads is None or table in kpi.reads
        ]
        if days:
            stale[kpi.key] = min(day for day, _ in days)
            read_from[kpi.key] = min(day for _, day in days)
    starts = {granularity: open_periods(granularity)[0].start for granularity in GRANULARITIES}
    settled = local_today() - datetime.timedelta(days=settings.KPI_SETTLED_DAYS)
    summary = kpis_refresh(
        starts=starts, scope="open", progress=progress, reuse_before=settled, stale=stale, read_from=read_from
    )
    if marks:
        KpiStaleMark.objects.filter(id__in=[mark_id for mark_id, *_ in marks]).delete()
    return summary


def kpis_mark_stale(*, since: datetime.datetime | datetime.date | None, reason: str = "", table: str = "") -> None:
    """Record that history changed from `since` on, in `table` (empty: in any); the next periodic refresh
    recomputes it for the KPIs that read that table (`Kpi.reads`)."""
    if since is None:
        return
    if not isinstance(since, datetime.datetime):
        since = datetime.datetime.combine(since, datetime.time(), tzinfo=local_zone())
    KpiStaleMark.objects.create(since=since, reason=reason[:100], table=table)


def empty_value(kpi: Kpi) -> Value:
    return kpi.value({})


@transaction.atomic
def kpi_target_set(
    *,
    kpi: str,
    granularity: str,
    period_start: datetime.date | None,
    value: Decimal,
    note: str = "",
    user=None,
    replacing: KpiTarget | None = None,
) -> KpiTarget:
    """Set the whole-business target of a KPI for one period (`period_start`, the period's first day) or for
    every period of the granularity (None). Replaces the target of the same KPI and period, and `replacing`."""
    if kpi not in registry():
        raise ValidationError({"kpi": f"Unknown KPI {kpi!r}."})
    if granularity not in GRANULARITIES:
        raise ValidationError({"granularity": f"Choose one of {', '.join(GRANULARITIES)}."})
    if replacing is not None:
        replacing.delete()
    target, _ = KpiTarget.objects.update_or_create(
        kpi=kpi,
        granularity=granularity,
        period_start=period_start,
        defaults={"value": value, "note": note, "updated_by": user, "updated_at": timezone.now()},
    )
    transaction.on_commit(_bump_generation)
    return target


@transaction.atomic
def kpi_target_delete(*, target: KpiTarget) -> None:
    target.delete()
    transaction.on_commit(_bump_generation)
