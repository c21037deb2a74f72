"""Leads and deals KPIs of KPIS.md, each number worked out by hand from the definition."""

import datetime

import pytest

from sales.models import Lead
from tests.kpis.conftest import (
    KOLKATA,
    NEW_YORK,
    ZONES,
    assert_kpi,
    at,
    channel,
    days,
    just_before,
    make_deal,
    make_pipeline,
    make_spend,
    refresh_kpis,
    user,
)
from tests.sales.factories import CampaignFactory, LeadFactory, default_pipeline

pytestmark = pytest.mark.django_db

day = datetime.date


def make_lead(created, *, converted=None, status=None, **fields) -> Lead:
    fields.setdefault("channel", None)
    status = status or (Lead.Status.CONVERTED if converted else Lead.Status.NEW)
    return LeadFactory(created_at=created, converted_at=converted, status=status, **fields)


def campaign(name: str, channel_name: str):
    return CampaignFactory(
        name=name, channel=channel(channel_name), starts_on=day(2025, 1, 1), ends_on=day(2025, 12, 31)
    )


# --- new_leads and lead_conversion_rate -------------------------------------------------------------------------


def lead_history():
    """Feb: L1 (Referral, Spring, ana, converted in April), L2 (Referral, no campaign, ben).
    Mar: L3 (Referral, Spring, ana, converted in March), L4 (Paid ads, Summer, ben, disqualified),
    L5 (no channel, no campaign, ana, still working). Apr: none."""
    ana, ben = user("ana"), user("ben")
    referral, paid = channel("Referral"), channel("Paid ads")
    spring, summer = campaign("Spring", "Paid ads"), campaign("Summer", "Events")
    make_lead(at(2025, 2, 3), converted=at(2025, 4, 10), channel=referral, campaign=spring, owner=ana)
    make_lead(at(2025, 2, 17), channel=referral, owner=ben)
    make_lead(at(2025, 3, 4), converted=at(2025, 3, 20), channel=referral, campaign=spring, owner=ana)
    make_lead(at(2025, 3, 11), status=Lead.Status.DISQUALIFIED, channel=paid, campaign=summer, owner=ben)
    make_lead(at(2025, 3, 31, 23, 59), status=Lead.Status.WORKING, owner=ana)


def test_new_leads_counts_leads_created_in_each_month(kpi_api):
    lead_history()

    refresh_kpis("new_leads", granularity="month")
    months = kpi_api.by_period("new_leads", start="2025-02-01", end="2025-04-30")

    assert_kpi(months["2025-02-01"], 2, numerator=2, denominator=None, sample_size=2)
    assert_kpi(months["2025-03-01"], 3, numerator=3, denominator=None, sample_size=3)
    assert_kpi(months["2025-04-01"], 0, numerator=0, denominator=None, sample_size=0)


def test_new_leads_by_campaign(kpi_api):
    lead_history()

    refresh_kpis("new_leads", granularity="month")
    cells = kpi_api.by_segment("new_leads", "campaign", start="2025-02-01", end="2025-03-31")

    assert_kpi(cells[("2025-02-01", "Spring")], 1)
    assert_kpi(cells[("2025-02-01", "(none)")], 1)
    assert_kpi(cells[("2025-03-01", "Spring")], 1)
    assert_kpi(cells[("2025-03-01", "Summer")], 1)
    assert_kpi(cells[("2025-03-01", "(none)")], 1)


def test_new_leads_by_iso_week_in_kolkata(kpi_api, settings):
    settings.TIME_ZONE = KOLKATA
    monday = at(2025, 3, 3, tz=KOLKATA)  # ISO weeks start on Monday: 24 February and 3 March 2025
    make_lead(at(2025, 2, 24, tz=KOLKATA))
    make_lead(just_before(monday))  # Sunday 2 March, 23:59:59.999999 in Kolkata
    make_lead(monday)

    refresh_kpis("new_leads", granularity="week")
    weeks = kpi_api.by_period("new_leads", granularity="week", start="2025-03-01", end="2025-03-09")

    assert list(weeks) == ["2025-02-24", "2025-03-03"]
    assert [item["period_end"] for item in weeks.values()] == ["2025-03-03", "2025-03-10"]
    assert_kpi(weeks["2025-02-24"], 2)
    assert_kpi(weeks["2025-03-03"], 1)


