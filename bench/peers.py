"""Benchmark, for contrast: monthly KPIs computed the way a typical open-source Django CRM computes its dashboard.

Usage (from the repository root, on a database seeded with `seed_demo --size medium`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_medium .venv/bin/python bench/peers.py [--json PATH]

Peers compute on page load, one period at a time: for each month a few ORM queries (`__range` filters with
`.count()` or `.aggregate()`), and Python loops over model instances for medians and per-customer logic. This
runs that on `--sample-months` months spread over the span (by default the 24 complete months before the
current one) and extrapolates each KPI to the whole span (seconds per month x months). It is reported, not a
target: the product precomputes, and bench/handwritten/ is what it is measured against.
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

import django  # noqa: E402 (the settings above come first)

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Avg, Count, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.kpi_refresh import backend_cpu_seconds  # noqa: E402
from contacts.models import Contact  # noqa: E402
from sales.models import Deal, Lead, Order  # noqa: E402
from support.models import Ticket  # noqa: E402
from surveys.models import Invitation, Response  # noqa: E402

ONE_MICROSECOND = datetime.timedelta(microseconds=1)


def rate(part, whole) -> Decimal | None:
    return Decimal(part) * 100 / Decimal(whole) if whole else None


def mean(values: list) -> Decimal | None:
    return Decimal(sum(values)) / len(values) if values else None


def median(values: list) -> Decimal | None:
    return Decimal(repr(statistics.median(values))) if values else None


# One function per KPI, as a peer writes it: (start, end) are the month's first and last instants (`__range`
# includes both ends, so end is the next month's start less a microsecond); the value for that month.


def revenue(start, end):
    return Order.objects.filter(ordered_at__range=(start, end)).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def new_customers(start, end):
    return Contact.objects.filter(customer_since__range=(start, end)).count()


def active_customers(start, end):
    month_end = end + ONE_MICROSECOND
    return Contact.objects.filter(customer_since__lte=month_end).exclude(churned_at__lte=month_end).count()


def churn_rate(start, end):
    customers = lost = 0
    for contact in Contact.objects.filter(customer_since__lte=start).exclude(churned_at__lte=start):
        customers += 1
        if contact.churned_at is not None and contact.churned_at <= end:
            lost += 1
    return rate(lost, customers)


def average_order_value(start, end):
    totals = Order.objects.filter(ordered_at__range=(start, end)).aggregate(revenue=Sum("amount"), orders=Count("id"))
    return totals["revenue"] / totals["orders"] if totals["orders"] else None


def new_leads(start, end):
    return Lead.objects.filter(created_at__range=(start, end)).count()


def lead_conversion_rate(start, end):
    leads = Lead.objects.filter(created_at__range=(start, end))
    return rate(leads.filter(status=Lead.Status.CONVERTED).count(), leads.count())


def win_rate(start, end):
    closed = Deal.objects.filter(closed_at__range=(start, end))
    won, lost = closed.filter(status=Deal.Status.WON).count(), closed.filter(status=Deal.Status.LOST).count()
    return rate(won, won + lost)


def average_deal_size(start, end):
    won = Deal.objects.filter(status=Deal.Status.WON, closed_at__range=(start, end))
    return won.aggregate(average=Avg("amount"))["average"]


def sales_cycle_length(start, end):
    won = Deal.objects.filter(status=Deal.Status.WON, closed_at__range=(start, end))
    return mean([Decimal((deal.closed_at - deal.created_at).total_seconds()) / 86400 for deal in won])


def new_tickets(start, end):
    return Ticket.objects.filter(created_at__range=(start, end)).count()


def first_response_time(start, end):
    tickets = Ticket.objects.filter(created_at__range=(start, end))
    return median([ticket.first_response_hours for ticket in tickets if ticket.first_response_at is not None])


def resolution_time(start, end):
    return median([ticket.resolution_hours for ticket in Ticket.objects.filter(resolved_at__range=(start, end))])


def csat(start, end):
    responses = Response.objects.filter(kind="csat", submitted_at__range=(start, end))
    return rate(responses.filter(score__gte=4).count(), responses.count())


def nps(start, end):
    scores = [response.score for response in Response.objects.filter(kind="nps", submitted_at__range=(start, end))]
    promoters, detractors = sum(score >= 9 for score in scores), sum(score <= 6 for score in scores)
    return rate(promoters - detractors, len(scores))


def survey_response_rate(start, end):
    sent = Invitation.objects.filter(sent_at__range=(start, end))
    return rate(sent.filter(response__isnull=False).count(), sent.count())


PEER_KPIS: dict[str, Callable] = {
    function.__name__: function
    for function in (
        revenue,
        new_customers,
        active_customers,
        churn_rate,
        average_order_value,
        new_leads,
        lead_conversion_rate,
        win_rate,
        average_deal_size,
        sales_cycle_length,
        new_tickets,
        first_response_time,
        resolution_time,
        csat,
        nps,
        survey_response_rate,
    )
}


def month_starts(first: datetime.date, stop: datetime.date) -> list[datetime.date]:
    months, month = [], first.replace(day=1)
    while month < stop:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def spread(months: list, count: int) -> list:
    """`count` months spread evenly over the span, first and last included."""
    if count >= len(months):
        return list(months)
    if count == 1:
        return [months[len(months) // 2]]
    return [months[round(index * (len(months) - 1) / (count - 1))] for index in range(count)]


def run_peers(*, first: datetime.date, stop: datetime.date, sample_months: int = 3) -> dict:
    """Each KPI of PEER_KPIS on `sample_months` months of [first, stop), timed, and extrapolated to every month.

    Per KPI: the measured wall, database CPU (this connection's backend, when local) and Python CPU seconds, the
    queries run, their per-month mean, the extrapolation to the whole span, and the values of the sampled months."""
    zone = ZoneInfo(settings.TIME_ZONE)
    months = month_starts(first, stop)
    sample = spread(months, sample_months)
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None
    queries = 0

    def count_query(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    results = {}
    with connection.execute_wrapper(count_query):
        for key, compute in PEER_KPIS.items():
            queries, values = 0, {}
            backend = None if pid is None else backend_cpu_seconds(pid)
            own, started = time.process_time(), time.perf_counter()
            for month in sample:
                start = datetime.datetime(month.year, month.month, 1, tzinfo=zone)
                following = (month + datetime.timedelta(days=32)).replace(day=1)
                end = datetime.datetime(following.year, following.month, 1, tzinfo=zone) - ONE_MICROSECOND
                value = compute(start, end)
                values[month.isoformat()] = None if value is None else str(round(Decimal(value), 2))
            wall = time.perf_counter() - started
            own = time.process_time() - own
            database = None if backend is None else (backend_cpu_seconds(pid) or 0) - backend
            per_month = wall / len(sample)
            cpu = None if database is None else (database + own) / len(sample) * len(months)
            results[key] = {
                "sampled_seconds": wall,
                "database_cpu_seconds": database,
                "python_cpu_seconds": own,
                "queries": queries,
                "seconds_per_month": per_month,
                "seconds": per_month * len(months),
                "cpu_seconds": cpu,
                "values": values,
            }
    cpu_total = [result["cpu_seconds"] for result in results.values()]
    return {
        "first": first.isoformat(),
        "stop": stop.isoformat(),
        "months": len(months),
        "sample": [month.isoformat() for month in sample],
        "kpis": results,
        "total_seconds": sum(result["seconds"] for result in results.values()),
        # Database + Python CPU, extrapolated: what the work costs on an idle machine (wall time shows the load too).
        "total_cpu_seconds": None if None in cpu_total else sum(cpu_total),
        "total_sampled_seconds": sum(result["sampled_seconds"] for result in results.values()),
    }


def shown(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=datetime.date.fromisoformat, help="first month (default: 24 months back)")
    parser.add_argument("--stop", type=datetime.date.fromisoformat, help="month after the last (default: this one)")
    parser.add_argument("--sample-months", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")
    arguments = parser.parse_args()

    stop = arguments.stop or timezone.localdate().replace(day=1)
    first = arguments.first or stop.replace(year=stop.year - 2)
    load = os.getloadavg()[0]
    result = run_peers(first=first, stop=stop, sample_months=arguments.sample_months)
    print(
        f"{result['months']} months from {result['first']}, timed on {', '.join(result['sample'])} "
        f"(load average before: {load:.1f})"
    )
    print(
        f"{'KPI':<24} {'s/month':>8} {'queries/month':>13} {'DB CPU s':>9} {'Py CPU s':>9} {'whole span s':>12} "
        f"{'span CPU s':>10}"
    )
    for key, figures in result["kpis"].items():
        print(
            f"{key:<24} {figures['seconds_per_month']:>8.3f} {figures['queries'] / len(result['sample']):>13.0f} "
            f"{shown(figures['database_cpu_seconds']):>9} {figures['python_cpu_seconds']:>9.2f} "
            f"{figures['seconds']:>12.2f} {shown(figures['cpu_seconds']):>10}"
        )
    cpu = result["total_cpu_seconds"]
    print(
        f"total, extrapolated to {result['months']} months: {result['total_seconds']:.1f} s wall"
        + ("" if cpu is None else f", {cpu:.1f} s CPU (database + Python)")
    )
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
