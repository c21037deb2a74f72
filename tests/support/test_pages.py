"""The help desk pages as agents, sales reps and managers use them: the queue, the ticket page, the new-ticket form."""

import datetime
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts import registry as contact_registry
from support import services
from support.models import Ticket, TicketEvent, TicketMessage
from support.panels import contact_panel
from tests.contacts.factories import ContactFactory, InteractionFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

TICKET_LIST = reverse("support:ticket_list")
TICKET_CREATE = reverse("support:ticket_create")
LOGIN = reverse("login")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25
ACTIONS = ("reply", "note", "resolve", "reopen", "close", "assign", "priority", "status")


def action_url(ticket, action: str) -> str:
    return reverse(f"support:ticket_{action}", args=[ticket.pk])


def shown(response) -> list:
    """The tickets a queue shows, in its order."""
    assert response.status_code == 200
    return list(response.context["object_list"])


def open_ticket(**kwargs) -> Ticket:
    """A ticket as a customer's e-mail opens it, through the service."""
    kwargs.setdefault("contact", ContactFactory())
    kwargs.setdefault("subject", "The CSV export stops at 1000 rows")
    kwargs.setdefault("body", "Since Monday the export is cut off.")
    return services.ticket_create(**kwargs)


def due_ticket(*, in_: timedelta, answered: bool = False, **kwargs) -> Ticket:
    """An open ticket whose deadline that matters now is `in_` from now (negative: overdue)."""
    now = timezone.now()
    created = now - timedelta(hours=1)
    fields = {"created_at": created, "status": Ticket.Status.OPEN}
    if answered:
        fields |= {"first_response_at": created, "first_response_due_at": created, "resolution_due_at": now + in_}
    else:
        fields |= {"first_response_due_at": now + in_, "resolution_due_at": now + in_ + timedelta(days=2)}
    return TicketFactory(**(fields | kwargs))


@pytest.fixture
def agent(support_user):
    return support_user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def colleague(make_user):
    return make_user("support", username="carl.colleague", first_name="Carl", last_name="Colleague")


# The queue: which tickets each tab holds


def test_an_agent_opens_the_queue_on_their_own_open_tickets(agent_client, agent, colleague):
    mine = open_ticket(assignee=agent)
    open_ticket(assignee=colleague)
    open_ticket()
    resolved = open_ticket(assignee=agent)
    services.ticket_resolve(ticket=resolved, actor=agent)

    response = agent_client.get(TICKET_LIST)

    assert response.context["queue"] == "mine"
    assert shown(response) == [mine]


def test_the_assignee_filter_lists_agents_by_name(agent_client, colleague):
    page = agent_client.get(TICKET_LIST).content.decode()

    assert f'<option value="{colleague.pk}">Carl Colleague</option>' in page


def test_a_sales_rep_opens_the_queue_on_all_open_tickets(sales_client, colleague):
    assigned = open_ticket(assignee=colleague)
    unassigned = open_ticket()

    response = sales_client.get(TICKET_LIST)

    assert response.context["queue"] == "open"
    assert set(shown(response)) == {assigned, unassigned}


def test_the_unassigned_queue_holds_open_tickets_nobody_has_taken(agent_client, colleague):
    waiting = open_ticket()
    open_ticket(assignee=colleague)
    services.ticket_resolve(ticket=open_ticket(), actor=colleague)

    response = agent_client.get(TICKET_LIST, {"queue": "unassigned"})

    assert shown(response) == [waiting]


def test_the_overdue_queue_holds_open_tickets_past_the_deadline_that_matters_now(agent_client):
    late_reply = due_ticket(in_=-timedelta(minutes=5))
    late_resolution = due_ticket(in_=-timedelta(minutes=5), answered=True)
    due_ticket(in_=timedelta(hours=2))
    due_ticket(in_=timedelta(hours=2), answered=True)

    response = agent_client.get(TICKET_LIST, {"queue": "overdue"})

    assert set(shown(response)) == {late_reply, late_resolution}