@pytest.mark.parametrize("tz", ZONES)
def test_new_leads_at_local_midnight_belong_to_the_new_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    march = at(2025, 3, 1, tz=tz)
    make_lead(march)
    make_lead(just_before(march))
    make_lead(just_before(march))

    refresh_kpis("new_leads", granularity="month")
    months = kpi_api.by_period("new_leads", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 2)
    assert_kpi(months["2025-03-01"], 1)


def test_lead_conversion_rate_counts_conversions_by_the_month_the_lead_came_in(kpi_api):
    lead_history()

    refresh_kpis("lead_conversion_rate", granularity="month")
    months = kpi_api.by_period("lead_conversion_rate", start="2025-02-01", end="2025-04-30")

    # L1 came in February and converted in April: it counts for February.
    assert_kpi(months["2025-02-01"], 1 / 2 * 100, numerator=1, denominator=2, sample_size=2)
    assert_kpi(months["2025-03-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], None, denominator=0, sample_size=0)


def test_lead_conversion_rate_by_owner(kpi_api):
    lead_history()

    refresh_kpis("lead_conversion_rate", granularity="month")
    cells = kpi_api.by_segment("lead_conversion_rate", "owner", start="2025-02-01", end="2025-03-31")

    assert_kpi(cells[("2025-02-01", "ana")], 1 / 1 * 100, numerator=1, denominator=1)
    assert_kpi(cells[("2025-02-01", "ben")], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(cells[("2025-03-01", "ana")], 1 / 2 * 100, numerator=1, denominator=2)
    assert_kpi(cells[("2025-03-01", "ben")], 0 / 1 * 100, numerator=0, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_lead_conversion_rate_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    march = at(2025, 3, 1, tz=tz)
    make_lead(march, converted=march + days(1))
    make_lead(just_before(march))

    refresh_kpis("lead_conversion_rate", granularity="month")
    months = kpi_api.by_period("lead_conversion_rate", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-03-01"], 1 / 1 * 100, numerator=1, denominator=1)


# --- win rate, deal size, cycle length, velocity ----------------------------------------------------------------


def deal_history():
    """Deals (created -> closed), in UTC:

    d1  Feb 1 -> won  Mar 3 00:00  (30 days)    1000.00 ana Sales    new        Referral
    d2  Mar 1 -> won  Mar 11 12:00 (10.5 days)  2000.00 ben Partners upsell     Paid ads
    d10 Mar 2 -> won  Mar 4 00:00  (2 days)      600.00 ben Sales    new        no channel
    d3  Feb 15 -> lost Mar 20                   5000.00 ana Sales    new        Referral
    d4  Mar 5 -> lost Mar 25                     700.00 ben Sales    new        Paid ads
    d5  Mar 10 -> won Apr 5 00:00  (26 days)    3000.00 ana Sales    cross_sell Referral
    d8  Apr 10 -> lost Apr 20                    600.00 ben Sales    new
    open: d6 (Mar 20, ben, Sales), d7 (Jan 10, ana, Partners), d9 (Apr 15, ana, Sales)

    March: won 3, lost 2; April: won 1, lost 1; February and May: nothing closed.
    Open at 1 April: d5, d6, d7 (3); open at 1 May: d6, d7, d9 (3).
    """
    partners, sales = make_pipeline("Partners"), default_pipeline()
    ana, ben = user("ana"), user("ben")
    referral, paid = channel("Referral"), channel("Paid ads")
    deals = [
        # created, status, closed, amount, owner, pipeline, kind, channel
        (at(2025, 2, 1), "won", at(2025, 3, 3), "1000.00", ana, sales, "new", referral),  # d1
        (at(2025, 3, 1), "won", at(2025, 3, 11, 12), "2000.00", ben, partners, "upsell", paid),  # d2
        (at(2025, 3, 2), "won", at(2025, 3, 4), "600.00", ben, sales, "new", None),  # d10
        (at(2025, 2, 15), "lost", at(2025, 3, 20), "5000.00", ana, sales, "new", referral),  # d3
        (at(2025, 3, 5), "lost", at(2025, 3, 25), "700.00", ben, sales, "new", paid),  # d4
        (at(2025, 3, 10), "won", at(2025, 4, 5), "3000.00", ana, sales, "cross_sell", referral),  # d5
        (at(2025, 4, 10), "lost", at(2025, 4, 20), "600.00", ben, sales, "new", None),  # d8
        (at(2025, 3, 20), "open", None, "4000.00", ben, sales, "new", None),  # d6
        (at(2025, 1, 10), "open", None, "800.00", ana, partners, "new", None),  # d7
        (at(2025, 4, 15), "open", None, "900.00", ana, sales, "new", None),  # d9
    ]
    for created, status, closed, amount, owner, pipeline, kind, deal_channel in deals:
        make_deal(
            created=created,
            status=status,
            closed=closed,
            amount=amount,
            owner=owner,
            pipeline=pipeline,
            kind=kind,
            channel=deal_channel,
        )


def test_win_rate_is_won_over_closed_deals(kpi_api):
    deal_history()

    refresh_kpis("win_rate", granularity="month")
    months = kpi_api.by_period("win_rate", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], 3 / 5 * 100, numerator=3, denominator=5, sample_size=5)
    assert_kpi(months["2025-04-01"], 1 / 2 * 100, numerator=1, denominator=2, sample_size=2)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_win_rate_by_pipeline(kpi_api):
    deal_history()

    refresh_kpis("win_rate", granularity="month")
    cells = kpi_api.by_segment("win_rate", "pipeline", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Sales")], 2 / 4 * 100, numerator=2, denominator=4)  # d1, d10 of d1, d10, d3, d4
    assert_kpi(cells[("2025-03-01", "Partners")], 1 / 1 * 100, numerator=1, denominator=1)


def test_win_rate_by_channel_of_the_deal(kpi_api):
    deal_history()

    refresh_kpis("win_rate", granularity="month")
    cells = kpi_api.by_segment("win_rate", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "Referral")], 1 / 2 * 100, numerator=1, denominator=2)
    assert_kpi(cells[("2025-03-01", "Paid ads")], 1 / 2 * 100, numerator=1, denominator=2)
    assert_kpi(cells[("2025-03-01", "(none)")], 1 / 1 * 100, numerator=1, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_win_rate_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_deal(created=at(2025, 3, 1), status="won", closed=april)
    make_deal(created=at(2025, 3, 1), status="lost", closed=just_before(april))

    refresh_kpis("win_rate", granularity="month")
    months = kpi_api.by_period("win_rate", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)


def test_average_deal_size_is_the_mean_amount_of_deals_won(kpi_api):
    deal_history()

    refresh_kpis("average_deal_size", granularity="month")
    months = kpi_api.by_period("average_deal_size", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], (1000 + 2000 + 600) / 3, numerator=1000 + 2000 + 600, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], 3000 / 1, numerator=3000, denominator=1, sample_size=1)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_average_deal_size_by_kind(kpi_api):
    deal_history()

    refresh_kpis("average_deal_size", granularity="month")
    cells = kpi_api.by_segment("average_deal_size", "kind", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "new")], (1000 + 600) / 2, numerator=1600, denominator=2)
    assert_kpi(cells[("2025-03-01", "upsell")], 2000 / 1, numerator=2000, denominator=1)
    assert_kpi(cells[("2025-04-01", "cross_sell")], 3000 / 1, numerator=3000, denominator=1)


