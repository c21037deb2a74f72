"""The KPI engine's machinery: refresh, lock, failure, query counts, the command and the Celery tasks.

The values of the KPIs are pinned elsewhere (tests/kpis/test_*_kpis.py); here only how they are
computed, written and kept: idempotent upserts, one snapshot per key, a lock per scope, a run cut
short that keeps what it did not reach, and a number of queries that does not depend on the data.
"""

import datetime
import logging
import re
import threading
import time
from decimal import Decimal
from io import StringIO

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_project.celery import app as celery_app
from kpis.definitions import customers
from kpis.definitions.base import registry
from kpis.models import KpiDailyPart, KpiRefresh, KpiSnapshot
from kpis.periods import GRANULARITIES, open_periods
from kpis.selectors import last_refresh
from kpis.services import RefreshBusy, kpis_refresh
from kpis.tasks import refresh_all_history, refresh_open_periods
from sales.models import Campaign, Deal, Lead, Spend
from support.models import Ticket
from surveys.models import Response, Survey, SurveyKind
from tests.contacts.factories import ChannelFactory, ContactFactory
from tests.factories import UserFactory
from tests.sales.factories import CampaignFactory, DealFactory, LeadFactory, OrderFactory, SpendFactory, stage
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

SINCE = datetime.date(2025, 1, 1)
UNTIL = datetime.date(2025, 6, 30)
END_OF_MARCH = datetime.date(2025, 3, 31)
WORKER_TIMEOUT = 30  # seconds


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def month(first: datetime.date, months_later: int) -> datetime.date:
    index = first.month - 1 + months_later
    return datetime.date(first.year + index // 12, index % 12 + 1, 1)


def business(*, months: int, segments: int, first: datetime.date = SINCE) -> None:
    """A little of everything every KPI reads, each month, in `segments` channels, regions, industries,
    owners, campaigns and surveys (the same ones again when called again): customers, orders, spend,
    leads, deals won and lost, resolved tickets and survey answers."""
    won, lost = stage("Won"), stage("Lost")
    for index in range(segments):
        channel = ChannelFactory(name=f"Channel {index}")
        owner = UserFactory(username=f"owner{index}")
        campaign = Campaign.objects.filter(name=f"Campaign {index}").first() or CampaignFactory(
            name=f"Campaign {index}", channel=channel, starts_on=first
        )
        survey = Survey.objects.filter(name=f"Survey {index}").first() or SurveyFactory(
            name=f"Survey {index}", kind=SurveyKind.NPS
        )
        for offset in range(months):
            day = month(first, offset) + datetime.timedelta(days=index % 20 + 1)
            customer = ContactFactory(
                channel=channel,
                owner=owner,
                region=f"Region {index}",
                industry=f"Industry {index}",
                customer_since=at(day, 9),
                churned_at=at(day + datetime.timedelta(days=40)) if offset % 3 == 2 else None,
            )
            OrderFactory(contact=customer, ordered_at=at(day, 15), amount=Decimal(100 + 10 * offset))
            SpendFactory(spent_on=day, channel=channel, amount=Decimal(500), category=Spend.Category.ACQUISITION)
            SpendFactory(spent_on=day, channel=None, amount=Decimal(50), category=Spend.Category.RETENTION)
            LeadFactory(
                channel=channel,
                campaign=campaign,
                owner=owner,
                created_at=at(day, 8),
                status=Lead.Status.CONVERTED,
                converted_at=at(day, 9),
            )
            for outcome, closing_stage in ((Deal.Status.WON, won), (Deal.Status.LOST, lost)):
                DealFactory(
                    contact=customer,
                    channel=channel,
                    owner=owner,
                    stage=closing_stage,
                    status=outcome,
                    created_at=at(day - datetime.timedelta(days=10)),
                    closed_at=at(day, 9),
                )
            TicketFactory(
                contact=customer,
                assignee=owner,
                channel=list(Ticket.Channel)[index % len(Ticket.Channel)],
                priority=list(Ticket.Priority)[index % len(Ticket.Priority)],
                created_at=at(day, 10),
                first_response_at=at(day, 11),
                resolved_at=at(day, 16),
                status=Ticket.Status.RESOLVED,
                agent_replies=1,
            )
            invitation = InvitationFactory(survey=survey, contact=customer, sent_at=at(day, 17))
            Response.objects.create(
                invitation=invitation, kind=SurveyKind.NPS, score=offset % 11, submitted_at=at(day, 18)
            )


def snapshot_values(**filters) -> dict[tuple, tuple]:
    """{(kpi, granularity, dimension, period start, segment): (value, numerator, denominator, sample size,
    ci_low, ci_high)} of the stored snapshots."""
    rows = KpiSnapshot.objects.filter(**filters).values_list(
        "kpi",
        "granularity",
        "dimension",
        "period_start",
        "segment",
        "value",
        "numerator",
        "denominator",
        "sample_size",
        "ci_low",
        "ci_high",
    )
    return {row[:5]: row[5:] for row in rows}


def figures(**filters) -> dict[tuple, tuple]:
    """`snapshot_values` that hold a figure. A refresh writes a snapshot for every segment it saw in its range,
    empty where the segment has nothing: one of the open periods does not write those a refresh over history
    does, and a refresh of some KPIs only leaves the others' as they were."""
    return {key: values for key, values in snapshot_values(**filters).items() if values[0] or values[3]}


def snapshot_value(kpi: str, period_start: datetime.date, *, dimension: str = "all", segment: str = "all"):
    return KpiSnapshot.objects.get(
        kpi=kpi, granularity="month", dimension=dimension, segment=segment, period_start=period_start
    ).value


def besides_upsert_batches(queries: list[dict]) -> int:
    """Queries other than the batches of snapshot upserts, whose number follows the rows written
    (SQLite takes 999 parameters a query, so about 60 snapshots a batch; PostgreSQL 2,000)."""
    return sum(1 for query in queries if not query["sql"].startswith('INSERT INTO "kpis_kpisnapshot"'))


# --- refresh ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_refresh_writes_the_same_snapshots_again():
    business(months=3, segments=2)
    first = kpis_refresh(since=SINCE, until=END_OF_MARCH)
    written = snapshot_values()
    between = timezone.now()

    second = kpis_refresh(since=SINCE, until=END_OF_MARCH)

    assert snapshot_values() == written
    assert KpiSnapshot.objects.count() == len(written) == first.rows_written == second.rows_written
    assert not KpiSnapshot.objects.filter(computed_at__lt=between).exists()  # every one rewritten
    assert {kpi for kpi, *_ in written} == set(registry())


@pytest.mark.django_db
def test_a_segment_that_empties_loses_its_snapshots_on_the_next_refresh():
    paid_ads, referral = ChannelFactory(name="Paid ads"), ChannelFactory(name="Referral")
    customer = ContactFactory(channel=paid_ads)
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 2, 10)), amount=Decimal("400.00"))
    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, until=UNTIL)
    assert set(KpiSnapshot.objects.filter(dimension="channel").values_list("segment", flat=True)) == {"Paid ads"}

    customer.channel = referral
    customer.save()
    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, until=UNTIL)

    assert set(KpiSnapshot.objects.filter(dimension="channel").values_list("segment", flat=True)) == {"Referral"}
    assert snapshot_value("revenue", datetime.date(2025, 2, 1), dimension="channel", segment="Referral") == 400
    assert KpiSnapshot.objects.filter(dimension="channel").count() == 6  # January to June, one segment