def test_the_all_queue_holds_every_ticket_newest_first(agent_client, agent):
    now = timezone.now()
    old = open_ticket()
    services.ticket_resolve(ticket=old, actor=agent)
    Ticket.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=30), resolved_at=now - timedelta(days=29))
    new = open_ticket()

    response = agent_client.get(TICKET_LIST, {"queue": "all"})

    assert shown(response) == [new, old]


def test_an_unknown_queue_falls_back_to_the_default_one(agent_client, agent):
    mine = open_ticket(assignee=agent)

    response = agent_client.get(TICKET_LIST, {"queue": "everything-please"})

    assert response.context["queue"] == "mine"
    assert shown(response) == [mine]


def test_the_tabs_show_live_counts_of_every_queue(agent_client, agent):
    open_ticket(assignee=agent)
    open_ticket()
    open_ticket()
    due_ticket(in_=-timedelta(minutes=1))  # unassigned and overdue
    services.ticket_resolve(ticket=open_ticket(assignee=agent), actor=agent)

    response = agent_client.get(TICKET_LIST)

    counts = {tab["key"]: tab["count"] for tab in response.context["queues"]}
    assert counts == {"mine": 1, "unassigned": 3, "overdue": 1, "open": 4, "all": 5}
    html = response.content.decode()
    assert 'id="queue-count-unassigned">3</span>' in html
    assert 'id="queue-count-all">5</span>' in html


def test_the_tab_links_keep_the_filters(agent_client):
    response = agent_client.get(TICKET_LIST, {"queue": "open", "priority": "urgent"})

    assert f'href="{TICKET_LIST}?queue=unassigned&amp;priority=urgent"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "No open tickets are assigned to you. Pick one from"),
        ({"queue": "overdue"}, "Nothing in this queue."),
        ({"queue": "open", "priority": "urgent"}, "No tickets match these filters."),
    ],
)
def test_an_empty_queue_says_why_it_is_empty(agent_client, query, message):
    open_ticket(priority="low")

    response = agent_client.get(TICKET_LIST, query)

    assert shown(response) == []
    assert message in response.content.decode()


def test_the_filter_form_stays_in_the_current_queue(agent_client):
    response = agent_client.get(TICKET_LIST, {"queue": "unassigned"})

    assert '<input type="hidden" name="queue" value="unassigned" form="ticket-filters">' in response.content.decode()


# The queue: sorting


def test_the_queue_puts_the_most_urgent_deadline_first(agent_client):
    later = due_ticket(in_=timedelta(hours=5))
    overdue = due_ticket(in_=-timedelta(minutes=30))
    soon = due_ticket(in_=timedelta(minutes=20), answered=True)

    response = agent_client.get(TICKET_LIST, {"queue": "open"})

    assert shown(response) == [overdue, soon, later]
    assert response.context["filter"].form["ordering"].value() in (None, "", [])


def test_the_queue_sorts_by_the_chosen_column(agent_client):
    now = timezone.now()
    oldest = due_ticket(in_=timedelta(hours=1), created_at=now - timedelta(days=3))
    newest = due_ticket(in_=timedelta(hours=9), created_at=now - timedelta(minutes=1))
    middle = due_ticket(in_=timedelta(hours=5), created_at=now - timedelta(days=1))

    response = agent_client.get(TICKET_LIST, {"queue": "open", "ordering": "-created"})

    assert shown(response) == [newest, middle, oldest]


def test_the_sort_menu_names_sla_urgency_as_the_default(agent_client):
    response = agent_client.get(TICKET_LIST)

    html = response.content.decode()
    assert '<option value="" selected>SLA urgency</option>' in html
    assert "---------" not in html


# The queue: filters


@pytest.mark.parametrize(
    ("field", "value", "other"),
    [("priority", "urgent", "low"), ("channel", "chat", "email")],
)
def test_the_queue_filters_by_priority_and_channel(agent_client, field, value, other):
    match = open_ticket(**{field: value})
    open_ticket(**{field: other})

    response = agent_client.get(TICKET_LIST, {"queue": "open", field: value})

    assert shown(response) == [match]


