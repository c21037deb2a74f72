"""The parts read once for the four granularities (repeat purchases, the medians, engagement) give each granularity
its own numbers, also in the periodic refresh, where each granularity covers a range of its own (a week for the
week, eleven months for the year).

The data are placed around today (the periodic refresh computes the current periods), so which period an order
falls in depends on the date the test runs: the expected values are worked out here from the period starts, by
the definitions of KPIS.md, not read from the engine.
"""

import datetime
import statistics
from decimal import Decimal

import pytest

from kpis.models import KpiSnapshot
from kpis.periods import GRANULARITIES, local_midnight, local_today, period_containing
from kpis.services import kpis_refresh_open
from tests.kpis.conftest import ZONES, hours, make_customer, make_interaction, make_order, make_ticket

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


def current(granularity: str):
    return period_containing(granularity, local_today())


def snapshot(kpi: str, granularity: str) -> KpiSnapshot:
    return KpiSnapshot.objects.get(
        kpi=kpi, granularity=granularity, dimension="all", segment="all", period_start=current(granularity).start
    )


def number(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.0001"))


@pytest.mark.parametrize("tz", ZONES)
def test_repeat_purchases_of_the_current_week_month_quarter_and_year_from_one_periodic_refresh(settings, tz):
    """KPIS.md: contacts with an order in P who also had an order before P.start / contacts with an order in P."""
    settings.TIME_ZONE = tz
    today = local_midnight(local_today())
    week = local_midnight(current("week").start)
    year = local_midnight(current("year").start)
    # Every contact orders today; what differs is their first order.
    first_orders = {
        "before the year": year - datetime.timedelta(days=2),
        "late yesterday": today - MINUTE,
        "at the week's first instant": week,
        "only today": None,
    }
    for first in first_orders.values():
        contact = make_customer(year - datetime.timedelta(days=400))
        make_order(contact, today + hours(0.5), "10.00")
        if first is not None:
            make_order(contact, first, "10.00")

    kpis_refresh_open()

    for granularity in GRANULARITIES:
        start = local_midnight(current(granularity).start)
        repeat = sum(1 for first in first_orders.values() if first is not None and first < start)
        value = snapshot("repeat_purchase_rate", granularity)
        assert (value.numerator, value.denominator) == (repeat, 4), granularity
        assert number(value.value) == number(Decimal(repeat) / 4 * 100), granularity


@pytest.mark.parametrize("tz", ZONES)
def test_first_response_medians_of_the_current_periods_from_one_periodic_refresh(settings, tz):
    """KPIS.md: median hours from created to first_response_at of tickets created in P that have one."""
    settings.TIME_ZONE = tz
    today = local_midnight(local_today())
    year = local_midnight(current("year").start)
    tickets = [  # (created, hours to the first response)
        (today + hours(0.25), 1),
        (today + hours(0.5), 2),
        (today + hours(1), 4),
        (today - MINUTE, 7),  # late yesterday: in this week, month ... unless today begins one
        (year - datetime.timedelta(days=1), 10),  # last year: in no current period
    ]
    for created, answered_after in tickets:
        make_ticket(created, first_response=created + hours(answered_after))

    kpis_refresh_open()

    for granularity in GRANULARITIES:
        period = current(granularity)
        start, end = local_midnight(period.start), local_midnight(period.end)
        durations = [after for created, after in tickets if start <= created < end]
        value = snapshot("first_response_time", granularity)
        assert value.sample_size == len(durations), granularity
        assert number(value.value) == number(statistics.median(durations)), granularity


@pytest.mark.parametrize("tz", ZONES)
def test_engagement_of_the_current_periods_from_one_periodic_refresh(settings, tz):
    """KPIS.md: interactions in P with contacts that were customers at some instant of P / those customers."""
    settings.TIME_ZONE = tz
    today = local_midnight(local_today())
    year = local_midnight(current("year").start)
    long_ago = year - datetime.timedelta(days=400)
    busy, quiet = make_customer(long_ago), make_customer(long_ago)
    for moment in (today + hours(1), today + hours(2), today - MINUTE, year + hours(1)):
        make_interaction(busy, moment)
    make_interaction(quiet, year - datetime.timedelta(days=1))  # last year: counts in no current period

    kpis_refresh_open()

    for granularity in GRANULARITIES:
        period = current(granularity)
        start, end = local_midnight(period.start), local_midnight(period.end)
        interactions = sum(
            1
            for moment in (today + hours(1), today + hours(2), today - MINUTE, year + hours(1))
            if start <= moment < end
        )
        value = snapshot("engagement", granularity)
        # Both were customers all along: two customers in every period.
        assert (value.numerator, value.denominator) == (interactions, 2), granularity
        assert value.details["engaged"] == 1, granularity
