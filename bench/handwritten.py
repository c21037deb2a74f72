"""Benchmark: the physical limit. Hand-written SQL for every KPI, checked against the product's snapshots.

Usage (from the repository root, on a database whose KPIs were refreshed, e.g. one seeded with
`seed_demo --size medium` then `manage.py refresh_kpis --all`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_medium .venv/bin/python bench/handwritten.py \
        [--first 2023-01-01 --stop 2025-01-01] [--runs 3] [--json PATH]

Each `bench/handwritten/<kpi>.sql` computes one KPI's monthly series for the whole business (segment `all`),
written from KPIS.md as a DBA would, independently of the engine. It takes the named parameters `tz`
(settings.TIME_ZONE), `first` (the first month), `stop` (the month after the last one) and the settings a KPI
needs (`gross_margin`), and returns one row per month: month, value, numerator, denominator. Every file runs
`--runs` times (the median counts); its rows are compared with the product's snapshots of the same months,
rounded to two decimals as the API shows them. The default months are the 24 complete months before the current
one.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

HANDWRITTEN = Path(__file__).resolve().parent / "handwritten"
TWO_PLACES = Decimal("0.01")
COMPARED = ("value", "numerator", "denominator")


def handwritten_files() -> dict[str, Path]:
    """{kpi key: its .sql file}, in name order."""
    return {path.stem: path for path in sorted(HANDWRITTEN.glob("*.sql"))}


def add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first: datetime.date, stop: datetime.date) -> list[datetime.date]:
    """The first days of the months in [first, stop)."""
    count = (stop.year - first.year) * 12 + stop.month - first.month
    return [add_months(first, offset) for offset in range(count)]


def default_months(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The 24 complete months before the one holding `today`: (first, stop)."""
    stop = today.replace(day=1)
    return add_months(stop, -24), stop


def rounded(value) -> Decimal | None:
    """As the product shows a value: two decimals."""
    return None if value is None else Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def product_series(kpi_key: str, months: list[datetime.date]) -> dict[datetime.date, dict]:
    """The product's monthly values of one KPI for the whole business, as the KPI API reads them: a month with
    no snapshot has the KPI's empty value (0 for a count or a sum, empty for a rate or an average)."""
    from kpis.definitions.base import registry
    from kpis.models import KpiSnapshot
    from kpis.sql import ALL

    found = {
        row["period_start"]: row
        for row in KpiSnapshot.objects.filter(
            kpi=kpi_key, granularity="month", dimension=ALL, segment=ALL, period_start__in=months
        ).values("period_start", *COMPARED)
    }
    empty = registry()[kpi_key].value({})
    blank = {"value": empty.value, "numerator": empty.numerator, "denominator": empty.denominator}
    return {month: found.get(month, blank) for month in months}


def mismatches(product: dict[datetime.date, dict], handwritten: list[tuple]) -> list[dict]:
    """The months where the two differ once rounded: the value, and the numerator and denominator where both
    have one. A month missing from either side is a mismatch."""
    found = []
    written = {month: dict(zip(COMPARED, values, strict=True)) for month, *values in handwritten}
    for month in sorted(product.keys() | written.keys()):
        ours, theirs = written.get(month), product.get(month)
        if ours is None or theirs is None:
            differs = True
        else:
            differs = rounded(ours["value"]) != rounded(theirs["value"]) or any(
                ours[name] is not None and theirs[name] is not None and rounded(ours[name]) != rounded(theirs[name])
                for name in ("numerator", "denominator")
            )
        if differs:
            found.append({"month": month.isoformat(), "product": _shown(theirs), "handwritten": _shown(ours)})
    return found