def test_the_queue_filters_by_assignee(agent_client, agent, colleague):
    carls = open_ticket(assignee=colleague)
    open_ticket(assignee=agent)

    response = agent_client.get(TICKET_LIST, {"queue": "open", "assignee": colleague.pk})

    assert shown(response) == [carls]


def test_the_queue_filters_by_creation_date_range(agent_client):
    def created(day):
        return TicketFactory(created_at=timezone.make_aware(datetime.datetime.fromisoformat(day)))

    created("2026-02-28T23:59")
    first_day = created("2026-03-01T00:00")
    last_day = created("2026-03-31T23:59")
    created("2026-04-01T00:00")

    response = agent_client.get(
        TICKET_LIST, {"queue": "all", "created_after": "2026-03-01", "created_before": "2026-03-31"}
    )

    assert set(shown(response)) == {first_day, last_day}


def test_the_queue_search_finds_tickets_by_subject_or_customer(agent_client):
    by_subject = open_ticket(subject="Invoice shows the wrong VAT")
    by_customer = open_ticket(contact=ContactFactory(last_name="Vatanen"))
    open_ticket(subject="Password reset")

    response = agent_client.get(TICKET_LIST, {"queue": "open", "q": "vat"})

    assert set(shown(response)) == {by_subject, by_customer}


def test_the_queue_filters_a_contacts_tickets(agent_client):
    contact = ContactFactory()
    theirs = open_ticket(contact=contact)
    open_ticket()

    response = agent_client.get(TICKET_LIST, {"queue": "all", "contact": contact.pk})

    assert shown(response) == [theirs]


# The queue: what a row says


def test_a_row_shows_the_time_left_to_the_first_reply(agent_client):
    due_ticket(in_=timedelta(hours=2, minutes=10, seconds=40))

    response = agent_client.get(TICKET_LIST, {"queue": "open"})

    html = response.content.decode()
    assert "2 h 10 min left" in html
    assert "first reply" in html


def test_a_row_shows_how_long_an_answered_ticket_is_overdue_for_resolution(agent_client):
    due_ticket(in_=-timedelta(minutes=35, seconds=10), answered=True)

    response = agent_client.get(TICKET_LIST, {"queue": "open"})

    html = response.content.decode()
    assert "overdue by 35 min" in html
    assert "resolution" in html


def test_a_row_shows_subject_customer_priority_status_assignee_and_age(agent_client, colleague):
    contact = ContactFactory(first_name="Greta", last_name="Lindqvist")
    ticket = open_ticket(contact=contact, subject="Cannot log in", priority="high", assignee=colleague)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(hours=3, minutes=5))

    response = agent_client.get(TICKET_LIST, {"queue": "open"})

    html = response.content.decode()
    for text in ("Cannot log in", "Greta Lindqvist", ">High<", ">Open<", "Carl Colleague", "3 h 5 min"):
        assert text in html, text


