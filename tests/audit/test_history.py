"""Every audited kind of record, created, changed and deleted through its page or the API, shows who did
what on the record's page (History), and a deletion is listed for an administrator to restore."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import Company, Contact
from sales.models import Deal, Lead, Order, Subscription
from support.models import Ticket
from tests.audit.conftest import entries_of, history_section, name, table_rows
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.sales.factories import DealFactory, LeadFactory, OrderFactory, SubscriptionFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

DELETED = reverse("audit:deleted_list")


@dataclass
class Users:
    client: object  # Django's test client, for the pages
    api: object  # DRF's, for the API
    sales: object
    support: object

    def page(self, user):
        self.client.force_login(user)
        return self.client

    def api_as(self, user):
        self.api.force_authenticate(user)
        return self.api


class Case:
    """How one kind of record is created, changed and deleted by the people who work on it."""

    model: type
    via: str  # "page" or "API": what the History says the change came from
    worker: str = "sales"
    changed_label: str
    changed_old: str
    changed_new: str
    created_label: str
    created_value: str

    def make(self):
        raise NotImplementedError

    def create(self, users: Users):
        raise NotImplementedError

    def update(self, users: Users, record):
        raise NotImplementedError

    def delete(self, users: Users, record):
        raise NotImplementedError

    def user(self, users: Users):
        return getattr(users, self.worker)

    def __repr__(self):
        return self.model.__name__


def ok(response):
    assert response.status_code in {200, 201, 204, 302}, getattr(response, "data", response.content[:500])
    return response


class ContactCase(Case):
    model, via = Contact, "page"
    created_label, created_value = "Email", "ada@analytical.example"
    changed_label, changed_old, changed_new = "Phone", "—", "+44 20 7946 0000"

    def form(self, **values):
        data = dict.fromkeys(["phone", "company", "job_title", "region", "industry", "channel", "owner"], "")
        return {**data, "first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example", **values}

    def make(self):
        return ContactFactory(first_name="Ada", last_name="Lovelace", email="ada@analytical.example", company=None)

    def create(self, users):
        ok(users.page(users.sales).post(reverse("contacts:contact_create"), self.form()))
        return Contact.objects.get(email="ada@analytical.example")

    def update(self, users, record):
        url = reverse("contacts:contact_update", args=[record.pk])
        ok(users.page(users.sales).post(url, self.form(phone="+44 20 7946 0000")))

    def delete(self, users, record):
        ok(users.page(users.sales).post(reverse("contacts:contact_delete", args=[record.pk])))


class CompanyCase(Case):
    model, via = Company, "page"
    created_label, created_value = "Domain", "initech.com"
    changed_label, changed_old, changed_new = "Name", "Initech", "Initrode"

    def make(self):
        return CompanyFactory(name="Initech", domain="initech.com")

    def create(self, users):
        ok(
            users.page(users.sales).post(
                reverse("contacts:company_create"), {"name": "Initech", "domain": "initech.com"}
            )
        )
        return Company.objects.get(name="Initech")

    def update(self, users, record):
        url = reverse("contacts:company_update", args=[record.pk])
        ok(users.page(users.sales).post(url, {"name": "Initrode", "domain": "initech.com"}))

    def delete(self, users, record):
        ok(users.page(users.sales).post(reverse("contacts:company_delete", args=[record.pk])))


class LeadCase(Case):
    model, via = Lead, "API"
    created_label, created_value = "Email", "grace@navy.example"
    changed_label, changed_old, changed_new = "Phone", "—", "+1 555 0100"

    def make(self):
        return LeadFactory(email="grace@navy.example")

    def create(self, users):
        data = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example"}
        return Lead.objects.get(pk=ok(users.api_as(users.sales).post("/api/leads/", data, format="json")).data["id"])

    def update(self, users, record):
        ok(users.api_as(users.sales).patch(f"/api/leads/{record.pk}/", {"phone": "+1 555 0100"}, format="json"))

    def delete(self, users, record):
        ok(users.api_as(users.sales).delete(f"/api/leads/{record.pk}/"))


class DealCase(Case):
    model, via = Deal, "API"
    created_label, created_value = "Title", "Fleet renewal"
    changed_label, changed_old, changed_new = "Amount", "5000.00", "7500.00"

    def make(self):
        return DealFactory(title="Fleet renewal", amount=Decimal("5000.00"))

    def create(self, users):
        data = {"title": "Fleet renewal", "contact": ContactFactory().pk}
        return Deal.objects.get(pk=ok(users.api_as(users.sales).post("/api/deals/", data, format="json")).data["id"])

    def update(self, users, record):
        ok(users.api_as(users.sales).patch(f"/api/deals/{record.pk}/", {"amount": "7500.00"}, format="json"))

    def delete(self, users, record):
        ok(users.api_as(users.sales).delete(f"/api/deals/{record.pk}/"))


class OrderCase(Case):
    model, via = Order, "page"
    created_label, created_value = "Description", "Annual licence"
    changed_label, changed_old, changed_new = "Amount", "480.00", "150.00"

    def form(self, contact, **values):
        return {"contact": contact.pk, "deal": "", "ordered_at": "2026-03-02T10:30", "amount": "480.00", **values}

    def make(self):
        return OrderFactory(amount=Decimal("480.00"), description="Annual licence")

    def create(self, users):
        data = self.form(ContactFactory(), description="Annual licence")
        ok(users.page(users.sales).post(reverse("sales:order_create"), data))
        return Order.objects.get()

    def update(self, users, record):
        url = reverse("sales:order_update", args=[record.pk])
        ok(users.page(users.sales).post(url, self.form(record.contact, amount="150.00")))

    def delete(self, users, record):
        ok(users.page(users.sales).post(reverse("sales:order_delete", args=[record.pk])))


class SubscriptionCase(Case):
    model, via = Subscription, "page"
    created_label, created_value = "Plan", "Team"
    changed_label, changed_old, changed_new = "Outcome", "Active", "Cancelled"

    def make(self):
        return SubscriptionFactory(plan="Team", ends_on=datetime.date(2027, 1, 1))

    def create(self, users):
        data = {"plan": "Team", "amount": "1200.00", "starts_on": "2026-01-01", "ends_on": "2027-01-01"}
        ok(users.page(users.sales).post(reverse("sales:subscription_create"), {**data, "contact": ContactFactory().pk}))
        return Subscription.objects.get()

    def update(self, users, record):
        ok(users.page(users.sales).post(reverse("sales:subscription_cancel", args=[record.pk])))

    def delete(self, users, record):
        # No page or endpoint deletes a subscription (they are history): code does, as the system.
        record.delete()


class TicketCase(Case):
    model, via, worker = Ticket, "API", "support"
    created_label, created_value = "Subject", "Invoice wrong"
    changed_label, changed_old, changed_new = "Subject", "Invoice wrong", "Invoice still wrong"

    def make(self):
        return TicketFactory(subject="Invoice wrong")

    def create(self, users):
        data = {"contact": ContactFactory().pk, "subject": "Invoice wrong", "body": "Our VAT number is old."}
        return Ticket.objects.get(
            pk=ok(users.api_as(users.support).post("/api/tickets/", data, format="json")).data["id"]
        )

    def update(self, users, record):
        data = {"subject": "Invoice still wrong"}
        ok(users.api_as(users.support).patch(f"/api/tickets/{record.pk}/", data, format="json"))

    def delete(self, users, record):
        ok(users.api_as(users.support).delete(f"/api/tickets/{record.pk}/"))


CASES = [
    ContactCase(),
    CompanyCase(),
    LeadCase(),
    DealCase(),
    OrderCase(),
    SubscriptionCase(),
    TicketCase(),
]


@pytest.fixture
def users(client, api_client, sales_user, support_user):
    return Users(client, api_client, sales_user, support_user)


def fields_of(record) -> dict:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_a_new_record_shows_who_created_it_with_its_values(users, case):
    record = case.create(users)

    section = history_section(users.page(case.user(users)).get(record.get_absolute_url()))

    newest = entries_of(section)[0]
    assert newest.startswith("Created")
    assert f"{name(case.user(users))} · {case.via}" in newest
    assert f"{case.created_label} — {case.created_value}" in newest


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_a_change_shows_who_made_it_with_the_old_and_new_value(users, case):
    record = case.make()

    case.update(users, record)

    section = history_section(users.page(case.user(users)).get(record.get_absolute_url()))
    newest = entries_of(section)[0]
    assert newest.startswith("Changed")
    assert f"{name(case.user(users))} · {case.via}" in newest
    assert f"{case.changed_label} {case.changed_old} {case.changed_new}" in newest


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_a_deleted_record_is_listed_with_who_deleted_it(users, admin_client, case):
    record = case.make()
    pk, label = record.pk, str(record)

    case.delete(users, record)

    assert not case.model.objects.filter(pk=pk).exists()
    deleter = "system (system)" if case.model is Subscription else f"{name(case.user(users))} ({case.via})"
    [row] = [row for row in table_rows(admin_client.get(DELETED)) if f"{label} #{pk}" in row]
    assert f"{case.model._meta.verbose_name} {label} #{pk} {deleter}" in row


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_an_administrator_restores_a_deleted_record_with_its_id_and_fields(users, admin_client, admin_role_user, case):
    record = case.make()
    record.refresh_from_db()
    before = fields_of(record)
    case.delete(users, record)
    entry = admin_client.get(DELETED).context["deletions"][0]

    response = admin_client.post(reverse("audit:restore", args=[entry.pk]))

    restored = case.model.objects.get(pk=before["id"])
    assert response.status_code == 302 and response.url == restored.get_absolute_url()
    assert fields_of(restored) == before
    entries = entries_of(history_section(admin_client.get(response.url)))
    assert entries[0].startswith("Restored") and f"{name(admin_role_user)} · page" in entries[0]
    assert entries[1].startswith("Deleted")
    assert list(admin_client.get(DELETED).context["deletions"]) == []
