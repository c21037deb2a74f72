"""Benchmark: the contacts list page and the contacts and orders API lists, first page and the 1,000th page.

Usage (from the repository root, on a database seeded with `seed_demo`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_medium .venv/bin/python bench/lists.py \
        [--requests 200] [--json PATH]

In this process, with Django's test Client logged in as the demo manager (`manager`): for each list, the first
page, then the 1,000th page reached by following the `next` links once (a list with fewer pages: its last page,
and the depth reached says so); then each is requested `--requests` times. Reported per list and page: p50 and p95
in ms (wall), the CPU ms of this process and of the PostgreSQL backend per request, and the queries of one request.
Read-only: nothing is written but the session of the login.
"""

import argparse
import html
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("API_RATE_USER", "1000000/second")  # the benchmark's own requests are not throttled
os.environ.setdefault("API_RATE_ADDRESS", "1000000/second")

DEPTH = 1000  # the deep page measured
NEXT_LINK = re.compile(r'href="([^"]*)" rel="next"')

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kpi_refresh import backend_cpu_seconds  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def next_url(response) -> str | None:
    """Where the list's next page is: the API's `next`, or the page's rel="next" link."""
    if response.wsgi_request.path.startswith("/api/"):
        return response.json()["next"]
    match = NEXT_LINK.search(response.content.decode())
    return f"{response.wsgi_request.path}{html.unescape(match.group(1))}" if match else None


def deep_url(client, url: str) -> tuple[str, int]:
    """The URL of the DEPTH-th page (or of the last page, if the list is shorter), and its number."""
    number = 1
    while number < DEPTH:
        link = next_url(client.get(url))
        if link is None:
            break
        url, number = link, number + 1
    return url, number


def measure(client, url: str, requests: int, pid: int | None) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries.captured_queries)  # now: the next request empties the log
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    timings = []
    backend, own = backend_cpu_seconds(pid) if pid else None, time.process_time()
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    own = (time.process_time() - own) * 1000 / requests
    backend = None if backend is None else (backend_cpu_seconds(pid) - backend) * 1000 / requests
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "python_cpu_ms": round(own, 2),
        "database_cpu_ms": None if backend is None else round(backend, 2),
        "queries": query_count,
    }


def run_lists(*, requests: int = 200) -> dict:
    """Each list's first and DEPTH-th page, timed `requests` times: {list: {"first": ..., "deep": ...}}."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    # No collectstatic here: plain static URLs instead of the manifest's (a dictionary read either way).
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": plain_static}

    from contacts.models import Contact
    from sales.models import Order

    client = Client()
    client.force_login(get_user_model().objects.get(username="manager"))
    owner = Contact.objects.exclude(owner=None).values_list("owner", flat=True).order_by("pk").first()
    oldest = Order.objects.order_by("ordered_at").values_list("ordered_at", flat=True).first()
    lists = {
        "contacts page": "/contacts/",
        "contacts page, one owner": f"/contacts/?owner={owner}",
        "contacts API, customers": "/api/contacts/?status=customer",
        "orders API, ordered since the first order": f"/api/orders/?ordered_after={oldest.date().isoformat()}",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT NULL")
        pid = cursor.fetchone()[0]
    results = {"load_average": os.getloadavg()[0], "requests": requests, "lists": {}}
    for name, url in lists.items():
        deep, depth = deep_url(client, url)
        results["lists"][name] = {
            "url": url,
            "first": measure(client, url, requests, pid),
            "deep": {"page": depth, **measure(client, deep, requests, pid)},
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the figures there as JSON")
    arguments = parser.parse_args()
    results = run_lists(requests=arguments.requests)
    for name, figures in results["lists"].items():
        for page in ("first", "deep"):
            row = figures[page]
            label = "page 1" if page == "first" else f"page {row['page']}"
            print(
                f"{name}, {label}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
                f"{row['queries']} queries (CPU per request: {row['python_cpu_ms']:.1f} ms Python, "
                f"{row['database_cpu_ms'] or 0:.1f} ms database)"
            )
    print(f"load average before: {results['load_average']:.1f}")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