def test_the_queue_htmx_request_gets_only_the_results_with_the_tabs_and_counts(agent_client):
    ticket = open_ticket(subject="Printer on fire")

    response = agent_client.get(TICKET_LIST, {"queue": "open", "q": "printer"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert 'id="ticket-filters"' not in html
    assert 'id="queue-count-open">1</span>' in html
    assert ticket.get_absolute_url() in html


def test_the_queue_full_page_has_the_filters_the_tabs_and_the_results(agent_client):
    html = agent_client.get(TICKET_LIST).content.decode()

    assert "<html" in html
    assert 'id="ticket-filters"' in html
    assert 'aria-label="Queues"' in html
    assert 'id="results"' in html
    assert "{#" not in html and "{%" not in html, "template syntax leaked into the page"


def tickets_with_everything(count: int, make_user) -> None:
    """Tickets each with its own customer, company and agent: what a queue row shows."""
    for _ in range(count):
        ticket = open_ticket(assignee=make_user("support"))
        services.ticket_reply(ticket=ticket, author=ticket.assignee, body="On it.")


# Session, user, user and group permissions, the page's count, the queue counts, the user's roles (navbar),
# the agents for the assignee filter, the page of tickets with their customers, companies and assignees.
QUEUE_PAGE_QUERIES = 9


def test_the_queue_queries_do_not_grow_with_the_rows(agent_client, make_user, django_assert_max_num_queries):
    tickets_with_everything(3, make_user)
    with django_assert_max_num_queries(QUEUE_PAGE_QUERIES):
        agent_client.get(TICKET_LIST, {"queue": "open"})

    tickets_with_everything(27, make_user)
    with django_assert_max_num_queries(QUEUE_PAGE_QUERIES):
        response = agent_client.get(TICKET_LIST, {"queue": "open"})

    assert len(shown(response)) == PAGE_SIZE


# The ticket page


def test_the_ticket_page_shows_customer_messages_replies_and_internal_notes_differently(agent_client, agent):
    ticket = open_ticket(body="The export stops at 1000 rows.")
    services.ticket_add_note(ticket=ticket, author=agent, body="Known limit of the old exporter.")
    services.ticket_reply(ticket=ticket, author=agent, body="We are raising the limit today.")

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert "{#" not in html and "{%" not in html, "template syntax leaked into the page"
    customer = html.index('class="message message-customer"')
    note = html.index('class="message message-note"')
    reply = html.index('class="message message-reply"')
    assert customer < html.index("The export stops at 1000 rows.") < note
    assert note < html.index("Internal note") < html.index("Known limit of the old exporter.") < reply
    assert reply < html.index("We are raising the limit today.")


def test_the_ticket_page_shows_a_script_in_a_message_as_text(agent_client):
    ticket = open_ticket(body='<script>alert("pwned")</script> <b>bold?</b>', subject="<i>Hi</i>")

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "&lt;i&gt;Hi&lt;/i&gt;" in html
    assert '<script>alert("pwned")' not in html
    assert "<b>bold?</b>" not in html


def test_the_ticket_page_shows_the_first_response_time_and_that_it_met_its_sla(agent_client, agent):
    ticket = open_ticket(priority="normal")  # 8 h to the first reply
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=timezone.now() - timedelta(hours=2),
        first_response_due_at=timezone.now() + timedelta(hours=6),
    )
    services.ticket_reply(ticket=ticket, author=agent, body="Fixed it.")

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    first_response = html[html.index('class="first-response"') :][:600]
    assert "2 h" in first_response
    assert "(2.00 h)" in first_response
    assert "Met SLA" in first_response


def test_the_ticket_page_says_when_the_first_response_missed_its_sla(agent_client, agent):
    ticket = due_ticket(in_=-timedelta(minutes=30))
    services.ticket_reply(ticket=ticket, author=agent, body="Sorry for the wait.")

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert "Missed SLA" in html[html.index('class="first-response"') :][:600]


def test_the_ticket_page_shows_the_facts(agent_client, agent, colleague):
    ticket = open_ticket(priority="urgent", channel="chat", assignee=colleague)
    services.ticket_reply(ticket=ticket, author=agent, body="Hi")
    services.ticket_resolve(ticket=ticket, actor=agent)
    services.ticket_reopen(ticket=ticket, actor=agent)
    ticket.refresh_from_db()

    response = agent_client.get(ticket.get_absolute_url())

    html = response.content.decode()
    for text in ("Urgent", "Chat", "Carl Colleague", "1 time", "First reply due", "Resolution due"):
        assert text in html, text
    local_due = timezone.localtime(ticket.resolution_due_at).strftime("%Y-%m-%d %H:%M")
    assert local_due in html


def test_the_ticket_page_shows_times_in_the_local_time_zone(agent_client, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9, no daylight saving
    ticket = TicketFactory(created_at=datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC))

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert "2026-03-02 18:00" in html


def contact_timeline_of(html: str) -> str:
    start = html.index('aria-label="Contact timeline"')
    return html[start : html.index("</ol>", start)]


def test_the_ticket_page_shows_the_contacts_timeline_beside_it(agent_client):
    contact = ContactFactory()
    InteractionFactory(contact=contact, summary="Called about the renewal")
    earlier = open_ticket(contact=contact, subject="Earlier question")
    ticket = open_ticket(contact=contact)

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    timeline = contact_timeline_of(html)
    assert "Called about the renewal" in timeline
    assert earlier.get_absolute_url() in timeline


def test_the_contacts_timeline_beside_a_ticket_leaves_out_that_ticket_shown_in_full_already(agent_client):
    ticket = open_ticket(body="Shown once, in the conversation")

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert ticket.get_absolute_url() not in contact_timeline_of(html)
    assert html.count("Shown once, in the conversation") == 1


def test_the_ticket_page_shows_the_history_with_who_and_what(agent_client, agent, colleague):
    ticket = open_ticket()
    services.ticket_assign(ticket=ticket, assignee=colleague, actor=agent)
    services.ticket_change_priority(ticket=ticket, priority="high", actor=agent)

    html = agent_client.get(ticket.get_absolute_url()).content.decode()

    history = html[html.index('aria-label="History"') :]
    assert "Assigned" in history
    assert "to carl.colleague" in history or "to Carl Colleague" in history
    assert "Normal → High" in history


def test_an_unknown_ticket_is_not_found(agent_client):
    assert agent_client.get(reverse("support:ticket_detail", args=[987654])).status_code == 404


def test_an_action_on_an_unknown_ticket_is_not_found(agent_client):
    assert agent_client.post(action_url(Ticket(pk=987654), "resolve")).status_code == 404


def ticket_with_a_conversation(messages: int, make_user) -> Ticket:
    contact = ContactFactory()
    InteractionFactory.create_batch(messages, contact=contact)
    ticket = open_ticket(contact=contact)
    for n in range(messages):
        agent = make_user("support")
        services.ticket_add_note(ticket=ticket, author=agent, body=f"Note {n}")
        services.ticket_reply(ticket=ticket, author=agent, body=f"Reply {n}")
        services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    return ticket


# Session, user, permissions (2), the ticket with its customer, company, assignee and opener, the conversation,
# the history, the agents for the assign menu, the user's roles (navbar), and the contact's timeline: 7 queries
# today from the sources that contacts, sales, support and surveys register; the History of changes (audit
# trail) with the people and the contact its entries name: 3.
TICKET_PAGE_QUERIES = 19


def test_the_ticket_page_queries_do_not_grow_with_the_conversation(
    agent_client, make_user, django_assert_max_num_queries
):
    small = ticket_with_a_conversation(3, make_user)
    with django_assert_max_num_queries(TICKET_PAGE_QUERIES):
        agent_client.get(small.get_absolute_url())

    large = ticket_with_a_conversation(30, make_user)
    with django_assert_max_num_queries(TICKET_PAGE_QUERIES):
        response = agent_client.get(large.get_absolute_url())

    assert response.content.decode().count('class="message message-reply"') == 30


# Actions on the ticket page, with htmx and without


def test_a_reply_with_htmx_returns_the_ticket_with_the_reply_and_the_first_response_time(agent_client, agent):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "reply"), {"body": "Try the new exporter."}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="ticket"')
    assert "<html" not in html
    assert f"Reply added; it is e-mailed to {ticket.contact.email}." in html
    assert "Try the new exporter." in html
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.messages.filter(author_kind="agent", is_public=True, author=agent).count() == 1