@pytest.mark.django_db
def test_a_refresh_of_all_history_drops_the_periods_before_the_first_record_and_their_segments():
    customer = ContactFactory(region="North", customer_since=at(datetime.date(2025, 3, 10)))
    kpis_refresh(keys=["new_customers"], granularities=["month"])
    assert snapshot_value("new_customers", datetime.date(2025, 3, 1), dimension="region", segment="North") == 1

    # The import corrects the customer's start and region: nothing counts before May any more
    customer.customer_since, customer.region = at(datetime.date(2025, 5, 10)), "South"
    customer.save()
    kpis_refresh(keys=["new_customers"], granularities=["month"])

    regions = set(KpiSnapshot.objects.filter(dimension="region").values_list("segment", flat=True))
    first = KpiSnapshot.objects.filter(kpi="new_customers").order_by("period_start").first()
    assert regions == {"South"}  # "North" no longer offered as a segment
    assert first.period_start == datetime.date(2025, 5, 1)
    assert snapshot_value("new_customers", datetime.date(2025, 5, 1), dimension="region", segment="South") == 1


@pytest.mark.django_db
def test_a_refresh_of_recent_periods_leaves_older_snapshots_alone():
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 1, 10)), amount=Decimal("100.00"))
    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, until=UNTIL)
    january = KpiSnapshot.objects.get(kpi="revenue", dimension="all", period_start=SINCE)
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 1, 20)), amount=Decimal("50.00"))

    kpis_refresh(keys=["revenue"], granularities=["month"], since=datetime.date(2025, 4, 1), until=UNTIL)

    january.refresh_from_db()
    assert january.value == 100  # not in the refreshed range: neither recomputed nor dropped
    assert KpiSnapshot.objects.filter(kpi="revenue", dimension="all").count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_leave_one_snapshot_per_key_and_no_error():
    business(months=3, segments=2)
    start_together = threading.Barrier(2)
    errors: list[Exception] = []
    summaries = []

    def refresh(scope: str) -> None:
        try:
            start_together.wait(timeout=10)
            summaries.append(kpis_refresh(since=SINCE, until=END_OF_MARCH, scope=scope))
        except Exception as error:  # whatever it is, the assertion below reports it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh, args=(scope,)) for scope in ("test-one", "test-two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    keys = list(KpiSnapshot.objects.values_list("kpi", "granularity", "dimension", "period_start", "segment"))
    assert len(keys) == len(set(keys)) == summaries[0].rows_written == summaries[1].rows_written
    one, two = KpiRefresh.objects.all()
    assert one.status == two.status == KpiRefresh.Status.SUCCEEDED
    assert one.started_at < two.finished_at and two.started_at < one.finished_at  # they did run at once


