"""Cohort retention of KPIS.md: customers grouped by the month of their customer_since; the cell for cohort C
and offset k is the share of C still customers at the end of month k after C's month (k = 0: C's own month).
Cells whose month has not ended are empty, which gives the triangle.

Computed set-wise in SQL (one query per dimension: contacts joined with the months that ended since their
cohort, counted per cohort, segment and month) by `kpis_cohorts_refresh`, stored as KpiCohortCell rows; the
page reads those rows only.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kpis.definitions.customers import CUSTOMER_DIMENSIONS
from kpis.models import KpiCohortCell
from kpis.periods import history_floor, periods_between
from kpis.sql import ALL, Query, bucket_day, contact_segments, label

HEAT_STEPS = 10


def _first_cohort() -> datetime.date | None:
    from contacts.models import Contact

    first = Contact.objects.filter(customer_since__isnull=False).order_by("customer_since").first()
    if first is None:
        return None
    return max(timezone.localtime(first.customer_since, timezone.get_default_timezone()).date(), history_floor())


def _months_between(first: datetime.date, later: datetime.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def cohort_cells(*, dimension: str, now: datetime.datetime, first: datetime.date) -> list[KpiCohortCell]:
    """Every cell of every cohort since `first`, for one dimension (all its segments), from one query."""
    today = timezone.localtime(now, timezone.get_default_timezone()).date()
    months = periods_between("month", first, today)
    query = Query("month", months, dimension, settings.TIME_ZONE, now=now)
    segment = query.segment(contact_segments("c"))
    rows = query.fetch(
        f"""
        WITH {query.periods_cte()}
        SELECT cohort.p, {segment.expression} AS seg, later.p, COUNT(*),
            SUM(CASE WHEN c.churned_at IS NULL OR c.churned_at > later.e THEN 1 ELSE 0 END)
        FROM contacts_contact c
        JOIN periods cohort ON cohort.p = {query.bucket("c.customer_since")}
        JOIN periods later ON later.s >= cohort.s AND later.e <= {query.instant(now)}
        {segment.joins}
        WHERE {query.in_range("c.customer_since")}
        GROUP BY 1, 2, 3
        """
    )
    computed_at = timezone.now()
    return [
        KpiCohortCell(
            dimension=dimension,
            segment=label(seg)[:200],
            cohort=bucket_day(cohort),
            offset=_months_between(bucket_day(cohort), bucket_day(later)),
            size=int(size),
            retained=int(retained),
            computed_at=computed_at,
        )
        for cohort, seg, later, size, retained in rows
    ]


def kpis_cohorts_refresh(*, now: datetime.datetime | None = None) -> int:
    """Recompute every cohort cell, for the whole business and each customer dimension; replaces the old
    cells in one transaction (a failed run leaves them). Returns the number of cells written."""
    now = now or timezone.now()
    first = _first_cohort()
    cells = []
    if first is not None:
        for dimension in (ALL, *CUSTOMER_DIMENSIONS):
            cells += cohort_cells(dimension=dimension, now=now, first=first)
    with transaction.atomic():
        KpiCohortCell.objects.all().delete()
        KpiCohortCell.objects.bulk_create(cells, batch_size=2000)
    return len(cells)


def _heat(share: float | None) -> int | None:
    return None if share is None else min(HEAT_STEPS, int(share // 10))


def cohort_table(*, dimension: str = ALL, segment: str = ALL, months: int = 24) -> dict:
    """The triangle of the latest `months` cohorts for one segment, from the stored cells (one query)."""
    if dimension not in (ALL, *CUSTOMER_DIMENSIONS) or (dimension != ALL and segment == ALL):
        dimension, segment = ALL, ALL
    cells = KpiCohortCell.objects.filter(dimension=dimension, segment=segment).values(
        "cohort", "offset", "size", "retained", "computed_at"
    )
    by_cohort: dict[datetime.date, dict] = {}
    computed_at = None
    for cell in cells:
        by_cohort.setdefault(cell["cohort"], {})[cell["offset"]] = cell
        computed_at = max(computed_at, cell["computed_at"]) if computed_at else cell["computed_at"]
    for cohort in sorted(by_cohort)[:-months]:
        del by_cohort[cohort]
    width = max((max(offsets) + 1 for offsets in by_cohort.values()), default=0)
    rows = []
    for cohort in sorted(by_cohort):
        offsets = by_cohort[cohort]
        size = next(iter(offsets.values()))["size"]
        cells_row = []
        for offset in range(width):
            cell = offsets.get(offset)
            if cell is None:
                cells_row.append(None)
                continue
            share = cell["retained"] / size * 100 if size else None
            cells_row.append({"retained": cell["retained"], "share": share, "heat": _heat(share)})
        rows.append({"cohort": cohort, "label": cohort.strftime("%b %Y"), "size": size, "cells": cells_row})
    return {
        "dimension": dimension,
        "segment": segment,
        "offsets": list(range(width)),
        "rows": rows,
        "computed_at": computed_at,
    }
