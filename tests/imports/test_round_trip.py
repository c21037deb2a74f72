"""Export for re-import, then import into an empty database: the same records, for every kind."""

import datetime
import io
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from contacts import registry
from contacts.importing import records_import
from contacts.models import Company, Contact, Interaction
from sales.models import Campaign, Deal, DealStageChange, Lead, Order, SalesEvent, Spend, Subscription
from support.models import Ticket, TicketEvent, TicketMessage
from surveys.models import Invitation, Response
from tests.contacts.factories import ContactFactory
from tests.imports.test_examples import EXAMPLES
from tests.sales.factories import OrderFactory

pytestmark = pytest.mark.django_db

# kind -> the list API that exports it
EXPORTS = {
    "companies": "/api/companies/",
    "contacts": "/api/contacts/",
    "interactions": "/api/interactions/",
    "campaigns": "/api/campaigns/",
    "spend": "/api/spend/",
    "leads": "/api/leads/",
    "deals": "/api/deals/",
    "orders": "/api/orders/",
    "subscriptions": "/api/subscriptions/",
    "tickets": "/api/tickets/",
    "survey_responses": "/api/invitations/",
}
# Deleted children first, so that nothing protected stands in the way.
EMPTIED = [
    Response,
    Invitation,
    TicketEvent,
    TicketMessage,
    Ticket,
    SalesEvent,
    Order,
    Subscription,
    DealStageChange,
    Deal,
    Lead,
    Spend,
    Campaign,
    Interaction,
    Contact,
    Company,
]


def export_all(client) -> dict[str, bytes]:
    files = {}
    for kind, url in EXPORTS.items():
        response = client.get(url, {"export": "reimport"})
        assert response.status_code == 200, (kind, response.status_code)
        files[kind] = b"".join(response.streaming_content) if response.streaming else response.content
    return files


def rows(content: bytes) -> list[str]:
    """The data lines, sorted (order of export is the list's order, which depends on ids)."""
    lines = content.decode("utf-8-sig").splitlines()
    return [lines[0], *sorted(lines[1:])]


@pytest.fixture
def history(make_user):
    """The example history, plus records made in the CRM itself (no external_id: the export makes one)."""
    make_user("sales", username="sales", email="sales@example.com")
    make_user("support", username="support", email="support@example.com")
    for kind in registry.importers():
        result = records_import(kind=kind, stream=io.BytesIO((EXAMPLES / f"{kind}.csv").read_bytes()))
        assert not result.problems, (kind, result.problems)
    walk_in = ContactFactory(external_id="", first_name="Walk", last_name="In", email="walk.in@example.org")
    OrderFactory(
        contact=walk_in,
        external_id="",
        ordered_at=datetime.datetime(2025, 7, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC),
        amount=Decimal("19.90"),
    )


def test_export_then_import_into_an_empty_database_gives_the_same_records(history, admin_role_user):
    client = APIClient()
    client.force_authenticate(admin_role_user)
    counts = {model: model.objects.count() for model in EMPTIED if model not in (TicketEvent, SalesEvent)}
    exported = export_all(client)
    assert all(len(rows(content)) > 1 for content in exported.values())

    for model in EMPTIED:
        model.objects.all().delete()
    assert Contact.objects.count() == 0
    for kind in registry.importers():
        result = records_import(kind=kind, stream=io.BytesIO(exported[kind]))
        assert not result.problems, (kind, [str(problem) for problem in result.problems])

    assert {model: model.objects.count() for model in counts} == counts
    again = export_all(client)
    for kind in EXPORTS:
        assert rows(again[kind]) == rows(exported[kind]), kind
    walk_in = Contact.objects.get(email="walk.in@example.org")
    assert walk_in.external_id.startswith("crm-")
    assert walk_in.orders.get().ordered_at == datetime.datetime(2025, 7, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC)


