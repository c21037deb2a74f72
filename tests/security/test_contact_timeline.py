"""The contact's timeline shows each role only what it may read elsewhere.

Support may not open deals or orders, sales may not read survey answers: their pages answer 403 (the
permission matrix), and the contact page, the deal page and the ticket page must not show them either.
"""

import pytest
from django.urls import reverse

from support import services as support_services
from surveys.models import Response
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, OrderFactory
from tests.surveys.factories import InvitationFactory

pytestmark = pytest.mark.django_db

DEAL = "Fleet renewal"
ORDER = "Order of"
ANSWER = "Too slow, and nobody called back"
TICKET = "Cannot log in"


@pytest.fixture
def contact():
    """A customer with a deal, an order, a ticket and a survey answer."""
    contact = ContactFactory()
    DealFactory(contact=contact, title=DEAL)
    OrderFactory(contact=contact)
    support_services.ticket_create(contact=contact, subject=TICKET, body="It says my password is wrong.")
    invitation = InvitationFactory(contact=contact)
    Response.objects.create(invitation=invitation, kind=invitation.survey.kind, score=2, comment=ANSWER)
    return contact


def timeline_of(client, user, contact) -> str:
    client.force_login(user)
    response = client.get(reverse("contacts:contact_detail", args=[contact.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_support_sees_the_tickets_but_no_deals_orders_or_answers(client, support_user, contact):
    html = timeline_of(client, support_user, contact)

    assert TICKET in html
    assert DEAL not in html
    assert ORDER not in html
    assert ANSWER not in html


def test_sales_sees_deals_orders_and_tickets_but_no_survey_answers(client, sales_user, contact):
    html = timeline_of(client, sales_user, contact)

    assert DEAL in html
    assert ORDER in html
    assert TICKET in html
    assert ANSWER not in html


def test_a_manager_sees_all_of_it(client, manager_user, contact):
    html = timeline_of(client, manager_user, contact)

    assert all(text in html for text in (DEAL, ORDER, TICKET, ANSWER))


def test_the_ticket_page_shows_support_no_deals_beside_the_conversation(client, support_user, contact):
    client.force_login(support_user)
    ticket = contact.tickets.get()

    html = client.get(reverse("support:ticket_detail", args=[ticket.pk])).content.decode()

    assert TICKET in html
    assert DEAL not in html
    assert ANSWER not in html
