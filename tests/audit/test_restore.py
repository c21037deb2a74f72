"""Restoring deleted records: administrators only; the record comes back with its id and fields, with what
its deletion took along, and the records that lost their link to it get it back."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.context import acting
from audit.models import AuditEntry
from contacts import services as contact_services
from contacts.models import Company, Contact, Interaction
from sales import services as sales_services
from sales.models import Deal, Order
from support import services as support_services
from support.models import Ticket, TicketEvent, TicketMessage
from tests.audit.conftest import entries_of, history_section, name, table_rows
from tests.contacts.factories import CompanyFactory, ContactFactory, InteractionFactory
from tests.sales.factories import DealFactory, OrderFactory

pytestmark = pytest.mark.django_db

DELETED = reverse("audit:deleted_list")


def deletion_of(record) -> AuditEntry:
    """The deletion of the one record of its kind that was deleted (a deleted instance has lost its id)."""
    return AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model=record._meta.label_lower)


def restore(client, entry: AuditEntry):
    return client.post(reverse("audit:restore", args=[entry.pk]))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_contact_comes_back_with_its_interactions(admin_client):
    contact = ContactFactory(company=None)
    calls = InteractionFactory.create_batch(2, contact=contact, summary="Talked about the renewal.")
    contact_services.contact_delete(contact=Contact.objects.get(pk=contact.pk))
    assert not Interaction.objects.exists()

    response = restore(admin_client, deletion_of(contact))

    assert response.status_code == 302
    assert sorted(Interaction.objects.filter(contact_id=contact.pk).values_list("pk", "summary")) == [
        (call.pk, "Talked about the renewal.") for call in calls
    ]
    assert "Back with it: 2 interactions." in entries_of(history_section(admin_client.get(response.url)))[0]


def test_a_ticket_comes_back_with_its_conversation(admin_client, support_user):
    ticket = support_services.ticket_create(contact=ContactFactory(), subject="Export fails", body="It fails.")
    support_services.ticket_reply(ticket=ticket, author=support_user, body="On it.")
    bodies = list(TicketMessage.objects.filter(ticket=ticket).values_list("pk", "body"))
    support_services.ticket_delete(ticket=ticket)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model="support.ticket")

    restore(admin_client, entry)

    restored = Ticket.objects.get(pk=entry.object_id)
    assert (restored.subject, restored.agent_replies) == ("Export fails", 1)
    assert list(restored.messages.values_list("pk", "body")) == bodies
    assert TicketEvent.objects.filter(ticket=restored).exists()


def test_deleting_a_company_shows_on_its_contacts_pages(sales_client, sales_user):
    company = CompanyFactory(name="Acme")
    contact = ContactFactory(company=company)

    sales_client.post(reverse("contacts:company_delete", args=[company.pk]))

    newest = entries_of(history_section(sales_client.get(contact.get_absolute_url())))[0]
    assert newest.startswith("Changed")
    assert f"{name(sales_user)} · page · company “Acme” was deleted" in newest
    assert "Company Acme (deleted) —" in newest


def test_a_restored_company_gets_back_the_contacts_that_lost_it(admin_client, admin_role_user):
    company = CompanyFactory(name="Acme")
    contacts = ContactFactory.create_batch(2, company=company)
    contact_services.company_delete(company=company)

    restore(admin_client, deletion_of(company))

    assert set(Contact.objects.filter(company__name="Acme")) == set(contacts)
    newest = entries_of(history_section(admin_client.get(contacts[0].get_absolute_url())))[0]
    assert f"{name(admin_role_user)} · page · linked again to the restored company “Acme”" in newest
    assert "Company — Acme" in newest


def test_a_contact_given_another_company_meanwhile_keeps_it(admin_client):
    company, other = CompanyFactory(name="Acme"), CompanyFactory(name="Globex")
    moved, left = ContactFactory.create_batch(2, company=company)
    contact_services.company_delete(company=company)
    Contact.objects.filter(pk=moved.pk).update(company=other)

    restore(admin_client, deletion_of(company))

    assert Contact.objects.get(pk=moved.pk).company == other
    assert Contact.objects.get(pk=left.pk).company.name == "Acme"


@pytest.mark.parametrize("role", ["sales", "support", "manager"])
def test_only_administrators_see_and_restore_deleted_records(client, make_user, role):
    company = CompanyFactory()
    contact_services.company_delete(company=company)
    client.force_login(make_user(role))

    listed = client.get(DELETED)
    restored = restore(client, deletion_of(company))

    assert (listed.status_code, restored.status_code) == (403, 403)
    assert not Company.objects.exists()
    assert deletion_of(company).restored_at is None


def test_a_restore_is_done_once(admin_client):
    company = CompanyFactory(name="Acme")
    contact_services.company_delete(company=company)
    entry = deletion_of(company)
    restore(admin_client, entry)

    response = restore(admin_client, entry)

    assert response.status_code == 302 and response.url == DELETED
    assert messages_of(response)[-1].startswith("This company was restored already, on ")
    assert Company.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.RESTORE).count() == 1


def test_a_contact_whose_email_was_taken_meanwhile_is_not_restored(admin_client):
    contact = ContactFactory(email="ada@example.com", company=None)
    contact_services.contact_delete(contact=contact)
    ContactFactory(email="ADA@example.com")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model="contacts.contact")

    response = restore(admin_client, entry)

    assert messages_of(response) == [
        "This contact cannot be restored: A contact with this e-mail already exists.",
    ]
    assert Contact.objects.count() == 1
    assert AuditEntry.objects.get(pk=entry.pk).restored_at is None
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.RESTORE).exists()


def test_an_order_waits_for_its_deleted_contact_to_be_restored_first(admin_client):
    order = OrderFactory(amount=Decimal("480.00"))
    contact = order.contact
    sales_services.order_delete(order=order)
    contact_services.contact_delete(contact=Contact.objects.get(pk=contact.pk))
    order_deletion = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model="sales.order")
    contact_deletion = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model="contacts.contact")

    refused = restore(admin_client, order_deletion)
    restore(admin_client, contact_deletion)
    restore(admin_client, order_deletion)

    assert messages_of(refused)[-1] == (
        f"This order cannot be restored: its contact (contact {contact.pk}) no longer exists. Restore it first."
    )
    assert Order.objects.get(pk=order_deletion.object_id).contact_id == contact.pk


def test_a_deal_whose_company_is_gone_comes_back_without_it(admin_client):
    deal = DealFactory(title="Fleet")
    company = deal.company
    sales_services.deal_delete(deal=deal)
    Contact.objects.filter(company=company).update(company=None)
    contact_services.company_delete(company=company)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DELETE, model="sales.deal")

    response = restore(admin_client, entry)

    assert Deal.objects.get(pk=entry.object_id).company is None
    assert (
        "Emptied, as what they named is gone: company."
        in entries_of(history_section(admin_client.get(response.url)))[0]
    )


def test_the_deleted_records_page_says_what_went_with_each(admin_client):
    contact = ContactFactory(first_name="Ada", last_name="Lovelace", company=None)
    InteractionFactory.create_batch(3, contact=contact)
    with acting(user=None):
        contact_services.contact_delete(contact=contact)

    rows = table_rows(admin_client.get(DELETED))

    assert any("Ada Lovelace" in row and "Deleted with it: 3 interactions." in row for row in rows)


def test_an_administrator_restores_from_the_admin_site_too(admin_client):
    company = CompanyFactory(name="Acme")
    contact_services.company_delete(company=company)
    entry = deletion_of(company)

    admin_client.post(
        reverse("admin:audit_auditentry_changelist"),
        {"action": "restore_selected", "_selected_action": [entry.pk]},
    )

    assert Company.objects.get().name == "Acme"


def test_a_row_that_went_with_it_and_clashes_now_is_left_out_and_said_so(admin_client):
    contact = ContactFactory(company=None)
    InteractionFactory(contact=contact, external_id="call-1")
    InteractionFactory(contact=contact)
    contact_services.contact_delete(contact=Contact.objects.get(pk=contact.pk))
    InteractionFactory(external_id="call-1")  # imported again meanwhile, to another contact

    response = restore(admin_client, deletion_of(contact))

    assert Interaction.objects.filter(contact_id=contact.pk).count() == 1
    newest = entries_of(history_section(admin_client.get(response.url)))[0]
    assert "Back with it: 1 interaction. 1 row(s) that went with it could not come back." in newest
