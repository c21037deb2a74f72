"""Benchmark: the KPI overview and one KPI detail page under concurrent clients, against gunicorn.

Usage (from the repository root, on a database seeded with `seed_demo --size medium` and refreshed):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_medium_copy REDIS_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python bench/pages.py [--seconds 20] [--clients 16] [--workers 3] [--threads 4] [--json PATH]

It starts gunicorn on a free local port (DEBUG off), logs in as the demo `manager`
through the login form (CSRF token and all), then for each page runs `--clients` threads, each with its own
keep-alive connection, requesting the page back to back for `--seconds`. Each client asks for the page of
months of its own (`?granularity=month&period=chosen&on=...`, the demo's 24 months shared out), so that no
two clients ever ask for the same selection:

- warm: the KPI cache filled (a few seconds of the same requests before the run);
- cold: before each request the client starts a new KPI cache generation (an INCR of the generation key in
  Redis, what a refresh or a target change does), so the page's snapshots and targets are read from
  PostgreSQL and the page rendered anew; no other client can have cached that selection in the new
  generation. The session, the user's permissions and the last refresh's row stay as warm. That the
  requests were cold is checked, not assumed: the rows of the snapshot table read during the run
  (pg_stat_user_tables) are reported per request: none when warm; when cold, what one page shows (the
  overview: every KPI's 13 months, 390 rows; the detail page: 24 months and one month's segments).

Workers: 3 gthread workers of 4 threads by default, the best of the setups tried on a 2-core machine (sync
workers 2 to 5, gthread 2 or 3 x 4): a sync worker closes the connection after each answer and waits idle
while PostgreSQL and Redis answer; threads keep the connections alive and overlap those waits, and three
processes keep both cores busy (the GIL lets one thread of a process run Python at a time).

For each run: requests/s, p50, p95 and the slowest request, errors (any answer but 200), the CPU seconds of
the gunicorn workers and of the PostgreSQL backends serving them per request (from /proc: what the pages
cost, however busy the machine is), the client's own CPU, and the load average before the run. The
requests/s figure only means something on a quiet machine: the client, the server and PostgreSQL share its
cores, hence the CPU per request beside it.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

PAGES = {"overview": "/kpis/", "detail": "/kpis/revenue/"}
# The open-loop runs' load, requests per second in all: the target's 150 warm; cold, what a burst right after a
# refresh could bring (each cold request costs about 40 ms of CPU, so 2 cores answer about 50 per second).
RATES = {"warm": 150, "cold": 25}
MONTHS = 24  # the demo's two years
STATISTICS_DELAY = 11  # seconds: an idle PostgreSQL backend reports its table statistics within 10 s
USERNAME, PASSWORD = "manager", "crm-demo"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (0 when it is gone or not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(child) for child in (task / "children").read_text().split()]
    return children


class Gunicorn:
    """gunicorn serving the project on a free local port, DEBUG off, as in production."""

    def __init__(self, *, workers: int, threads: int, environment: dict):
        self.port = free_port()
        self.workers, self.threads = workers, threads
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "crm_project.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health/")
                if connection.getresponse().status in (200, 503) and len(children_of(self.process.pid)) >= workers:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer within 60 s")

    def worker_cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in children_of(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def log_in(port: int) -> str:
    """Log in through the login form as a browser does; returns the Cookie header of the session."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token})
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Referer": "/accounts/login/"}
    connection.request("POST", "/accounts/login/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"Logging in as {USERNAME!r} failed ({response.status}): is the demo data loaded?")
    return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())


def snapshot_rows_read(connection) -> int:
    """Rows of the snapshot table read so far, by sequential and index scans (PostgreSQL's statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables WHERE relname = %s",
            ["kpis_kpisnapshot"],
        )
        return cursor.fetchone()[0]


def backend_pids(connection) -> list[int]:
    """The PostgreSQL backends of the benchmarked database, but this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


def months_back(count: int) -> list[str]:
    """A day in each of the last `count` months, the current one first (`?on=` of a chosen period)."""
    today = datetime.date.today().replace(day=15)
    days = []
    for _ in range(count):
        days.append(today.isoformat())
        today = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=15)
    return days


def selections(path: str, clients: int) -> list[list[str]]:
    """For each client, the addresses it requests in turn: the page for months of its own, so that no two
    clients ever ask for the same selection (a cold request finds nothing another one cached)."""
    days = months_back(MONTHS)
    return [
        [f"{path}?granularity=month&period=chosen&on={day}" for day in days[client::clients]] or [path]
        for client in range(clients)
    ]


