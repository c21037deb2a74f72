"""Customers and revenue KPIs of KPIS.md, each number worked out by hand from the definition.

KPIS.md's notation: P = [start, end) in settings.TIME_ZONE; a customer at t has customer_since <= t and
(no churned_at or churned_at > t); S = customers at P.start, E = customers at P.end, N = contacts whose
customer_since falls in P, L = customers in S whose churned_at falls in P, R = S - L.
"""

import datetime

import pytest

from kpis.definitions import customers
from kpis.definitions.base import registry
from kpis.periods import periods_between
from kpis.sql import ALL, Query
from tests.contacts.factories import CompanyFactory
from tests.kpis.conftest import (
    KOLKATA,
    NEW_YORK,
    ZONES,
    assert_kpi,
    at,
    channel,
    hours,
    just_before,
    make_customer,
    make_deal,
    make_interaction,
    make_order,
    make_pipeline,
    make_spend,
    make_subscription,
    refresh_kpis,
    user,
)

pytestmark = pytest.mark.django_db

day = datetime.date


# --- customer history shared by new/active customers, churn, retention and CRC ---------------------------------


def customer_history():
    """Eight customers and a prospect, in UTC. Per month (S, N, L, E, N'):

    Jan: S=0 {}, N=1 {G}, L=0, E=1 {G}
    Feb: S=1 {G}, N=2 {B, A}, L=0, E=3 {G, B, A}, N'=2
    Mar: S=3 {G, B, A}, N=3 {C, I, D}, L=1 {B}, E=4 {G, A, C, D}, N'=2 {C, D} (I joined and left in March)
    Apr: S=4 {G, A, C, D}, N=2 {E, F}, L=2 {G, D}, E=4 {A, C, E, F}, N'=2
    May: S=4 {A, C, E, F}, N=0, L=1 {F}, E=3 {A, C, E}
    """
    make_customer(at(2025, 1, 15), at(2025, 4, 30, 12), first_name="G")
    make_customer(at(2025, 2, 1, 9), at(2025, 3, 15), first_name="B")
    make_customer(at(2025, 2, 10), first_name="A")
    make_customer(at(2025, 3, 5), first_name="C")
    make_customer(at(2025, 3, 10), at(2025, 3, 25), first_name="I")
    make_customer(at(2025, 3, 20), at(2025, 4, 10), first_name="D")
    make_customer(at(2025, 4, 2), first_name="E")
    make_customer(at(2025, 4, 30, 23), at(2025, 5, 20), first_name="F")
    make_customer(None, first_name="H")  # a prospect: never counted


def churn_across_a_local_month_end(tz: str):
    """Three customers since January; b churns a microsecond before April in `tz`, c an hour into April.

    Local March: S=3 {a, b, c}, L=1 {b}. Local April: S=2 {a, c}, L=1 {c}.
    (Read in UTC instead, New York would put both churns in April, Kolkata both in March.)
    """
    april = at(2025, 4, 1, tz=tz)
    make_customer(at(2025, 1, 10), first_name="a")
    make_customer(at(2025, 1, 10), just_before(april), first_name="b")
    make_customer(at(2025, 1, 10), april + hours(1), first_name="c")


# --- new_customers ----------------------------------------------------------------------------------------------


def test_new_customers_counts_customer_since_in_each_month(kpi_api):
    customer_history()

    refresh_kpis("new_customers", granularity="month")
    months = kpi_api.by_period("new_customers", start="2025-01-01", end="2025-06-30")

    assert list(months) == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]
    assert_kpi(months["2025-01-01"], 1, numerator=1, denominator=None, sample_size=1)
    assert_kpi(months["2025-02-01"], 2, numerator=2, denominator=None, sample_size=2)
    assert_kpi(months["2025-03-01"], 3, numerator=3, denominator=None, sample_size=3)  # C, I and D
    assert_kpi(months["2025-04-01"], 2, numerator=2, denominator=None, sample_size=2)
    assert_kpi(months["2025-05-01"], 0, numerator=0, denominator=None, sample_size=0)  # a count over nothing is 0
    assert_kpi(months["2025-06-01"], 0, numerator=0, denominator=None, sample_size=0)


def test_new_customers_by_channel(kpi_api):
    referral, paid = channel("Referral"), channel("Paid ads")
    make_customer(at(2025, 2, 14), channel=referral)
    make_customer(at(2025, 3, 2), channel=referral)
    make_customer(at(2025, 3, 30), channel=referral)
    make_customer(at(2025, 3, 9), channel=paid)
    make_customer(at(2025, 3, 12), channel=None)
    channel("Events")  # a channel without customers

    refresh_kpis("new_customers", granularity="month")
    cells = kpi_api.by_segment("new_customers", "channel", start="2025-02-01", end="2025-03-31")

    assert_kpi(cells[("2025-02-01", "Referral")], 1)
    assert_kpi(cells[("2025-03-01", "Referral")], 2)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 1)
    assert_kpi(cells[("2025-03-01", "(none)")], 1)  # no channel: the "(none)" segment
    assert {segment for _, segment in cells} == {"Referral", "Paid ads", "(none)"}


def test_new_customers_by_industry_falls_back_to_the_company(kpi_api):
    retail = CompanyFactory(industry="Retail")
    make_customer(at(2025, 3, 2), industry="", company=retail)  # the company's: Retail
    make_customer(at(2025, 3, 3), industry="Finance", company=retail)  # its own wins: Finance
    make_customer(at(2025, 3, 4), industry="", company=CompanyFactory(industry="Retail"))
    make_customer(at(2025, 3, 5), industry="Health", company=None)

    refresh_kpis("new_customers", granularity="month")
    cells = kpi_api.by_segment("new_customers", "industry", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Retail")], 2)
    assert_kpi(cells[("2025-03-01", "Finance")], 1)
    assert_kpi(cells[("2025-03-01", "Health")], 1)


@pytest.mark.parametrize("tz", ZONES)
def test_new_customers_at_local_midnight_belong_to_the_new_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    march = at(2025, 3, 1, tz=tz)
    make_customer(march)
    make_customer(march + hours(2))
    make_customer(just_before(march))

    refresh_kpis("new_customers", granularity="month")
    months = kpi_api.by_period("new_customers", start="2025-02-01", end="2025-03-31")

    assert months["2025-02-01"]["period_end"] == "2025-03-01"
    assert months["2025-03-01"]["period_end"] == "2025-04-01"
    assert_kpi(months["2025-02-01"], 1)
    assert_kpi(months["2025-03-01"], 2)


# --- active_customers -------------------------------------------------------------------------------------------


def test_active_customers_counts_customers_at_each_month_end(kpi_api):
    customer_history()

    refresh_kpis("active_customers", granularity="month")
    months = kpi_api.by_period("active_customers", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], 1, numerator=1, denominator=None, sample_size=1)  # G
    assert_kpi(months["2025-02-01"], 3, numerator=3, denominator=None, sample_size=3)  # G, B, A
    assert_kpi(months["2025-03-01"], 4, numerator=4, denominator=None, sample_size=4)  # G, A, C, D
    assert_kpi(months["2025-04-01"], 4, numerator=4, denominator=None, sample_size=4)  # A, C, E, F
    assert_kpi(months["2025-05-01"], 3, numerator=3, denominator=None, sample_size=3)  # A, C, E


