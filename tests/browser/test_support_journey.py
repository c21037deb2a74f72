"""A support agent's ticket: it arrives through the API; she takes it from Unassigned, notes, replies, resolves."""

import json
import re
import urllib.request

from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from support import services
from support.models import SlaPolicy, Ticket, TicketMessage
from tests.contacts.factories import CompanyFactory, ContactFactory, InteractionFactory

CUSTOMER_MESSAGE = 'Since this morning the CSV export stops at 1000 rows. <script>alert("hi")</script>'
NOTE = "Known limit of the old exporter; the new one has no cap. Checking their plan first."
REPLY = "Hello Greta, the new exporter has no row limit: switch it on under Settings > Export. Best, Ana"


def post_ticket_as_an_integration(live_server, token: str, payload: dict) -> dict:
    """What a mail gateway does: POST /api/tickets/ with its token, over HTTP."""
    request = urllib.request.Request(
        f"{live_server.url}{reverse('ticket-list')}",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def test_agent_takes_a_ticket_from_the_unassigned_queue_notes_replies_and_resolves_it(
    page, log_in, live_server, make_user, page_watcher, artifacts_dir
):
    # Given the default SLA target for high priority, a customer, a mail gateway with an API token, and an agent.
    # (A migration creates it; made sure of here because, once Playwright runs, the serialized rollback of
    # tests/browser/conftest.py's `page` may bring back nothing after an earlier test flushed the database.)
    SlaPolicy.objects.get_or_create(
        priority=Ticket.Priority.HIGH, defaults={"first_response_hours": 4, "resolution_hours": 24}
    )
    greta = ContactFactory(
        first_name="Greta",
        last_name="Lindqvist",
        email="greta@nordwind.example",
        company=CompanyFactory(name="Nordwind Logistics"),
    )
    InteractionFactory(contact=greta, summary="Renewal call: happy, asked about bigger exports", kind="call")
    gateway = make_user("support", username="mail.gateway", first_name="", last_name="")
    token = Token.objects.create(user=gateway)
    ana = make_user("support", username="ana.agent", first_name="Ana", last_name="Agent")

    # When the customer's e-mail arrives through the API
    created = post_ticket_as_an_integration(
        live_server,
        token.key,
        {
            "contact": greta.pk,
            "subject": "CSV export stops at 1000 rows",
            "body": CUSTOMER_MESSAGE,
            "channel": "email",
            "priority": "high",
        },
    )
    ticket_url = reverse("support:ticket_detail", args=[created["id"]])

    # ... and the agent logs in and opens her queue: nothing is hers yet
    log_in(ana)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", name="Tickets", exact=True)).to_be_visible()
    queues = page.get_by_role("list", name="Queues")
    expect(queues.get_by_role("link", name="Mine 0")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("No open tickets are assigned to you.")).to_be_visible()

    # ... she switches to the Unassigned queue (htmx: only the results change) and finds the ticket
    page.evaluate("window.__sameDocument = true")  # gone if the browser loads a new page
    with page.expect_response(lambda response: "queue=unassigned" in response.url) as switched:
        queues.get_by_role("link", name="Unassigned 1").click()
    assert switched.value.request.headers.get("hx-request") == "true", "the tab was not switched by htmx"
    expect(queues.get_by_role("link", name="Unassigned 1")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row", name="CSV export stops at 1000 rows")
    expect(row).to_contain_text("Greta Lindqvist")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("left")  # the first reply is due within the SLA
    assert page.evaluate("window.__sameDocument") is True, "switching queues reloaded the page"
    row.get_by_role("link", name="CSV export stops at 1000 rows").click()

    # Then the ticket page shows the customer's message as text, and the customer's timeline beside it
    expect(page).to_have_url(f"{live_server.url}{ticket_url}")
    expect(page.get_by_role("heading", name="CSV export stops at 1000 rows")).to_be_visible()
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation.get_by_role("listitem").first).to_contain_text('<script>alert("hi")</script>')
    expect(page.get_by_role("list", name="Contact timeline")).to_contain_text("Renewal call: happy")

    # When she takes it, without leaving the page
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Message").fill(NOTE)
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned to Ana Agent.")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Ana Agent")

    # ... adds an internal note for her colleagues (started before she took the ticket: the draft stayed)
    expect(page.get_by_label("Message")).to_have_value(NOTE)
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("status")).to_contain_text("Internal note added.")
    note = conversation.get_by_role("listitem").nth(1)
    expect(note).to_contain_text("Internal note")
    expect(note).to_contain_text(NOTE)
    expect(note).to_have_css("background-color", "rgb(255, 248, 219)")  # yellowish: never mistaken for a reply
    expect(page.locator("dd.first-response")).to_contain_text("not yet")

    # ... replies to the customer
    page.get_by_label("Message").fill(REPLY)
    page.get_by_role("button", name="Add reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply added; it is e-mailed to greta@nordwind.example.")
    reply = conversation.get_by_role("listitem").nth(2)
    expect(reply).to_contain_text("Reply")
    expect(reply).to_contain_text(REPLY)
    expect(reply).to_contain_text("E-mailed to greta@nordwind.example at")
    assert [(email.to, REPLY in email.body) for email in mail.outbox] == [(["greta@nordwind.example"], True)]
    expect(reply).to_have_css("background-color", "rgb(238, 244, 255)")
    expect(page.get_by_label("Message")).to_have_value("")

    # ... and resolves it
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("Ticket resolved.")
    assert page.evaluate("window.__sameDocument") is True, "an action reloaded the page"

    # Then the ticket shows it resolved, its first response time, and that it met its SLA
    expect(page.get_by_role("heading", name="CSV export stops at 1000 rows")).to_contain_text("Resolved")
    first_response = page.locator("dd.first-response")
    expect(first_response).to_contain_text("less than a minute")
    expect(first_response).to_contain_text("Met SLA")
    expect(page.locator("dd.resolution")).to_contain_text("Met SLA")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    history = page.get_by_role("list", name="History")
    for verb in ("Opened", "Assigned", "Resolved"):
        expect(history).to_contain_text(verb)
    page.screenshot(path=str(artifacts_dir / "ticket_page.png"), full_page=True)

    # And the database holds what happened, with the times the KPIs will measure
    ticket = Ticket.objects.get(pk=created["id"])
    assert (ticket.status, ticket.assignee, ticket.opened_by, ticket.agent_replies) == (
        Ticket.Status.RESOLVED,
        ana,
        None,
        1,
    )
    reply_message = ticket.messages.get(author_kind=TicketMessage.Author.AGENT, is_public=True)
    assert ticket.first_response_at == reply_message.created_at
    assert ticket.first_response_met_sla is True
    assert list(ticket.messages.values_list("author_kind", "is_public", "body")) == [
        ("customer", True, CUSTOMER_MESSAGE),
        ("agent", False, NOTE),
        ("agent", True, REPLY),
    ]

    # And nothing went wrong in the browser, nor left the live server
    page_watcher.assert_clean()