def test_a_reply_without_javascript_redirects_back_to_the_ticket(agent_client):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "reply"), {"body": "Done."}, follow=True)

    assert response.redirect_chain == [(ticket.get_absolute_url(), 302)]
    assert f"Reply added; it is e-mailed to {ticket.contact.email}." in response.content.decode()


def test_an_internal_note_is_added_and_is_not_a_response(agent_client, agent):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "note"), {"body": "Check the logs first."}, **HTMX)

    assert "Internal note added." in response.content.decode()
    note = ticket.messages.get(is_public=False)
    assert (note.body, note.author) == ("Check the logs first.", agent)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_resolving_from_the_page_resolves_the_ticket(agent_client, agent):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "resolve"), **HTMX)

    assert "Ticket resolved." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.events.filter(verb=TicketEvent.Verb.RESOLVED, actor=agent).exists()


def test_reopening_from_the_page_counts_a_reopening(agent_client, agent):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)

    response = agent_client.post(action_url(ticket, "reopen"), **HTMX)

    assert "Ticket reopened." in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count, ticket.resolved_at) == (Ticket.Status.OPEN, 1, None)


def test_closing_from_the_page_closes_a_resolved_ticket(agent_client, agent):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)

    response = agent_client.post(action_url(ticket, "close"), **HTMX)

    html = response.content.decode()
    assert "Ticket closed." in html
    assert "This ticket is closed: nothing more can be added." in html
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_assigning_from_the_page_records_who_did_it(agent_client, agent, colleague):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "assign"), {"assignee": colleague.pk}, **HTMX)

    assert "Assigned to Carl Colleague." in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (colleague, Ticket.Status.OPEN)
    assert ticket.events.get(verb=TicketEvent.Verb.ASSIGNED).actor == agent


