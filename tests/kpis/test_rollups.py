"""The per-day rows a refresh keeps (`kpis.rollups`): the periodic refresh reads the days no record changed
since from them, and gives what a refresh from the records gives.

The data lies around today (the periodic refresh covers the open periods), in New York time, with the last
day the periodic refresh reads from the records whatever the marks say being yesterday (KPI_SETTLED_DAYS=1)
and the periods that ended two days ago still open (KPI_CLOSING_DAYS=3), so that every day used here falls in
an open period of every granularity.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Channel
from kpis import rollups
from kpis.models import KpiDailyPart, KpiSnapshot
from kpis.periods import GRANULARITIES, local_midnight, local_today, open_periods, period_containing
from kpis.rollups import DailyStore
from kpis.services import kpis_refresh, kpis_refresh_open
from sales.models import Deal, Lead, Order, Spend
from support.models import Ticket
from surveys.models import Response
from tests.contacts.factories import ChannelFactory, ContactFactory
from tests.kpis.test_engine import business, figures, month
from tests.sales.factories import OrderFactory
from tests.support.factories import TicketFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("new_york"),
]


@pytest.fixture
def new_york():
    with override_settings(TIME_ZONE="America/New_York", KPI_SETTLED_DAYS=1, KPI_CLOSING_DAYS=3):
        yield


def local(day: datetime.date, hour: int) -> datetime.datetime:
    return local_midnight(day) + datetime.timedelta(hours=hour)


def days_ago(days: int) -> datetime.date:
    return local_today() - datetime.timedelta(days=days)


def revenue(granularity: str, day: datetime.date, dimension: str = "all", segment: str = "all") -> Decimal | None:
    snapshot = KpiSnapshot.objects.filter(
        kpi="revenue",
        granularity=granularity,
        dimension=dimension,
        segment=segment,
        period_start=period_containing(granularity, day).start,
    ).first()
    return snapshot.value if snapshot else None


def refreshed_from_the_records() -> dict:
    """Every figure as a refresh from the records (nothing kept read) gives it."""
    kpis_refresh(since=history_first_day(), scope="check")
    return figures()


def history_first_day() -> datetime.date:
    return min(open_periods(granularity)[0].start for granularity in GRANULARITIES) - datetime.timedelta(days=120)


@pytest.fixture
def two_days_ago():
    """A customer in Referral / North with an order of 100.00 two days ago at 23:30 New York time (the next
    day in UTC) and one of 40.00 today; every day refreshed and kept."""
    customer = ContactFactory(channel=ChannelFactory(name="Referral"), region="North", company=None)
    day = days_ago(2)
    order = OrderFactory(contact=customer, ordered_at=local(day, 23) + datetime.timedelta(minutes=30), amount=100)
    OrderFactory(contact=customer, ordered_at=timezone.now(), amount=Decimal("40.00"))
    kpis_refresh(keys=["revenue"], since=history_first_day())
    for granularity in GRANULARITIES:
        assert revenue(granularity, day) == with_today(granularity, day, 100)
    return order


def with_today(granularity: str, day: datetime.date, amount) -> Decimal:
    """The revenue of the period containing `day`, whose order is of `amount`: with today's 40.00 when the
    period is today's too."""
    same = period_containing(granularity, day) == period_containing(granularity, local_today())
    return Decimal(amount) + (40 if same else 0)


def test_the_periodic_refresh_reads_the_settled_days_from_what_the_last_refresh_kept(two_days_ago):
    """A change that no record's save announced (a row changed in the database by hand) does not reach the
    settled days until the nightly refresh from the records; what every writer of the product does, does."""
    day = days_ago(2)
    Order.objects.filter(pk=two_days_ago.pk).update(amount=Decimal("999.00"))  # no signal, no mark

    kpis_refresh_open()
    for granularity in GRANULARITIES:
        assert revenue(granularity, day) == with_today(granularity, day, 100)

    kpis_refresh(keys=["revenue"], since=history_first_day(), scope="all")  # the nightly one
    for granularity in GRANULARITIES:
        assert revenue(granularity, day) == with_today(granularity, day, 999)


