"""`make bench`: every figure of the performance benchmark, on `large` data in PostgreSQL, into bench/RESULTS.md.

Usage (from the repository root, PostgreSQL and Redis up):

    make bench                      # or: .venv/bin/python bench/run.py [--runs 3] [--size large] [--only STEP ...]

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/crm_bench; seeded with
`seed_demo --size SIZE` when it has no contacts yet: 7 to 35 minutes for large on a 2-core machine),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/9; flushed by the page benchmark). Scratch databases next
to it: `<name>_import` (the import, made anew for every run) and `<name>_tests` (the test suite's).

Each step runs as its own process (its peak memory is its own), writes JSON, and the figures go into
bench/results.json (raw) and bench/RESULTS.md (the table: what, figure, target, pass). A step that fails is
reported as failed with its error, and the others still run. Every figure is the median of `--runs` runs, and
every ratio is of two figures of the same run, because the machine is shared.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
STEPS = ("seed", "refresh", "handwritten", "peers", "incremental", "pages", "lists", "import", "tests")
# Counted after seeding: table -> what the issue calls it.
TABLES = {
    "contacts_contact": "contacts",
    "contacts_interaction": "interactions",
    "sales_lead": "leads",
    "sales_deal": "deals",
    "sales_dealstagechange": "deal stage changes",
    "sales_order": "orders",
    "sales_subscription": "subscriptions",
    "sales_spend": "spend rows",
    "support_ticket": "tickets",
    "surveys_invitation": "survey invitations",
    "surveys_response": "survey responses",
}


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def psql(url: str, sql: str) -> str:
    """Run SQL through psql against the server of `url` (connected to its maintenance database `postgres`)."""
    return subprocess.run(
        ["psql", database_url(url, "postgres"), "-AtXc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def query(url: str, sql: str) -> str:
    return subprocess.run(["psql", url, "-AtXc", sql], check=True, capture_output=True, text=True).stdout.strip()


class Bench:
    def __init__(self, *, runs: int, size: str, url: str, redis: str, scratch: Path):
        self.runs, self.size, self.url, self.redis, self.scratch = runs, size, url, redis, scratch
        self.results: dict = {"steps": {}}

    def env(self, **extra) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "REDIS_URL": self.redis,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-a-secret",
            **extra,
        }

    def script(self, name: str, *args: str, env: dict | None = None, timeout: int = 7200) -> dict:
        """Run bench/<name>.py with --json and return what it wrote; its output goes to the terminal."""
        output = self.scratch / f"{name}-{time.monotonic_ns()}.json"
        command = [PYTHON, str(BENCH / f"{name}.py"), *args, "--json", str(output)]
        print(f"\n$ {' '.join(command[1:])}", flush=True)
        subprocess.run(command, cwd=ROOT, env=env or self.env(), check=True, timeout=timeout)
        return json.loads(output.read_text())

    def step(self, name: str, function) -> None:
        print(f"\n== {name}", flush=True)
        started = time.monotonic()
        try:
            self.results["steps"][name] = {"ok": True, **function()}
        except Exception as error:  # one failed step must not lose the others' figures
            print(f"step {name} failed: {error}", file=sys.stderr, flush=True)
            self.results["steps"][name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
        self.results["steps"][name]["seconds"] = time.monotonic() - started

    # --- steps ------------------------------------------------------------------------------------
    def seed(self) -> dict:
        name = database_name(self.url)
        if not psql(self.url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            psql(self.url, f'CREATE DATABASE "{name}"')
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=self.env(), check=True)
        started = time.perf_counter()
        seeded = int(query(self.url, "SELECT count(*) FROM (SELECT 1 FROM contacts_contact LIMIT 1) any_row"))
        if not seeded:  # a second seed_demo would only check, chunk by chunk, that every row is there
            # --force: the benchmark's database is a scratch one, and seed_demo refuses a production-like setting
            # (DEBUG off) without it, for the published demo passwords it sets.
            command = [*manage, "seed_demo", "--size", self.size, "--force"]
            subprocess.run(command, cwd=ROOT, env=self.env(), check=True)
        seconds = time.perf_counter() - started
        # What autovacuum would do in a while after a bulk load: the visibility map (index-only scans) and fresh
        # statistics, so that every run starts from the same state.
        vacuum_started = time.perf_counter()
        query(self.url, "VACUUM (ANALYZE)")
        vacuum = time.perf_counter() - vacuum_started
        counts = {label: int(query(self.url, f"SELECT count(*) FROM {table}")) for table, label in TABLES.items()}
        print(", ".join(f"{count:,} {label}" for label, count in counts.items()))
        return {
            "seeded_now": not seeded,
            "seed_seconds": None if seeded else seconds,
            "vacuum_seconds": vacuum,
            "counts": counts,
            "size": self.size,
        }

    def refresh(self) -> dict:
        full = self.script("kpi_refresh", "--runs", str(self.runs))
        monthly = self.script("kpi_refresh", "--runs", str(self.runs), "--granularity", "month", "--dimension", "all")
        return {"full": full, "monthly_whole_business": monthly}

    def handwritten(self) -> dict:
        return self.script("handwritten", "--runs", str(self.runs))

    def peers(self) -> dict:
        return self.script("peers")

    def incremental(self) -> dict:
        return self.script("incremental", "--runs", str(self.runs))

    def pages(self) -> dict:
        return self.script("pages")

    def lists(self) -> dict:
        return self.script("lists")

    def import_(self) -> dict:
        url = database_url(self.url, f"{database_name(self.url)}_import")
        runs = []
        for _ in range(self.runs):
            psql(url, f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
            psql(url, f'CREATE DATABASE "{database_name(url)}"')
            # The KPI refresh the import asks for is queued for a worker (none here), not run within the time.
            runs.append(self.script("import_contacts", env=self.env(DATABASE_URL=url)))
        psql(url, f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
        return {
            "runs": runs,
            "wall": statistics.median(run["import"]["wall"] for run in runs),
            "peak_memory_mb": max(run["import"]["peak_memory_mb"] for run in runs),
            "reimport_wall": statistics.median(run["reimport"]["wall"] for run in runs),
        }

    def tests(self) -> dict:
        """The whole suite as CI runs it (PostgreSQL, Redis, Celery workers, Chromium), timed once."""
        url = database_url(self.url, f"{database_name(self.url)}_tests")
        # A Redis database of its own: the suite empties its cache, which must not touch the other steps' keys.
        redis = urlsplit(self.redis)
        number = int(redis.path.lstrip("/") or 0) + 1
        env = self.env(DATABASE_URL=url, REDIS_URL=urlunsplit(redis._replace(path=f"/{number}")), CI="true")
        started = time.perf_counter()
        completed = subprocess.run(
            [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        last = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else completed.stderr[-500:]
        print(last)
        if completed.returncode:
            failed = [line for line in completed.stdout.splitlines() if line.startswith("FAILED")]
            print("\n".join(failed))
            raise RuntimeError(f"the suite failed: {last}; " + "; ".join(failed)[:1500])
        return {"wall": wall, "summary": last}

    def run(self, only: list[str]) -> dict:
        self.results.update(
            {
                "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "postgresql": query(database_url(self.url, "postgres"), "SHOW server_version"),
                    "load_average_before": os.getloadavg(),
                },
                "runs": self.runs,
            }
        )
        functions = {name: getattr(self, "import_" if name == "import" else name) for name in STEPS}
        for name in only or STEPS:
            self.step(name, functions[name])
        self.results["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        return self.results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is reported)")
    parser.add_argument("--size", default="large", help="the seed_demo size (default large)")
    parser.add_argument("--only", nargs="+", choices=STEPS, help="these steps only (RESULTS.md keeps the others)")
    arguments = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/crm_bench"
    redis = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/9"

    sys.path.insert(0, str(BENCH))
    from results import write_results  # noqa: PLC0415 (bench/ is not a package)

    with tempfile.TemporaryDirectory(prefix="crm-bench-") as scratch:
        bench = Bench(runs=arguments.runs, size=arguments.size, url=url, redis=redis, scratch=Path(scratch))
        results = bench.run(arguments.only or [])
    write_results(results, BENCH / "results.json", BENCH / "RESULTS.md", merge=bool(arguments.only))
    print(f"\nWrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.json'}.")


if __name__ == "__main__":
    main()
