"""Stale marks name the table that changed, and the periodic refresh recomputes the marked history only for the
KPIs that read it (`Kpi.reads`): an old ticket corrected does not send revenue and CLV back a year.

What each KPI declares it reads is checked against the SQL a refresh of it runs; after a refresh of some KPIs
only, every snapshot is still what a refresh of every KPI from the records gives.
"""

import datetime
import re

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from contacts.models import Channel
from kpis.definitions.base import registry
from kpis.models import KpiSnapshot, KpiStaleMark
from kpis.services import kpis_mark_stale, kpis_refresh, kpis_refresh_open
from sales.models import Order
from support.models import Ticket
from tests.kpis.test_engine import business, figures, month

pytestmark = pytest.mark.django_db

TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def tables_read(key: str, since: datetime.date) -> set[str]:
    """The tables of records the SQL of a refresh of one KPI reads (not its own bookkeeping: the kpis app's)."""
    tables = {model._meta.db_table for model in apps.get_models() if model._meta.app_label != "kpis"}
    read: set[str] = set()

    def record(execute, sql, params, many, context):
        read.update(name for name in TABLE.findall(sql) if name in tables)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        kpis_refresh(keys=[key], since=since)
    return read


def first_month() -> datetime.date:
    return month(timezone.localdate().replace(day=1), -8)


@pytest.fixture
def history():
    """Nine months of everything every KPI reads, up to this month, every period refreshed."""
    first = first_month()
    business(months=9, segments=2, first=first)
    kpis_refresh(since=first)
    return first


def assert_every_figure_as_from_the_records(history: datetime.date) -> None:
    """Every snapshot the periodic refreshes left is what a refresh of every KPI over every period gives."""
    periodic = figures()
    kpis_refresh(since=history)  # every KPI, every period, from the records
    assert figures() == periodic


@pytest.fixture
def marked(django_capture_on_commit_callbacks):
    """Changes made in it mark their periods stale, as they do once their transaction commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def written_at(kpi: str, start: datetime.date) -> datetime.datetime:
    return KpiSnapshot.objects.get(
        kpi=kpi, granularity="month", dimension="all", segment="all", period_start=start
    ).computed_at


def test_every_kpi_reads_the_tables_it_declares(history):
    for key, kpi in registry().items():
        read = tables_read(key, history)
        # On PostgreSQL one query labels a subject along every dimension at once, through every table that
        # labels it; elsewhere one dimension at a time, and a KPI's own dimensions may need fewer of them.
        if connection.vendor == "postgresql":
            assert read == set(kpi.reads), key
        else:
            assert read <= set(kpi.reads), key


def test_an_old_ticket_corrected_recomputes_the_support_kpis_and_leaves_revenue_alone(history, marked):
    old = month(history, 1)
    ticket = Ticket.objects.filter(created_at__month=old.month, created_at__year=old.year).first()
    before = {kpi: written_at(kpi, old) for kpi in ("resolution_time", "revenue", "clv")}

    with marked():
        ticket.resolved_at += datetime.timedelta(hours=30)
        ticket.save()
    assert list(KpiStaleMark.objects.values_list("table", flat=True)) == ["support_ticket"]
    kpis_refresh_open()

    assert written_at("resolution_time", old) > before["resolution_time"]
    assert written_at("revenue", old) == before["revenue"]  # not read again: it reads no ticket
    assert written_at("clv", old) == before["clv"]
    assert not KpiStaleMark.objects.exists()
    assert_every_figure_as_from_the_records(history)


def test_an_old_order_corrected_recomputes_the_order_kpis_and_leaves_the_tickets_alone(history, marked):
    old = month(history, 1)
    order = Order.objects.filter(ordered_at__month=old.month, ordered_at__year=old.year).first()
    before = {kpi: written_at(kpi, old) for kpi in ("revenue", "clv", "resolution_time", "win_rate")}

    with marked():
        order.amount += 1000
        order.save()
    kpis_refresh_open()

    assert written_at("revenue", old) > before["revenue"]
    assert written_at("clv", old) > before["clv"]
    assert written_at("resolution_time", old) == before["resolution_time"]
    assert written_at("win_rate", old) == before["win_rate"]
    assert_every_figure_as_from_the_records(history)


def test_a_channel_renamed_recomputes_what_it_labels_and_not_the_tickets(history, marked):
    before = {kpi: written_at(kpi, history) for kpi in ("revenue", "new_leads", "resolution_time")}

    channel = Channel.objects.get(name="Channel 0")
    with marked():
        channel.name = "Referral"
        channel.save()
    assert list(KpiStaleMark.objects.values_list("table", flat=True)) == ["contacts_channel"]
    kpis_refresh_open()

    assert written_at("revenue", history) > before["revenue"]  # from the first record on
    assert written_at("new_leads", history) > before["new_leads"]
    assert written_at("resolution_time", history) == before["resolution_time"]  # a ticket's channel is its own
    assert KpiSnapshot.objects.filter(kpi="revenue", dimension="channel", segment="Referral").exists()
    assert_every_figure_as_from_the_records(history)


def test_a_mark_of_no_table_recomputes_every_kpi(history):
    old = month(history, 1)
    before = {key: written_at(key, old) for key in registry()}

    kpis_mark_stale(since=old, reason="import")
    kpis_refresh_open()

    assert all(written_at(key, old) > written for key, written in before.items())


def test_the_periodic_refresh_counts_its_steps_across_the_kpis_marked_from_different_days(history):
    old = month(history, 1)
    kpis_mark_stale(since=old, reason="a ticket", table="support_ticket")
    steps = []

    kpis_refresh_open(progress=lambda step, done, total: steps.append((done, total)))

    everything = len(registry()) * 4
    assert [done for done, _ in steps] == list(range(1, everything + 1))
    assert {total for _, total in steps} == {everything}


def test_an_import_of_old_tickets_recomputes_the_support_kpis_and_leaves_revenue_alone(history, marked):
    import io

    from contacts.importing import records_import
    from contacts.models import Contact

    old = month(history, 1)
    Contact.objects.filter(pk=Contact.objects.order_by("pk").first().pk).update(external_id="c-imported")
    before = {kpi: written_at(kpi, old) for kpi in ("new_tickets", "resolution_time", "revenue", "clv")}
    created = f"{old.isoformat()}T10:00:00"
    resolved = f"{(old + datetime.timedelta(days=2)).isoformat()}T16:30:00"
    rows = "\n".join(
        f"t-imported-{n},c-imported,Printer jam,email,high,resolved,,{created},{created},{resolved},1,0"
        for n in range(3)
    )
    header = "external_id,contact,subject,channel,priority,status,assignee_email,created_at,first_response_at,"
    header += "resolved_at,agent_replies,reopened_count"

    with marked():  # the import's listener marks the tickets' table and refreshes at once (eager Celery here)
        result = records_import(kind="tickets", stream=io.BytesIO(f"{header}\n{rows}\n".encode()))
    assert (result.imported, result.created) == (True, 3)

    assert written_at("new_tickets", old) > before["new_tickets"]
    assert written_at("resolution_time", old) > before["resolution_time"]
    assert written_at("revenue", old) == before["revenue"]  # not read again: it reads no ticket
    assert written_at("clv", old) == before["clv"]
    assert not KpiStaleMark.objects.exists()
    assert_every_figure_as_from_the_records(history)
