"""Bulk actions check every record they touch: one record the user may not change fails all, and changes nothing.

The product's bulk actions: assigning leads (the lead list and POST /api/leads/assign/), inviting contacts to a
survey (tests/surveys: unknown contacts, someone else's ticket and an inactive survey refuse the whole call), and
the admin's "delete selected" on the models it lists.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from contacts.models import Contact
from sales import services as sales_services
from sales.models import Lead, SalesEvent
from tests.contacts.factories import ContactFactory
from tests.sales.factories import LeadFactory, OrderFactory

pytestmark = pytest.mark.django_db

LEAD_ASSIGN = reverse("sales:lead_assign")
CONTACT_CHANGELIST = reverse("admin:contacts_contact_changelist")


@pytest.fixture
def leads_with_one_converted(make_user):
    """Two open leads of a colleague, and between them one already converted into a deal."""
    colleague = make_user("sales")
    first, last = LeadFactory.create_batch(2, owner=colleague)
    converted = LeadFactory(owner=colleague)
    sales_services.lead_convert(lead=converted, actor=colleague)
    return [first, converted, last]


def owners(leads) -> list:
    return list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).order_by("pk").values_list("owner", flat=True))


def assigned_events() -> int:
    return SalesEvent.objects.filter(verb=SalesEvent.Verb.LEAD_ASSIGNED).count()


# Assigning leads ---------------------------------------------------------------------------------------------


def test_a_converted_lead_among_those_ticked_assigns_none_of_them(sales_client, make_user, leads_with_one_converted):
    rep = make_user("sales", first_name="Rita", last_name="Rep")
    before = owners(leads_with_one_converted)

    response = sales_client.post(
        LEAD_ASSIGN, {"leads": [lead.pk for lead in leads_with_one_converted], "owner": rep.pk}
    )

    [message] = [str(message) for message in get_messages(response.wsgi_request)]
    assert response.status_code == 302
    assert message.startswith("Converted leads cannot be reassigned")
    assert message.endswith("nothing was assigned.")
    assert owners(leads_with_one_converted) == before
    assert assigned_events() == 0


def test_the_api_refuses_the_whole_batch_for_one_converted_lead(sales_api, make_user, leads_with_one_converted):
    rep = make_user("sales")
    before = owners(leads_with_one_converted)

    response = sales_api.post(
        "/api/leads/assign/",
        {"leads": [lead.pk for lead in leads_with_one_converted], "owner": rep.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "Converted leads cannot be reassigned" in response.json()["leads"][0]
    assert owners(leads_with_one_converted) == before
    assert assigned_events() == 0


def test_a_role_that_may_not_change_leads_assigns_none(client, support_user, make_user):
    leads = LeadFactory.create_batch(2)
    client.force_login(support_user)

    response = client.post(LEAD_ASSIGN, {"leads": [lead.pk for lead in leads], "owner": support_user.pk})

    assert response.status_code == 403
    assert owners(leads) == [None, None]


# The admin's "delete selected" -------------------------------------------------------------------------------


def delete_selected(client, changelist: str, records) -> object:
    """The admin's confirmation step already answered "Yes, I'm sure"."""
    return client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [record.pk for record in records], "post": "yes"},
    )


def test_one_contact_with_orders_among_those_selected_deletes_none(client, admin_role_user):
    free, with_orders = ContactFactory.create_batch(2)
    OrderFactory(contact=with_orders)  # revenue history protects its contact
    client.force_login(admin_role_user)

    response = delete_selected(client, CONTACT_CHANGELIST, [free, with_orders])

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.content.decode()
    assert Contact.objects.filter(pk__in=[free.pk, with_orders.pk]).count() == 2


def test_staff_who_may_only_read_contacts_delete_none(client, make_user):
    manager = make_user("manager", is_staff=True)  # a manager given the back office: contacts are read-only
    contacts = ContactFactory.create_batch(2)
    client.force_login(manager)

    response = delete_selected(client, CONTACT_CHANGELIST, contacts)

    assert response.status_code in (200, 302)
    assert Contact.objects.filter(pk__in=[contact.pk for contact in contacts]).count() == 2


def test_staff_who_may_not_delete_what_one_contact_takes_with_it_delete_none(client, make_user, sales_user):
    agent = make_user("support", is_staff=True)  # may delete contacts, but not the sales history of one
    plain = ContactFactory()
    with_history = ContactFactory()
    # What winning a first deal writes: the contact's sales history, which support may not delete.
    SalesEvent.objects.create(verb=SalesEvent.Verb.CUSTOMER_STARTED, actor=sales_user, contact=with_history)
    client.force_login(agent)

    response = delete_selected(client, CONTACT_CHANGELIST, [plain, with_history])

    assert response.status_code == 403
    assert Contact.objects.filter(pk__in=[plain.pk, with_history.pk]).count() == 2
