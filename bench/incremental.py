"""Benchmark: the refreshes that run all day, after the full one: open periods, new records, old edits.

Usage (from the repository root, on a database seeded with `seed_demo` and refreshed once in full):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python bench/incremental.py \
        [--runs 3] [--json PATH]

Three figures, each the median of `--runs` timed runs of `kpis_refresh_open()`, the periodic refresh (every KPI,
granularity and segment of the open periods, and every period from the earliest stale mark on):

- open: the open periods with no stale mark (what beat runs every few minutes);
- new records: after 10,000 records arrived (5,000 orders, 3,000 tickets, 2,000 survey responses with their
  invitations, copies of the latest ones moved to the last few hours; each run adds 10,000 more), marked stale
  from their earliest time in their tables, as the import marks what it loads; they are deleted after the last
  run (untimed);
- old edits: after 1,000 orders of the month a year back were edited one by one through the ORM (amount up or
  down by 1.00 on alternate runs), marked stale by the model signals as a page, the API or the admin would.

Every run is preceded by an untimed refresh that clears the marks left before it.
"""

import argparse
import datetime
import json
import os
import resource
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

NEW_MARK = "bench-new-"
NEW_RECORDS = {"orders": 5_000, "tickets": 3_000, "responses": 2_000}
EDITS = 1_000


def columns(model, *, leave_out=("id",)) -> list[str]:
    return [field.column for field in model._meta.concrete_fields if field.column not in leave_out]


def moved_copies(cursor, model, count: int, reference: str, overrides: dict[str, str]) -> int:
    """Copies of the `count` latest rows of `model`, every time column moved by the same amount so that
    `reference` falls in the last six hours; `overrides` gives SQL for the columns that must differ."""
    table = model._meta.db_table
    times = {field.column for field in model._meta.concrete_fields if field.get_internal_type() == "DateTimeField"}
    names = columns(model)
    values = [overrides.get(name, f"src.{name} + src.shift" if name in times else f"src.{name}") for name in names]
    cursor.execute(
        f"""
        INSERT INTO {table} ({", ".join(names)})
        SELECT {", ".join(values)}
        FROM (
            SELECT t.*, now() - t.{reference} - (random() * interval '6 hours') AS shift
            FROM {table} t WHERE t.{reference} IS NOT NULL ORDER BY t.{reference} DESC LIMIT {count}
        ) src
        """
    )
    return cursor.rowcount


def arrive(cursor, number: int) -> int:
    """10,000 new records, as a day's orders, tickets and survey answers (external ids bench-new-<run>-<id>)."""
    from sales.models import Order
    from support.models import Ticket
    from surveys.models import Invitation, Response

    mark = f"{NEW_MARK}{number}-"
    external = f"'{mark}' || src.id"
    made = moved_copies(cursor, Order, NEW_RECORDS["orders"], "ordered_at", {"external_id": external})
    made += moved_copies(cursor, Ticket, NEW_RECORDS["tickets"], "created_at", {"external_id": external})
    invitation, response = Invitation._meta.db_table, Response._meta.db_table
    names = columns(Invitation)
    values = [
        {"token_hash": "NULL", "external_id": external}.get(name, f"src.{name} + src.shift")
        if name in ("created_at", "sent_at", "expires_at", "opened_at", "token_hash", "external_id")
        else f"src.{name}"
        for name in names
    ]
    answer_names = columns(Response, leave_out=("id", "invitation_id"))
    answer_values = [
        f"r.{name} + (i.sent_at - old.sent_at)" if name in ("submitted_at", "updated_at") else f"r.{name}"
        for name in answer_names
    ]
    cursor.execute(
        f"""
        WITH src AS (
            SELECT i.*, now() - r.submitted_at - (random() * interval '6 hours') AS shift
            FROM {invitation} i JOIN {response} r ON r.invitation_id = i.id
            WHERE i.sent_at IS NOT NULL ORDER BY r.submitted_at DESC LIMIT {NEW_RECORDS["responses"]}
        ), made AS (
            INSERT INTO {invitation} ({", ".join(names)}) SELECT {", ".join(values)} FROM src
            RETURNING id, external_id, sent_at
        )
        INSERT INTO {response} (invitation_id, {", ".join(answer_names)})
        SELECT i.id, {", ".join(answer_values)}
        FROM made i
        JOIN {invitation} old ON old.id = substring(i.external_id FROM {len(mark) + 1})::bigint
        JOIN {response} r ON r.invitation_id = old.id
        """
    )
    return made + cursor.rowcount


