"""Under the strict Content-Security-Policy the pages still work: an admin walks the main pages, the KPI pages
with their charts, the admin and the API docs, and a customer opens a survey link. The browser reports no
violation of the policy anywhere, htmx swaps results in place and Chart.js draws.

Violations are caught twice: the `securitypolicyviolation` events the page fires (recorded by a script the
browser runs before the page's own, outside the policy) and the console errors Chromium logs for them.
"""

import datetime
import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import wait_until
from tests.contacts.factories import ContactFactory
from tests.kpis.conftest import channel, make_customer, refresh_kpis
from tests.surveys.factories import InvitationFactory

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} (${where})`);
});
"""
SURVEY_TOKEN = "csp-survey-token-0001-abcdefghijklmnop"


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def visit(page, path: str) -> None:
    """Open a page, let its scripts run, and find it free of policy violations."""
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations(page) == [], f"{path} broke the Content-Security-Policy"


def business_with_customers():
    """Customers of two channels since last quarter, one of them lost, and the KPI snapshots of it."""
    since = timezone.now() - datetime.timedelta(days=100)
    for name, lost in (("Referral", True), ("Events", False)):
        make_customer(since, timezone.now() - datetime.timedelta(days=20) if lost else None, channel=channel(name))
    refresh_kpis(since=since.date().isoformat())


def test_the_main_pages_work_under_the_policy_with_no_violation(page, log_in, make_user, page_watcher):
    # Given an administrator, some customers with their KPIs, and a contact to look at
    admin = make_user("admin", username="ada.admin", first_name="Ada", last_name="Admin", is_staff=True)
    business_with_customers()
    greta = ContactFactory(first_name="Greta", last_name="Lind")
    ContactFactory(first_name="Hans", last_name="Berg")
    page.context.add_init_script(RECORD_VIOLATIONS)

    # When she logs in and opens the dashboard, a list and a detail page
    visit(page, reverse("login"))
    log_in(admin)
    assert violations(page) == []
    for path in ("/", reverse("contacts:contact_list"), greta.get_absolute_url(), reverse("sales:deal_board")):
        visit(page, path)

    # Then htmx filters the contact list in place, without loading a new page
    visit(page, reverse("contacts:contact_list"))
    page.evaluate("window.__sameDocument = true")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(4)  # Greta, Hans and the two customers
    with page.expect_response(lambda response: response.request.headers.get("hx-request") == "true"):
        page.locator("#id_q").press_sequentially("Lind")  # the list's own search field (keyup triggers htmx)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Greta Lind")
    assert page.evaluate("window.__sameDocument") is True, "the filter reloaded the page"
    assert violations(page) == []

    # When she opens the KPI overview and a KPI's detail page, Chart.js draws its charts
    visit(page, reverse("kpis:overview"))
    visit(page, reverse("kpis:detail", args=["churn_rate"]))
    expect(page.locator("canvas#series-chart")).to_be_visible()
    wait_until(page, "document.getElementById('series-chart').chart !== undefined")

    # And htmx re-renders the breakdown, whose chart is drawn again
    page.get_by_label("Break down by").select_option(label="Channel")
    expect(page.get_by_role("heading", name=re.compile("^By channel"))).to_be_visible()
    wait_until(page, "document.getElementById('breakdown-chart')?.chart !== undefined")
    assert violations(page) == []

    # When she opens the admin: its index, a list of records and a record
    visit(page, reverse("admin:index"))
    visit(page, reverse("admin:contacts_contact_changelist"))
    page.locator("#action-toggle").check()  # the admin's own script ticks every row
    expect(page.locator("input.action-select:checked")).to_have_count(4)
    visit(page, reverse("admin:contacts_contact_change", args=[greta.pk]))

    # And the API docs, whose Swagger UI renders the operations
    visit(page, reverse("api_docs"))
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations(page) == []

    # Then nothing anywhere broke the policy, logged an error or left the server
    page_watcher.assert_clean()


def test_a_customer_answers_a_survey_under_the_policy(page, page_watcher):
    # Given an invitation to the NPS survey
    InvitationFactory(token=SURVEY_TOKEN)
    page.context.add_init_script(RECORD_VIOLATIONS)

    # When the customer opens the link and answers
    visit(page, f"/s/{SURVEY_TOKEN}/")
    page.locator("label[for=score-9]").click()
    page.get_by_role("button", name="Send").click()

    # Then the page thanks them, and nothing broke the policy
    expect(page.get_by_role("status")).to_contain_text("Thank you! Your answer is saved.")
    assert violations(page) == []
    page_watcher.assert_clean()
