"""Deleting goes through the services, and never takes along records the role may not see.

A contact's survey answers (managers' data) and sales history go with the contact when it is deleted: sales
and support may delete contacts, but not those, so the deletion is refused and nothing goes.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from contacts.models import Contact
from sales import services as sales_services
from sales.models import Deal, SalesEvent
from surveys.models import Invitation, Response
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory
from tests.surveys.factories import InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered_contact():
    """A contact who answered an NPS survey, and has nothing else."""
    invitation = InvitationFactory()
    Response.objects.create(invitation=invitation, kind=invitation.survey.kind, score=3, comment="Too slow")
    return invitation.contact


def test_sales_cannot_delete_a_contact_with_survey_answers_from_its_page(sales_client, answered_contact):
    response = sales_client.post(reverse("contacts:contact_delete", args=[answered_contact.pk]))

    [message] = [str(message) for message in get_messages(response.wsgi_request)]
    assert response.status_code == 302
    assert response.url == answered_contact.get_absolute_url()
    assert message == (
        f"{answered_contact} cannot be deleted. Deleting it would also delete invitations and responses (Surveys), "
        "which your role may not see; nothing was deleted."
    )
    assert Contact.objects.filter(pk=answered_contact.pk).exists()
    assert Response.objects.count() == Invitation.objects.count() == 1


def test_support_cannot_delete_a_customer_with_sales_history_through_the_api(support_api, sales_user):
    contact = ContactFactory()
    SalesEvent.objects.create(verb=SalesEvent.Verb.CUSTOMER_STARTED, actor=sales_user, contact=contact)

    response = support_api.delete(f"/api/contacts/{contact.pk}/")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Deleting it would also delete sales events (Sales), which your role may not see; nothing was deleted."
    )
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert SalesEvent.objects.filter(contact=contact).exists()


def test_an_administrator_may_delete_a_contact_with_everything_it_has(client, admin_role_user, answered_contact):
    client.force_login(admin_role_user)

    response = client.post(reverse("contacts:contact_delete", args=[answered_contact.pk]))

    assert response.status_code == 302
    assert response.url == reverse("contacts:contact_list")
    assert not Contact.objects.filter(pk=answered_contact.pk).exists()
    assert not Response.objects.exists()


def test_a_plain_contact_is_still_deleted_by_sales(sales_client):
    contact = ContactFactory()

    response = sales_client.post(reverse("contacts:contact_delete", args=[contact.pk]))

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_an_http_delete_cannot_skip_the_delete_service(sales_client, sales_user):
    # deal_delete refuses a won deal; Django's DeleteView would delete it on DELETE without asking the service.
    deal = DealFactory()
    sales_services.deal_mark_won(deal=deal, actor=sales_user)

    response = sales_client.delete(reverse("sales:deal_delete", args=[deal.pk]))

    assert response.status_code == 405
    assert Deal.objects.filter(pk=deal.pk, status=Deal.Status.WON).exists()
