"""What the KPI pages show, put together from the selectors (snapshots, targets) and the drill-downs.

Everything here reads snapshots through kpis.selectors; nothing computes a KPI.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from kpis import presentation as show
from kpis.definitions.base import Kpi, registry
from kpis.drilldown import DrillDown, drilldown_for
from kpis.forms import Selection
from kpis.periods import Period, period_containing
from kpis.selectors import empty_row, kpi_board, kpi_series, kpi_targets, last_periods
from kpis.sql import ALL

SPARK_PERIODS = 12
STALE_MINIMUM = datetime.timedelta(minutes=15)


def detail_url(kpi: Kpi, selection: Selection, **overrides) -> str:
    return f"{reverse('kpis:detail', args=[kpi.key])}?{urlencode(selection.query(**overrides))}"


# --- refresh notice ------------------------------------------------------------------------------------------


def refresh_notice(info: dict, now: datetime.datetime | None = None) -> dict:
    """What the page says about the freshness of the numbers (last_refresh()'s answer, in words)."""
    now = now or timezone.now()
    last = info.get("last_success_at")
    stale_after = max(STALE_MINIMUM, datetime.timedelta(seconds=3 * settings.KPI_REFRESH_SECONDS))
    notice = {"last_success_at": last, "level": None, "message": ""}
    if last is None:
        notice.update(level="warning", message="The KPIs have not been computed yet: run the refresh (refresh_kpis).")
    elif info.get("last_failed"):
        notice.update(level="danger", message="The last refresh failed; these numbers are from the last good one.")
    elif now - last > stale_after:
        notice.update(level="warning", message="These numbers may be out of date: the refresh has not run lately.")
    return notice


# --- overview ------------------------------------------------------------------------------------------------


@dataclass
class Tile:
    kpi: Kpi
    url: str
    available: bool
    value: str = show.EMPTY
    value_url: str | None = None
    change: show.Change | None = None
    sparkline: str = ""
    survey: dict | None = None
    target: show.TargetStatus | None = None


def overview_areas(selection: Selection) -> list[dict]:
    """The tiles of every KPI, grouped by area: two queries (snapshots and targets) on a cold cache."""
    dimension, segment = (selection.dimension, selection.segment) if selection.segmented else (ALL, ALL)
    periods = last_periods(selection.period, SPARK_PERIODS + 1)
    board = kpi_board(period=selection.period, count=len(periods), dimension=dimension, segment=segment)
    targets = {} if selection.segmented else kpi_targets(granularity=selection.granularity, starts=[periods[-1].start])
    labels = [period.label() for period in periods]
    under_way = selection.period.under_way()
    tiles: dict[str, list[Tile]] = {area: [] for area, _ in show.AREAS}
    for kpi in registry().values():
        rows = board.get(kpi.key)
        url = detail_url(kpi, selection)
        if rows is None:
            tiles[kpi.area].append(Tile(kpi, url, available=False))
            continue
        current, previous = rows[-1], rows[-2]
        links = drilldown_for(kpi.key, selection.period, dimension, segment)
        tiles[kpi.area].append(
            Tile(
                kpi,
                url,
                available=True,
                value=show.format_value(kpi.unit, current["value"]),
                value_url=links.value.url if links.value else None,
                change=show.change_between(kpi, current["value"], previous["value"], labels[-2], under_way=under_way),
                sparkline=show.sparkline([row["value"] for row in rows[1:]], labels[1:], kpi.unit),
                survey=show.survey_facts(kpi, current),
                target=show.target_status(
                    kpi, current["value"], targets.get((kpi.key, periods[-1].start)), under_way=under_way
                ),
            )
        )
    return [{"key": area, "name": name, "tiles": tiles[area]} for area, name in show.AREAS if tiles[area]]


# --- detail --------------------------------------------------------------------------------------------------


def _year_before(period: Period) -> Period:
    return period_containing(period.granularity, period.start - relativedelta(years=1))


def _float(value) -> float | None:
    return None if value is None else round(float(value), 4)


def _part_cell(kpi: Kpi, which: int, value, link) -> dict:
    return {"text": show.format_part(kpi.key, which, value), "url": link.url if link else None}


def _cells(kpi: Kpi, row: dict, links: DrillDown) -> dict:
    """A snapshot's numbers as table cells, each with the link to its records."""
    return {
        "row": row,
        "value": show.format_value(kpi.unit, row["value"]),
        "value_url": links.value.url if links.value else None,
        "numerator": _part_cell(kpi, 0, row["numerator"], links.numerator),
        "denominator": _part_cell(kpi, 1, row["denominator"], links.denominator),
        "sample_size": row["sample_size"],
        "sample_url": links.sample.url if links.sample else None,
        "links": links,
    }


def _point(kpi: Kpi, row: dict, period: Period, links: DrillDown, target) -> dict:
    return {
        **_cells(kpi, row, links),
        "period": period,
        "label": period.label(),
        "range": show.date_range(period),
        "target": show.target_status(kpi, row["value"], target, under_way=period.under_way()),
        "survey": show.survey_facts(kpi, row),
    }


def _tooltip(kpi: Kpi, row: dict) -> str:
    numerator_label, denominator_label = show.PARTS.get(kpi.key, (None, None))
    parts = []
    if numerator_label and row["numerator"] is not None:
        parts.append(f"{numerator_label}: {show.format_part(kpi.key, 0, row['numerator'])}")
    if denominator_label and row["denominator"] is not None:
        parts.append(f"{denominator_label}: {show.format_part(kpi.key, 1, row['denominator'])}")
    parts.append(f"n = {row['sample_size']}")
    return " · ".join(parts)


def _rows_for(series: list[dict], segment: str) -> dict[datetime.date, dict]:
    return {row["period_start"]: row for row in series if row["segment"] == segment}


def detail_series(kpi: Kpi, selection: Selection) -> dict:
    """The last periods up to the selected one, with the previous year and the targets: table and chart."""
    dimension, segment = (
        (selection.dimension, selection.segment)
        if selection.segmented and selection.dimension in kpi.dimensions
        else (ALL, ALL)
    )
    periods = last_periods(selection.period, SPARK_PERIODS)
    with_year_before = selection.granularity != "year"
    first = _year_before(periods[0]) if with_year_before else periods[0]
    series = kpi_series(
        kpi=kpi, granularity=selection.granularity, start=first.start, end=periods[-1].start, dimension=dimension
    )
    found = _rows_for(series, segment)
    targets = kpi_targets(granularity=selection.granularity, starts=[p.start for p in periods], keys=[kpi.key])
    points = []
    for period in periods:
        row = found.get(period.start) or empty_row(kpi, period, segment)
        links = drilldown_for(kpi.key, period, dimension, segment)
        points.append(_point(kpi, row, period, links, targets.get((kpi.key, period.start))))
    previous_year = []
    if with_year_before:
        for point, period in zip(points, periods, strict=True):
            before = _year_before(period)
            row = found.get(before.start) or empty_row(kpi, before, segment)
            previous_year.append(row)
            point["year_before"] = show.format_value(kpi.unit, row["value"])
    if not any(row["value"] is not None for row in previous_year):
        previous_year = []
    name = kpi.name if segment == ALL else f"{kpi.name} ({segment})"
    datasets = [
        {
            "label": name,
            "style": "main",
            "data": [_float(point["row"]["value"]) for point in points],
            "display": [point["value"] for point in points],
            "extra": [_tooltip(kpi, point["row"]) for point in points],
            "links": [point["value_url"] for point in points],
        }
    ]
    if previous_year:
        datasets.append(
            {
                "label": "A year before",
                "style": "previous",
                "data": [_float(row["value"]) for row in previous_year],
                "display": [
                    f"{show.format_value(kpi.unit, row['value'])} ({_year_before(period).label()})"
                    for row, period in zip(previous_year, periods, strict=True)
                ],
            }
        )
    target_values = [point["target"].value if point["target"] else None for point in points]
    if any(value is not None for value in target_values):
        datasets.append(
            {
                "label": "Target",
                "style": "target",
                "data": [_float(value) for value in target_values],
                "display": [show.format_value(kpi.unit, value) for value in target_values],
            }
        )
    chart = {
        "kind": "line",
        "title": f"{name} by {selection.granularity}",
        "unit": kpi.unit,
        "suffix": show.axis_suffix(kpi.unit),
        "labels": [point["label"] for point in points],
        "datasets": datasets,
    }
    current, previous = points[-1], points[-2]
    links = current["links"]
    records = [link for link in (links.numerator, links.denominator, links.sample, *links.extra) if link]
    return {
        "dimension": dimension,
        "segment": segment,
        "unavailable": selection.segmented and dimension == ALL,
        "points": points,
        "current": current,
        "change": show.change_between(
            kpi,
            current["row"]["value"],
            previous["row"]["value"],
            previous["label"],
            under_way=selection.period.under_way(),
        ),
        "facts": show.detail_facts(kpi, current["row"]),
        "links": list({link.url: link for link in records}.values()),
        "has_targets": any(point["target"] for point in points),
        "previous_year": previous_year,
        "chart": chart,
    }


SORT_KEYS = ("segment", "value", "numerator", "denominator", "sample_size", "share")


def detail_breakdown(kpi: Kpi, selection: Selection, dimension: str, sort: str) -> dict | None:
    """The selected period by one dimension: a row per segment with its share, sortable, and a bar chart."""
    if dimension not in kpi.dimensions:
        return None
    period = selection.period
    rows = [
        row
        for row in kpi_series(
            kpi=kpi, granularity=period.granularity, start=period.start, end=period.start, dimension=dimension
        )
        if row["value"] is not None or row["sample_size"] or row["numerator"]
    ]
    additive = kpi.key in show.ADDITIVE_KPIS
    basis = [Decimal(row["numerator"] or 0) if additive else Decimal(row["sample_size"] or 0) for row in rows]
    total = sum(basis) or None
    items = []
    for row, weight in zip(rows, basis, strict=True):
        links = drilldown_for(kpi.key, period, dimension, row["segment"])
        share = weight / total * 100 if total else None
        items.append(
            {
                **_cells(kpi, row, links),
                "segment": row["segment"],
                "share": share,
                "share_text": show.EMPTY if share is None else f"{share:.2f} %",
            }
        )
    column = sort.lstrip("-") if sort.lstrip("-") in SORT_KEYS else "value"
    descending = sort.startswith("-") or sort.lstrip("-") not in SORT_KEYS

    def sort_value(item):
        if column == "segment":
            return item["segment"].lower()
        return item["share"] if column == "share" else item["row"][column]

    # Empty values go last whichever the direction.
    present = sorted((i for i in items if sort_value(i) is not None), key=sort_value, reverse=descending)
    items = present + [item for item in items if sort_value(item) is None]
    chart = {
        "kind": "bar",
        "title": f"{kpi.name} by {show.DIMENSION_LABELS.get(dimension, dimension).lower()}, {period.label()}",
        "unit": kpi.unit,
        "suffix": show.axis_suffix(kpi.unit),
        "horizontal": True,
        "labels": [item["segment"] for item in items],
        "datasets": [
            {
                "label": kpi.name,
                "style": "main",
                "data": [_float(item["row"]["value"]) for item in items],
                "display": [item["value"] for item in items],
                "extra": [_tooltip(kpi, item["row"]) for item in items],
                "links": [item["value_url"] for item in items],
            }
        ],
    }
    return {
        "dimension": dimension,
        "label": show.DIMENSION_LABELS.get(dimension, dimension),
        "items": items,
        "sort": f"-{column}" if descending else column,
        "share_of": "total" if additive else "sample",
        "chart": chart,
    }


def survey_distribution(kpi: Kpi, row: dict) -> dict | None:
    """NPS or CSAT of one period: how many gave each score, by band, with the interval."""
    if kpi.key not in show.SURVEY_KPIS:
        return None
    counts = (row.get("details") or {}).get("distribution") or {}
    total = sum(counts.values())
    scores = range(11) if kpi.key == "nps" else range(1, 6)

    def band(score: int) -> str:
        if kpi.key == "nps":
            return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        return "satisfied" if score >= 4 else "unsatisfied"

    items = [
        {
            "score": score,
            "band": band(score),
            "count": counts.get(str(score), 0),
            "share": (Decimal(counts.get(str(score), 0)) / total * 100) if total else None,
        }
        for score in scores
    ]
    chart = {
        "kind": "bar",
        "title": f"{kpi.name}: answers by score",
        "unit": "count",
        "labels": [str(item["score"]) for item in items],
        "datasets": [
            {
                "label": "Answers",
                "style": "bands",
                "bands": [item["band"] for item in items],
                "data": [item["count"] for item in items],
                "display": [f"{item['count']} ({item['band']})" for item in items],
            }
        ],
    }
    return {"items": items, "total": total, "chart": chart, "facts": show.survey_facts(kpi, row)}