def test_assigning_to_nobody_unassigns(agent_client, agent):
    ticket = open_ticket(assignee=agent)

    response = agent_client.post(action_url(ticket, "assign"), {"assignee": ""}, **HTMX)

    assert "Ticket unassigned." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_changing_the_priority_from_the_page_moves_the_sla_targets(agent_client):
    ticket = open_ticket(priority="normal")

    response = agent_client.post(action_url(ticket, "priority"), {"priority": "urgent"}, **HTMX)

    assert "Priority set to urgent." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.first_response_due_at == ticket.created_at + timedelta(hours=1)


def test_changing_the_status_from_the_page(agent_client):
    ticket = open_ticket()

    response = agent_client.post(action_url(ticket, "status"), {"status": "pending"}, **HTMX)

    assert "Status set to pending." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING


def test_a_draft_in_the_answer_box_survives_another_action(agent_client, agent):
    ticket = open_ticket()

    response = agent_client.post(
        action_url(ticket, "assign"), {"assignee": agent.pk, "body": "Half-written <answer>"}, **HTMX
    )

    assert response.context["message_form"]["body"].value() == "Half-written <answer>"
    assert "Half-written &lt;answer&gt;</textarea>" in response.content.decode()
    assert ticket.messages.count() == 1


# Refusals: the service's message, nothing changed


def snapshot(ticket) -> tuple:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return (
        ticket.status,
        ticket.assignee_id,
        ticket.priority,
        ticket.resolved_at,
        ticket.first_response_at,
        ticket.agent_replies,
        ticket.reopened_count,
        TicketMessage.objects.filter(ticket=ticket).count(),
        TicketEvent.objects.filter(ticket=ticket).count(),
    )


def closed_ticket(agent) -> Ticket:
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)
    services.ticket_close(ticket=ticket, actor=agent)
    return ticket


def resolved_ticket(agent) -> Ticket:
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)
    return ticket


REFUSALS = [
    ("an empty reply", lambda agent: open_ticket(), "reply", {"body": "   "}, "Write something first"),
    ("an empty note", lambda agent: open_ticket(), "note", {"body": ""}, "Write something first"),
    ("a reply to a closed ticket", closed_ticket, "reply", {"body": "Hello?"}, "a reply cannot be added"),
    ("a note on a closed ticket", closed_ticket, "note", {"body": "Hm"}, "closed: nothing can be added."),
    ("resolving a resolved ticket", resolved_ticket, "resolve", {}, "This ticket is already resolved."),
    ("reopening an open ticket", lambda agent: open_ticket(), "reopen", {}, "Only a resolved ticket can be reopened."),
    ("reopening a closed ticket", closed_ticket, "reopen", {}, "A closed ticket is final."),
    ("closing an open ticket", lambda agent: open_ticket(), "close", {}, "Resolve the ticket before closing it."),
    ("an unknown assignee", lambda agent: open_ticket(), "assign", {"assignee": 987654}, "cannot take tickets"),
    ("reassigning a closed ticket", closed_ticket, "assign", {"assignee": ""}, "A closed ticket cannot be reassigned."),
    ("an unknown priority", lambda agent: open_ticket(), "priority", {"priority": "asap"}, "not one of the available"),
    ("a priority on a closed ticket", closed_ticket, "priority", {"priority": "high"}, "A closed ticket is final."),
    ("resolving through the status menu", lambda agent: open_ticket(), "status", {"status": "resolved"}, "not one of"),
    ("a status on a resolved ticket", resolved_ticket, "status", {"status": "open"}, "reopen it first"),
]


