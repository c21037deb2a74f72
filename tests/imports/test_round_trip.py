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