def test_active_customers_by_owner(kpi_api):
    ana, ben = user("ana"), user("ben")
    make_customer(at(2025, 2, 1), owner=ana)
    make_customer(at(2025, 2, 1), at(2025, 3, 15), owner=ana)
    make_customer(at(2025, 3, 20), owner=ana)
    make_customer(at(2025, 3, 10), owner=ben)

    refresh_kpis("active_customers", granularity="month")
    cells = kpi_api.by_segment("active_customers", "owner", start="2025-02-01", end="2025-03-31")

    assert_kpi(cells[("2025-02-01", "ana")], 2)
    assert_kpi(cells[("2025-03-01", "ana")], 2)  # 2 - 1 churned + 1 new
    assert_kpi(cells[("2025-03-01", "ben")], 1)


@pytest.mark.parametrize("tz", ZONES)
def test_active_customers_at_a_local_month_end(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)  # the end of local March
    make_customer(at(2025, 1, 10), first_name="a")  # customer throughout
    make_customer(at(2025, 1, 10), april, first_name="x")  # churned_at = t: no longer a customer at t
    make_customer(at(2025, 1, 10), just_before(april), first_name="y")  # churned in March
    make_customer(just_before(april), first_name="z")  # joined in the last microsecond of March
    make_customer(april + hours(1), first_name="w")  # joined in April

    refresh_kpis("active_customers", granularity="month")
    months = kpi_api.by_period("active_customers", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 2)  # a and z
    assert_kpi(months["2025-04-01"], 3)  # a, z and w


def test_a_customer_since_exactly_a_month_end_is_active_at_that_instant(kpi_api):
    # KPIS.md: a customer at t when customer_since <= t, so E of March (t = 1 April 00:00) counts them,
    # while N counts them in April (customer_since falls in [1 April, 1 May)).
    make_customer(at(2025, 1, 10))
    make_customer(at(2025, 4, 1))

    refresh_kpis("active_customers", "new_customers", granularity="month")
    active = kpi_api.by_period("active_customers", start="2025-03-01", end="2025-03-31")
    new = kpi_api.by_period("new_customers", start="2025-03-01", end="2025-04-30")

    assert_kpi(active["2025-03-01"], 2)
    assert_kpi(new["2025-03-01"], 0)
    assert_kpi(new["2025-04-01"], 1)


# --- churn_rate -------------------------------------------------------------------------------------------------


