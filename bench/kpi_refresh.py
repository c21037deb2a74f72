"""Benchmark: a full KPI refresh (every KPI, granularity, dimension and segment over the whole history).

Usage (from the repository root, on a database seeded with `seed_demo --size medium`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_medium .venv/bin/python bench/kpi_refresh.py [--runs 3]

Each run is `kpis_refresh()` in this process, as `manage.py refresh_kpis --all` runs it. For each run it
prints the wall time, the CPU seconds of the PostgreSQL backend serving it (its parallel workers not
counted) and of this process, the queries and rows written; then the median of the runs and this process's
peak resident memory. The CPU seconds are what the machine would take were it not shared: the wall time on a
busy 2-core machine shows the other work as well, hence the load average before each run.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")


def backend_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a local PostgreSQL backend, from /proc (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--granularity", action="append", dest="granularities", help="only these (repeatable)")
    parser.add_argument("--dimension", action="append", dest="dimensions", help="only these, `all` included")
    parser.add_argument("--json", type=Path, help="write the runs and medians to this file")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from kpis.periods import GRANULARITIES
    from kpis.services import kpis_refresh

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database seeded with `seed_demo --size medium`.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    runs = []
    for number in range(1, arguments.runs + 1):
        load = os.getloadavg()[0]
        backend, own, started = backend_cpu_seconds(pid), time.process_time(), time.perf_counter()
        summary = kpis_refresh(
            granularities=arguments.granularities or GRANULARITIES,
            dimensions=arguments.dimensions,
            scope=f"bench-{number}",
        )
        wall = time.perf_counter() - started
        backend = None if backend is None else backend_cpu_seconds(pid) - backend
        own = time.process_time() - own
        runs.append((wall, backend or 0.0, own))
        counts = {"queries": summary.queries, "snapshots": summary.rows_written, "periods": summary.periods}
        print(
            f"run {number}: {wall:.1f} s wall, {backend or 0:.1f} s database CPU, {own:.1f} s Python CPU; "
            f"{summary.queries} queries, {summary.rows_written} snapshots, {summary.periods} periods "
            f"(load average before: {load:.1f})"
        )
    wall, backend, own = (statistics.median(run[index] for run in runs) for index in range(3))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"median of {len(runs)}: {wall:.1f} s wall, {backend:.1f} s database CPU + {own:.1f} s Python CPU; "
        f"peak memory {peak:.0f} MB"
    )
    if arguments.json:
        result = {
            "runs": [dict(zip(("wall", "database_cpu", "python_cpu"), run, strict=True)) for run in runs],
            "wall": wall,
            "database_cpu": backend,
            "python_cpu": own,
            "peak_memory_mb": peak,
            **counts,
        }
        arguments.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