def test_an_unchanged_export_imported_back_into_the_same_crm_changes_nothing(history, admin_role_user):
    """The file has no close time of a ticket nor time of a deal's last stage change: what the CRM recorded
    stays (a ticket closed days after its resolution, a deal moved to its stage later than it was created)."""
    from sales import services as sales_services
    from support import services as support_services

    ticket = Ticket.objects.filter(status="resolved").first() or Ticket.objects.filter(status="closed").first()
    if ticket.status == "resolved":
        support_services.ticket_close(ticket=ticket, actor=admin_role_user)
    deal = Deal.objects.filter(status="open").first()
    next_stage = deal.pipeline.stages.filter(kind="open").exclude(pk=deal.stage_id).first()
    sales_services.deal_move_stage(deal=deal, stage=next_stage, actor=admin_role_user)
    ticket.refresh_from_db()
    deal.refresh_from_db()
    assert ticket.closed_at != ticket.resolved_at
    client = APIClient()
    client.force_authenticate(admin_role_user)
    exported = export_all(client)

    for kind in ("tickets", "deals"):
        result = records_import(kind=kind, stream=io.BytesIO(exported[kind]))
        assert not result.problems, (kind, [str(problem) for problem in result.problems])
        assert result.updated == 0, (kind, result.summary())

    assert Ticket.objects.get(pk=ticket.pk).closed_at == ticket.closed_at
    assert Deal.objects.get(pk=deal.pk).stage_changed_at == deal.stage_changed_at


def test_records_made_in_the_crm_are_found_again_when_their_export_comes_back(history, admin_role_user):
    """An export names a record made in the CRM crm-<model>-<id>; importing the file back (edited in a
    spreadsheet) updates that record and finds it where other rows refer to it, rather than refusing its
    e-mail as another contact's or adding a second one."""
    walk_in = Contact.objects.get(email="walk.in@example.org")
    ref = f"crm-contact-{walk_in.pk}"
    client = APIClient()
    client.force_authenticate(admin_role_user)
    exported = export_all(client)
    contacts = exported["contacts"].decode("utf-8-sig")
    assert ref in contacts and f"crm-order-{walk_in.orders.get().pk}" in exported["orders"].decode("utf-8-sig")
    counts = (Contact.objects.count(), Order.objects.count())

    result = records_import(kind="contacts", stream=io.BytesIO(contacts.replace("Walk,", "Walker,").encode()))
    orders = records_import(kind="orders", stream=io.BytesIO(exported["orders"]))

    assert not result.problems, [str(problem) for problem in result.problems]
    assert (result.created, result.updated) == (0, 1)
    assert not orders.problems and orders.created == 0, [str(problem) for problem in orders.problems]
    assert (Contact.objects.count(), Order.objects.count()) == counts
    walk_in.refresh_from_db()
    assert (walk_in.first_name, walk_in.external_id) == ("Walker", ref)


def test_every_kind_exported_and_imported_back_unchanged_creates_and_updates_nothing(history, admin_role_user):
    """The export-edit-import loop of a manager, with no edit: records imported and made in the CRM alike."""
    from sales import services as sales_services
    from tests.sales.factories import CampaignFactory, SubscriptionFactory

    walk_in = Contact.objects.get(email="walk.in@example.org")
    CampaignFactory(name="Autumn webinar", external_id="")
    walk_in.customer_since = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    walk_in.save()
    first = SubscriptionFactory(contact=walk_in, external_id="", starts_on=datetime.date(2025, 6, 1))
    sales_services.subscription_renew(subscription=first, actor=admin_role_user)
    client = APIClient()
    client.force_authenticate(admin_role_user)
    exported = export_all(client)

    for kind in registry.importers():
        result = records_import(kind=kind, stream=io.BytesIO(exported[kind]))
        assert not result.problems, (kind, [str(problem) for problem in result.problems])
        assert (result.created, result.updated) == (0, 0), (kind, result.summary())