def test_agent_narrows_the_queue_with_filters_and_tabs_without_reloading(page, log_in, make_user, page_watcher):
    # Given an agent and open tickets of several priorities, one of them urgent and about invoices
    ana = make_user("support", username="ana.agent", first_name="Ana", last_name="Agent")
    for subject, priority in [
        ("Invoice shows the wrong VAT", "urgent"),
        ("Password reset never arrives", "urgent"),
        ("Invoice address outdated", "low"),
        ("Dashboard is slow", "normal"),
    ]:
        services.ticket_create(contact=ContactFactory(), subject=subject, body="Please help.", priority=priority)
    log_in(ana)
    page.goto(reverse("support:ticket_list") + "?queue=open")
    page.evaluate("window.__sameDocument = true")
    results = page.locator("#results tbody")
    expect(results.get_by_role("row")).to_have_count(4)

    # When she picks the urgent priority, then types a word into the queue's search box
    filters = page.locator("#ticket-filters")
    filters.get_by_label("Priority").select_option(label="Urgent")
    expect(results.get_by_role("row")).to_have_count(2)
    search = filters.get_by_role("searchbox", name="Search")
    search.press_sequentially("invoice", delay=30)

    # Then only the urgent invoice ticket is left, she is still typing in the box, and the address says so once
    expect(results.get_by_role("row")).to_have_count(1)
    expect(results).to_contain_text("Invoice shows the wrong VAT")
    expect(search).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?[^?]*q=invoice"))
    assert page.url.count("priority=") == 1, page.url

    # When she switches to the Unassigned tab, the filters stay and the counts come along
    page.get_by_role("list", name="Queues").get_by_role("link", name=re.compile("^Unassigned")).click()
    expect(page.get_by_role("list", name="Queues").locator("[aria-current=page]")).to_contain_text("Unassigned 4")
    expect(results.get_by_role("row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"queue=unassigned.*priority=urgent"))
    assert page.evaluate("window.__sameDocument") is True, "filtering reloaded the page"
    page_watcher.assert_clean()