# --- the lock -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refresh_of_a_scope_already_running_is_refused_until_it_ends():
    OrderFactory(ordered_at=at(datetime.date(2025, 3, 3)))
    refusals, others = [], []

    def meanwhile(step: str, done: int, total: int) -> None:
        if done == 1:
            try:
                kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, until=UNTIL, scope="nightly")
            except RefreshBusy as busy:
                refusals.append(str(busy))
            others.append(kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, scope="manual"))

    kpis_refresh(
        keys=["revenue", "bookings"], granularities=["month"], since=SINCE, scope="nightly", progress=meanwhile
    )

    assert refusals == ["A refresh of nightly is already running."]
    assert len(others) == 1  # another scope is not held up
    assert list(KpiRefresh.objects.values_list("scope", flat=True).order_by("id")) == ["nightly", "manual"]
    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, scope="nightly")  # released once done


@pytest.mark.django_db
def test_the_command_exits_with_a_clear_error_while_a_manual_refresh_runs():
    errors = []

    def meanwhile(step: str, done: int, total: int) -> None:
        try:
            call_command("refresh_kpis", "--kpi", "revenue", "--since", "2025-01-01", stdout=StringIO())
        except CommandError as error:
            errors.append(str(error))

    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, scope="manual", progress=meanwhile)

    assert errors == ["A refresh of manual is already running."]


@pytest.mark.django_db
def test_the_periodic_task_skips_quietly_while_a_refresh_of_open_periods_runs(caplog):
    caplog.set_level(logging.INFO, logger="kpis.tasks")
    skipped = []

    def meanwhile(step: str, done: int, total: int) -> None:
        if done == 1:
            refresh_open_periods.apply()
            skipped.append(KpiRefresh.objects.filter(scope="open").count())

    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, scope="open", progress=meanwhile)

    assert skipped == [1]  # the task started no run of its own
    assert "skipped: one is running" in caplog.text