def test_an_order_changed_on_a_settled_day_counts_at_the_next_periodic_refresh(
    two_days_ago, django_capture_on_commit_callbacks
):
    day = days_ago(2)
    with django_capture_on_commit_callbacks(execute=True):
        two_days_ago.amount = Decimal("130.00")
        two_days_ago.save()

    kpis_refresh_open()

    for granularity in GRANULARITIES:
        assert revenue(granularity, day) == with_today(granularity, day, 130)


def test_moving_a_customer_to_another_region_moves_its_orders_of_every_day(
    two_days_ago, django_capture_on_commit_callbacks
):
    """The orders of two days ago predate the contact's own dates (it was created today): only marking all
    history relabels them."""
    customer = two_days_ago.contact
    day = days_ago(2)
    assert revenue("year", day, "region", "North") == with_today("year", day, 100)

    with django_capture_on_commit_callbacks(execute=True):
        customer.region = "South"
        customer.save()
    kpis_refresh_open()

    assert revenue("year", day, "region", "South") == with_today("year", day, 100)
    assert revenue("year", day, "region", "North") is None  # the segment is gone


def test_renaming_a_channel_relabels_the_kept_days(two_days_ago, django_capture_on_commit_callbacks):
    day = days_ago(2)
    with django_capture_on_commit_callbacks(execute=True):
        Channel.objects.filter(name="Referral").get().save()  # saved unchanged: nothing to relabel
    kpis_refresh_open()
    assert revenue("year", day, "channel", "Referral") == with_today("year", day, 100)

    with django_capture_on_commit_callbacks(execute=True):
        channel = Channel.objects.get(name="Referral")
        channel.name = "Word of mouth"
        channel.save()
    kpis_refresh_open()

    assert revenue("year", day, "channel", "Word of mouth") == with_today("year", day, 100)
    assert revenue("year", day, "channel", "Referral") is None


def test_the_periodic_refresh_reads_from_the_records_only_the_days_it_must(two_days_ago):
    """Orders per day: from the settled day (yesterday) on, not from the first day of the year (once for every
    dimension on PostgreSQL, once per dimension elsewhere)."""
    with CaptureQueriesContext(connection) as run:
        kpis_refresh_open()

    per_day = [query["sql"] for query in run.captured_queries if "SUM(o.amount), COUNT(*)" in query["sql"]]
    yesterday = local_midnight(days_ago(1)).astimezone(datetime.UTC)
    assert len(per_day) == (1 if connection.vendor == "postgresql" else 5)
    assert all(yesterday.strftime("%Y-%m-%d %H:%M:%S") in sql or yesterday.isoformat() in sql for sql in per_day)


def test_the_periodic_refresh_with_kept_days_gives_what_a_refresh_from_the_records_gives(
    django_capture_on_commit_callbacks,
):
    """Every KPI, granularity and segment, after a change of each kind through the product's writers to a
    record of last month (a settled day, before or after the earliest kept day the refresh reads), one at a
    time: each change's own stale mark must bring its day back from the records."""
    first = month(local_today().replace(day=1), -2)
    business(months=3, segments=2, first=first)
    kpis_refresh(since=history_first_day())
    last_month = local_midnight(month(local_today().replace(day=1), -1))

    def in_last_month(queryset, column: str):
        return queryset.filter(**{f"{column}__gte": last_month}).order_by(column).first()

    def order():
        record = in_last_month(Order.objects, "ordered_at")
        record.amount += 30
        record.save()

    def lead():
        record = in_last_month(Lead.objects, "created_at")
        record.converted_at, record.status = None, Lead.Status.NEW
        record.save()

    def deal():
        record = in_last_month(Deal.objects.filter(status=Deal.Status.LOST), "closed_at")
        record.status = Deal.Status.WON
        record.save()

    def ticket():
        record = in_last_month(Ticket.objects, "resolved_at")
        record.reopened_count = 1
        record.save()

    def answer():
        record = in_last_month(Response.objects, "submitted_at")
        record.score = 10 if record.score != 10 else 0
        record.save()

    def spend():
        record = Spend.objects.filter(spent_on__gte=last_month.date()).order_by("spent_on").first()
        record.amount += 100
        record.save()

    def relabel():
        record = in_last_month(Order.objects, "ordered_at").contact
        record.industry = "Industry 1" if record.industry != "Industry 1" else "Industry 0"
        record.save()

    for change in (order, lead, deal, ticket, answer, spend, relabel):
        before = figures()
        with django_capture_on_commit_callbacks(execute=True):
            change()
        kpis_refresh_open()
        after = figures()
        assert after != before, change.__name__
        assert after == refreshed_from_the_records(), change.__name__


