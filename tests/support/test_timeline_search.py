"""Tickets on the contact's timeline and in the global search."""

import datetime

import pytest
from django.urls import reverse

from contacts.selectors import contact_timeline, global_search
from support import services, timeline
from support.models import Ticket
from tests.contacts.factories import ContactFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(support_user):
    return support_user


def open_ticket(contact, subject="Export fails", body="The CSV export stops at 1000 rows.") -> Ticket:
    return services.ticket_create(contact=contact, subject=subject, body=body)


def ticket_entries(contact) -> list:
    return [entry for entry in contact_timeline(contact=contact, user=None) if entry.kind.startswith("ticket")]


# The contact's timeline


def test_an_opened_ticket_shows_with_the_customers_first_message_and_a_link(agent):
    contact = ContactFactory()
    ticket = open_ticket(contact)

    [entry] = ticket_entries(contact)

    assert entry.title == "Ticket opened: Export fails"
    assert entry.body == "The CSV export stops at 1000 rows."
    assert entry.url == reverse("support:ticket_detail", args=[ticket.pk])
    assert entry.when == ticket.created_at


def test_replies_customer_messages_and_the_resolution_show_newest_first(agent):
    contact = ContactFactory()
    ticket = open_ticket(contact)
    services.ticket_reply(ticket=ticket, author=agent, body="We raised the limit.")
    services.ticket_customer_message(ticket=ticket, body="Works now, thanks!")
    services.ticket_resolve(ticket=ticket, actor=agent)

    entries = ticket_entries(contact)

    assert [(entry.kind, entry.title) for entry in entries] == [
        ("ticket-resolved", "Ticket resolved: Export fails"),
        ("ticket-message", "Wrote on ticket: Export fails"),
        ("ticket-reply", "Reply on ticket: Export fails"),
        ("ticket", "Ticket opened: Export fails"),
    ]
    assert entries[2].body == "We raised the limit."
    assert entries[2].actor == agent.get_full_name()


def test_internal_notes_never_show_on_the_timeline(agent):
    contact = ContactFactory()
    ticket = open_ticket(contact)
    services.ticket_add_note(ticket=ticket, author=agent, body="Customer is grumpy, be careful.")

    entries = contact_timeline(contact=contact, user=None)

    assert not any("grumpy" in f"{entry.title} {entry.body}" for entry in entries)
    assert len(ticket_entries(contact)) == 1


def test_other_contacts_tickets_stay_off_the_timeline(agent):
    contact = ContactFactory()
    open_ticket(ContactFactory(), subject="Someone else's problem")

    assert ticket_entries(contact) == []


def test_a_long_message_is_cut_short_on_the_timeline(agent):
    contact = ContactFactory()
    open_ticket(contact, body="word " * 200)

    [entry] = ticket_entries(contact)

    assert len(entry.body) <= timeline.BODY_CHARS
    assert entry.body.endswith("…")


def test_the_timeline_takes_two_queries_however_many_tickets(agent, django_assert_num_queries):
    def tickets_with_conversations(contact, count):
        for _ in range(count):
            ticket = open_ticket(contact)
            services.ticket_reply(ticket=ticket, author=agent, body="On it.")
            services.ticket_resolve(ticket=ticket, actor=agent)

    contact = ContactFactory()
    tickets_with_conversations(contact, 2)
    with django_assert_num_queries(2):
        few = timeline.contact_timeline(contact, 50)

    tickets_with_conversations(contact, 10)
    with django_assert_num_queries(2):
        many = timeline.contact_timeline(contact, 50)

    assert (len(few), len(many)) == (6, 36)


# Global search


def test_search_finds_tickets_by_subject_and_links_to_them(support_user):
    ticket = TicketFactory(subject="Invoice shows the wrong VAT number")

    [group] = [group for group in global_search(query="VAT", user=support_user) if group.label == "Tickets"]

    assert group.results == [
        (
            f"#{ticket.pk} Invoice shows the wrong VAT number",
            f"{ticket.contact.full_name} · New · Normal",
            reverse("support:ticket_detail", args=[ticket.pk]),
        )
    ]
    assert group.more_url.startswith(reverse("support:ticket_list") + "?")
    assert "q=VAT" in group.more_url
    assert "queue=all" in group.more_url


def test_search_finds_tickets_by_the_contacts_name(support_user):
    ticket = TicketFactory(contact=ContactFactory(first_name="Grace", last_name="Hopper"), subject="Login")

    group = timeline.search_tickets("Grace Hopper", support_user, 5)

    assert [result[2] for result in group.results] == [reverse("support:ticket_detail", args=[ticket.pk])]


def test_search_shows_the_newest_tickets_first_up_to_the_limit(support_user):
    now = TicketFactory().created_at
    tickets = [
        TicketFactory(subject=f"Export fails {n}", created_at=now - datetime.timedelta(days=n)) for n in range(4)
    ]

    group = timeline.search_tickets("fails", support_user, 3)

    assert [result[0] for result in group.results] == [f"#{ticket.pk} {ticket.subject}" for ticket in tickets[:3]]


def test_sales_may_search_tickets_because_they_read_them(sales_user):
    TicketFactory(subject="Invoice shows the wrong VAT number")

    assert timeline.search_tickets("VAT", sales_user, 5).results


def test_users_who_may_not_read_tickets_get_no_ticket_results(make_user):
    TicketFactory(subject="Invoice shows the wrong VAT number")

    assert timeline.search_tickets("VAT", make_user(None), 5) is None