@pytest.mark.parametrize("tz", ZONES)
def test_average_deal_size_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_deal(created=at(2025, 3, 1), status="won", closed=april, amount="100.00")
    make_deal(created=at(2025, 3, 1), status="won", closed=just_before(april), amount="300.00")

    refresh_kpis("average_deal_size", granularity="month")
    months = kpi_api.by_period("average_deal_size", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 300.00, numerator=300.00, denominator=1)
    assert_kpi(months["2025-04-01"], 100.00, numerator=100.00, denominator=1)


def test_sales_cycle_length_is_the_mean_days_to_win(kpi_api):
    deal_history()

    refresh_kpis("sales_cycle_length", granularity="month")
    months = kpi_api.by_period("sales_cycle_length", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], round((30 + 10.5 + 2) / 3, 2), numerator=42.5, denominator=3, sample_size=3)
    assert_kpi(months["2025-04-01"], 26.00, numerator=26, denominator=1, sample_size=1)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)


def test_sales_cycle_length_by_owner(kpi_api):
    deal_history()

    refresh_kpis("sales_cycle_length", granularity="month")
    cells = kpi_api.by_segment("sales_cycle_length", "owner", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "ana")], 30 / 1, numerator=30, denominator=1)
    assert_kpi(cells[("2025-03-01", "ben")], (10.5 + 2) / 2, numerator=12.5, denominator=2)