def test_churn_rate_is_lost_over_customers_at_the_start(kpi_api):
    customer_history()

    refresh_kpis("churn_rate", granularity="month")
    months = kpi_api.by_period("churn_rate", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], None, denominator=0, sample_size=0)  # S = 0: empty, not 0
    assert_kpi(months["2025-02-01"], 0 / 1 * 100, numerator=0, denominator=1, sample_size=1)
    assert_kpi(months["2025-03-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)
    # I joined and churned in March: not in S, so not in L.
    assert_kpi(months["2025-04-01"], 2 / 4 * 100, numerator=2, denominator=4, sample_size=4)
    # F joined on 30 April at 23:00 and churned in May: in S of May.
    assert_kpi(months["2025-05-01"], 1 / 4 * 100, numerator=1, denominator=4, sample_size=4)


def test_churn_rate_by_channel(kpi_api):
    referral, paid = channel("Referral"), channel("Paid ads")
    for _ in range(2):
        make_customer(at(2025, 2, 5), channel=referral)
    make_customer(at(2025, 2, 5), at(2025, 3, 10), channel=referral)
    make_customer(at(2025, 2, 5), channel=paid)
    make_customer(at(2025, 3, 15), channel=paid)  # new in March: not in S
    make_customer(at(2025, 2, 5), at(2025, 3, 20), channel=None)

    refresh_kpis("churn_rate", granularity="month")
    whole = kpi_api.by_period("churn_rate", start="2025-03-01", end="2025-03-31")
    cells = kpi_api.by_segment("churn_rate", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(whole["2025-03-01"], 2 / 5 * 100, numerator=2, denominator=5)
    assert_kpi(cells[("2025-03-01", "Referral")], round(1 / 3 * 100, 2), numerator=1, denominator=3)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(cells[("2025-03-01", "(none)")], 1 / 1 * 100, numerator=1, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_churn_rate_counts_a_churn_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    churn_across_a_local_month_end(tz)

    refresh_kpis("churn_rate", granularity="month")
    months = kpi_api.by_period("churn_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3)
    assert_kpi(months["2025-04-01"], 1 / 2 * 100, numerator=1, denominator=2)


def test_churn_rate_by_quarter(kpi_api):
    customer_history()

    refresh_kpis("churn_rate", granularity="quarter")
    quarters = kpi_api.by_period("churn_rate", granularity="quarter", start="2025-01-01", end="2025-09-30")

    assert [item["period_end"] for item in quarters.values()] == ["2025-04-01", "2025-07-01", "2025-10-01"]
    assert_kpi(quarters["2025-01-01"], None)  # nobody was a customer on 1 January
    # S at 1 April = {G, A, C, D}; G and D churn in Q2 (E and F joined in Q2, so F's churn is not in L).
    assert_kpi(quarters["2025-04-01"], 2 / 4 * 100, numerator=2, denominator=4)
    # S at 1 July = {A, C, E}: nobody churns.
    assert_kpi(quarters["2025-07-01"], 0 / 3 * 100, numerator=0, denominator=3)


def test_churn_rate_by_year_is_empty_without_customers_on_new_years_day(kpi_api):
    customer_history()

    refresh_kpis("churn_rate", granularity="year")
    years = kpi_api.by_period("churn_rate", granularity="year", start="2025-03-01", end="2025-12-31")

    assert list(years) == ["2025-01-01"]
    assert years["2025-01-01"]["period_end"] == "2026-01-01"
    assert_kpi(years["2025-01-01"], None, denominator=0)


# --- retention_rate ---------------------------------------------------------------------------------------------


def test_retention_rate_is_customers_kept_over_customers_at_the_start(kpi_api):
    customer_history()

    refresh_kpis("retention_rate", granularity="month")
    months = kpi_api.by_period("retention_rate", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], None, denominator=0)
    # (E - N') / S: Feb (3 - 2) / 1; Mar (4 - 2) / 3; Apr (4 - 2) / 4; May (3 - 0) / 4.
    assert_kpi(months["2025-02-01"], (3 - 2) / 1 * 100, numerator=1, denominator=1, sample_size=1)
    assert_kpi(months["2025-03-01"], round((4 - 2) / 3 * 100, 2), numerator=2, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], (4 - 2) / 4 * 100, numerator=2, denominator=4, sample_size=4)
    assert_kpi(months["2025-05-01"], (3 - 0) / 4 * 100, numerator=3, denominator=4, sample_size=4)


def test_retention_rate_by_region(kpi_api):
    make_customer(at(2025, 2, 5), region="North")
    make_customer(at(2025, 2, 5), at(2025, 3, 8), region="North")
    make_customer(at(2025, 3, 10), region="North")  # new, still a customer at the end: in N'
    make_customer(at(2025, 3, 12), at(2025, 3, 28), region="North")  # new and gone: neither in E nor N'
    make_customer(at(2025, 2, 5), region="South")
    make_customer(at(2025, 2, 5), region="South")

    refresh_kpis("retention_rate", granularity="month")
    whole = kpi_api.by_period("retention_rate", start="2025-03-01", end="2025-03-31")
    cells = kpi_api.by_segment("retention_rate", "region", start="2025-03-01", end="2025-03-31")

    # all: S=4, E=4, N'=1; North: S=2, E=2, N'=1; South: S=2, E=2, N'=0.
    assert_kpi(whole["2025-03-01"], (4 - 1) / 4 * 100, numerator=3, denominator=4)
    assert_kpi(cells[("2025-03-01", "North")], (2 - 1) / 2 * 100, numerator=1, denominator=2)
    assert_kpi(cells[("2025-03-01", "South")], (2 - 0) / 2 * 100, numerator=2, denominator=2)


def test_retention_rate_follows_e_minus_n_prime_even_for_a_customer_from_the_instant_the_month_ends(kpi_api):
    """KPIS.md's formula is (E - N') / S. It equals R / S except at the instant a period ends: a customer from
    that instant is in E (a customer at P.end) but not in N (P is half-open), and a customer who leaves at that
    instant is in S and not in E but not in L either. The formula as written is what the product computes."""
    make_customer(at(2025, 1, 10), first_name="a")
    make_customer(at(2025, 1, 10), at(2025, 4, 1), first_name="c")  # gone at March's end instant

    refresh_kpis("retention_rate", "churn_rate", granularity="month")
    months = kpi_api.by_period("retention_rate", start="2025-03-01", end="2025-04-30")
    churn = kpi_api.by_period("churn_rate", start="2025-03-01", end="2025-04-30")

    # March: S=2 {a, c}; E=1 {a}; N'=0: (1 - 0) / 2 = 50 %, where R / S = (2 - 0) / 2 would say 100 %:
    # c's churn at April's first instant falls in no period's L (not in March's, and c is not in April's S).
    assert_kpi(months["2025-03-01"], (1 - 0) / 2 * 100, numerator=1, denominator=2, sample_size=2)
    assert_kpi(churn["2025-03-01"], 0, numerator=0, denominator=2)
    assert_kpi(churn["2025-04-01"], 0, numerator=0, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_retention_rate_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    churn_across_a_local_month_end(tz)

    refresh_kpis("retention_rate", granularity="month")
    months = kpi_api.by_period("retention_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], round((3 - 1) / 3 * 100, 2), numerator=2, denominator=3)
    assert_kpi(months["2025-04-01"], (2 - 1) / 2 * 100, numerator=1, denominator=2)


# --- revenue, average order value, repeat purchases -------------------------------------------------------------


def order_history():
    """Two customers and their orders, in UTC.

    Feb: k1 100.00 + 50.50                       -> 2 orders, 150.50; buyers {k1}, none bought before
    Mar: k1 210.00, k2 300.25 + 99.75 (last us) -> 3 orders, 610.00; buyers {k1, k2}, k1 bought before
    Apr: k2 400.00 at 1 April 00:00              -> 1 order, 400.00; buyers {k2}, who bought before
    """
    ana, ben = user("ana"), user("ben")
    k1 = make_customer(at(2025, 1, 5), channel=channel("Referral"), region="North", owner=ana)
    k2 = make_customer(at(2025, 1, 5), channel=channel("Paid ads"), region="South", owner=ben)
    make_order(k1, at(2025, 2, 10), "100.00")
    make_order(k1, at(2025, 2, 20), "50.50")
    make_order(k1, at(2025, 3, 3), "210.00")
    make_order(k2, at(2025, 3, 15), "300.25")
    make_order(k2, at(2025, 3, 31, 23, 59, 59, 999999), "99.75")
    make_order(k2, at(2025, 4, 1), "400.00")


def test_revenue_sums_the_orders_of_each_month(kpi_api):
    order_history()

    refresh_kpis("revenue", granularity="month")
    months = kpi_api.by_period("revenue", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], 0, numerator=0, denominator=None, sample_size=0)
    assert_kpi(months["2025-02-01"], 100.00 + 50.50, numerator=150.50, denominator=None, sample_size=2)
    assert_kpi(months["2025-03-01"], 210.00 + 300.25 + 99.75, numerator=610.00, denominator=None, sample_size=3)
    assert_kpi(months["2025-04-01"], 400.00, numerator=400.00, denominator=None, sample_size=1)
    assert_kpi(months["2025-05-01"], 0, numerator=0, denominator=None, sample_size=0)


def test_revenue_by_region(kpi_api):
    order_history()

    refresh_kpis("revenue", granularity="month")
    cells = kpi_api.by_segment("revenue", "region", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "North")], 210.00, sample_size=1)
    assert_kpi(cells[("2025-03-01", "South")], 300.25 + 99.75, sample_size=2)


def test_revenue_by_owner_is_the_contacts_owner(kpi_api):
    order_history()

    refresh_kpis("revenue", granularity="month")
    cells = kpi_api.by_segment("revenue", "owner", start="2025-02-01", end="2025-03-31")

    assert_kpi(cells[("2025-02-01", "ana")], 150.50)
    assert_kpi(cells[("2025-03-01", "ana")], 210.00)
    assert_kpi(cells[("2025-03-01", "ben")], 400.00)


@pytest.mark.parametrize("tz", ZONES)
def test_revenue_at_local_midnight_belongs_to_the_new_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    buyer = make_customer(at(2025, 1, 5))
    march = at(2025, 3, 1, tz=tz)
    make_order(buyer, march, "10.00")
    make_order(buyer, just_before(march), "1.00")

    refresh_kpis("revenue", granularity="month")
    months = kpi_api.by_period("revenue", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 1.00, sample_size=1)
    assert_kpi(months["2025-03-01"], 10.00, sample_size=1)


def test_revenue_by_quarter_in_new_york(kpi_api, settings):
    settings.TIME_ZONE = NEW_YORK
    buyer = make_customer(at(2025, 1, 5))
    second_quarter = at(2025, 4, 1, tz=NEW_YORK)
    make_order(buyer, second_quarter, "40.00")
    make_order(buyer, just_before(second_quarter), "4.00")

    refresh_kpis("revenue", granularity="quarter")
    quarters = kpi_api.by_period("revenue", granularity="quarter", start="2025-02-15", end="2025-08-01")

    assert list(quarters) == ["2025-01-01", "2025-04-01", "2025-07-01"]
    assert [item["period_end"] for item in quarters.values()] == ["2025-04-01", "2025-07-01", "2025-10-01"]
    assert_kpi(quarters["2025-01-01"], 4.00)
    assert_kpi(quarters["2025-04-01"], 40.00)
    assert_kpi(quarters["2025-07-01"], 0)


def test_revenue_by_year_in_kolkata(kpi_api, settings):
    settings.TIME_ZONE = KOLKATA
    buyer = make_customer(at(2024, 1, 5))
    new_year = at(2025, 1, 1, tz=KOLKATA)
    make_order(buyer, new_year, "25.00")
    make_order(buyer, just_before(new_year), "2.50")

    refresh_kpis("revenue", since="2024-01-01", granularity="year")
    years = kpi_api.by_period("revenue", granularity="year", start="2024-06-01", end="2025-06-01")

    assert list(years) == ["2024-01-01", "2025-01-01"]
    assert years["2025-01-01"]["period_end"] == "2026-01-01"
    assert_kpi(years["2024-01-01"], 2.50)
    assert_kpi(years["2025-01-01"], 25.00)


def test_average_order_value_is_revenue_per_order(kpi_api):
    order_history()

    refresh_kpis("average_order_value", granularity="month")
    months = kpi_api.by_period("average_order_value", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], None, denominator=0, sample_size=0)  # no orders: empty
    assert_kpi(months["2025-02-01"], 150.50 / 2, numerator=150.50, denominator=2, sample_size=2)
    assert_kpi(months["2025-03-01"], round(610.00 / 3, 2), numerator=610.00, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], 400.00 / 1, numerator=400.00, denominator=1, sample_size=1)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_average_order_value_by_channel(kpi_api):
    order_history()

    refresh_kpis("average_order_value", granularity="month")
    cells = kpi_api.by_segment("average_order_value", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Referral")], 210.00 / 1, numerator=210.00, denominator=1)
    assert_kpi(cells[("2025-03-01", "Paid ads")], (300.25 + 99.75) / 2, numerator=400.00, denominator=2)


@pytest.mark.parametrize("tz", ZONES)
def test_average_order_value_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    buyer = make_customer(at(2025, 1, 5))
    march = at(2025, 3, 1, tz=tz)
    make_order(buyer, march, "10.00")
    make_order(buyer, march + hours(1), "20.00")
    make_order(buyer, just_before(march), "1.00")

    refresh_kpis("average_order_value", granularity="month")
    months = kpi_api.by_period("average_order_value", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 1.00 / 1, numerator=1.00, denominator=1)
    assert_kpi(months["2025-03-01"], (10.00 + 20.00) / 2, numerator=30.00, denominator=2)


@pytest.fixture(params=["counted", "grouped"])
def repeat_buyers(request, monkeypatch):
    """Every repeat purchase test both ways: each period's buyers counted per contact in the scan that counts
    CLV's buyers (a refresh of a few periods, such as the open ones), and grouped per period of every
    granularity (a refresh of many)."""
    monkeypatch.setattr(customers, "COUNTED_PERIODS", 10_000 if request.param == "counted" else 0)


@pytest.mark.usefixtures("repeat_buyers")
def test_repeat_purchase_rate_counts_buyers_who_had_bought_before(kpi_api):
    order_history()

    refresh_kpis("repeat_purchase_rate", granularity="month")
    months = kpi_api.by_period("repeat_purchase_rate", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-02-01"], 0 / 1 * 100, numerator=0, denominator=1, sample_size=1)  # two orders, one buyer
    assert_kpi(months["2025-03-01"], 1 / 2 * 100, numerator=1, denominator=2, sample_size=2)  # k1 had bought
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1, sample_size=1)  # k2 had bought
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


@pytest.mark.usefixtures("repeat_buyers")
def test_repeat_purchase_rate_by_channel(kpi_api):
    order_history()

    refresh_kpis("repeat_purchase_rate", granularity="month")
    cells = kpi_api.by_segment("repeat_purchase_rate", "channel", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "Referral")], 1 / 1 * 100, numerator=1, denominator=1)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(cells[("2025-04-01", "Paid ads")], 1 / 1 * 100, numerator=1, denominator=1)