def test_a_mark_before_the_first_record_empties_the_periods_it_left(django_capture_on_commit_callbacks):
    """The only order, two months back, moved to today: its old month has nothing any more, though the
    first record of all is now today's."""
    old = local_midnight(month(local_today().replace(day=1), -2)) + datetime.timedelta(days=3, hours=12)
    order = OrderFactory(contact=ContactFactory(company=None), ordered_at=old, amount=Decimal("100.00"))
    kpis_refresh(keys=["revenue"], since=history_first_day())
    assert revenue("month", old.date()) == 100

    with django_capture_on_commit_callbacks(execute=True):
        order.ordered_at = timezone.now()
        order.save()
    kpis_refresh_open()

    assert revenue("month", old.date()) == 0
    assert revenue("month", local_today()) == 100


def test_a_refresh_that_read_the_records_earlier_does_not_overwrite_what_a_later_one_kept(two_days_ago):
    part = KpiDailyPart.objects.exclude(days={}).first()
    later = part.as_of
    earlier = DailyStore(reuse_before=None, as_of=later - datetime.timedelta(minutes=5))

    earlier._keep(part.part, part, [], local_today(), local_today() + datetime.timedelta(days=1))

    part.refresh_from_db()
    assert part.as_of == later
    assert part.days  # the orders kept by the later refresh


def test_parts_no_refresh_read_for_a_week_are_dropped(two_days_ago):
    read_today = set(KpiDailyPart.objects.values_list("part", flat=True))
    KpiDailyPart.objects.create(
        part="f" * 64,
        first_day=days_ago(30),
        end_day=days_ago(1),
        as_of=timezone.now(),
        used_at=timezone.now() - datetime.timedelta(days=8),
    )

    assert rollups.prune() == 1
    assert set(KpiDailyPart.objects.values_list("part", flat=True)) == read_today


def test_a_first_response_target_falling_due_counts_at_the_next_periodic_refresh_though_its_day_is_kept():
    """Time passing changes no record: a ticket of two days ago still waiting for its first response counts
    in the SLA's denominator once its target is past, read from the records whatever was kept of its day."""
    day = days_ago(2)
    ticket = TicketFactory(
        contact=ContactFactory(company=None),
        created_at=local(day, 9),
        first_response_due_at=timezone.now() + datetime.timedelta(hours=1),
    )
    kpis_refresh(keys=["sla_attainment"], since=history_first_day())

    def denominator():
        return KpiSnapshot.objects.get(
            kpi="sla_attainment",
            granularity="year",
            dimension="all",
            segment="all",
            period_start=period_containing("year", day).start,
        ).denominator

    assert denominator() == 0
    # As if the hour had passed: the target is behind us now, and nothing marked the ticket's day stale.
    Ticket.objects.filter(pk=ticket.pk).update(first_response_due_at=timezone.now() - datetime.timedelta(minutes=1))
    kpis_refresh_open()

    assert denominator() == 1
