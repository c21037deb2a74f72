"""A lead becomes a customer: captured, converted, pushed across the board to won, and its first order recorded."""

import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact
from sales.models import Deal, DealStageChange, Lead, Order
from tests.contacts.factories import ChannelFactory

DEAL_TITLE = "Nordwind Logistics"
AMOUNT = Decimal("18400.00")
AMOUNT_SHOWN = "18,400.00 EUR"


def is_move(response) -> bool:
    return response.request.method == "POST" and re.search(r"/deals/\d+/move/$", response.url) is not None


def board_column(page, stage: str):
    """A stage's column on the board (a region named by its heading), or the Won and Lost drop targets."""
    return page.get_by_role("region", name="Stages of Sales").get_by_role("region", name=stage, exact=True)


def test_sales_rep_turns_a_lead_into_a_customer_with_an_order(page, log_in, make_user, page_watcher, artifacts_dir):
    # Given a sales rep and the lead sources the business uses
    rep = make_user("sales", username="rita.rep", first_name="Rita", last_name="Reyes")
    ChannelFactory(name="Events")
    ChannelFactory(name="Referral")
    started_on = timezone.localdate()

    # When she logs in and captures a lead met at a trade fair with the quick form
    log_in(rep)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    page.get_by_role("link", name="New lead").click()
    expect(page.get_by_role("heading", name="New lead")).to_be_visible()
    page.get_by_role("textbox", name="First name", exact=True).fill("Greta")
    page.get_by_role("textbox", name="Last name", exact=True).fill("Lindqvist")
    page.get_by_role("textbox", name="E-mail", exact=True).fill("greta.lindqvist@nordwind-logistics.example")
    page.get_by_role("textbox", name="Company", exact=True).fill(DEAL_TITLE)
    page.get_by_role("combobox", name="Channel", exact=True).select_option(label="Events")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Lead Greta Lindqvist captured.")

    # ... finds it in her leads and opens it
    nav.get_by_role("link", name="Leads").click()
    leads = page.get_by_role("table")
    expect(leads).to_contain_text(DEAL_TITLE)
    leads.get_by_role("link", name="Greta Lindqvist").click()
    expect(page.get_by_role("heading", name="Greta Lindqvist")).to_contain_text("New")
    expect(page.locator("dl.facts")).to_contain_text("Events")

    # ... and converts it to a deal, with the amount she expects
    convert_form = page.locator("form", has=page.get_by_role("button", name="Convert to deal"))
    convert_form.get_by_label("Amount (EUR)").fill("18400")
    convert_form.get_by_role("button", name="Convert to deal").click()

    # Then she lands on the new deal, open in the first stage
    expect(page.get_by_role("heading", name=DEAL_TITLE)).to_contain_text("Open")
    expect(page.get_by_role("alert")).to_contain_text(f"Greta Lindqvist converted: deal {DEAL_TITLE} opened.")
    # (the header's "pipeline: stage · company"; the History of changes names the stage too)
    expect(page.get_by_text("Sales: Qualification ·")).to_be_visible()
    deal_url = page.url
    assert re.search(r"/deals/\d+/$", deal_url), deal_url

    # When she opens the board, her deal waits in Qualification
    nav.get_by_role("link", name="Deals").click()
    expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()
    # htmx takes over the board's forms once the page has loaded; a form sent before is an ordinary post.
    page.wait_for_load_state("load")
    qualification = board_column(page, "Qualification")
    card = qualification.get_by_role("listitem").filter(has_text=DEAL_TITLE)
    expect(card).to_contain_text(AMOUNT_SHOWN)
    expect(card).to_contain_text("Rita Reyes")
    expect(card).to_contain_text("0 days")
    page.evaluate("window.__sameDocument = true")  # gone if the browser loads a new page

    # ... moves it to Needs analysis with the card's keyboard control (no mouse, no drag)
    move_select = card.get_by_role("combobox", name=f"Move {DEAL_TITLE} to")
    move_select.focus()
    move_select.select_option(label="Needs analysis")
    page.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Move")).to_be_focused()
    with page.expect_response(is_move) as moved:
        page.keyboard.press("Enter")
    assert moved.value.status == 200
    assert moved.value.request.headers.get("hx-request") == "true", "the move was not sent by htmx"

    # Then the board answers in place: the card is in Needs analysis, and the columns' counts follow
    expect(page.get_by_role("status")).to_have_text(f"{DEAL_TITLE} moved to Needs analysis.")
    needs_analysis = board_column(page, "Needs analysis")
    expect(needs_analysis.get_by_role("listitem").filter(has_text=DEAL_TITLE)).to_be_visible()
    expect(board_column(page, "Qualification")).to_contain_text("No deals")
    expect(needs_analysis.locator("header")).to_contain_text("1")
    expect(needs_analysis.locator("header")).to_contain_text("Weighted (25%)4,600.00 EUR")
    page.screenshot(path=str(artifacts_dir / "board.png"))

    # When she drags the card onto Proposal
    card = needs_analysis.get_by_role("listitem").filter(has_text=DEAL_TITLE)
    with page.expect_response(is_move) as moved:
        card.drag_to(board_column(page, "Proposal"))
    assert moved.value.status == 200

    # Then it is there
    expect(page.get_by_role("status")).to_have_text(f"{DEAL_TITLE} moved to Proposal.")
    proposal = board_column(page, "Proposal")
    expect(proposal.get_by_role("listitem").filter(has_text=DEAL_TITLE)).to_be_visible()
    expect(board_column(page, "Needs analysis")).to_contain_text("No deals")

    # When she drags it onto Won
    with page.expect_response(is_move) as moved:
        proposal.get_by_role("listitem").filter(has_text=DEAL_TITLE).drag_to(board_column(page, "Won"))
    assert moved.value.status == 200

    # Then the board congratulates her and the deal leaves the open columns
    expect(page.get_by_role("status")).to_have_text(f"{DEAL_TITLE} won.")
    expect(page.locator(".board-card")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True, "a move reloaded the page"

    # When she opens the deal again (from the deal list), it is won and its history shows every step
    page.get_by_role("link", name="Deal list").click()
    deals = page.get_by_role("table")
    expect(deals.get_by_role("row").filter(has_text=DEAL_TITLE)).to_contain_text("Won")
    deals.get_by_role("link", name=DEAL_TITLE).click()
    expect(page).to_have_url(deal_url)
    expect(page.get_by_role("heading", name=DEAL_TITLE)).to_contain_text("Won")
    history = page.locator(".card", has=page.get_by_role("heading", name="Stage history")).get_by_role("table")
    expect(history.locator("tbody tr")).to_have_count(4)
    for step, (from_stage, to_stage) in enumerate(
        [
            ("Proposal", "Won"),
            ("Needs analysis", "Proposal"),
            ("Qualification", "Needs analysis"),
            ("—", "Qualification"),
        ]
    ):
        cells = history.locator("tbody tr").nth(step).get_by_role("cell")
        expect(cells).to_have_text([re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"), from_stage, to_stage, "Rita Reyes"])

    # ... and follows the contact link (the lead, under "From lead", bears the same name): a customer since today
    page.locator("dl.facts dt:text-is('Contact') + dd").get_by_role("link", name="Greta Lindqvist").click()
    expect(page.get_by_role("heading", name="Greta Lindqvist")).to_be_visible()
    contact_url = page.url
    assert re.search(r"/contacts/\d+/$", contact_url), contact_url
    won_on = timezone.localdate(Deal.objects.values_list("closed_at", flat=True).get())
    assert started_on <= won_on <= timezone.localdate()  # today (or yesterday, if the test ran across midnight)
    expect(page.get_by_role("heading", name="Greta Lindqvist").locator(".badge")).to_have_text("Customer")
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text(f"Customer since{won_on:%Y-%m-%d}")
    expect(facts).to_contain_text("Events")
    sales_panel = page.locator(".sales-panel")
    expect(sales_panel).to_contain_text(f"Customer since {won_on:%Y-%m-%d}")
    expect(sales_panel).to_contain_text("(1 won)")

    # When she goes back to the won deal and records its order, the form comes prefilled from the deal
    page.go_back()
    expect(page).to_have_url(deal_url)
    page.get_by_role("link", name="Record order").click()
    expect(page.get_by_role("heading", name="Record order")).to_be_visible()
    expect(page.get_by_label("Contact").locator("option:checked")).to_have_text("Greta Lindqvist")
    expect(page.get_by_label("Deal").locator("option:checked")).to_have_text(f"{DEAL_TITLE} (Greta Lindqvist)")
    expect(page.get_by_label("Amount")).to_have_value("18400.00")
    page.get_by_label("Description").fill("Fleet plan, 40 trucks, first year")
    page.get_by_role("button", name="Save", exact=True).click()

    # Then the order is recorded
    expect(page.get_by_role("heading", name=re.compile(r"Order \d+ · 18,400.00 EUR"))).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("recorded.")

    # And back on the contact page, the timeline shows the order and the deal's story, newest first
    page.locator("dl.facts").get_by_role("link", name="Greta Lindqvist").click()
    expect(page).to_have_url(contact_url)
    entries = page.get_by_role("list", name="Timeline").get_by_role("listitem")
    expect(entries).to_have_count(4)
    order_entry = entries.filter(has=page.get_by_role("link", name=f"Order of {AMOUNT_SHOWN}"))
    expect(order_entry).to_contain_text("Fleet plan, 40 trucks, first year")
    expect(entries.filter(has_text="Became a customer")).to_contain_text("Rita Reyes")
    # The deal opened comes last. The order, recorded right after the win, is not dated before it
    # ("Ordered at" has minutes only; within the minute of the win, the order counts from the win).
    expect(entries.last).to_contain_text(f"Deal opened: {DEAL_TITLE}")
    expect(entries.last).to_contain_text(f"New business, {AMOUNT_SHOWN}")
    titles = [title.strip() for title in entries.locator("strong").all_inner_texts()]
    assert titles.index(f"Order of {AMOUNT_SHOWN}") < titles.index(f"Deal opened: {DEAL_TITLE}"), titles
    assert f"Deal won: {DEAL_TITLE}" in titles, titles
    expect(page.locator(".sales-panel dt:text-is('Orders') + dd")).to_have_text(f"1 · {AMOUNT_SHOWN}")
    page.screenshot(path=str(artifacts_dir / "contact_customer.png"), full_page=True)

    # And the database holds the whole story, with exact timestamps
    lead = Lead.objects.get()
    deal = Deal.objects.select_related("stage", "contact", "lead").get()
    contact = Contact.objects.get()
    order = Order.objects.get()
    assert deal_url.endswith(reverse("sales:deal_detail", args=[deal.pk]))
    assert contact_url.endswith(reverse("contacts:contact_detail", args=[contact.pk]))
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_at is not None and lead.contact == contact
    assert (lead.channel.name, lead.owner, lead.company_name) == ("Events", rep, DEAL_TITLE)
    assert (deal.status, deal.stage.name, deal.amount, deal.owner) == (Deal.Status.WON, "Won", AMOUNT, rep)
    assert (deal.lead, deal.contact, deal.channel.name, deal.kind) == (lead, contact, "Events", Deal.Kind.NEW)
    assert deal.created_at == lead.converted_at
    assert deal.closed_at is not None and deal.closed_at > deal.created_at
    assert timezone.localdate(deal.closed_at) == won_on
    assert contact.customer_since == deal.closed_at
    assert (contact.email, contact.company.name, contact.channel.name) == (
        "greta.lindqvist@nordwind-logistics.example",
        DEAL_TITLE,
        "Events",
    )
    assert list(
        DealStageChange.objects.filter(deal=deal).order_by("changed_at", "pk").values_list("to_stage__name", flat=True)
    ) == ["Qualification", "Needs analysis", "Proposal", "Won"]
    assert (order.contact, order.deal, order.amount, order.created_by) == (contact, deal, deal.amount, rep)
    assert order.ordered_at >= deal.closed_at

    # And nothing went wrong in the browser, nor left the live server
    page_watcher.assert_clean()