@pytest.mark.usefixtures("repeat_buyers")
@pytest.mark.parametrize("tz", ZONES)
def test_repeat_purchase_rate_an_order_at_local_midnight_is_not_before_the_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    first, second = make_customer(at(2025, 1, 5)), make_customer(at(2025, 1, 5))
    march = at(2025, 3, 1, tz=tz)
    make_order(first, just_before(march), "5.00")  # February: bought before March
    make_order(first, march + hours(1), "5.00")
    make_order(second, march, "5.00")  # March's first instant: not before March
    make_order(second, march + hours(2), "5.00")

    refresh_kpis("repeat_purchase_rate", granularity="month")
    months = kpi_api.by_period("repeat_purchase_rate", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-03-01"], 1 / 2 * 100, numerator=1, denominator=2)


# --- bookings ---------------------------------------------------------------------------------------------------


def booking_history():
    """Won deals: March 1000.00 (new, Sales) + 500.00 (upsell, Partners); April 250.50. Lost and open: ignored."""
    partners = make_pipeline("Partners")
    ana, ben = user("ana"), user("ben")
    make_deal(created=at(2025, 2, 20), status="won", closed=at(2025, 3, 5), amount="1000.00", kind="new", owner=ana)
    make_deal(
        created=at(2025, 3, 1),
        status="won",
        closed=at(2025, 3, 18),
        amount="500.00",
        kind="upsell",
        owner=ben,
        pipeline=partners,
    )
    make_deal(created=at(2025, 3, 1), status="lost", closed=at(2025, 3, 20), amount="700.00", kind="new", owner=ana)
    make_deal(created=at(2025, 3, 2), status="open", amount="300.00", kind="new", owner=ana)
    make_deal(created=at(2025, 3, 25), status="won", closed=at(2025, 4, 2), amount="250.50", kind="new", owner=ana)


def test_bookings_sum_the_deals_won_in_each_month(kpi_api):
    booking_history()

    refresh_kpis("bookings", granularity="month")
    months = kpi_api.by_period("bookings", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], 0, numerator=0, denominator=None, sample_size=0)
    assert_kpi(months["2025-03-01"], 1000.00 + 500.00, numerator=1500.00, denominator=None, sample_size=2)
    assert_kpi(months["2025-04-01"], 250.50, numerator=250.50, denominator=None, sample_size=1)
    assert_kpi(months["2025-05-01"], 0, numerator=0, denominator=None, sample_size=0)


