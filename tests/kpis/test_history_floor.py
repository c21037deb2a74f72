"""KPIs are computed for the periods since 1 January, KPI_HISTORY_YEARS back: a record dated long ago (old data,
or a year typed wrong before the models refused it) neither stretches every refresh over centuries of empty
weeks (a record of 1800 made the refresh run for good) nor stops counting where a KPI looks back."""

import datetime
import io

import pytest
from django.core.management import call_command

from contacts.models import Channel
from kpis.cohorts import kpis_cohorts_refresh
from kpis.models import KpiCohortCell, KpiSnapshot, KpiStaleMark
from kpis.periods import local_today
from kpis.services import history_start, kpis_mark_stale, kpis_refresh_open
from tests.kpis.conftest import ZONES, assert_kpi, at, make_customer, make_order

pytestmark = pytest.mark.django_db


def years_back(years: int) -> datetime.date:
    return datetime.date(local_today().year - years, 1, 1)


def this_month() -> datetime.date:
    return local_today().replace(day=1)


def first_instant(day: datetime.date, tz: str) -> datetime.datetime:
    return at(day.year, day.month, day.day, tz=tz)


def starts_of(key: str, granularity: str) -> list[datetime.date]:
    return sorted(KpiSnapshot.objects.filter(kpi=key, granularity=granularity).values_list("period_start", flat=True))


def test_the_history_starts_ten_years_back_however_old_the_oldest_record(settings):
    customer = make_customer(since=at(1930, 5, 1))
    make_order(customer, at(1930, 5, 2), "10.00")

    assert history_start() == years_back(10)  # the default
    settings.KPI_HISTORY_YEARS = 3
    assert history_start() == years_back(3)


def test_a_history_younger_than_the_floor_starts_at_its_oldest_record(settings):
    settings.KPI_HISTORY_YEARS = 3
    make_order(make_customer(since=at(2025, 5, 1)), at(2025, 5, 2, 10), "10.00")

    assert history_start() == datetime.date(2025, 5, 1)


