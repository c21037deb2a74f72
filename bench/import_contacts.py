"""Benchmark: `manage.py import_records contacts` of a generated file, wall time and peak memory.

Usage (from the repository root; PostgreSQL is what the target in issue 6 is about):

    createdb crm_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench REDIS_URL=redis://127.0.0.1:6379/10 \
        .venv/bin/python bench/import_contacts.py [--rows 100000] [--companies 2000] [--keep DIR]

What it does, each step a `manage.py` command run as its own process, as a user would run it:

1. writes companies.csv and contacts.csv (the same rows for the same --rows and --seed) in a temporary
   directory (or DIR with --keep, which leaves them there);
2. migrates the database, creates the user sales@example.com when missing, imports the companies (untimed);
3. imports the contacts (timed: a fresh import when the database had none of them), then the same file again
   (timed: a re-import, every row unchanged).

For each timed run it prints the command's summary, its wall time and its peak resident memory (that of the
process alone, from wait4), and the machine's load average before it, since other work on the machine shows.
Start from an empty database for a fresh-import figure. With REDIS_URL set the KPI refresh the import
triggers is queued (and left in that Redis database for a worker); without it the refresh runs inline and is
part of the time. SECRET_KEY defaults to a throwaway value for the commands when it is not set.
"""

import argparse
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ("Referral", "Paid ads", "Organic search", "Events", "Partner")
OWNER = "sales@example.com"


def write_files(directory: Path, *, rows: int, companies: int, seed: int) -> tuple[Path, Path]:
    """companies.csv and contacts.csv: every contact has a company, a channel and an owner; a third are
    customers, a ninth have churned; creation times spread over two years."""
    rng = random.Random(seed)
    companies_path, contacts_path = directory / "companies.csv", directory / "contacts.csv"
    with companies_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["external_id", "name", "industry", "region"])
        writer.writerows([f"co-{n}", f"Company {n}", "Retail", "Europe"] for n in range(companies))
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    with contacts_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "external_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "company",
                "region",
                "industry",
                "channel",
                "owner_email",
                "created_at",
                "customer_since",
                "churned_at",
                "opted_out",
            ]
        )
        for n in range(rows):
            created_at = start + datetime.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            customer_since = churned_at = None
            if n % 3 == 0:
                customer_since = created_at + datetime.timedelta(days=rng.randrange(1, 60))
                if n % 9 == 0:
                    churned_at = customer_since + datetime.timedelta(days=rng.randrange(1, 300))
            writer.writerow(
                [
                    f"ct-{n}",
                    f"First{n}",
                    f"Last{n}",
                    f"p{n}@example.org",
                    f"+1555{n:07d}",
                    f"co-{n % companies}",
                    "Europe",
                    "",
                    CHANNELS[n % len(CHANNELS)],
                    OWNER,
                    created_at.isoformat(),
                    customer_since.isoformat() if customer_since else "",
                    churned_at.isoformat() if churned_at else "",
                    "false",
                ]
            )
    return companies_path, contacts_path


def manage(*args: str, env: dict, timed: bool = False) -> dict:
    """Run a manage.py command; with `timed`, print its output, wall time and peak memory (and return them)."""
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    load = os.getloadavg()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"{' '.join(args)} failed ({process.returncode}):\n{output}")
    if timed:
        print(output.rstrip())
        print(
            f"  wall {wall:.2f} s, cpu {usage.ru_utime + usage.ru_stime:.2f} s (this process, not the database's), "
            f"peak RSS {usage.ru_maxrss / 1024:.0f} MB; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_memory_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="contacts in the file (default 100,000)")
    parser.add_argument("--companies", type=int, default=2_000, help="companies they belong to (default 2,000)")
    parser.add_argument("--seed", type=int, default=6, help="seed of the generated times")
    parser.add_argument("--keep", type=Path, help="write the files in this directory and leave them there")
    parser.add_argument("--json", type=Path, help="write the timed runs to this file")
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is not set: this runs on SQLite (the target is about PostgreSQL).", file=sys.stderr)
    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL is not set: the KPI refresh after the import runs inline, within the time.", file=sys.stderr)
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "benchmark-only"}

    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        directory = options.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        companies, contacts = write_files(directory, rows=options.rows, companies=options.companies, seed=options.seed)
        manage("migrate", "--no-input", "-v0", env=env)
        create_owner = (
            "from django.contrib.auth import get_user_model; User = get_user_model(); "
            f"User.objects.filter(email__iexact={OWNER!r}).exists() or "
            f"User.objects.create_user(username={OWNER!r}, email={OWNER!r})"
        )
        manage("shell", "--no-imports", "-c", create_owner, env=env)
        manage("import_records", "companies", str(companies), env=env)
        print(f"{options.rows:,} contacts, {contacts.stat().st_size / 1e6:.1f} MB of CSV")
        print("Import:")
        fresh = manage("import_records", "contacts", str(contacts), env=env, timed=True)
        print("Re-import of the same file:")
        again = manage("import_records", "contacts", str(contacts), env=env, timed=True)
    if options.json:
        options.json.write_text(json.dumps({"rows": options.rows, "import": fresh, "reimport": again}, indent=2))


if __name__ == "__main__":
    main()