def test_bookings_by_kind_and_pipeline(kpi_api):
    booking_history()

    refresh_kpis("bookings", granularity="month")
    kinds = kpi_api.by_segment("bookings", "kind", start="2025-03-01", end="2025-03-31")
    pipelines = kpi_api.by_segment("bookings", "pipeline", start="2025-03-01", end="2025-03-31")

    assert_kpi(kinds[("2025-03-01", "new")], 1000.00, sample_size=1)
    assert_kpi(kinds[("2025-03-01", "upsell")], 500.00, sample_size=1)
    assert_kpi(pipelines[("2025-03-01", "Sales")], 1000.00)
    assert_kpi(pipelines[("2025-03-01", "Partners")], 500.00)


@pytest.mark.parametrize("tz", ZONES)
def test_bookings_won_at_local_midnight_belong_to_the_new_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_deal(created=at(2025, 3, 1), status="won", closed=april, amount="100.00")
    make_deal(created=at(2025, 3, 1), status="won", closed=just_before(april), amount="30.00")

    refresh_kpis("bookings", granularity="month")
    months = kpi_api.by_period("bookings", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 30.00, sample_size=1)
    assert_kpi(months["2025-04-01"], 100.00, sample_size=1)


# --- cac and crc ------------------------------------------------------------------------------------------------


def acquisition_history():
    """New customers: Feb 1 (Referral); Mar 3 (Referral 2, Paid ads 1); Apr 2 (Paid ads); May none.

    Acquisition spend: Mar 600.00 Referral + 330.00 Paid ads + 150.00 without channel; Apr 500.00 Paid ads;
    May 200.00 Referral. Retention spend (1000.00 in March) is not acquisition spend.
    """
    referral, paid = channel("Referral"), channel("Paid ads")
    make_customer(at(2025, 2, 10), channel=referral)
    make_customer(at(2025, 3, 3), channel=referral)
    make_customer(at(2025, 3, 20), channel=referral)
    make_customer(at(2025, 3, 10), channel=paid)
    make_customer(at(2025, 4, 5), channel=paid)
    make_customer(at(2025, 4, 25), channel=paid)
    make_spend(day(2025, 3, 1), "600.00", channel=referral)
    make_spend(day(2025, 3, 31), "330.00", channel=paid)
    make_spend(day(2025, 3, 15), "150.00", channel=None)
    make_spend(day(2025, 3, 10), "1000.00", category="retention", channel=referral)
    make_spend(day(2025, 4, 1), "500.00", channel=paid)
    make_spend(day(2025, 5, 20), "200.00", channel=referral)


def test_cac_is_acquisition_spend_per_new_customer(kpi_api):
    acquisition_history()

    refresh_kpis("cac", granularity="month")
    months = kpi_api.by_period("cac", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], 0 / 1, numerator=0, denominator=1, sample_size=1)  # a free customer
    assert_kpi(months["2025-03-01"], (600 + 330 + 150) / 3, numerator=1080.00, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], 500 / 2, numerator=500.00, denominator=2, sample_size=2)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)  # spend but N = 0: empty


def test_cac_by_channel_leaves_spend_without_a_channel_to_all(kpi_api):
    acquisition_history()

    refresh_kpis("cac", granularity="month")
    cells = kpi_api.by_segment("cac", "channel", start="2025-03-01", end="2025-05-31")

    assert_kpi(cells[("2025-03-01", "Referral")], 600 / 2, numerator=600.00, denominator=2)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 330 / 1, numerator=330.00, denominator=1)
    assert_kpi(cells[("2025-04-01", "Paid ads")], 500 / 2, numerator=500.00, denominator=2)
    assert_kpi(cells[("2025-05-01", "Referral")], None, denominator=0)


@pytest.mark.parametrize("tz", ZONES)
def test_cac_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_customer(april)
    make_customer(just_before(april))
    make_spend(day(2025, 3, 31), "100.00")
    make_spend(day(2025, 4, 1), "300.00")  # a date is a local date: 1 April is April everywhere

    refresh_kpis("cac", granularity="month")
    months = kpi_api.by_period("cac", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 100 / 1, numerator=100.00, denominator=1)
    assert_kpi(months["2025-04-01"], 300 / 1, numerator=300.00, denominator=1)


def test_crc_is_retention_spend_per_retained_customer(kpi_api):
    customer_history()  # R = S - L: Jan 0, Feb 1, Mar 3 - 1 = 2, Apr 4 - 2 = 2, May 4 - 1 = 3
    make_spend(day(2025, 1, 15), "100.00", category="retention")
    make_spend(day(2025, 3, 10), "500.00", category="retention")
    make_spend(day(2025, 3, 5), "999.00", category="acquisition")  # not retention spend
    make_spend(day(2025, 4, 20), "300.50", category="retention")

    refresh_kpis("crc", granularity="month")
    months = kpi_api.by_period("crc", start="2025-01-01", end="2025-05-31")

    assert_kpi(months["2025-01-01"], None, denominator=0)  # spend, but nobody to retain
    assert_kpi(months["2025-02-01"], 0 / 1, numerator=0, denominator=1, sample_size=1)
    assert_kpi(months["2025-03-01"], 500 / 2, numerator=500.00, denominator=2, sample_size=2)
    assert_kpi(months["2025-04-01"], 300.50 / 2, numerator=300.50, denominator=2, sample_size=2)
    assert_kpi(months["2025-05-01"], 0 / 3, numerator=0, denominator=3, sample_size=3)


@pytest.mark.parametrize("tz", ZONES)
def test_crc_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    churn_across_a_local_month_end(tz)  # local March: R = 3 - 1 = 2; local April: R = 2 - 1 = 1
    make_spend(day(2025, 3, 31), "100.00", category="retention")
    make_spend(day(2025, 4, 1), "300.00", category="retention")

    refresh_kpis("crc", granularity="month")
    months = kpi_api.by_period("crc", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 100 / 2, numerator=100.00, denominator=2)
    assert_kpi(months["2025-04-01"], 300 / 1, numerator=300.00, denominator=1)


# --- clv and clv_cac_ratio --------------------------------------------------------------------------------------


@pytest.fixture(params=["counted", "islands"])
def clv_buyers(request, monkeypatch):
    """Every CLV test both ways the buyers of a window are found: counted in SQL for each window (a refresh of a
    few periods, such as the open ones) and from the islands of each contact's buying days (a refresh of many)."""
    monkeypatch.setattr(customers, "COUNTED_WINDOWS", 10_000 if request.param == "counted" else 0)


