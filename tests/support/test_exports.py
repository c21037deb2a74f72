"""What the ticket exports write, cell by cell: the queue for people, and tickets for re-import."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.contacts.factories import ContactFactory
from tests.exports import csv_records
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

TICKET_LIST = reverse("support:ticket_list")
OPENED = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def agent(make_user):
    return make_user("support", username="ana", email="ana@example.com", first_name="Ana", last_name="Silva")


@pytest.fixture
def resolved(agent):
    return TicketFactory(
        contact=ContactFactory(first_name="Greta", last_name="Berg", external_id="C-7"),
        subject="Export stops at 1000 rows",
        channel="chat",
        priority="high",
        status="resolved",
        assignee=agent,
        created_at=OPENED,
        first_response_at=OPENED + timedelta(minutes=42),
        resolved_at=OPENED + timedelta(hours=5, seconds=1),
        agent_replies=3,
        reopened_count=1,
        external_id="T-100",
    )


def test_tickets_for_re_import_keep_their_times_and_counters(client, agent, resolved):
    client.force_login(agent)

    (row,) = csv_records(client.get(TICKET_LIST, {"queue": "all", "export": "reimport"}))

    assert row == {
        "external_id": "T-100",
        "contact": "C-7",
        "subject": "Export stops at 1000 rows",
        "channel": "chat",
        "priority": "high",
        "status": "resolved",
        "assignee_email": "ana@example.com",
        "created_at": "2025-05-06T08:00:00+00:00",
        "first_response_at": "2025-05-06T08:42:00+00:00",
        "resolved_at": "2025-05-06T13:00:01+00:00",
        "agent_replies": "3",
        "reopened_count": "1",
    }


def test_tickets_for_people_are_written_readably(client, agent, resolved):
    client.force_login(agent)

    (row,) = csv_records(client.get(TICKET_LIST, {"queue": "all", "export": "csv"}))

    assert {name: row[name] for name in ("Ticket", "Customer", "Channel", "Priority", "Status", "Assignee")} == {
        "Ticket": str(resolved.pk),
        "Customer": "Greta Berg",
        "Channel": "Chat",
        "Priority": "High",
        "Status": "Resolved",
        "Assignee": "Ana Silva",
    }
    assert (row["First response"], row["Agent replies"]) == ("2025-05-06T08:42:00+00:00", "3")


def test_a_ticket_without_contact_or_assignee_leaves_those_cells_empty(support_api):
    ticket = TicketFactory(contact=None, assignee=None)

    (row,) = csv_records(support_api.get("/api/tickets/", {"export": "reimport"}))

    assert (row["external_id"], row["contact"], row["assignee_email"]) == (f"crm-ticket-{ticket.pk}", "", "")
