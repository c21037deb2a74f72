"""Reading KPIs: series and overviews from the snapshots, through the cache. Never computes a KPI."""

import datetime
import functools
import hashlib
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from kpis.definitions.base import Kpi, registry
from kpis.models import KpiRefresh, KpiSnapshot, KpiTarget
from kpis.periods import Period, history_floor, local_today, period_containing, periods_between
from kpis.presentation import AREAS
from kpis.services import GENERATION_KEY
from kpis.sql import ALL

logger = logging.getLogger(__name__)

MAX_PERIODS = 600
FIELDS = (
    "period_start",
    "period_end",
    "segment",
    "value",
    "numerator",
    "denominator",
    "sample_size",
    "ci_low",
    "ci_high",
    "details",
    "computed_at",
)


def _cached(key: str, compute):
    """Read through the cache; when the cache cannot be reached, straight from the snapshots."""
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            # Never "no generation": entries cached under an older missing one (evicted) must not answer.
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            generation = cache.get(GENERATION_KEY)
        full_key = f"kpis:{generation}:{key}"
        found = cache.get(full_key)
        if found is not None:
            return found
    except Exception:
        logger.warning("KPI cache unreachable; reading snapshots", exc_info=True)
        return compute()
    result = compute()
    try:
        cache.set(full_key, result, settings.KPI_CACHE_SECONDS)
    except Exception:
        logger.warning("KPI cache unreachable; result not cached", exc_info=True)
    return result


def kpi_page_cached(key: str, compute):
    """A KPI page's rendered parts through the cache, in the generation of the snapshots and targets they
    show (a refresh or a target change starts a new one) and of the code that renders them (a deploy that
    changes it does too); computed from the snapshots when Redis is down."""
    return _cached(f"page:{rendering_release()}:{key}", compute)