# --- a refresh cut short ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refresh_cut_short_keeps_the_previous_snapshots_it_did_not_reach_and_records_the_failure(monkeypatch):
    february = datetime.date(2025, 2, 1)
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 2, 10)), amount=Decimal("100.00"))
    keys = ["revenue", "average_order_value"]
    assert [key for key in registry() if key in keys] == keys  # revenue is written first
    kpis_refresh(keys=keys, granularities=["month"], since=SINCE, until=UNTIL)
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 2, 20)), amount=Decimal("300.00"))

    def database_went_away(query):
        raise RuntimeError("connection to the database was lost")

    monkeypatch.setattr(registry()["average_order_value"], "components", database_went_away)
    with pytest.raises(RuntimeError, match="connection to the database was lost"):
        kpis_refresh(keys=keys, granularities=["month"], since=SINCE, until=UNTIL)

    assert snapshot_value("revenue", february) == 400  # finished before the failure
    assert snapshot_value("average_order_value", february) == 100  # the previous value, not a hole
    assert KpiSnapshot.objects.filter(kpi="average_order_value", dimension="all").count() == 6
    run = KpiRefresh.objects.latest()
    assert run.status == KpiRefresh.Status.FAILED
    assert run.error == "RuntimeError: connection to the database was lost"
    assert run.finished_at is not None
    assert last_refresh()["last_failed"] is True

    monkeypatch.undo()
    kpis_refresh(keys=keys, granularities=["month"], since=SINCE, until=UNTIL)  # the lock was released
    assert snapshot_value("average_order_value", february) == 200
    assert KpiRefresh.objects.latest().status == KpiRefresh.Status.SUCCEEDED


# --- queries ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["counted", "grouped"])
def buyers_found(request, monkeypatch):
    """Both ways the customers' KPIs find the buyers of a period or window: counted in one scan of the orders
    with a flag for each (a refresh of a few periods), or grouped per period and from islands of buying days
    (a refresh of many). Each way costs a fixed number of queries; the counted way one fewer."""
    limit = 10_000 if request.param == "counted" else 0
    monkeypatch.setattr(customers, "COUNTED_PERIODS", limit)
    monkeypatch.setattr(customers, "COUNTED_WINDOWS", limit)


@pytest.mark.django_db
@pytest.mark.usefixtures("buyers_found")
def test_the_queries_of_a_refresh_do_not_grow_with_the_number_of_periods():
    business(months=3, segments=1)
    with CaptureQueriesContext(connection) as three_months:
        short = kpis_refresh(granularities=["month"], since=SINCE, until=END_OF_MARCH)
    business(months=24, segments=1, first=month(SINCE, 3))

    with CaptureQueriesContext(connection) as two_years:
        long = kpis_refresh(granularities=["month"], since=SINCE, until=month(SINCE, 27) - datetime.timedelta(1))

    assert (short.periods, long.periods) == (3, 27)
    assert long.rows_written > 5 * short.rows_written
    queries = [besides_upsert_batches(run.captured_queries) for run in (three_months, two_years)]
    assert queries[0] == queries[1]
    assert long.queries == short.queries


@pytest.mark.django_db
def test_the_queries_of_a_refresh_do_not_grow_with_the_number_of_segments():
    business(months=2, segments=2)
    with CaptureQueriesContext(connection) as two_segments:
        few = kpis_refresh(granularities=["month"], since=SINCE, until=UNTIL)
    business(months=2, segments=8, first=month(SINCE, 2))  # six more channels, owners, regions ...

    with CaptureQueriesContext(connection) as eight_segments:
        many = kpis_refresh(granularities=["month"], since=SINCE, until=UNTIL)

    assert KpiSnapshot.objects.filter(kpi="revenue", dimension="channel").values("segment").distinct().count() == 8
    assert many.rows_written > 2 * few.rows_written
    queries = [besides_upsert_batches(run.captured_queries) for run in (two_segments, eight_segments)]
    assert queries[0] == queries[1]
    assert many.queries == few.queries


# --- the command --------------------------------------------------------------------------------------------

SUMMARY = re.compile(
    r"Refreshed (?P<kpis>\d+) KPIs over (?P<periods>\d+) periods: (?P<rows>\d+) snapshots written "
    r"with (?P<queries>\d+) queries in [\d.]+ s\."
)


def months_since(first: datetime.date) -> int:
    today = timezone.localdate()
    return (today.year - first.year) * 12 + today.month - first.month + 1


@pytest.mark.django_db
def test_refresh_kpis_writes_only_the_chosen_kpi_and_granularity_and_prints_a_summary():
    business(months=2, segments=2)
    out = StringIO()

    call_command("refresh_kpis", "--kpi", "revenue", "--granularity", "month", "--since", "2025-01-01", stdout=out)

    assert set(KpiSnapshot.objects.values_list("kpi", "granularity").distinct()) == {("revenue", "month")}
    assert min(KpiSnapshot.objects.values_list("period_start", flat=True)) == SINCE
    summary = SUMMARY.search(out.getvalue())
    assert summary is not None, out.getvalue()
    assert int(summary["kpis"]) == 1
    assert int(summary["periods"]) == months_since(SINCE)
    assert int(summary["rows"]) == KpiSnapshot.objects.count()
    assert "1/1 revenue by month" in out.getvalue()  # the progress bar
    assert KpiRefresh.objects.get().scope == "manual"