@pytest.mark.parametrize(
    ("make_ticket", "action", "data", "message"),
    [refusal[1:] for refusal in REFUSALS],
    ids=[refusal[0] for refusal in REFUSALS],
)
def test_a_refused_action_with_htmx_shows_why_in_place_and_changes_nothing(
    agent_client, agent, make_ticket, action, data, message
):
    ticket = make_ticket(agent)
    before = snapshot(ticket)

    response = agent_client.post(action_url(ticket, action), data, **HTMX)

    # htmx swaps in 2xx answers only: the refusal must come back as 200 to be seen.
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="ticket"')
    assert message in html
    assert snapshot(ticket) == before


def test_a_refused_action_without_javascript_shows_the_page_with_the_message(agent_client, agent):
    ticket = resolved_ticket(agent)
    before = snapshot(ticket)

    response = agent_client.post(action_url(ticket, "resolve"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "<html" in html
    assert "This ticket is already resolved." in html
    assert snapshot(ticket) == before


def test_a_refused_reply_keeps_what_the_agent_typed(agent_client, agent):
    ticket = closed_ticket(agent)

    response = agent_client.post(action_url(ticket, "reply"), {"body": "Long careful answer"}, **HTMX)

    assert response.context["message_form"]["body"].value() == "Long careful answer"


# The new ticket form


def test_the_new_ticket_form_from_a_contact_page_prefills_the_contact(agent_client, agent):
    contact = ContactFactory(first_name="Greta", last_name="Lindqvist")

    response = agent_client.get(TICKET_CREATE, {"contact": contact.pk})

    form = response.context["form"]
    assert form["contact"].value() == contact.pk
    assert form["assignee"].value() == agent.pk
    assert form["channel"].value() == Ticket.Channel.PHONE
    assert "New ticket for Greta Lindqvist" in response.content.decode()


def test_a_new_ticket_is_opened_by_the_agent_with_the_customers_first_message(agent_client, agent, colleague):
    contact = ContactFactory()

    response = agent_client.post(
        TICKET_CREATE,
        {
            "contact": contact.pk,
            "subject": "Wants to change the billing address",
            "channel": "phone",
            "priority": "high",
            "body": "Called: the invoices must go to the new office.",
            "assignee": colleague.pk,
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    assert (ticket.contact, ticket.opened_by, ticket.assignee) == (contact, agent, colleague)
    assert (ticket.channel, ticket.priority, ticket.status) == ("phone", "high", Ticket.Status.OPEN)
    message = ticket.messages.get()
    assert (message.author_kind, message.body) == ("customer", "Called: the invoices must go to the new office.")
    assert ticket.first_response_at is None


def test_a_new_ticket_without_subject_or_message_shows_the_errors_and_keeps_the_input(agent_client):
    contact = ContactFactory()

    response = agent_client.post(
        TICKET_CREATE,
        {"contact": contact.pk, "subject": "", "channel": "phone", "priority": "normal", "body": "Kept text"},
    )

    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    assert "Kept text" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_new_ticket_for_someone_who_cannot_take_tickets_is_refused(agent_client, sales_user):
    response = agent_client.post(
        TICKET_CREATE,
        {
            "contact": ContactFactory().pk,
            "subject": "Help",
            "channel": "phone",
            "priority": "normal",
            "body": "Help",
            "assignee": sales_user.pk,
        },
    )

    assert response.status_code == 200
    assert "cannot take tickets" in response.content.decode()
    assert not Ticket.objects.exists()


# The contact page's "Tickets" card


def the_tickets_card(html: str) -> str:
    start = html.index('id="ticket-panel-heading"')
    return html[start : html.index("</section>", start)]


def test_the_contact_page_shows_the_contacts_open_tickets_and_a_new_ticket_button(agent_client):
    contact = ContactFactory()
    waiting = open_ticket(contact=contact, subject="Export broken")
    done = open_ticket(contact=contact, subject="Old question")
    services.ticket_resolve(ticket=done, actor=None)
    open_ticket(subject="Someone else's problem")

    html = agent_client.get(contact.get_absolute_url()).content.decode()

    panel = the_tickets_card(html)
    assert waiting.get_absolute_url() in panel
    assert "Old question" not in panel
    assert "Someone else" not in panel
    assert f"{TICKET_CREATE}?contact={contact.pk}" in panel


def test_the_tickets_card_is_registered_on_the_contact_page():
    assert contact_panel in contact_registry.contact_panels()


def test_a_sales_rep_sees_the_contacts_tickets_but_no_new_ticket_button(sales_client):
    contact = ContactFactory()
    open_ticket(contact=contact, subject="Export broken")

    html = sales_client.get(contact.get_absolute_url()).content.decode()

    panel = the_tickets_card(html)
    assert "Export broken" in panel
    assert f"{TICKET_CREATE}?contact=" not in panel


def test_the_tickets_card_is_hidden_from_users_who_cannot_read_tickets(rf, make_user):
    request = rf.get("/")
    request.user = make_user(None)

    assert contact_panel(request, ContactFactory()) is None


# Who may do what


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(TICKET_LIST)

    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={TICKET_LIST}"


@pytest.mark.parametrize("role", ["support", "sales", "manager"])
def test_every_role_with_tickets_reads_the_queue_and_the_ticket(client, make_user, role):
    ticket = open_ticket()
    client.force_login(make_user(role))

    assert client.get(TICKET_LIST).status_code == 200
    assert client.get(ticket.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("url", [TICKET_LIST, TICKET_CREATE, "detail"])
def test_a_user_without_a_role_gets_the_clear_forbidden_page(client, make_user, url):
    if url == "detail":
        url = open_ticket().get_absolute_url()
    client.force_login(make_user(None))

    response = client.get(url)

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


@pytest.mark.parametrize("role", ["sales", "manager"])
@pytest.mark.parametrize("action", ACTIONS)
def test_readers_cannot_change_a_ticket(client, make_user, agent, role, action):
    ticket = open_ticket()
    if action in ("reopen", "close"):
        services.ticket_resolve(ticket=ticket, actor=agent)
    before = snapshot(ticket)
    client.force_login(make_user(role))

    response = client.post(
        action_url(ticket, action), {"body": "Hi", "assignee": agent.pk, "priority": "high", "status": "pending"}
    )

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()
    assert snapshot(ticket) == before


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_readers_cannot_open_a_ticket(client, make_user, role):
    client.force_login(make_user(role))

    assert client.get(TICKET_CREATE).status_code == 403
    assert client.post(TICKET_CREATE, {"contact": ContactFactory().pk, "subject": "x", "body": "x"}).status_code == 403
    assert not Ticket.objects.exists()


def test_readers_see_the_ticket_without_the_action_forms(sales_client):
    ticket = open_ticket()

    html = sales_client.get(ticket.get_absolute_url()).content.decode()

    for action in ACTIONS:
        assert action_url(ticket, action) not in html
    assert "Add reply" not in html


def test_the_navbar_links_to_the_tickets_for_those_who_may_read_them(agent_client, client, make_user):
    link = f'href="{TICKET_LIST}">Tickets</a>'
    assert link in agent_client.get(reverse("dashboard")).content.decode()

    client.force_login(make_user(None))
    assert link not in client.get(reverse("dashboard")).content.decode()
