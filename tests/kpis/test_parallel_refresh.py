"""The refresh split between database sessions (`KPI_REFRESH_WORKERS`, `refresh_groups`): the same snapshots
as one session, each KPI computed once, the groups at the same time.

PostgreSQL only (SQLite serves one writer at a time, so there the refresh stays in one session), with the
demo's data committed (transaction=True) so that the refresh's other sessions see it.
"""

import datetime
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from kpis.definitions.base import registry
from kpis.models import KpiDailyPart, KpiRefresh, KpiSnapshot
from kpis.periods import GRANULARITIES, local_today
from kpis.services import kpis_refresh, kpis_refresh_open, refresh_groups

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    with override_settings(DEBUG=True):  # seed_demo refuses to run with DEBUG off unless forced
        call_command("seed_demo", size="small", stdout=StringIO())


def snapshots() -> list[tuple]:
    return sorted(
        KpiSnapshot.objects.values_list(
            "kpi", "granularity", "dimension", "period_start", "segment", "value", "numerator", "denominator",
            "sample_size", "details",
        )
    )  # fmt: skip


def forget_every_snapshot() -> None:
    """No snapshot, and no per-day part kept, so that the next refresh reads the records again."""
    KpiSnapshot.objects.all().delete()
    KpiDailyPart.objects.all().delete()


class Progress:
    """What a refresh reports, and from which thread."""

    def __init__(self):
        self.steps: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def __call__(self, step: str, done: int, total: int) -> None:
        with self.lock:
            self.steps.append((step, threading.get_ident()))

    @property
    def threads(self) -> set[int]:
        return {thread for _, thread in self.steps}


def test_two_sessions_give_the_snapshots_of_one(demo):
    # Periods that all ended before last year's end: nothing in them changes with the clock between the runs
    # (an SLA target falling due).
    until = datetime.date(local_today().year - 1, 12, 31)
    forget_every_snapshot()  # the open periods' snapshots the demo's import asked for
    kpis_refresh(until=until)
    one = snapshots()
    forget_every_snapshot()

    progress = Progress()
    summary = kpis_refresh(until=until, workers=2, progress=progress)

    assert snapshots() == one
    assert {kpi for kpi, *_ in one} == set(registry())  # every KPI has snapshots to compare
    steps = [step for step, _ in progress.steps]
    assert sorted(steps) == sorted(f"{key} by {g}" for key in registry() for g in GRANULARITIES)  # each once
    assert len(progress.threads) == 2
    assert summary.rows_written == len(one)
    assert KpiRefresh.objects.filter(status=KpiRefresh.Status.SUCCEEDED).count() == 2


def test_the_periodic_refresh_uses_the_sessions_the_setting_gives(demo, settings):
    settings.KPI_REFRESH_WORKERS = 2
    progress = Progress()

    kpis_refresh_open(progress=progress)

    assert len(progress.threads) == 2
    assert len(progress.steps) == len(registry()) * len(GRANULARITIES)

    settings.KPI_REFRESH_WORKERS = 1
    progress = Progress()
    kpis_refresh_open(progress=progress)

    assert len(progress.threads) == 1


def test_groups_keep_each_area_whole_and_hold_every_kpi_once():
    kpis = list(registry().values())

    groups = refresh_groups(kpis, 2)

    assert len(groups) == 2
    assert sorted(kpi.key for group in groups for kpi in group) == sorted(kpi.key for kpi in kpis)
    areas = [{kpi.area for kpi in group} for group in groups]
    assert not areas[0] & areas[1]
    assert refresh_groups(kpis, 1) == [kpis]
    assert len(refresh_groups(kpis, 10)) == len({kpi.area for kpi in kpis})  # no more groups than areas