def _shown(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {name: None if row[name] is None else str(rounded(row[name])) for name in COMPARED}


def _run_files(cursor, pid: int, parameters: dict, months: list[datetime.date], runs: int) -> dict:
    from bench.kpi_refresh import backend_cpu_seconds

    results = {}
    for kpi_key, path in handwritten_files().items():
        sql = path.read_text()
        seconds, cpu_seconds = [], []
        for _ in range(runs):
            cpu, started = backend_cpu_seconds(pid), time.perf_counter()
            cursor.execute(sql, parameters)
            rows = cursor.fetchall()
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(None if cpu is None else backend_cpu_seconds(pid) - cpu)
        results[kpi_key] = {
            "seconds": statistics.median(seconds),
            "database_cpu_seconds": None if None in cpu_seconds else statistics.median(cpu_seconds),
            "months": len(rows),
            "mismatches": mismatches(product_series(kpi_key, months), rows),
        }
    return results


def run_handwritten(connection, *, first: datetime.date, stop: datetime.date, runs: int = 3) -> dict:
    """Run every hand-written KPI query `runs` times on `connection` (a Django connection) for the months
    [first, stop) and compare its rows with the product's snapshots. Returns {first, stop, runs, total (the sum
    of the median seconds), database_cpu_seconds (likewise), mismatches (how many KPI months differ), kpis: {key:
    {seconds, database_cpu_seconds, months, mismatches: [{month, product, handwritten}]}}}."""
    from django.conf import settings

    parameters = {
        "tz": settings.TIME_ZONE,
        "first": first,
        "stop": stop,
        "gross_margin": Decimal(repr(settings.KPI_GROSS_MARGIN)),
    }
    months = months_between(first, stop)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        # The session settings the product's refresh runs with (kpis.services), so both get the same memory.
        cursor.execute(f"SET work_mem = '{settings.KPI_REFRESH_WORK_MEM}'")
        cursor.execute("SET jit = off")
        try:
            results = _run_files(cursor, pid, parameters, months, runs)
        finally:
            cursor.execute("RESET work_mem")
            cursor.execute("RESET jit")
    cpu_total = [result["database_cpu_seconds"] for result in results.values()]
    return {
        "first": first.isoformat(),
        "stop": stop.isoformat(),
        "runs": runs,
        "total": sum(result["seconds"] for result in results.values()),
        "database_cpu_seconds": None if None in cpu_total else sum(cpu_total),
        "mismatches": sum(len(result["mismatches"]) for result in results.values()),
        "kpis": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=datetime.date.fromisoformat, help="First month (default: 24 months back).")
    parser.add_argument("--stop", type=datetime.date.fromisoformat, help="The month after the last one.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the results as JSON to this file.")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from kpis.periods import local_today

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose KPIs were refreshed.")
    first, stop = default_months(local_today())
    first, stop = arguments.first or first, arguments.stop or stop
    if first.day != 1 or stop.day != 1 or stop <= first:
        sys.exit("--first and --stop are first days of months, --stop after --first.")
    print(
        f"Hand-written SQL, months {first} to {stop} (exclusive), median of {arguments.runs} runs "
        f"(load average before: {os.getloadavg()[0]:.1f})"
    )
    result = run_handwritten(connection, first=first, stop=stop, runs=arguments.runs)
    print(f"{'kpi':<28}{'seconds':>10}{'db CPU s':>10}{'months':>8}{'mismatches':>12}")
    for kpi_key, row in result["kpis"].items():
        cpu = "" if row["database_cpu_seconds"] is None else f"{row['database_cpu_seconds']:.3f}"
        print(f"{kpi_key:<28}{row['seconds']:>10.3f}{cpu:>10}{row['months']:>8}{len(row['mismatches']):>12}")
    cpu = "" if result["database_cpu_seconds"] is None else f"{result['database_cpu_seconds']:.3f}"
    print(f"{'total':<28}{result['total']:>10.3f}{cpu:>10}")
    for kpi_key, row in result["kpis"].items():
        for mismatch in row["mismatches"]:
            print(
                f"mismatch {kpi_key} {mismatch['month']}: product {mismatch['product']}, "
                f"hand-written {mismatch['handwritten']}"
            )
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"Wrote {arguments.json}")


if __name__ == "__main__":
    main()
