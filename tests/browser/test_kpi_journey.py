"""A manager's Monday: last month's churn on the overview, its detail by channel, and the churned customers of
the worst channel, whose number is the one clicked. A sales rep is refused the KPI pages."""

import datetime
import re

from playwright.sync_api import expect

from kpis.periods import local_midnight, local_today, period_containing
from tests.browser.conftest import wait_until
from tests.kpis.conftest import channel, make_customer, refresh_kpis


def churn_last_month():
    """Customers since three months ago; last month Referral lost 2 of 3, Events 1 of 4, Paid ads 0 of 2."""
    last = period_containing("month", local_today()).previous()
    since = local_midnight(last.start) - datetime.timedelta(days=70)
    during = local_midnight(last.start) + datetime.timedelta(days=9, hours=10)
    for name, customers, lost in [("Referral", 3, 2), ("Events", 4, 1), ("Paid ads", 2, 0)]:
        source = channel(name)
        for number in range(customers):
            make_customer(
                since,
                during if number < lost else None,
                channel=source,
                first_name=f"{name.split()[0]}{number}",
                last_name="Customer",
            )
    refresh_kpis(since=since.date().isoformat())
    return last


def test_manager_follows_last_months_churn_down_to_the_churned_customers(page, log_in, make_user, page_watcher):
    # Given a manager and a business that lost customers last month
    manager = make_user("manager", username="mona.manager", first_name="Mona", last_name="Meyer")
    last = churn_last_month()

    # When she opens the KPI overview and picks last month
    log_in(manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs").click()
    expect(page.get_by_role("heading", name=re.compile("^KPIs"))).to_be_visible()
    page.get_by_label("Show").select_option(label="Last period")
    expect(page.get_by_role("heading", name=f"KPIs {last.label()}")).to_be_visible()

    # Then the churn tile shows 3 lost of 9: 33.33 %, going up, which is worse
    tile = page.locator('article[data-kpi="churn_rate"]')
    expect(tile).to_contain_text("33.33 %")
    expect(tile).to_contain_text("worse")

    # When she opens its detail and switches the breakdown to channel
    tile.get_by_role("link", name="Customer churn rate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Customer churn rate {last.label()}")
    expect(page.locator("canvas#series-chart")).to_be_visible()
    breakdown = page.get_by_label("Break down by")
    breakdown.select_option(label="Region")
    expect(page.get_by_role("heading", name=f"By region, {last.label()}")).to_be_visible()
    # The swapped-in picker answers only once htmx has settled it (its chart is drawn then): a change made
    # before would be lost.
    wait_until(page, "document.getElementById('breakdown-chart').chart !== undefined")
    wait_until(page, "document.querySelector('.htmx-settling, .htmx-swapping') === null")
    page.get_by_label("Break down by").select_option(label="Channel")
    expect(page.get_by_role("heading", name=f"By channel, {last.label()}")).to_be_visible()
    wait_until(page, "document.getElementById('breakdown-chart').chart !== undefined")  # drawn after the swap

    # Then the worst channel comes first, and she clicks the number of its lost customers
    worst = page.locator("table.kpi-breakdown tbody tr").first
    expect(worst.locator("th")).to_have_text("Referral")
    expect(worst).to_contain_text("66.67 %")
    lost = worst.locator('a[data-part="numerator"]')
    clicked = int(lost.inner_text())
    lost.click()

    # Then she lands on the contacts list of its churned customers, as many as the number clicked
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{clicked} in all")).to_be_visible()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(clicked)
    expect(rows.first).to_contain_text("Referral")
    expect(page.get_by_label("Channel (segment)")).to_have_value("Referral")
    assert clicked == 2
    page_watcher.assert_clean()


def test_a_sales_rep_is_refused_the_kpi_pages(page, log_in, make_user):
    rep = make_user("sales", username="sam.rep")

    log_in(rep)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs")).to_have_count(0)
    response = page.goto("/kpis/")

    assert response.status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