@pytest.mark.parametrize(
    ("tz", "march_days"),
    [
        # New York moved its clocks forward on 9 March 2025: local 1 March to local 1 April is 31 days less an hour.
        pytest.param(NEW_YORK, round((31 * 24 - 1) / 24, 2), id="new_york"),
        pytest.param(KOLKATA, 31.00, id="kolkata"),
    ],
)
def test_sales_cycle_length_in_the_local_month_counts_elapsed_time(kpi_api, settings, tz, march_days):
    settings.TIME_ZONE = tz
    march, april = at(2025, 3, 1, tz=tz), at(2025, 4, 1, tz=tz)
    make_deal(created=march, status="won", closed=just_before(april))
    make_deal(created=at(2025, 3, 30, tz=tz), status="won", closed=april)

    refresh_kpis("sales_cycle_length", granularity="month")
    months = kpi_api.by_period("sales_cycle_length", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], march_days, sample_size=1)
    assert_kpi(months["2025-04-01"], 2.00, sample_size=1)


def velocity_by_hand(open_deals, won, closed, won_amount, won_days):
    """KPIS.md: open deals at P.end x win rate (a fraction) x average deal size / sales cycle length."""
    win_rate = won / closed
    average_deal_size = won_amount / won
    cycle_days = won_days / won
    return open_deals * win_rate * average_deal_size / cycle_days


def test_pipeline_velocity_in_money_per_day(kpi_api):
    deal_history()

    refresh_kpis("pipeline_velocity", granularity="month")
    months = kpi_api.by_period("pipeline_velocity", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None)  # nothing closed in February: no win rate
    # March: open at 1 April d5, d6, d7; won 3 of 5 for 3600.00 in 42.5 days.
    assert_kpi(months["2025-03-01"], round(velocity_by_hand(3, 3, 5, 3600, 42.5), 2))
    # April: open at 1 May d6, d7, d9; won 1 of 2 for 3000.00 in 26 days.
    assert_kpi(months["2025-04-01"], round(velocity_by_hand(3, 1, 2, 3000, 26), 2))
    assert_kpi(months["2025-05-01"], None)
    assert round(velocity_by_hand(3, 3, 5, 3600, 42.5), 2) == 152.47


def test_pipeline_velocity_by_owner(kpi_api):
    deal_history()

    refresh_kpis("pipeline_velocity", granularity="month")
    cells = kpi_api.by_segment("pipeline_velocity", "owner", start="2025-03-01", end="2025-03-31")

    # ana: open at 1 April d5, d7; won d1 (1000.00, 30 days) of d1, d3.
    assert_kpi(cells[("2025-03-01", "ana")], round(velocity_by_hand(2, 1, 2, 1000, 30), 2))
    # ben: open at 1 April d6; won d2, d10 (2600.00, 12.5 days) of d2, d10, d4.
    assert_kpi(cells[("2025-03-01", "ben")], round(velocity_by_hand(1, 2, 3, 2600, 12.5), 2))


@pytest.mark.parametrize("tz", ZONES)
def test_pipeline_velocity_counts_deals_open_at_the_local_month_end(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_deal(created=at(2025, 3, 10, 12), status="won", closed=at(2025, 3, 12, 12), amount="1000.00")  # 2 days
    make_deal(created=just_before(april))  # open at the end of March
    make_deal(created=april)  # not yet created at the end of March

    refresh_kpis("pipeline_velocity", granularity="month")
    months = kpi_api.by_period("pipeline_velocity", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], round(velocity_by_hand(1, 1, 1, 1000, 2), 2))  # 1 x 1 x 1000 / 2
    assert_kpi(months["2025-04-01"], None)


# --- campaign_roi -----------------------------------------------------------------------------------------------