@pytest.mark.django_db
def test_a_refresh_of_the_whole_business_only_leaves_the_segments_snapshots_alone():
    paid_ads = ChannelFactory(name="Paid ads")
    customer = ContactFactory(channel=paid_ads)
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 2, 10)), amount=Decimal("400.00"))
    kpis_refresh(keys=["revenue"], granularities=["month"], since=SINCE, until=UNTIL)
    OrderFactory(contact=customer, ordered_at=at(datetime.date(2025, 2, 11)), amount=Decimal("100.00"))

    call_command(
        "refresh_kpis",
        "--kpi",
        "revenue",
        "--granularity",
        "month",
        "--dimension",
        "all",
        "--since",
        "2025-01-01",
        stdout=StringIO(),
    )

    february = datetime.date(2025, 2, 1)
    assert snapshot_value("revenue", february) == 500  # recomputed
    assert snapshot_value("revenue", february, dimension="channel", segment="Paid ads") == 400  # kept as it was
    assert KpiSnapshot.objects.filter(dimension="channel").count() == 6


@pytest.mark.django_db
def test_refresh_kpis_without_options_refreshes_the_open_periods_of_every_kpi():
    OrderFactory(ordered_at=timezone.now(), amount=Decimal("75.00"))

    call_command("refresh_kpis", stdout=StringIO())

    run = KpiRefresh.objects.get()
    assert (run.scope, run.status, run.kpis) == ("open", KpiRefresh.Status.SUCCEEDED, len(registry()))
    assert set(KpiSnapshot.objects.values_list("kpi", flat=True)) == set(registry())
    assert set(KpiSnapshot.objects.values_list("granularity", flat=True)) == set(GRANULARITIES)
    assert snapshot_value("revenue", timezone.localdate().replace(day=1)) == 75
    # the current period of each granularity, and the previous one on the first day of the next, no more
    today = timezone.localdate()
    expected = {period.start for granularity in GRANULARITIES for period in open_periods(granularity, today)}
    assert set(KpiSnapshot.objects.filter(kpi="revenue", dimension="all").values_list("period_start", flat=True)) == (
        expected
    )
    assert KpiSnapshot.objects.filter(kpi="revenue", dimension="all").count() == sum(
        len(open_periods(granularity, today)) for granularity in GRANULARITIES
    )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2025, 3, 1), ["2025-02-01", "2025-03-01"]),  # the first day: February gets its last refresh
        (datetime.date(2025, 3, 2), ["2025-03-01"]),
        (datetime.date(2025, 3, 31), ["2025-03-01"]),
    ],
)
def test_the_open_periods_are_the_current_one_and_the_previous_one_on_the_first_day_after_it(today, expected):
    assert [period.start.isoformat() for period in open_periods("month", today)] == expected


def test_the_closing_days_keep_the_previous_period_open_longer(settings):
    settings.KPI_CLOSING_DAYS = 3
    starts = [period.start for period in open_periods("week", datetime.date(2025, 3, 5))]  # a Wednesday

    assert starts == [datetime.date(2025, 2, 24), datetime.date(2025, 3, 3)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--kpi", "happiness"], "Unknown KPI happiness"),
        (["--kpi", "revenue", "--since", "2025-02-30"], "--since must be a date like 2025-01-31"),
        (["--since", "last week"], "--since must be a date like 2025-01-31"),
        (["--granularity", "day"], "invalid choice: 'day'"),
        (["--dimension", "planet"], "Unknown dimension planet"),
    ],
    ids=["unknown-kpi", "impossible-date", "not-a-date", "unknown-granularity", "unknown-dimension"],
)
def test_refresh_kpis_refuses_bad_arguments_and_writes_nothing(arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("refresh_kpis", *arguments, stdout=StringIO())

    assert not KpiSnapshot.objects.exists()
    assert not KpiRefresh.objects.exists()


# --- Celery -------------------------------------------------------------------------------------------------


def test_beat_refreshes_the_open_periods_every_few_minutes_and_all_history_nightly():
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}

    assert schedule["kpis.tasks.refresh_open_periods"] == settings.KPI_REFRESH_SECONDS
    nightly = schedule["kpis.tasks.refresh_all_history"]
    assert isinstance(nightly, crontab)
    assert len(nightly.hour) == len(nightly.minute) == 1  # once a day
    assert nightly.day_of_week == set(range(7)) and len(nightly.day_of_month) == 31
    assert {"kpis.tasks.refresh_open_periods", "kpis.tasks.refresh_all_history"} <= set(celery_app.tasks)