def lifetime_history():
    """Customers and orders over the windows W of 12 months ending at P.end, in UTC.

    Customers: c1 Referral since 2024-01-05, churned 2025-02-10; c2 Referral since 2024-01-06;
    c3 Paid ads since 2024-03-01; c4 Paid ads since 2024-05-01; c5 Referral since 2024-07-15;
    c6 Paid ads since 2025-07-20. Acquisition spend 1400.00 on 2024-09-15, Referral.
    Orders: c1 100.00 on 2024-06-20 and 300.00 on 2024-07-10; c2 200.00 on 2024-09-01 and 2025-03-01;
    c3 100.00 on 2025-06-30; c5 400.00 on 2025-07-15.

    P = January 2025, W = [2024-02-01, 2025-02-01): S {c1, c2}, nobody churns in W -> empty.
    P = June 2025, W = [2024-07-01, 2025-07-01): S {c1..c4} = 4, L {c1} = 1, N {c5} = 1;
        orders c1 300, c2 200 + 200, c3 100 -> revenue 800, 4 orders, 3 buyers.
    P = July 2025, W = [2024-08-01, 2025-08-01): S {c1..c5} = 5, L {c1} = 1, N {c6} = 1;
        orders c2 200 + 200, c3 100, c5 400 -> revenue 900, 4 orders, 3 buyers.
    """
    referral, paid = channel("Referral"), channel("Paid ads")
    c1 = make_customer(at(2024, 1, 5), at(2025, 2, 10), channel=referral)
    c2 = make_customer(at(2024, 1, 6), channel=referral)
    c3 = make_customer(at(2024, 3, 1), channel=paid)
    make_customer(at(2024, 5, 1), channel=paid)
    c5 = make_customer(at(2024, 7, 15), channel=referral)
    make_customer(at(2025, 7, 20), channel=paid)
    make_order(c1, at(2024, 6, 20), "100.00")  # before every window below
    make_order(c1, at(2024, 7, 10), "300.00")
    make_order(c2, at(2024, 9, 1), "200.00")
    make_order(c2, at(2025, 3, 1), "200.00")
    make_order(c3, at(2025, 6, 30, 23), "100.00")
    make_order(c5, at(2025, 7, 15), "400.00")
    make_spend(day(2024, 9, 15), "1400.00", channel=referral)


def clv_by_hand(revenue, orders, buyers, customers_at_start, lost):
    """KPIS.md: average purchase value x purchase frequency x lifespan (1 / annual churn)."""
    average_purchase_value = revenue / orders
    purchase_frequency = orders / buyers
    lifespan_years = 1 / (lost / customers_at_start)
    return average_purchase_value * purchase_frequency * lifespan_years


@pytest.mark.usefixtures("clv_buyers")
def test_clv_over_the_twelve_months_ending_at_the_period_end(kpi_api):
    lifetime_history()

    refresh_kpis("clv", since="2025-01-01", granularity="month")
    months = kpi_api.by_period("clv", start="2025-01-01", end="2025-07-31")

    assert_kpi(months["2025-01-01"], None)  # no churn in W: empty, as ChartMogul does
    june = clv_by_hand(revenue=800, orders=4, buyers=3, customers_at_start=4, lost=1)  # 200 x 4/3 x 4
    july = clv_by_hand(revenue=900, orders=4, buyers=3, customers_at_start=5, lost=1)  # 225 x 4/3 x 5
    assert_kpi(months["2025-06-01"], round(june, 2))
    assert_kpi(months["2025-07-01"], round(july, 2))
    assert round(june, 2) == 1066.67
    assert round(july, 2) == 1500.00


@pytest.mark.usefixtures("clv_buyers")
def test_clv_counts_the_churn_and_new_customers_of_a_window_starting_before_the_refreshed_periods(kpi_api):
    lifetime_history()

    refresh_kpis("clv_cac_ratio", "clv", since="2025-06-01")  # c1 churned in February, c5 joined in 2024
    clv = kpi_api.by_period("clv", start="2025-06-01", end="2025-07-31")
    ratio = kpi_api.by_period("clv_cac_ratio", start="2025-06-01", end="2025-06-30")

    assert_kpi(clv["2025-06-01"], round(clv_by_hand(800, 4, 3, 4, 1), 2))
    assert_kpi(clv["2025-07-01"], round(clv_by_hand(900, 4, 3, 5, 1), 2))
    assert_kpi(ratio["2025-06-01"], round(clv_by_hand(800, 4, 3, 4, 1) / (1400 / 1), 2))


@pytest.mark.usefixtures("clv_buyers")
def test_clv_by_channel(kpi_api):
    lifetime_history()

    refresh_kpis("clv", granularity="month")
    cells = kpi_api.by_segment("clv", "channel", start="2025-06-01", end="2025-07-31")

    # Referral, June: S {c1, c2}, L {c1}; orders c1 300, c2 200 + 200 -> 700, 3 orders, 2 buyers.
    assert_kpi(cells[("2025-06-01", "Referral")], round(clv_by_hand(700, 3, 2, 2, 1), 2))
    # Referral, July: S {c1, c2, c5}, L {c1}; orders c2 200 + 200, c5 400 -> 800, 3 orders, 2 buyers.
    assert_kpi(cells[("2025-07-01", "Referral")], round(clv_by_hand(800, 3, 2, 3, 1), 2))
    # Paid ads: c3 and c4 never churn -> empty.
    assert_kpi(cells[("2025-06-01", "Paid ads")], None)


def clv_across_a_local_window_end(tz: str):
    """c1 and c2 customers since 2024-01-01, c1 churns 2025-01-15. c1 bought 300.00 on 2024-12-01;
    c2 bought 100.00 a microsecond before local 1 July 2025 and 1000.00 at local 1 July 2025 00:00.

    June (W ends at local 1 July): S 2, L 1; orders 300 + 100 -> 400, 2 orders, 2 buyers.
    July (W = [local 2024-08-01, local 2025-08-01)): S 2, L 1; orders 300 + 100 + 1000 -> 1400, 3 orders, 2 buyers.
    """
    july = at(2025, 7, 1, tz=tz)
    c1 = make_customer(at(2024, 1, 1), at(2025, 1, 15))
    c2 = make_customer(at(2024, 1, 1))
    make_order(c1, at(2024, 12, 1), "300.00")
    make_order(c2, just_before(july), "100.00")
    make_order(c2, july, "1000.00")
    return july