@pytest.mark.parametrize("tz", ZONES)
def test_a_full_refresh_computes_no_period_before_the_floor_and_old_orders_still_count(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    settings.KPI_HISTORY_YEARS = 2
    floor = years_back(2)
    buyer = make_customer(since=at(1930, 5, 1, tz=tz))
    make_order(buyer, at(1930, 5, 2, tz=tz), "10.00")  # long before the floor
    make_order(buyer, first_instant(floor, tz), "30.00")  # the floor's first local instant
    make_order(buyer, first_instant(this_month(), tz) + datetime.timedelta(seconds=1), "20.00")

    call_command("refresh_kpis", "--all", "--kpi", "revenue", "--kpi", "repeat_purchase_rate", stdout=io.StringIO())

    for granularity in ("month", "quarter", "year"):
        assert starts_of("revenue", granularity)[0] == floor
    assert floor - datetime.timedelta(days=7) < starts_of("revenue", "week")[0] <= floor  # the week holding it
    first_month = kpi_api.by_period("revenue", start=floor.isoformat(), end=floor.isoformat())
    assert_kpi(first_month[floor.isoformat()], 30.00)
    # This month's buyer had bought before: in the floor's month, and in 1930.
    month = this_month().isoformat()
    assert_kpi(
        kpi_api.by_period("repeat_purchase_rate", start=month, end=month)[month], 100.0, numerator=1, denominator=1
    )


def test_a_change_dated_before_the_floor_recomputes_from_the_floor(settings):
    settings.KPI_HISTORY_YEARS = 2
    floor = years_back(2)
    buyer = make_customer(since=at(1930, 5, 1))
    make_order(buyer, at(floor.year, 3, 10, 12), "40.00")
    kpis_mark_stale(since=at(1930, 5, 2), table="sales_order")

    summary = kpis_refresh_open()

    assert starts_of("revenue", "month")[0] == floor
    assert (
        KpiSnapshot.objects.get(
            kpi="revenue", granularity="month", period_start=floor.replace(month=3), dimension="all"
        ).value
        == 40
    )
    # two years and some months of weeks, months, quarters and years: not a century of them
    assert summary.periods < 53 * 3 + 12 * 3 + 4 * 3 + 3
    assert not KpiStaleMark.objects.exists()


def test_cohorts_start_at_the_floor(settings):
    settings.KPI_HISTORY_YEARS = 2
    make_customer(since=at(1930, 5, 1))  # no cohort of May 1930, nor of any month since
    make_customer(since=at(local_today().year - 1, 2, 10))

    kpis_cohorts_refresh()

    assert set(KpiCohortCell.objects.values_list("cohort", flat=True)) == {datetime.date(local_today().year - 1, 2, 1)}


def test_refresh_kpis_since_before_the_floor_says_where_it_starts(settings):
    settings.KPI_HISTORY_YEARS = 2
    out = io.StringIO()

    call_command("refresh_kpis", "--since", "1990-01-01", "--kpi", "revenue", "--granularity", "year", stdout=out)

    assert f"KPIs are computed from {years_back(2):%Y-%m-%d} (KPI_HISTORY_YEARS); starting there." in out.getvalue()
    assert starts_of("revenue", "year")[0] == years_back(2)


@pytest.mark.parametrize("tz", ZONES)
def test_a_customer_from_before_the_floor_added_later_counts_after_the_periodic_refresh(
    kpi_api, settings, tz, django_capture_on_commit_callbacks
):
    """An import of old customers (customer_since before the floor) is followed by the periodic refresh, not a
    full one: the customers at each period's start and end must count them, as a full refresh would."""
    settings.TIME_ZONE = tz
    settings.KPI_HISTORY_YEARS = 2
    floor = years_back(2)
    make_customer(since=at(floor.year + 1, 5, 1, 10, tz=tz))
    call_command("refresh_kpis", "--all", stdout=io.StringIO())
    KpiStaleMark.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):  # marks stale from 5 years before the floor
        make_customer(since=at(floor.year - 5, 5, 5, 10, tz=tz))
    assert KpiStaleMark.objects.exists()
    kpis_refresh_open()

    end = local_today().isoformat()
    years = kpi_api.by_period("active_customers", granularity="year", start=floor.isoformat(), end=end)
    assert_kpi(years[floor.isoformat()], 1)  # the old customer alone at the end of the floor's year
    assert_kpi(years[floor.replace(year=floor.year + 1).isoformat()], 2)
    month = floor.replace(month=3).isoformat()
    assert_kpi(kpi_api.by_period("churn_rate", start=month, end=month)[month], 0.0, numerator=0, denominator=1)


@pytest.mark.parametrize("granularity", ["week", "month", "year"])
def test_the_api_leaves_out_the_periods_before_the_floor_rather_than_show_them_empty(kpi_api, settings, granularity):
    settings.KPI_HISTORY_YEARS = 2
    floor = years_back(2)
    make_customer(since=at(floor.year - 1, 6, 1, 10))  # a customer all through the year before the floor
    call_command("refresh_kpis", "--all", "--kpi", "active_customers", stdout=io.StringIO())

    asked = floor.replace(year=floor.year - 1).isoformat()
    items = kpi_api.series("active_customers", granularity=granularity, start=asked, end=local_today().isoformat())

    first = datetime.date.fromisoformat(items[0]["period_start"])
    assert first <= floor < datetime.date.fromisoformat(items[0]["period_end"])  # the period holding the floor
    assert all(item["value"] == 1 for item in items)


@pytest.mark.parametrize("tz", ZONES)
def test_a_channel_renamed_relabels_the_customers_from_before_the_floor_at_the_periodic_refresh(
    kpi_api, settings, tz, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = tz
    settings.KPI_HISTORY_YEARS = 2
    floor = years_back(2)
    ads = Channel.objects.create(name="Ads")
    make_customer(since=at(floor.year - 5, 5, 5, 10, tz=tz), channel=ads)
    call_command("refresh_kpis", "--all", stdout=io.StringIO())
    KpiStaleMark.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):  # marks all history stale
        ads.name = "Paid ads"
        ads.save()
    kpis_refresh_open()

    year = floor.replace(year=floor.year + 1).isoformat()
    cells = kpi_api.by_segment("active_customers", "channel", granularity="year", start=year, end=year)
    assert {segment: item["value"] for (_, segment), item in cells.items()} == {"Paid ads": 1}
