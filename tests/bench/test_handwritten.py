"""The benchmark's hand-written SQL (bench/handwritten/*.sql) gives the product's numbers: every KPI file present,
every month, after a product refresh. Two independent computations of KPIS.md that agree."""

import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from bench.handwritten import default_months, handwritten_files, mismatches, run_handwritten
from kpis.models import KpiSnapshot
from kpis.periods import local_today
from kpis.services import kpis_refresh
from sales.models import Spend, Subscription
from tests.contacts.factories import ContactFactory, InteractionFactory
from tests.sales.factories import DealFactory, OrderFactory, SpendFactory, SubscriptionFactory, default_pipeline

KOLKATA = "Asia/Kolkata"  # ahead of UTC by five and a half hours: a local month starts the day before in UTC


def local(year, month, day, hour=0, minute=0, second=0, microsecond=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=ZoneInfo(KOLKATA))


def mismatched(result: dict) -> dict:
    return {key: kpi["mismatches"] for key, kpi in result["kpis"].items() if kpi["mismatches"]}


def test_a_month_is_a_mismatch_when_the_two_differ_once_rounded_to_cents():
    january, february, march = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)
    product = {
        january: {"value": Decimal("33.33333333"), "numerator": Decimal("1"), "denominator": Decimal("3")},
        february: {"value": Decimal("12.50000000"), "numerator": Decimal("1"), "denominator": Decimal("8")},
        march: {"value": None, "numerator": Decimal("0"), "denominator": Decimal("0")},
    }
    handwritten = [
        (january, Decimal("33.3333333333333333"), None, None),  # no numerator: only the value is compared
        (february, Decimal("12.51"), Decimal("1"), Decimal("8")),
        (march, None, Decimal("0"), Decimal("1")),
    ]

    found = mismatches(product, handwritten)

    assert [mismatch["month"] for mismatch in found] == ["2026-02-01", "2026-03-01"]
    assert found[0]["product"]["value"] == "12.50" and found[0]["handwritten"]["value"] == "12.51"


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("tz", ["UTC", KOLKATA])
def test_every_handwritten_query_gives_the_products_24_months_on_the_small_demo(settings, tz):
    settings.TIME_ZONE = tz
    call_command("seed_demo", size="small", force=True, stdout=StringIO())
    kpis_refresh(granularities=["month"], scope="test")
    first, stop = default_months(local_today())

    result = run_handwritten(connection, first=first, stop=stop, runs=1)

    assert set(result["kpis"]) == set(handwritten_files())
    assert {kpi["months"] for kpi in result["kpis"].values()} == {24}
    assert mismatched(result) == {}


def won_deal(contact, closed: datetime.datetime, kind: str):
    won = default_pipeline().stages.filter(kind="won").first()
    return DealFactory(
        contact=contact,
        kind=kind,
        stage=won,
        status="won",
        created_at=closed,
        closed_at=closed,
        stage_changed_at=closed,
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_handwritten_queries_and_the_product_agree_on_records_at_the_edges_of_local_months(settings):
    settings.TIME_ZONE = KOLKATA
    # A customer from the very first instant of February to the very first instant of April.
    alice = ContactFactory(customer_since=local(2026, 2, 1), churned_at=local(2026, 4, 1))
    # Churns at the first instant of March: a customer at no instant of March.
    bob = ContactFactory(customer_since=local(2025, 12, 10), churned_at=local(2026, 3, 1))
    # Churns the instant she becomes a customer: a customer at no instant at all.
    ContactFactory(customer_since=local(2026, 3, 15, 12), churned_at=local(2026, 3, 15, 12))
    # A customer from the last instant of January.
    dave = ContactFactory(customer_since=local(2026, 1, 31, 23, 59, 59, 999999))
    # A customer for over a year, who churns in May: the churn that gives CLV a lifespan.
    eve = ContactFactory(customer_since=local(2025, 3, 1), churned_at=local(2026, 5, 20))
    for contact, ordered_at, amount in [
        (dave, local(2026, 1, 31, 23, 59, 59, 999999), "100.00"),
        (dave, local(2026, 2, 1), "250.00"),
        (dave, local(2026, 5, 31, 23, 59), "40.00"),
        (alice, local(2026, 2, 1), "80.00"),
        (alice, local(2026, 3, 31, 23, 59, 59, 999999), "120.00"),
        (eve, local(2025, 6, 1), "300.00"),
        (eve, local(2026, 2, 14), "60.00"),
        (bob, local(2026, 3, 1), "75.00"),
    ]:
        OrderFactory(contact=contact, ordered_at=ordered_at, amount=Decimal(amount))
    for contact, occurred_at in [(alice, local(2026, 2, 1)), (bob, local(2026, 3, 1)), (dave, local(2026, 1, 31, 23))]:
        InteractionFactory(contact=contact, occurred_at=occurred_at)
    won_deal(alice, local(2026, 2, 1), "upsell")  # at the start of February: alice is in S
    won_deal(eve, local(2026, 3, 31, 23, 59), "cross_sell")
    won_deal(dave, local(2026, 3, 1), "renewal")  # not an upsell or cross-sell
    SubscriptionFactory(
        contact=eve,
        starts_on=datetime.date(2025, 4, 1),
        ends_on=datetime.date(2026, 4, 1),
        outcome=Subscription.Outcome.RENEWED,
    )
    SubscriptionFactory(
        contact=bob,
        starts_on=datetime.date(2025, 3, 31),
        ends_on=datetime.date(2026, 3, 31),
        outcome=Subscription.Outcome.CANCELLED,
    )
    SpendFactory(spent_on=datetime.date(2026, 1, 31), amount=Decimal("900.00"))
    SpendFactory(spent_on=datetime.date(2026, 2, 1), amount=Decimal("1500.00"))
    SpendFactory(spent_on=datetime.date(2026, 3, 1), amount=Decimal("200.00"), category=Spend.Category.RETENTION)
    kpis_refresh(granularities=["month"], since=datetime.date(2025, 1, 1), scope="test")

    result = run_handwritten(connection, first=datetime.date(2026, 1, 1), stop=datetime.date(2026, 7, 1), runs=1)

    assert mismatched(result) == {}
    # And both are KPIS.md's: S at each month's start (alice from February 1st, bob gone on March 1st, eve lost
    # in May) and L / S x 100.
    churn = KpiSnapshot.objects.filter(kpi="churn_rate", granularity="month", dimension="all", segment="all")
    assert {
        row.period_start.month: (row.numerator, row.denominator, row.value)
        for row in churn.filter(period_start__gte=datetime.date(2026, 1, 1), period_start__lt=datetime.date(2026, 7, 1))
    } == {1: (0, 2, 0), 2: (0, 4, 0), 3: (0, 3, 0), 4: (0, 2, 0), 5: (1, 2, 50), 6: (0, 1, 0)}