@pytest.mark.usefixtures("clv_buyers")
@pytest.mark.parametrize("tz", ZONES)
def test_clv_window_ends_at_local_midnight(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    clv_across_a_local_window_end(tz)

    refresh_kpis("clv", granularity="month")
    months = kpi_api.by_period("clv", start="2025-06-01", end="2025-07-31")

    assert_kpi(months["2025-06-01"], round(clv_by_hand(400, 2, 2, 2, 1), 2))  # 200 x 1 x 2 = 400
    assert_kpi(months["2025-07-01"], round(clv_by_hand(1400, 3, 2, 2, 1), 2))  # 1400/3 x 3/2 x 2 = 1400


@pytest.mark.usefixtures("clv_buyers")
def test_clv_is_multiplied_by_the_gross_margin(kpi_api, settings):
    settings.KPI_GROSS_MARGIN = 0.5
    lifetime_history()

    refresh_kpis("clv", granularity="month")
    months = kpi_api.by_period("clv", start="2025-06-01", end="2025-06-30")

    assert_kpi(months["2025-06-01"], round(clv_by_hand(800, 4, 3, 4, 1) * 0.5, 2))  # 1066.67 x 0.5


@pytest.mark.usefixtures("clv_buyers")
def test_clv_cac_ratio_divides_clv_by_the_cac_of_the_window(kpi_api):
    lifetime_history()

    refresh_kpis("clv_cac_ratio", granularity="month")
    months = kpi_api.by_period("clv_cac_ratio", start="2025-01-01", end="2025-07-31")

    assert_kpi(months["2025-01-01"], None)  # CLV empty
    # CAC over W: June 1400.00 / N {c5}; July 1400.00 / N {c6}.
    assert_kpi(months["2025-06-01"], round(clv_by_hand(800, 4, 3, 4, 1) / (1400 / 1), 2))
    assert_kpi(months["2025-07-01"], round(clv_by_hand(900, 4, 3, 5, 1) / (1400 / 1), 2))


@pytest.mark.usefixtures("clv_buyers")
def test_clv_cac_ratio_by_channel(kpi_api):
    lifetime_history()

    refresh_kpis("clv_cac_ratio", granularity="month")
    cells = kpi_api.by_segment("clv_cac_ratio", "channel", start="2025-06-01", end="2025-07-31")

    # Referral, June: CLV 700.00; its spend 1400.00 over N {c5} = 1.
    assert_kpi(cells[("2025-06-01", "Referral")], round(clv_by_hand(700, 3, 2, 2, 1) / (1400 / 1), 2))
    # Referral, July: no new Referral customer in W, so its CAC is empty and so is the ratio.
    assert_kpi(cells[("2025-07-01", "Referral")], None)


@pytest.mark.usefixtures("clv_buyers")
@pytest.mark.parametrize("tz", ZONES)
def test_clv_cac_ratio_counts_new_customers_of_the_local_window(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    july = clv_across_a_local_window_end(tz)
    make_customer(just_before(july))  # new in June's window (and in July's)
    make_customer(july)  # new in July's window only
    make_spend(day(2024, 9, 15), "800.00")

    refresh_kpis("clv_cac_ratio", granularity="month")
    months = kpi_api.by_period("clv_cac_ratio", start="2025-06-01", end="2025-07-31")

    assert_kpi(months["2025-06-01"], round(clv_by_hand(400, 2, 2, 2, 1) / (800 / 1), 2))  # 400 / 800
    assert_kpi(months["2025-07-01"], round(clv_by_hand(1400, 3, 2, 2, 1) / (800 / 2), 2))  # 1400 / 400


def clv_window_orders(first: datetime.date, last: datetime.date, tz: str = "UTC") -> dict[datetime.date, tuple]:
    """Per month from `first` to `last`, the (revenue, orders, buyers) of its window W, as clv computes them."""
    months = periods_between("month", first, last)
    components = registry()["clv"].components(Query("month", months, ALL, tz))
    names = ("revenue", "orders", "buyers")
    return {month.start: tuple(components.get((month.start, ALL), {}).get(n, 0) for n in names) for month in months}


@pytest.mark.usefixtures("clv_buyers")
def test_clv_buyer_with_orders_more_than_twelve_months_apart_buys_in_the_windows_of_each():
    c, d, e = (make_customer(at(2023, 1, 1)) for _ in range(3))
    make_order(c, at(2024, 1, 10), "1.00")  # c: two orders 14 months apart
    make_order(c, at(2025, 3, 10), "2.00")
    make_order(d, at(2024, 6, 15), "4.00")
    make_order(e, at(2024, 2, 10), "8.00")  # e: two orders less than 12 months apart
    make_order(e, at(2025, 2, 1), "16.00")

    windows = clv_window_orders(day(2024, 12, 1), day(2025, 7, 1))

    assert windows[day(2024, 12, 1)] == (13, 3, 3)  # W = [2024-01-01, 2025-01-01): c, d, e
    assert windows[day(2025, 1, 1)] == (12, 2, 2)  # [2024-02-01, 2025-02-01): d, e; c's first order left
    assert windows[day(2025, 2, 1)] == (20, 2, 2)  # [2024-03-01, 2025-03-01): d, e (its second order)
    assert windows[day(2025, 3, 1)] == (22, 3, 3)  # [2024-04-01, 2025-04-01): c is back with its second order
    assert windows[day(2025, 6, 1)] == (18, 2, 2)  # [2024-07-01, 2025-07-01): c, e; d's order left


@pytest.mark.usefixtures("clv_buyers")
@pytest.mark.parametrize("tz", ZONES)
def test_clv_window_counts_an_order_at_its_local_start_and_not_one_at_its_local_end(settings, tz):
    settings.TIME_ZONE = tz
    x, y = make_customer(at(2023, 1, 1)), make_customer(at(2023, 1, 1))
    window_start, window_end = at(2024, 7, 1, tz=tz), at(2025, 7, 1, tz=tz)  # W of June 2025
    make_order(x, just_before(window_start), "2.00")
    make_order(x, window_start, "1.00")
    make_order(y, just_before(window_end), "8.00")
    make_order(y, window_end, "4.00")

    windows = clv_window_orders(day(2025, 5, 1), day(2025, 7, 1), tz)

    assert windows[day(2025, 5, 1)] == (3, 2, 1)  # [2024-06-01, 2025-06-01): x's two orders
    assert windows[day(2025, 6, 1)] == (9, 2, 2)  # [2024-07-01, 2025-07-01): x at its start, y before its end
    assert windows[day(2025, 7, 1)] == (12, 2, 1)  # [2024-08-01, 2025-08-01): y's two orders


# --- upsell_rate ------------------------------------------------------------------------------------------------


def upsell_history():
    """S: Feb {u1, u2, u3}; Mar {u1..u4}; Apr {u1..u5} (u1-u3 since January, u4 February, u5 March).

    March: u1 wins two upsells (counted once), u2 a cross-sell; u3's won deal is new business, u4's upsell is
    lost, u5 (not in S) wins an upsell -> 2 of 4. April: u4 wins an upsell -> 1 of 5.
    """
    referral, paid = channel("Referral"), channel("Paid ads")
    u1 = make_customer(at(2025, 1, 10), channel=referral)
    u2 = make_customer(at(2025, 1, 10), channel=referral)
    u3 = make_customer(at(2025, 1, 10), channel=paid)
    u4 = make_customer(at(2025, 2, 10), channel=paid)
    u5 = make_customer(at(2025, 3, 5), channel=paid)

    def won(contact, kind, closed, status="won"):
        make_deal(created=at(2025, 2, 1), status=status, closed=closed, kind=kind, contact=contact)

    won(u1, "upsell", at(2025, 3, 3))
    won(u1, "upsell", at(2025, 3, 20))
    won(u2, "cross_sell", at(2025, 3, 12))
    won(u3, "new", at(2025, 3, 15))
    won(u4, "upsell", at(2025, 3, 18), status="lost")
    won(u5, "upsell", at(2025, 3, 25))
    won(u4, "upsell", at(2025, 4, 10))


def test_upsell_rate_is_customers_who_bought_more_over_customers_at_the_start(kpi_api):
    upsell_history()

    refresh_kpis("upsell_rate", granularity="month")
    months = kpi_api.by_period("upsell_rate", start="2025-01-01", end="2025-04-30")

    assert_kpi(months["2025-01-01"], None, denominator=0)
    assert_kpi(months["2025-02-01"], 0 / 3 * 100, numerator=0, denominator=3, sample_size=3)
    assert_kpi(months["2025-03-01"], 2 / 4 * 100, numerator=2, denominator=4, sample_size=4)
    assert_kpi(months["2025-04-01"], 1 / 5 * 100, numerator=1, denominator=5, sample_size=5)


def test_upsell_rate_by_channel(kpi_api):
    upsell_history()

    refresh_kpis("upsell_rate", granularity="month")
    cells = kpi_api.by_segment("upsell_rate", "channel", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "Referral")], 2 / 2 * 100, numerator=2, denominator=2)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 0 / 2 * 100, numerator=0, denominator=2)
    assert_kpi(cells[("2025-04-01", "Paid ads")], round(1 / 3 * 100, 2), numerator=1, denominator=3)