def load_run(
    *, port: int, paths: list[list[str]], cookie: str, seconds: float, before_each=None, rate: float | None = None
) -> dict:
    """A thread per list of `paths`, each on its own keep-alive connection, GETting its paths in turn: as fast
    as answers come (closed loop: the throughput), or with `rate` requests per second in all, evenly spread
    over the clients (open loop: the latency at that load, timed from when each request was due, so that a
    slow answer delaying the next request counts against the server too)."""
    clients = len(paths)
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]
    clients_started = list(range(clients))

    def client(own_paths: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        own, failed = [], []
        start.wait()
        index = clients_started.pop()
        while time.perf_counter() < stop_at[0]:
            if before_each:
                before_each()
            path = own_paths[len(own) % len(own_paths)]
            began = time.perf_counter()
            if rate:
                due = stop_at[0] - seconds + (len(own) * clients + index) / rate
                if due > began:
                    time.sleep(due - began)
                began = due
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(str(response.status))
            except (OSError, http.client.HTTPException) as error:
                failed.append(type(error).__name__)
                connection.close()
            own.append(time.perf_counter() - began)
        connection.close()
        with lock:
            timings.extend(own)
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(own_paths,)) for own_paths in paths]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    timings.sort()
    return {
        "requests": len(timings),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(timings) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(timings), 1) if timings else None,
        "p95_ms": round(1000 * timings[int(0.95 * (len(timings) - 1))], 1) if timings else None,
        "max_ms": round(1000 * timings[-1], 1) if timings else None,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def run_pages(
    *, seconds: float = 20, clients: int = 16, workers: int = 3, threads: int = 4, states=("warm", "cold")
) -> dict:
    """Start gunicorn, log in as `manager`, load the overview and the detail page warm then cold; stop."""
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from kpis.services import GENERATION_KEY

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        sys.exit("Set DATABASE_URL (PostgreSQL with the demo data) and REDIS_URL.")
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_COOKIES": "false",  # plain HTTP on the loopback
        "STATIC_MANIFEST": "false",  # no collectstatic needed; the pages' own work is what is measured
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Each worker thread keeps its database connection for the whole benchmark (as a tuned deployment
        # would), so that the PostgreSQL backends measured are the same from start to end of a run.
        "DATABASE_CONN_MAX_AGE": "3600",
    }
    store = redis.Redis.from_url(settings.REDIS_URL)
    generation_key = cache.make_key(GENERATION_KEY)

    def new_generation() -> None:
        store.incr(generation_key)

    server = Gunicorn(workers=workers, threads=threads, environment=environment)
    results = {
        "setup": {
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "clients": clients,
            "seconds": seconds,
            "cpus": os.cpu_count(),
        },
        "runs": {},
    }
    try:
        cookie = log_in(server.port)
        for state, rate in [(kind, rate) for kind in states for rate in (None, RATES[kind])]:
            if state == "cold":
                store.set(generation_key, int(time.time() * 1000))  # an integer, so that INCR can bump it
            for page, path in PAGES.items():
                paths = selections(path, clients)
                # Fills the cache (each client's every selection) and opens every worker's database connection.
                load_run(port=server.port, paths=paths, cookie=cookie, seconds=3)
                pids = backend_pids(connection)
                time.sleep(STATISTICS_DELAY)  # the reads of the filling requests are counted before the run
                load = os.getloadavg()[0]
                snapshot_rows = snapshot_rows_read(connection)
                worker_cpu = server.worker_cpu_seconds()
                database_cpu = sum(process_cpu_seconds(pid) for pid in pids)
                own_cpu = time.process_time()
                run = load_run(
                    port=server.port,
                    paths=paths,
                    cookie=cookie,
                    seconds=seconds,
                    before_each=new_generation if state == "cold" else None,
                    rate=rate,
                )
                own_cpu = time.process_time() - own_cpu
                worker_cpu = server.worker_cpu_seconds() - worker_cpu
                database_cpu = sum(process_cpu_seconds(pid) for pid in pids) - database_cpu
                # Backends opened during the run (none expected) count from zero.
                database_cpu += sum(process_cpu_seconds(pid) for pid in set(backend_pids(connection)) - set(pids))
                time.sleep(STATISTICS_DELAY)  # a PostgreSQL backend may hold its table statistics back as long
                snapshot_rows = snapshot_rows_read(connection) - snapshot_rows
                requests = max(run["requests"], 1)
                run.update(
                    path=path,
                    load_average_before=round(load, 2),
                    worker_cpu_ms_per_request=round(1000 * worker_cpu / requests, 2),
                    database_cpu_ms_per_request=round(1000 * database_cpu / requests, 2),
                    client_cpu_ms_per_request=round(1000 * own_cpu / requests, 2),
                    snapshot_rows_per_request=round(snapshot_rows / requests, 1),
                )
                run["rate"] = rate
                results["runs"][f"{page}_{state}" + (f"_at_{rate}" if rate else "")] = run
                print(
                    f"{page} {state}{f' at {rate}/s' if rate else ''}: {run['requests_per_second']} req/s, "
                    f"p50 {run['p50_ms']} ms, "
                    f"p95 {run['p95_ms']} ms, {run['errors']} errors; CPU per request: gunicorn "
                    f"{run['worker_cpu_ms_per_request']} ms, PostgreSQL {run['database_cpu_ms_per_request']} ms; "
                    f"snapshot rows read per request {run['snapshot_rows_per_request']} (load {load:.1f} before)",
                    flush=True,
                )
    finally:
        server.stop()
        with contextlib.suppress(Exception):
            cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)  # as a refresh leaves it
    results["queries"] = query_counts()
    return results


def query_counts() -> dict[str, int]:
    """The queries of each page, cold (a new cache version) then warm, in this process as a request runs them."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kpis.services import GENERATION_KEY

    settings.ALLOWED_HOSTS = ["testserver"]
    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # no collectstatic
    settings.STORAGES = {**settings.STORAGES, "staticfiles": plain_static}
    client = Client()
    client.force_login(get_user_model().objects.get(username=USERNAME))
    counts = {}
    for page, path in PAGES.items():
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        for state in ("cold", "warm"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200, path
            counts[f"{page}_{state}"] = len(captured)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="threads per worker; 1: sync workers, more: gthread")
    parser.add_argument("--states", default="warm,cold", help="which runs: warm, cold or both (warm,cold)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    arguments = parser.parse_args()
    results = run_pages(
        seconds=arguments.seconds,
        clients=arguments.clients,
        workers=arguments.workers,
        threads=arguments.threads,
        states=arguments.states.split(","),
    )
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
