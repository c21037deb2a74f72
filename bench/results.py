"""bench/RESULTS.md from the figures `bench/run.py` gathered: the table (what, figure, target, pass) and details.

`write_results(results, json_path, md_path, merge=...)`: with `merge`, the steps of `results` replace those of
the JSON already there and the others are kept (a run of some steps only, `--only`).
"""

import json
from pathlib import Path


def _get(data: dict, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _seconds(value) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def _verdict(ok) -> str:
    return {True: "yes", False: "**no**", None: "—"}[ok]


def _below(value, limit) -> bool | None:
    return None if value is None else value < limit


def rows(results: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, pass) for every figure of issue 10."""
    steps = results.get("steps", {})
    table: list[tuple[str, str, str, bool | None]] = []

    full = _get(steps, "refresh", "full", "wall")
    monthly = _get(steps, "refresh", "monthly_whole_business", "wall")
    handwritten = _get(steps, "handwritten", "total")
    mismatches = _get(steps, "handwritten", "mismatches")
    table.append(
        (
            "Full refresh: every KPI, granularity (week, month, quarter, year) and segment over two years",
            _seconds(full),
            "—",
            None,
        )
    )
    peak = _get(steps, "refresh", "full", "peak_memory_mb")
    table.append(
        ("Full refresh, peak memory", "—" if peak is None else f"{peak:.0f} MB", "under 500 MB", _below(peak, 500))
    )
    table.append(
        (
            "Hand-written SQL, every KPI monthly for the whole business (sum of the queries)",
            _seconds(handwritten) + ("" if mismatches is None else f"; {mismatches} months differ from the product"),
            "the same numbers as the product",
            None if mismatches is None else mismatches == 0,
        )
    )
    ratio = full / handwritten if full and handwritten else None
    table.append(
        (
            "Full refresh / hand-written SQL, same KPI set",
            "—" if ratio is None else f"{ratio:.2f}",
            "at most 1.5 (stretch 1.2)",
            None if ratio is None else ratio <= 1.5,
        )
    )
    monthly_ratio = monthly / handwritten if monthly and handwritten else None
    table.append(
        (
            "Product's refresh of the same series only (monthly, whole business) / hand-written SQL",
            "—" if monthly_ratio is None else f"{monthly_ratio:.2f} ({_seconds(monthly)})",
            "reported",
            None,
        )
    )
    peers = _get(steps, "peers", "kpis") or {}
    same = {key: kpi for key, kpi in (_get(steps, "handwritten", "kpis") or {}).items() if key in peers}
    peers_total = sum(kpi["seconds"] for kpi in peers.values()) if peers else None
    same_total = sum(kpi.get("seconds", 0) for kpi in same.values())
    contrast = f" ({peers_total / same_total:.0f}x the hand-written SQL of these KPIs)" if peers and same_total else ""
    table.append(
        (
            f"Peers' way: {len(peers)} KPIs monthly, one ORM query per month and KPI (Python loops for medians and "
            "churn), timed on a few months and extrapolated",
            _seconds(peers_total) + contrast,
            "reported",
            None,
        )
    )
    for key, label, limit in (
        ("open", "Refresh of the open periods", 2),
        ("new_records", "Refresh after 10,000 new records (orders, tickets, responses)", 1),
        ("old_edits", "Refresh after 1,000 edits in a month a year back", 1),
    ):
        value = _get(steps, "incremental", key, "wall")
        table.append((label, _seconds(value), f"under {limit} s", _below(value, limit)))

    runs = _get(steps, "pages", "runs", default={}) or {}
    queries = _get(steps, "pages", "queries", default={}) or {}
    names = {"overview": "KPI overview `/kpis/`", "detail": "KPI detail `/kpis/revenue/`"}
    for page, title in names.items():
        for state, limit in (("warm", 30), ("cold", 300)):
            closed = runs.get(f"{page}_{state}")
            paced = next((run for key, run in runs.items() if key.startswith(f"{page}_{state}_at_")), None)
            count = queries.get(f"{page}_{state}")
            if paced:
                p95 = paced.get("p95_ms")
                passed = _below(p95, limit)
                target = f"p95 under {limit} ms"
                if state == "warm":
                    target += ", at most 2 queries"
                    passed = None if passed is None or count is None else passed and count <= 2
                table.append(
                    (
                        f"{title}, {state} cache, {paced.get('rate')} requests/s offered by 16 clients (gunicorn)",
                        f"p50 {_ms(paced.get('p50_ms'))}, p95 {_ms(p95)}; {count} queries; CPU per request "
                        f"{paced.get('worker_cpu_ms_per_request')} ms gunicorn + "
                        f"{paced.get('database_cpu_ms_per_request')} ms PostgreSQL",
                        target,
                        passed,
                    )
                )
            if closed:
                rps = closed.get("requests_per_second")
                table.append(
                    (
                        f"{title}, {state} cache, 16 clients as fast as answered (gunicorn)",
                        f"{rps} requests/s; p50 {_ms(closed.get('p50_ms'))}, p95 {_ms(closed.get('p95_ms'))}",
                        "at least 150 requests/s" if state == "warm" else "reported",
                        _below(150, rps) if state == "warm" and rps is not None else None,
                    )
                )

    for name, figures in (_get(steps, "lists", "lists", default={}) or {}).items():
        constant = figures["first"]["queries"] == figures["deep"]["queries"]
        for page in ("first", "deep"):
            entry = figures[page]
            p95, queries = entry.get("p95_ms"), entry.get("queries")
            label = "page 1" if page == "first" else f"page {entry.get('page')}"
            text = (
                f"p50 {_ms(entry.get('p50_ms'))}, p95 {_ms(p95)}, {queries} queries "
                f"(CPU per request: {entry.get('python_cpu_ms') or 0:.1f} ms Python, "
                f"{entry.get('database_cpu_ms') or 0:.1f} ms database)"
            )
            passed = _below(p95, 50)
            table.append(
                (
                    f"{name} (`{figures['url']}`), {label}",
                    text,
                    "p95 under 50 ms, query count constant",
                    None if passed is None else passed and constant,
                )
            )

    wall = _get(steps, "import", "wall")
    memory = _get(steps, "import", "peak_memory_mb")
    table.append(("`import_records contacts`, 100,000 rows, validated", _seconds(wall), "under 5 s", _below(wall, 5)))
    table.append(
        ("Import, peak memory", "—" if memory is None else f"{memory:.0f} MB", "under 500 MB", _below(memory, 500))
    )
    suite = _get(steps, "tests", "wall")
    summary = _get(steps, "tests", "summary", default="")
    table.append(
        (
            "The test suite as CI runs it (`make test`)",
            _seconds(suite) + (f": {summary}" if summary else ""),
            "reported",
            None,
        )
    )
    return table


def markdown(results: dict) -> str:
    steps = results.get("steps", {})
    machine = results.get("machine", {})
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); the raw figures are in `bench/results.json`. What the figures",
        "mean, why a target is missed and what would meet it: [NOTES.md](NOTES.md).",
        "",
        f"Run of {results.get('started', '?')} to {results.get('finished', '?')}, median of {results.get('runs', '?')}"
        f" runs per figure, on {machine.get('cpus', '?')} CPUs, PostgreSQL {machine.get('postgresql', '?')}, "
        f"Python {machine.get('python', '?')}; load average before: "
        + " ".join(f"{value:.1f}" for value in machine.get("load_average_before", [])),
        "",
    ]
    counts = _get(steps, "seed", "counts")
    if counts:
        lines += [
            "Data (`seed_demo --size "
            + str(_get(steps, "seed", "size"))
            + "`): "
            + ", ".join(f"{count:,} {label}" for label, count in counts.items())
            + ".",
            "",
        ]
    lines += ["| what | figure | target | pass |", "| --- | --- | --- | --- |"]
    for what, figure, target, passed in rows(results):
        lines.append(f"| {what} | {figure} | {target} | {_verdict(passed)} |")
    failed = {name: step["error"] for name, step in steps.items() if not step.get("ok", True)}
    if failed:
        lines += ["", "## Steps that failed", ""]
        lines += [f"- `{name}`: {error}" for name, error in failed.items()]
    handwritten = _get(steps, "handwritten", "kpis")
    if handwritten:
        lines += [
            "",
            "## Hand-written SQL per KPI (`bench/handwritten/`)",
            "",
            "| KPI | seconds | months | differing |",
        ]
        lines += ["| --- | --- | --- | --- |"]
        for key, kpi in handwritten.items():
            lines.append(
                f"| `{key}` | {kpi.get('seconds', 0):.3f} | {kpi.get('months', '?')} "
                f"| {len(kpi.get('mismatches', []))} |"
            )
    peers = _get(steps, "peers", "kpis")
    if peers:
        lines += ["", "## The peers' way per KPI (`bench/peers.py`)", "", "| KPI | seconds per month | extrapolated |"]
        lines += ["| --- | --- | --- |"]
        for key, kpi in peers.items():
            lines.append(f"| `{key}` | {kpi.get('seconds_per_month', 0):.3f} | {kpi.get('seconds', 0):.1f} s |")
    lines.append("")
    return "\n".join(lines)


def write_results(results: dict, json_path: Path, md_path: Path, *, merge: bool) -> None:
    if merge and json_path.exists():
        previous = json.loads(json_path.read_text())
        previous_steps = previous.get("steps", {})
        previous.update({key: value for key, value in results.items() if key != "steps"})
        previous["steps"] = {**previous_steps, **results.get("steps", {})}
        results = previous
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results))