@pytest.mark.django_db
def test_the_nightly_task_refreshes_every_period_from_the_oldest_record():
    oldest = month(timezone.localdate().replace(day=1), -3) + datetime.timedelta(days=4)
    OrderFactory(ordered_at=at(oldest), amount=Decimal("80.00"))

    refresh_all_history.apply()

    run = KpiRefresh.objects.get()
    assert (run.scope, run.status, run.first_period) == ("all", KpiRefresh.Status.SUCCEEDED, oldest)
    assert snapshot_value("revenue", oldest.replace(day=1)) == 80
    assert KpiSnapshot.objects.filter(kpi="revenue", granularity="month", dimension="all").count() == 4


@pytest.mark.celery_worker
def test_a_worker_refreshes_the_open_periods_through_the_broker(celery_worker):
    OrderFactory(ordered_at=timezone.now(), amount=Decimal("125.00"))
    this_month = timezone.localdate().replace(day=1)

    refresh_open_periods.delay()

    deadline = time.monotonic() + WORKER_TIMEOUT
    while not KpiRefresh.objects.exclude(status=KpiRefresh.Status.RUNNING).exists():
        assert time.monotonic() < deadline, "the worker did not finish the refresh in time"
        time.sleep(0.1)
    assert KpiRefresh.objects.get().status == KpiRefresh.Status.SUCCEEDED
    assert snapshot_value("revenue", this_month) == 125


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_full_refresh_on_postgresql_scans_each_part_once_for_all_dimensions_and_days_once_for_all_granularities():
    """GROUPING SETS answer every dimension from one scan, and the parts that add up by day (counts and sums
    by created, closed, ordered ... day) are read once for the four granularities: the number of computing
    queries of a full refresh is pinned, whatever the dimensions, periods and segments."""
    business(months=3, segments=3)

    with CaptureQueriesContext(connection) as run:
        summary = kpis_refresh(since=SINCE, until=END_OF_MARCH)

    computing = [
        query["sql"]
        for query in run.captured_queries
        if query["sql"].lstrip().startswith(("WITH", "SELECT"))
        and "advisory_" not in query["sql"]
        and "kpis_kpidailypart" not in query["sql"]
    ]
    # Each part that adds up by day reads what the last refresh kept of it once, and keeps its days once.
    kept = [query["sql"] for query in run.captured_queries if '"kpis_kpidailypart"' in query["sql"]]
    parts = KpiDailyPart.objects.count()
    assert parts >= 7
    assert len([sql for sql in kept if sql.lstrip().startswith("SELECT")]) == parts
    assert len([sql for sql in kept if sql.lstrip().startswith("INSERT")]) == parts
    grouping_sets = [sql for sql in computing if "GROUPING SETS" in sql]
    writes = len(registry()) * len(GRANULARITIES)
    assert summary.rows_written > 0
    assert len(grouping_sets) >= 30
    # Repeat purchases, engagement, the two ticket medians and the sales cycle's median read their rows once
    # for the four granularities.
    assert len([sql for sql in computing if "UNION ALL" in sql and "periods.g" in sql]) == 5
    # Tickets created per day depend on the refresh's instant (an SLA overdue by now): one instant, one read.
    assert len([sql for sql in computing if "t.first_response_due_at <" in sql]) == 1
    assert len(computing) <= 57  # one per dimension and granularity would be over 370
    # A write: savepoint, temp table, COPY, upsert, delete ...; a kept part: savepoint, lock, read, delete, insert.
    assert len(run.captured_queries) <= 100 + 7 * writes + 6 * parts