def remove_arrivals(cursor) -> None:
    from sales.models import Order
    from support.models import Ticket
    from surveys.models import Invitation

    for model in (Order, Ticket, Invitation):  # a response goes with its invitation (CASCADE in the schema)
        if model is Invitation:
            cursor.execute(
                f"DELETE FROM surveys_response WHERE invitation_id IN "
                f"(SELECT id FROM {model._meta.db_table} WHERE external_id LIKE '{NEW_MARK}%')"
            )
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE external_id LIKE '{NEW_MARK}%'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the runs and medians to this file")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone
    from kpi_refresh import backend_cpu_seconds  # bench/, next to this file

    from kpis.models import KpiStaleMark
    from kpis.periods import local_zone
    from kpis.services import kpis_mark_stale, kpis_refresh_open
    from sales.models import Order

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database seeded with `seed_demo`.")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def timed(label: str, number: int) -> dict:
        load = os.getloadavg()[0]
        marks = KpiStaleMark.objects.count()
        backend, own, started = backend_cpu_seconds(pid), time.process_time(), time.perf_counter()
        summary = kpis_refresh_open()
        wall = time.perf_counter() - started
        backend = None if backend is None else backend_cpu_seconds(pid) - backend
        own = time.process_time() - own
        print(
            f"{label} run {number}: {wall:.2f} s ({backend or 0:.2f} s database CPU, {own:.2f} s Python CPU), "
            f"{summary.periods} periods, {summary.rows_written} snapshots, {summary.queries} queries, "
            f"{marks} stale marks (load average before: {load:.1f})"
        )
        return {
            "wall": wall,
            "database_cpu": backend,
            "python_cpu": own,
            "periods": summary.periods,
            "snapshots": summary.rows_written,
            "marks": marks,
        }

    results: dict[str, dict] = {}
    with transaction.atomic(), connection.cursor() as cursor:  # what an interrupted run left
        remove_arrivals(cursor)
    kpis_mark_stale(since=timezone.now() - datetime.timedelta(hours=6), reason="bench: clean start")
    kpis_refresh_open()  # clear what was stale before
    runs = [timed("open periods", number) for number in range(1, arguments.runs + 1)]
    results["open"] = {"runs": runs, "wall": statistics.median(run["wall"] for run in runs)}

    runs = []
    for number in range(1, arguments.runs + 1):
        with transaction.atomic(), connection.cursor() as cursor:
            made = arrive(cursor, number)
        earliest = timezone.now() - datetime.timedelta(hours=6)
        for table in ("sales_order", "support_ticket", "surveys_invitation", "surveys_response"):  # as an import
            kpis_mark_stale(since=earliest, reason="bench: new records", table=table)
        runs.append({**timed(f"{made:,} new records", number), "records": made})
    with transaction.atomic(), connection.cursor() as cursor:  # one clean-up for every run's records
        remove_arrivals(cursor)
    kpis_mark_stale(since=timezone.now() - datetime.timedelta(hours=6), reason="bench: new records removed")
    kpis_refresh_open()
    results["new_records"] = {"runs": runs, "wall": statistics.median(run["wall"] for run in runs)}

    today = timezone.localdate()
    year_back = datetime.date(today.year - 1, today.month, 1)
    month_after = datetime.date(year_back.year + year_back.month // 12, year_back.month % 12 + 1, 1)
    zone = local_zone()
    window = [datetime.datetime.combine(day, datetime.time(), tzinfo=zone) for day in (year_back, month_after)]
    edited = list(Order.objects.filter(ordered_at__gte=window[0], ordered_at__lt=window[1]).order_by("id")[:EDITS])
    runs = []
    for number in range(1, arguments.runs + 1):
        step = Decimal("1.00") if number % 2 else Decimal("-1.00")
        with transaction.atomic():
            for order in edited:
                order.amount += step
                order.save(update_fields=["amount"])
        runs.append({**timed(f"{len(edited):,} edits in {year_back:%B %Y}", number), "edits": len(edited)})
    if arguments.runs % 2:  # put the amounts back
        with transaction.atomic():
            for order in edited:
                order.amount -= Decimal("1.00")
                order.save(update_fields=["amount"])
        kpis_refresh_open()
    results["old_edits"] = {
        "runs": runs,
        "wall": statistics.median(run["wall"] for run in runs),
        "month": year_back.isoformat(),
    }
    results["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name in ("open", "new_records", "old_edits"):
        print(f"{name}: median {results[name]['wall']:.2f} s")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
