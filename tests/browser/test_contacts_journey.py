"""A sales rep's first morning: a new company, a contact there, a call logged, the contact found again."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from contacts.models import Company, Contact, Interaction
from tests.contacts.factories import ChannelFactory

CALL_SUMMARY = "Discovery call: 40 trucks, wants a quote for the fleet plan by Friday."


def expect_styled(page):
    """Bootstrap and our stylesheet really loaded from the live server (not a bare HTML page)."""
    expect(page.get_by_role("navigation", name="Main")).to_have_css("background-color", "rgb(33, 37, 41)")
    expect(page.locator("body")).to_have_css("background-color", "rgb(246, 247, 249)")


def test_sales_rep_creates_company_and_contact_logs_a_call_and_finds_it_again(
    page, log_in, make_user, page_watcher, artifacts_dir
):
    # Given a sales rep and the lead sources the business uses
    rep = make_user("sales", username="rita.rep", first_name="Rita", last_name="Reyes")
    ChannelFactory(name="Referral")
    ChannelFactory(name="Events")

    # When she logs in through the login page
    log_in(rep)
    expect(page.get_by_role("heading", name="Hello, Rita")).to_be_visible()
    expect_styled(page)
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"

    # ... creates a company through the "New company" form
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Companies").click()
    expect(page.get_by_role("heading", name="Companies")).to_be_visible()
    page.get_by_role("link", name="New company").click()
    expect(page.get_by_role("heading", name="New company")).to_be_visible()
    page.get_by_role("textbox", name="Name", exact=True).fill("Nordwind Logistics")
    page.get_by_role("textbox", name="Domain", exact=True).fill("Nordwind-Logistics.example")
    page.get_by_role("textbox", name="Industry", exact=True).fill("Logistics")
    page.get_by_role("combobox", name="Size band", exact=True).select_option(label="51-200 employees")
    page.get_by_role("textbox", name="Region", exact=True).fill("Europe")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Nordwind Logistics", exact=True)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Company Nordwind Logistics created.")
    expect(page.locator("dl.facts")).to_contain_text("nordwind-logistics.example")

    # ... creates a contact at that company through the "New contact" form
    nav.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()
    page.get_by_role("link", name="New contact").click()
    expect(page.get_by_role("heading", name="New contact")).to_be_visible()
    page.get_by_role("textbox", name="First name", exact=True).fill("Greta")
    page.get_by_role("textbox", name="Last name", exact=True).fill("Lindqvist")
    page.get_by_role("textbox", name="Email", exact=True).fill("Greta.Lindqvist@Nordwind-Logistics.example")
    page.get_by_role("textbox", name="Phone", exact=True).fill("+46 8 555 0123")
    page.get_by_role("combobox", name="Company", exact=True).select_option(label="Nordwind Logistics")
    page.get_by_role("textbox", name="Job title", exact=True).fill("Head of Fleet")
    page.get_by_role("combobox", name="Channel", exact=True).select_option(label="Referral")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Greta Lindqvist")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Contact Greta Lindqvist created.")
    expect(page.get_by_text("Head of Fleet at Nordwind Logistics")).to_be_visible()
    contact_url = page.url
    assert re.search(r"/contacts/\d+/$", contact_url), contact_url

    # ... and logs a call under "Log an interaction", without leaving the page
    page.evaluate("window.__sameDocument = true")  # gone if the browser loads a new page
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text("Nothing yet")
    log_form = page.locator("form", has=page.get_by_role("button", name="Log it"))
    expect(log_form.get_by_label("Kind")).to_have_value("call")
    log_form.get_by_label("Direction").select_option(label="Outbound")
    log_form.get_by_label("Summary").fill(CALL_SUMMARY)
    with page.expect_response(lambda response: "/interactions/" in response.url) as logged:
        log_form.get_by_role("button", name="Log it").click()
    assert logged.value.status == 200
    assert logged.value.request.headers.get("hx-request") == "true", "the form was not sent by htmx"

    # Then the timeline shows the call, on the same page, and the form is ready for the next one
    timeline = page.get_by_role("list", name="Timeline")
    first_entry = timeline.get_by_role("listitem").first
    expect(first_entry).to_contain_text("Call")
    expect(first_entry).to_contain_text("Outbound")
    expect(first_entry).to_contain_text(CALL_SUMMARY)
    expect(first_entry).to_contain_text("Rita Reyes")
    expect(timeline).not_to_contain_text("Nothing yet")
    expect(page.get_by_label("Summary")).to_have_value("")
    assert page.url == contact_url
    assert page.evaluate("window.__sameDocument") is True, "logging the call reloaded the page"

    # When she finds the contact again through the search box in the header
    nav.get_by_role("link", name="CRM").click()
    expect(page.get_by_role("heading", name="Hello, Rita")).to_be_visible()
    search_box = nav.get_by_role("searchbox", name="Search")
    search_box.fill("lindqvist")
    search_box.press("Enter")
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    contacts_found = page.get_by_role("region", name="Contacts")
    expect(contacts_found).to_contain_text("greta.lindqvist@nordwind-logistics.example")
    contacts_found.get_by_role("link", name="Greta Lindqvist").click()

    # Then she is on the contact's page and sees the call on the timeline
    expect(page).to_have_url(contact_url)
    expect(page.get_by_role("heading", name="Greta Lindqvist")).to_be_visible()
    first_entry = page.get_by_role("list", name="Timeline").get_by_role("listitem").first
    expect(first_entry).to_contain_text("Call")
    expect(first_entry).to_contain_text(CALL_SUMMARY)
    expect_styled(page)
    page.screenshot(path=str(artifacts_dir / "contact_page.png"), full_page=True)

    # And the database holds what she entered
    company = Company.objects.get()
    assert (company.name, company.domain, company.industry, company.size_band, company.region, company.owner) == (
        "Nordwind Logistics",
        "nordwind-logistics.example",
        "Logistics",
        Company.SizeBand.MEDIUM,
        "Europe",
        rep,
    )
    contact = Contact.objects.select_related("company", "channel", "owner").get()
    assert contact_url.endswith(reverse("contacts:contact_detail", args=[contact.pk]))
    assert (contact.first_name, contact.last_name, contact.email, contact.phone, contact.job_title) == (
        "Greta",
        "Lindqvist",
        "greta.lindqvist@nordwind-logistics.example",
        "+46 8 555 0123",
        "Head of Fleet",
    )
    assert (contact.company, contact.channel.name, contact.owner) == (company, "Referral", rep)
    assert contact.customer_since is None
    call = Interaction.objects.get()
    assert (call.contact, call.kind, call.direction, call.user, call.summary) == (
        contact,
        Interaction.Kind.CALL,
        Interaction.Direction.OUTBOUND,
        rep,
        CALL_SUMMARY,
    )

    # And nothing went wrong in the browser, nor left the live server
    page_watcher.assert_clean()