@functools.cache
def rendering_release() -> str:
    """A digest of what renders the cached parts of the KPI pages: the templates, the static files their HTML
    names, and the kpis app's code. Read once per process, at its first KPI page."""
    root = settings.BASE_DIR
    files = [
        *(root / "templates").rglob("*"),
        *(root / "static").rglob("*"),
        *(root / "kpis").glob("*.py"),
        *(root / "kpis" / "definitions").glob("*.py"),
    ]
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(path for path in files if path.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _row(snapshot: dict, kpi: Kpi) -> dict:
    return {name: snapshot.get(name) for name in FIELDS}


def _empty_row(kpi: Kpi, period: Period, segment: str) -> dict:
    value = kpi.value({})
    return {
        "period_start": period.start,
        "period_end": period.end,
        "segment": segment,
        "value": value.value,
        "numerator": value.numerator,
        "denominator": value.denominator,
        "sample_size": value.sample_size,
        "ci_low": None,
        "ci_high": None,
        "details": value.details,
        "computed_at": None,
    }


def kpi_series(*, kpi: Kpi, granularity: str, start: datetime.date, end: datetime.date, dimension: str = ALL):
    """Every period of the range that has begun (per segment seen in it), from the snapshots; a period never
    computed gets the KPI's empty value (0 for a count or sum, None for a rate or average). A period still to
    come has no value yet: it is left out, rather than shown with 0 customers; so is a period that ended before
    the history floor (`KPI_HISTORY_YEARS`), which no refresh computes."""
    periods = periods_between(granularity, start, end)
    if len(periods) > MAX_PERIODS:
        raise ValueError(f"At most {MAX_PERIODS} periods at a time; choose a shorter range.")
    today, floor = local_today(), history_floor()
    periods = [period for period in periods if period.start <= today and period.end > floor]
    if not periods:
        return []
    key = f"series:{kpi.key}:v{kpi.version}:{granularity}:{dimension}:{periods[0].start}:{periods[-1].start}"

    def compute():
        snapshots = list(
            KpiSnapshot.objects.filter(
                kpi=kpi.key,
                granularity=granularity,
                dimension=dimension,
                period_start__gte=periods[0].start,
                period_start__lte=periods[-1].start,
            ).values(*FIELDS)
        )
        found = {(row["period_start"], row["segment"]): _row(row, kpi) for row in snapshots}
        segments = sorted({row["segment"] for row in snapshots}) if dimension != ALL else [ALL]
        return [
            found.get((period.start, segment)) or _empty_row(kpi, period, segment)
            for period in periods
            for segment in segments
        ]

    return _cached(key, compute)


def kpi_overview(*, granularity: str = "month", today: datetime.date | None = None) -> list[dict]:
    """Every KPI with its value for the current period, the previous one, and the change."""
    current = period_containing(granularity, today or local_today())
    previous = current.previous()
    key = f"overview:{granularity}:{current.start}"

    def compute():
        rows = KpiSnapshot.objects.filter(
            granularity=granularity, dimension=ALL, segment=ALL, period_start__in=[previous.start, current.start]
        ).values("kpi", "period_start", "value", "sample_size", "computed_at")
        values = {(row["kpi"], row["period_start"]): row for row in rows}
        overview = []
        for kpi in registry().values():
            latest = values.get((kpi.key, current.start), {})
            before = values.get((kpi.key, previous.start), {})
            latest_value, previous_value = latest.get("value"), before.get("value")
            change = None
            if latest_value is not None and previous_value is not None:
                change = Decimal(latest_value) - Decimal(previous_value)
            overview.append(
                {
                    "kpi": kpi,
                    "period_start": current.start,
                    "period_end": current.end,
                    "value": latest_value,
                    "previous_value": previous_value,
                    "change": change,
                    "sample_size": latest.get("sample_size", 0),
                    "computed_at": latest.get("computed_at"),
                }
            )
        return overview

    return _cached(key, compute)


def last_refresh() -> dict:
    """When the snapshots were last refreshed successfully, and whether the latest attempt failed (through
    the cache: every refresh, however it ends, starts a new generation)."""

    def compute():
        runs = list(KpiRefresh.objects.exclude(status=KpiRefresh.Status.RUNNING).order_by("-started_at")[:20])
        good = next((run for run in runs if run.status == KpiRefresh.Status.SUCCEEDED), None)
        return {
            "last_success_at": good.finished_at if good else None,
            "last_failed": bool(runs) and runs[0].status == KpiRefresh.Status.FAILED,
            "last_error": runs[0].error if runs and runs[0].status == KpiRefresh.Status.FAILED else "",
        }

    return _cached("last-refresh", compute)


def _segment_key(segment: str) -> str:
    # Segment labels are free text (names, "(none)"): hashed, so every cache backend takes the key.
    return hashlib.sha1(segment.encode()).hexdigest()[:16]


def last_periods(period: Period, count: int) -> list[Period]:
    """`count` periods ending with `period`, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


def kpi_board(*, period: Period, count: int = 13, dimension: str = ALL, segment: str = ALL) -> dict[str, list | None]:
    """Every KPI's last `count` periods up to `period`, for one segment, in one query (through the cache):
    {key: [row per period, oldest first]}, or None for a KPI that has no such dimension."""
    periods = last_periods(period, count)
    key = f"board:{period.granularity}:{period.start}:{count}:{dimension}:{_segment_key(segment)}"

    def compute():
        rows = KpiSnapshot.objects.filter(
            granularity=period.granularity,
            dimension=dimension,
            segment=segment,
            period_start__in=[each.start for each in periods],
        ).values("kpi", *FIELDS)
        found = {(row["kpi"], row["period_start"]): row for row in rows}
        board = {}
        for kpi in registry().values():
            if dimension != ALL and dimension not in kpi.dimensions:
                board[kpi.key] = None
                continue
            board[kpi.key] = [
                _row(found[(kpi.key, each.start)], kpi)
                if (kpi.key, each.start) in found
                else _empty_row(kpi, each, segment)
                for each in periods
            ]
        return board

    return _cached(key, compute)


def kpi_segments(*, granularity: str, dimension: str) -> list[tuple[str, str]]:
    """The segment labels of one dimension seen in the snapshots of a granularity, for a segment picker: (label,
    what to show). A label only the KPIs of one area have, where other areas have the dimension too, says so (a
    ticket's channel, "chat", is no customer's channel: "chat (Support and satisfaction only)")."""
    if dimension == ALL:
        return []

    def compute():
        areas = {kpi.key: kpi.area for kpi in registry().values()}
        seen: dict[str, set[str]] = {}
        rows = KpiSnapshot.objects.filter(granularity=granularity, dimension=dimension).order_by()
        for segment, key in rows.values_list("segment", "kpi").distinct():
            seen.setdefault(segment, set()).add(areas.get(key, ""))
        shared = len(set().union(*seen.values())) > 1 if seen else False
        names = dict(AREAS)
        return [
            (segment, f"{segment} ({names[next(iter(found))]} only)" if shared and len(found) == 1 else segment)
            for segment, found in sorted(seen.items())
        ]

    return _cached(f"segment-choices:{granularity}:{dimension}", compute)


def kpi_targets(*, granularity: str, starts: list[datetime.date], keys: list[str] | None = None) -> dict:
    """Targets in force: {(kpi, period start): value} for each period of `starts`, a period's own target
    over the standing one of its granularity. One query on a cold cache (setting or deleting a target starts
    a new generation)."""
    asked = hashlib.sha1(repr((sorted(starts), sorted(keys) if keys is not None else None)).encode()).hexdigest()

    def compute():
        targets = KpiTarget.objects.filter(granularity=granularity).filter(
            Q(period_start__isnull=True) | Q(period_start__in=starts)
        )
        if keys is not None:
            targets = targets.filter(kpi__in=keys)
        standing, own = {}, {}
        for target in targets.values("kpi", "period_start", "value"):
            if target["period_start"] is None:
                standing[target["kpi"]] = target["value"]
            else:
                own[(target["kpi"], target["period_start"])] = target["value"]
        result = {}
        for kpi_key in set(standing) | {kpi_key for kpi_key, _ in own}:
            for start in starts:
                value = own.get((kpi_key, start), standing.get(kpi_key))
                if value is not None:
                    result[(kpi_key, start)] = value
        return result

    return _cached(f"targets:{granularity}:{asked[:16]}", compute)


def kpi_target_list():
    return KpiTarget.objects.select_related("updated_by").order_by("kpi", "granularity", "-period_start")


def empty_row(kpi: Kpi, period: Period, segment: str = ALL) -> dict:
    """The row of a period never computed: the KPI's empty value (0 for a count or sum, None for a rate)."""
    return _empty_row(kpi, period, segment)
