"""Recompute KPI snapshots by hand, with a progress bar and a summary."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from kpis.cohorts import kpis_cohorts_refresh
from kpis.definitions.base import registry
from kpis.periods import GRANULARITIES, history_floor
from kpis.services import RefreshBusy, kpis_refresh, kpis_refresh_open
from kpis.sql import ALL

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Recompute KPI snapshots: the open periods by default, all history with --all, or from --since."

    def add_arguments(self, parser):
        parser.add_argument("--kpi", action="append", dest="kpis", metavar="KEY", help="Only this KPI (repeatable).")
        parser.add_argument(
            "--granularity", action="append", dest="granularities", choices=GRANULARITIES, help="Repeatable."
        )
        parser.add_argument(
            "--dimension",
            action="append",
            dest="dimensions",
            metavar="DIMENSION",
            help="Only this dimension's segments (repeatable; `all` is the whole business).",
        )
        parser.add_argument("--since", help="First day to recompute (YYYY-MM-DD).")
        parser.add_argument("--all", action="store_true", help="All history, from the oldest record.")

    def handle(self, *args, kpis=None, granularities=None, dimensions=None, since=None, all=False, **options):
        if kpis:
            unknown = sorted(set(kpis) - set(registry()))
            if unknown:
                raise CommandError(f"Unknown KPI {', '.join(unknown)}. Known: {', '.join(registry())}.")
        if dimensions:
            known = {ALL}.union(*(kpi.dimensions for kpi in registry().values()))
            unknown = sorted(set(dimensions) - known)
            if unknown:
                raise CommandError(f"Unknown dimension {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
        first = None
        if since:
            try:
                first = datetime.date.fromisoformat(since)
            except ValueError as error:
                raise CommandError(f"--since must be a date like 2025-01-31, not {since!r}.") from error
            if first < history_floor():
                self.stdout.write(
                    f"KPIs are computed from {history_floor():%Y-%m-%d} (KPI_HISTORY_YEARS); starting there."
                )
        try:
            if first is None and not all and not kpis and not granularities and not dimensions:
                summary = kpis_refresh_open(progress=self._progress)
            else:
                summary = kpis_refresh(
                    keys=kpis,
                    granularities=granularities or GRANULARITIES,
                    since=first,
                    dimensions=dimensions,
                    scope="manual",
                    progress=self._progress,
                )
        except RefreshBusy as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Refreshed {summary.kpis} KPIs over {summary.periods} periods: {summary.rows_written} snapshots "
                f"written with {summary.queries} queries in {summary.seconds:.1f} s."
            )
        )
        if not kpis and "month" in (granularities or GRANULARITIES):
            cells = kpis_cohorts_refresh()
            self.stdout.write(f"Cohort retention: {cells} cells.")

    def _progress(self, step: str, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total} {step:<40}", ending="")
        self.stdout.flush()