@pytest.mark.parametrize("tz", ZONES)
def test_upsell_rate_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    u1, u2 = make_customer(at(2025, 1, 10)), make_customer(at(2025, 1, 10))
    make_deal(created=at(2025, 2, 1), status="won", closed=just_before(april), kind="upsell", contact=u1)
    make_deal(created=at(2025, 2, 1), status="won", closed=april, kind="cross_sell", contact=u2)

    refresh_kpis("upsell_rate", granularity="month")
    months = kpi_api.by_period("upsell_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 1 / 2 * 100, numerator=1, denominator=2)
    assert_kpi(months["2025-04-01"], 1 / 2 * 100, numerator=1, denominator=2)


# --- renewal_rate -----------------------------------------------------------------------------------------------


def renewal_history():
    """Subscriptions by end date. March: Referral renewed x2 + cancelled, Paid ads renewed + expired, and an
    active one (not decided: left out) -> 3 of 5. April: renewed + expired x2 -> 1 of 3. May: only active."""
    referral, paid = channel("Referral"), channel("Paid ads")
    r, p = make_customer(at(2024, 1, 1), channel=referral), make_customer(at(2024, 1, 1), channel=paid)
    make_subscription(r, day(2025, 3, 1), "renewed")
    make_subscription(r, day(2025, 3, 5), "renewed")
    make_subscription(r, day(2025, 3, 31), "cancelled")
    make_subscription(p, day(2025, 3, 15), "renewed")
    make_subscription(p, day(2025, 3, 20), "expired")
    make_subscription(p, day(2025, 3, 10), "active")
    make_subscription(r, day(2025, 4, 1), "renewed")
    make_subscription(p, day(2025, 4, 12), "expired")
    make_subscription(p, day(2025, 4, 30), "expired")
    make_subscription(r, day(2025, 5, 10), "active")


def test_renewal_rate_is_renewed_over_decided_subscriptions_ending_in_the_month(kpi_api):
    renewal_history()

    refresh_kpis("renewal_rate", granularity="month")
    months = kpi_api.by_period("renewal_rate", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], 3 / 5 * 100, numerator=3, denominator=5, sample_size=5)
    assert_kpi(months["2025-04-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)  # still active: not decided


def test_renewal_rate_by_channel(kpi_api):
    renewal_history()

    refresh_kpis("renewal_rate", granularity="month")
    cells = kpi_api.by_segment("renewal_rate", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Referral")], round(2 / 3 * 100, 2), numerator=2, denominator=3)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 1 / 2 * 100, numerator=1, denominator=2)


@pytest.mark.parametrize("tz", ZONES)
def test_renewal_rate_end_dates_are_local_dates(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    contact = make_customer(at(2024, 1, 1))
    make_subscription(contact, day(2025, 4, 1), "renewed")  # ends on the first day of April, in any zone
    make_subscription(contact, day(2025, 3, 31), "cancelled")

    refresh_kpis("renewal_rate", granularity="month")
    months = kpi_api.by_period("renewal_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)


# --- engagement -------------------------------------------------------------------------------------------------


def engagement_history():
    """Customers at some instant of: Jan none; Feb {e1, e3, e4}; Mar {e1, e2, e3}; Apr {e1, e2}.

    Interactions: Jan 1 (prospect); Feb none; Mar e1 x3, e2 x1, e3 x1 (before it churned), e4 x2 (churned in
    February: not a customer in March), prospect x1 -> 5 for 3 customers; Apr e2 x2 -> 2 for 2 customers.
    """
    ana, ben = user("ana"), user("ben")
    e1 = make_customer(at(2025, 2, 1), owner=ana)
    e2 = make_customer(at(2025, 3, 10), owner=ben)
    e3 = make_customer(at(2025, 2, 1), at(2025, 3, 5), owner=ana)
    e4 = make_customer(at(2025, 2, 1), at(2025, 2, 20), owner=ben)
    prospect = make_customer(None, owner=ana)
    make_interaction(prospect, at(2025, 1, 20))
    for moment in (at(2025, 3, 2), at(2025, 3, 12), at(2025, 3, 31, 23)):
        make_interaction(e1, moment)
    make_interaction(e2, at(2025, 3, 15))
    make_interaction(e3, at(2025, 3, 2))
    make_interaction(e4, at(2025, 3, 3))
    make_interaction(e4, at(2025, 3, 4))
    make_interaction(prospect, at(2025, 3, 6))
    make_interaction(e2, at(2025, 4, 2))
    make_interaction(e2, at(2025, 4, 3))


def test_engagement_is_interactions_per_customer(kpi_api):
    engagement_history()

    refresh_kpis("engagement", granularity="month")
    months = kpi_api.by_period("engagement", start="2025-01-01", end="2025-04-30")

    assert_kpi(months["2025-01-01"], None, denominator=0, sample_size=0)  # no customer in January
    assert_kpi(months["2025-02-01"], 0 / 3, numerator=0, denominator=3, sample_size=3)
    assert_kpi(months["2025-03-01"], round(5 / 3, 2), numerator=5, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], 2 / 2, numerator=2, denominator=2, sample_size=2)


def test_engagement_by_owner(kpi_api):
    engagement_history()

    refresh_kpis("engagement", granularity="month")
    cells = kpi_api.by_segment("engagement", "owner", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "ana")], (3 + 1) / 2, numerator=4, denominator=2)  # e1 and e3
    assert_kpi(cells[("2025-03-01", "ben")], 1 / 1, numerator=1, denominator=1)  # e2 (e4 had left)


@pytest.mark.parametrize("tz", ZONES)
def test_engagement_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    customer = make_customer(at(2025, 1, 5))
    make_interaction(customer, at(2025, 3, 10, 12))
    make_interaction(customer, just_before(april))
    make_interaction(customer, april)

    refresh_kpis("engagement", granularity="month")
    months = kpi_api.by_period("engagement", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 2 / 1, numerator=2, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1, numerator=1, denominator=1)