def campaign_history():
    """Campaigns Spring and Fall (Paid ads), Summer (Events); deals reach a campaign through their lead.

    March: won from Spring 3000 + 1000 (a lost 5000 does not count), from Summer 500, from no campaign 9999
    (not a campaign's); spend Spring 1500 + 500, Summer 1000, Fall 500, and 7000 naming no campaign.
    April: won from Spring 2000; spend Summer 800.
    """
    spring, summer, fall = campaign("Spring", "Paid ads"), campaign("Summer", "Events"), campaign("Fall", "Paid ads")
    from_spring, from_summer = make_lead(at(2025, 2, 1), campaign=spring), make_lead(at(2025, 2, 1), campaign=summer)
    from_nowhere = make_lead(at(2025, 2, 1))
    make_lead(at(2025, 2, 1), campaign=fall)
    make_deal(created=at(2025, 2, 5), status="won", closed=at(2025, 3, 10), amount="3000.00", lead=from_spring)
    make_deal(created=at(2025, 2, 5), status="won", closed=at(2025, 3, 20), amount="1000.00", lead=from_spring)
    make_deal(created=at(2025, 2, 5), status="lost", closed=at(2025, 3, 15), amount="5000.00", lead=from_spring)
    make_deal(created=at(2025, 2, 5), status="won", closed=at(2025, 3, 12), amount="500.00", lead=from_summer)
    make_deal(created=at(2025, 2, 5), status="won", closed=at(2025, 3, 5), amount="9999.00", lead=from_nowhere)
    make_deal(created=at(2025, 2, 5), status="won", closed=at(2025, 4, 10), amount="2000.00", lead=from_spring)
    make_spend(day(2025, 3, 1), "1500.00", campaign=spring, channel=spring.channel)
    make_spend(day(2025, 3, 20), "500.00", campaign=spring, channel=spring.channel)
    make_spend(day(2025, 3, 5), "1000.00", campaign=summer, channel=summer.channel)
    make_spend(day(2025, 3, 10), "500.00", campaign=fall, channel=fall.channel)
    make_spend(day(2025, 3, 3), "7000.00", channel=channel("Paid ads"))
    make_spend(day(2025, 4, 3), "800.00", campaign=summer, channel=summer.channel)


def test_campaign_roi_of_all_campaigns_together(kpi_api):
    campaign_history()

    refresh_kpis("campaign_roi", granularity="month")
    months = kpi_api.by_period("campaign_roi", start="2025-02-01", end="2025-04-30")

    assert_kpi(months["2025-02-01"], None, denominator=0)  # no campaign spend
    march_return, march_spend = 3000 + 1000 + 500, 1500 + 500 + 1000 + 500
    assert_kpi(
        months["2025-03-01"],
        round((march_return - march_spend) / march_spend * 100, 2),  # 1000 / 3500 = 28.57 %
        numerator=march_return - march_spend,
        denominator=march_spend,
    )
    assert_kpi(months["2025-04-01"], (2000 - 800) / 800 * 100, numerator=2000 - 800, denominator=800)


def test_campaign_roi_by_campaign(kpi_api):
    campaign_history()

    refresh_kpis("campaign_roi", granularity="month")
    cells = kpi_api.by_segment("campaign_roi", "campaign", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "Spring")], (4000 - 2000) / 2000 * 100)
    assert_kpi(cells[("2025-03-01", "Summer")], (500 - 1000) / 1000 * 100)
    assert_kpi(cells[("2025-03-01", "Fall")], (0 - 500) / 500 * 100)
    assert_kpi(cells[("2025-04-01", "Spring")], None)  # won 2000.00 but spent nothing in April
    assert_kpi(cells[("2025-04-01", "Summer")], (0 - 800) / 800 * 100)


def test_campaign_roi_by_channel_groups_the_campaigns_of_a_channel(kpi_api):
    campaign_history()

    refresh_kpis("campaign_roi", granularity="month")
    cells = kpi_api.by_segment("campaign_roi", "channel", start="2025-03-01", end="2025-03-31")

    # Paid ads = Spring + Fall: won 4000.00, spent 2000.00 + 500.00 (the 7000.00 names no campaign).
    assert_kpi(cells[("2025-03-01", "Paid ads")], (4000 - 2500) / 2500 * 100, numerator=1500, denominator=2500)
    assert_kpi(cells[("2025-03-01", "Events")], (500 - 1000) / 1000 * 100, numerator=-500, denominator=1000)


@pytest.mark.parametrize("tz", ZONES)
def test_campaign_roi_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    spring = campaign("Spring", "Paid ads")
    lead = make_lead(at(2025, 2, 1), campaign=spring)
    make_deal(created=at(2025, 3, 1), status="won", closed=just_before(april), amount="300.00", lead=lead)
    make_deal(created=at(2025, 3, 1), status="won", closed=april, amount="100.00", lead=lead)
    make_spend(day(2025, 3, 31), "100.00", campaign=spring)
    make_spend(day(2025, 4, 1), "200.00", campaign=spring)

    refresh_kpis("campaign_roi", granularity="month")
    months = kpi_api.by_period("campaign_roi", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], (300 - 100) / 100 * 100, numerator=200, denominator=100)
    assert_kpi(months["2025-04-01"], (100 - 200) / 200 * 100, numerator=-100, denominator=200)
