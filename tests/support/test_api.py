"""The help desk API: tickets through the services, the actions, their refusals (400, nothing changed), roles."""

import datetime

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from support import services
from support.models import SlaPolicy, Ticket, TicketMessage
from tests.contacts.factories import ContactFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db

TICKETS = "/api/tickets/"


def open_ticket(**kwargs) -> Ticket:
    kwargs.setdefault("contact", ContactFactory())
    kwargs.setdefault("subject", "Export fails")
    kwargs.setdefault("body", "The CSV export stops at 1000 rows.")
    return services.ticket_create(**kwargs)


def ids(response) -> list[int]:
    return [row["id"] for row in response.data["results"]]


def url(ticket: Ticket, action: str = "") -> str:
    return f"{TICKETS}{ticket.pk}/{action + '/' if action else ''}"


# Creating


def test_an_integration_posts_a_customer_email_as_a_new_ticket(support_api):
    contact = ContactFactory()

    response = support_api.post(
        TICKETS,
        {"contact": contact.pk, "subject": "Invoice wrong", "body": "Our VAT number is old.", "channel": "email"},
        format="json",
    )

    assert response.status_code == 201, response.data
    ticket = Ticket.objects.get()
    assert (response.data["status"], response.data["opened_by"], response.data["assignee"]) == ("new", None, None)
    assert list(ticket.messages.values_list("author_kind", "body")) == [("customer", "Our VAT number is old.")]
    assert parse_datetime(response.data["first_response_due_at"]) == ticket.created_at + datetime.timedelta(hours=8)
    assert response.data["first_response_at"] is None


def test_an_agent_opening_a_ticket_for_a_caller_is_recorded_as_its_opener(support_api, support_user):
    response = support_api.post(
        TICKETS,
        {
            "contact": ContactFactory().pk,
            "subject": "Cannot log in",
            "body": "Called: SSO fails for the whole team.",
            "channel": "phone",
            "priority": "urgent",
            "assignee_id": support_user.pk,
            "on_behalf_of_customer": True,
        },
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["opened_by"] == support_user.username
    assert response.data["assignee"] == support_user.username
    assert (response.data["status"], response.data["priority"], response.data["channel"]) == ("open", "urgent", "phone")


def test_times_counters_and_status_cannot_be_written_when_creating(support_api):
    body = {
        "subject": "Slow dashboard",
        "body": "It takes a minute.",
        "status": "resolved",
        "resolved_at": "2026-01-01T00:00:00Z",
        "first_response_at": "2026-01-01T00:00:00Z",
        "agent_replies": 5,
        "reopened_count": 2,
        "opened_by": "someone",
    }
    response = support_api.post(TICKETS, body, format="json")

    assert response.status_code == 400  # a status is asked for: it changes through the actions
    assert list(response.json()) == ["status"]
    assert not Ticket.objects.exists()

    response = support_api.post(TICKETS, {**body, "status": "new"}, format="json")  # the default: as asked
    assert response.status_code == 201, response.data
    ticket = Ticket.objects.get()  # what the system keeps starts afresh
    assert (ticket.status, ticket.resolved_at, ticket.first_response_at) == ("new", None, None)
    assert (ticket.agent_replies, ticket.reopened_count, ticket.opened_by) == (0, 0, None)


def test_an_empty_first_message_is_refused_with_the_services_reason(support_api):
    response = support_api.post(TICKETS, {"subject": "Hello", "body": "   "}, format="json")

    assert response.status_code == 400
    assert "the message is empty" in str(response.data["body"])
    assert not Ticket.objects.exists()


def test_a_ticket_cannot_be_given_to_someone_who_does_not_work_tickets(support_api, sales_user):
    response = support_api.post(
        TICKETS, {"subject": "Hello", "body": "Hi", "assignee_id": sales_user.pk}, format="json"
    )

    assert response.status_code == 400
    assert "cannot take tickets" in str(response.data["assignee"])
    assert not Ticket.objects.exists()


# Editing and deleting


def test_only_the_subject_and_contact_can_be_edited(support_api):
    ticket = open_ticket(priority="low")
    other = ContactFactory()

    refused = support_api.patch(
        url(ticket),
        {"subject": "Export stops at 1000 rows", "contact": other.pk, "priority": "urgent", "status": "closed"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "priority": [f'This field cannot be changed here (it is "low" now): POST /api/tickets/{ticket.pk}/priority/.'],
        "status": [
            f'This field cannot be changed here (it is "new" now): POST /api/tickets/{ticket.pk}/status/, '
            "/resolve/, /reopen/ or /close/."
        ],
    }
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.status) == ("Export fails", "low", "new")

    response = support_api.patch(
        url(ticket),
        {"subject": "Export stops at 1000 rows", "contact": other.pk, "priority": "low", "status": "new"},
        format="json",
    )
    assert response.status_code == 200, response.data
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.contact) == ("Export stops at 1000 rows", other)


def test_a_closed_ticket_cannot_be_edited(support_api, support_user):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=support_user)
    services.ticket_close(ticket=ticket, actor=support_user)

    response = support_api.patch(url(ticket), {"subject": "Renamed"}, format="json")

    assert response.status_code == 400
    assert "final" in str(response.data)
    assert Ticket.objects.get().subject == "Export fails"


def test_support_deletes_a_ticket_with_its_conversation(support_api, support_user):
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=support_user, body="On it.")

    response = support_api.delete(url(ticket))

    assert response.status_code == 204
    assert not Ticket.objects.exists()
    assert not TicketMessage.objects.exists()


# Reading


def test_the_ticket_page_of_the_api_shows_the_conversation_with_internal_notes(support_api, support_user):
    ticket = open_ticket()
    services.ticket_add_note(ticket=ticket, author=support_user, body="Known export limit.")
    services.ticket_reply(ticket=ticket, author=support_user, body="We are raising the limit.")

    detail = support_api.get(url(ticket))
    listed = support_api.get(TICKETS)

    assert [(m["author_kind"], m["is_public"], m["body"]) for m in detail.data["messages"]] == [
        ("customer", True, "The CSV export stops at 1000 rows."),
        ("agent", False, "Known export limit."),
        ("agent", True, "We are raising the limit."),
    ]
    assert detail.data["messages"][2]["author"] == support_user.username
    assert "messages" not in listed.data["results"][0]


def test_the_ticket_shows_its_response_time_and_whether_it_met_the_sla(support_api, support_user):
    ticket = open_ticket(priority="urgent")
    Ticket.objects.filter(pk=ticket.pk).update(created_at=ticket.created_at - datetime.timedelta(minutes=30))
    services.ticket_reply(ticket=ticket, author=support_user, body="Fixed.")

    data = support_api.get(url(ticket)).data

    assert data["first_response_hours"] == pytest.approx(0.5, abs=0.01)
    assert data["first_response_met_sla"] is True
    assert data["next_due_at"] == data["resolution_due_at"]
    assert data["resolution_hours"] is None


def test_the_list_keeps_a_constant_query_count(support_api, support_user, django_assert_max_num_queries):
    def tickets(count):
        for _ in range(count):
            ticket = TicketFactory(assignee=support_user, opened_by=support_user)
            TicketMessage.objects.create(ticket=ticket, author_kind="customer", body="Help")

    tickets(3)
    support_api.get(TICKETS)  # the user's permissions are cached from here on
    with django_assert_max_num_queries(3):
        support_api.get(TICKETS)

    tickets(27)
    with django_assert_max_num_queries(3):
        response = support_api.get(TICKETS)

    assert len(ids(response)) == 30


# Actions


def test_a_reply_sets_the_first_response_and_answers_with_the_message(support_api, support_user):
    ticket = open_ticket()

    response = support_api.post(url(ticket, "reply"), {"body": "Looking into it."}, format="json")

    assert response.status_code == 201, response.data
    assert (response.data["author_kind"], response.data["is_public"]) == ("agent", True)
    ticket.refresh_from_db()
    assert ticket.first_response_at == parse_datetime(response.data["created_at"])
    assert (ticket.agent_replies, ticket.status) == (1, "open")


def test_an_internal_note_is_not_a_response(support_api):
    ticket = open_ticket()

    response = support_api.post(url(ticket, "note"), {"body": "Probably the export limit."}, format="json")

    assert response.status_code == 201
    assert response.data["is_public"] is False
    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.agent_replies) == (None, 0)


def test_a_customer_message_on_a_resolved_ticket_reopens_it(support_api, support_user):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=support_user)

    response = support_api.post(url(ticket, "customer-message"), {"body": "It is back."}, format="json")

    assert response.status_code == 201
    assert response.data["author_kind"] == "customer"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.reopened_count) == ("open", None, 1)


def test_an_empty_reply_is_refused_and_changes_nothing(support_api):
    ticket = open_ticket()

    response = support_api.post(url(ticket, "reply"), {"body": " "}, format="json")

    assert response.status_code == 400
    assert "the message is empty" in str(response.data["body"])
    assert ticket.messages.count() == 1


def test_a_reply_to_a_closed_ticket_is_refused(support_api, support_user):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=support_user)
    services.ticket_close(ticket=ticket, actor=support_user)

    response = support_api.post(url(ticket, "reply"), {"body": "One more thing"}, format="json")

    assert response.status_code == 400
    assert "closed" in str(response.data)
    assert ticket.messages.count() == 1


def test_assign_and_give_back_to_the_unassigned_queue(support_api, support_user):
    ticket = open_ticket()

    assigned = support_api.post(url(ticket, "assign"), {"assignee": support_user.pk}, format="json")
    unassigned = support_api.post(url(ticket, "assign"), {"assignee": None}, format="json")

    assert (assigned.status_code, assigned.data["assignee"], assigned.data["status"]) == (
        200,
        support_user.username,
        "open",
    )
    assert (unassigned.status_code, unassigned.data["assignee"]) == (200, None)


def test_assigning_an_unknown_user_is_refused(support_api):
    ticket = open_ticket()

    response = support_api.post(url(ticket, "assign"), {"assignee": 987654}, format="json")

    assert response.status_code == 400
    assert "no user with id 987654" in str(response.data["assignee"])
    assert Ticket.objects.get().assignee is None


def test_assigning_someone_who_does_not_work_tickets_is_refused(support_api, sales_user):
    ticket = open_ticket()

    response = support_api.post(url(ticket, "assign"), {"assignee": sales_user.pk}, format="json")

    assert response.status_code == 400
    assert "cannot take tickets" in str(response.data["assignee"])
    assert Ticket.objects.get().assignee is None


def test_a_new_priority_moves_the_sla_deadlines(support_api):
    ticket = open_ticket(priority="normal")

    response = support_api.post(url(ticket, "priority"), {"priority": "urgent"}, format="json")

    assert response.status_code == 200, response.data
    due = parse_datetime(response.data["first_response_due_at"])
    assert (response.data["priority"], due) == ("urgent", ticket.created_at + datetime.timedelta(hours=1))


def test_status_moves_between_working_statuses_only(support_api):
    ticket = open_ticket()

    pending = support_api.post(url(ticket, "status"), {"status": "pending"}, format="json")
    resolved = support_api.post(url(ticket, "status"), {"status": "resolved"}, format="json")

    assert (pending.status_code, pending.data["status"]) == (200, "pending")
    assert resolved.status_code == 400
    assert "Use resolve, reopen or close" in str(resolved.data)
    assert Ticket.objects.get().status == "pending"


def test_resolve_reopen_resolve_and_close(support_api):
    ticket = open_ticket()

    resolved = support_api.post(url(ticket, "resolve"))
    reopened = support_api.post(url(ticket, "reopen"))
    support_api.post(url(ticket, "resolve"))
    closed = support_api.post(url(ticket, "close"))

    assert (resolved.data["status"], resolved.data["resolved_at"] is not None) == ("resolved", True)
    assert (reopened.data["status"], reopened.data["resolved_at"], reopened.data["reopened_count"]) == ("open", None, 1)
    assert (closed.data["status"], closed.data["closed_at"] is not None) == ("closed", True)


def test_resolving_a_resolved_ticket_is_refused(support_api, support_user):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=support_user)
    resolved_at = Ticket.objects.get().resolved_at

    response = support_api.post(url(ticket, "resolve"))

    assert response.status_code == 400
    assert "already resolved" in str(response.data)
    assert Ticket.objects.get().resolved_at == resolved_at


# Filters


def test_filters_by_status_priority_channel_assignee_and_contact(support_api, support_user):
    contact = ContactFactory()
    urgent_chat = TicketFactory(priority="urgent", channel="chat", assignee=support_user, status="open")
    mine = TicketFactory(contact=contact)
    TicketFactory(status="pending")

    assert ids(support_api.get(TICKETS, {"priority": "urgent"})) == [urgent_chat.pk]
    assert ids(support_api.get(TICKETS, {"channel": "chat"})) == [urgent_chat.pk]
    assert ids(support_api.get(TICKETS, {"assignee": support_user.pk})) == [urgent_chat.pk]
    assert ids(support_api.get(TICKETS, {"contact": contact.pk})) == [mine.pk]
    assert sorted(ids(support_api.get(TICKETS, {"status": ["open", "new"]}))) == sorted([urgent_chat.pk, mine.pk])


def test_filters_by_created_and_resolved_dates(support_api):
    now = timezone.now()
    old = TicketFactory(created_at=now - datetime.timedelta(days=40))
    resolved = TicketFactory(
        created_at=now - datetime.timedelta(days=10), status="resolved", resolved_at=now - datetime.timedelta(days=9)
    )
    TicketFactory(created_at=now)
    day = datetime.timedelta(days=1)

    created = support_api.get(TICKETS, {"created_before": (now - 20 * day).date().isoformat()})
    resolved_range = support_api.get(
        TICKETS,
        {"resolved_after": (now - 10 * day).date().isoformat(), "resolved_before": (now - 8 * day).date().isoformat()},
    )

    assert ids(created) == [old.pk]
    assert ids(resolved_range) == [resolved.pk]


def test_overdue_lists_open_tickets_past_the_deadline_that_matters_now(support_api):
    now = timezone.now()
    late = TicketFactory(first_response_due_at=now - datetime.timedelta(hours=1))
    TicketFactory(first_response_due_at=now + datetime.timedelta(hours=1))
    TicketFactory(
        first_response_due_at=now - datetime.timedelta(hours=1), status="resolved", resolved_at=now, created_at=now
    )

    response = support_api.get(TICKETS, {"overdue": "true"})

    assert ids(response) == [late.pk]
    assert response.data["results"][0]["is_overdue"] is True


def test_ordering_by_due_puts_the_most_urgent_deadline_first(support_api):
    now = timezone.now()
    later = TicketFactory(first_response_due_at=now + datetime.timedelta(hours=5))
    sooner = TicketFactory(first_response_due_at=now + datetime.timedelta(hours=1))

    assert ids(support_api.get(TICKETS, {"ordering": "due"})) == [sooner.pk, later.pk]


def test_search_finds_subject_and_contact_name(support_api):
    by_subject = TicketFactory(subject="Invoice shows the wrong VAT number")
    by_name = TicketFactory(contact=ContactFactory(first_name="Grace", last_name="Hopper"))

    assert ids(support_api.get(TICKETS, {"q": "vat"})) == [by_subject.pk]
    assert ids(support_api.get(TICKETS, {"q": "grace hopper"})) == [by_name.pk]


# Roles


def test_sales_reads_tickets(sales_api):
    ticket = open_ticket()

    assert sales_api.get(TICKETS).status_code == 200
    assert sales_api.get(url(ticket)).status_code == 200


def test_sales_cannot_change_tickets(sales_api):
    ticket = open_ticket()

    answers = [
        sales_api.post(TICKETS, {"subject": "x", "body": "y"}, format="json").status_code,
        sales_api.patch(url(ticket), {"subject": "x"}, format="json").status_code,
        sales_api.delete(url(ticket)).status_code,
        *(
            sales_api.post(url(ticket, action), {"body": "x"}, format="json").status_code
            for action in ("reply", "note", "customer-message", "assign", "priority", "status", "resolve", "reopen")
        ),
        sales_api.post(url(ticket, "close")).status_code,
    ]

    assert set(answers) == {403}
    assert Ticket.objects.get().messages.count() == 1


def test_managers_read_tickets_and_sla_policies_but_do_not_work_tickets(manager_api):
    ticket = open_ticket()

    assert manager_api.get(url(ticket)).status_code == 200
    assert manager_api.get("/api/sla-policies/").status_code == 200
    assert manager_api.post(url(ticket, "reply"), {"body": "Hi"}, format="json").status_code == 403


def test_anonymous_callers_are_asked_to_authenticate(api_client):
    assert api_client.get(TICKETS).status_code == 401


def test_sla_policies_are_listed_one_per_priority_and_read_only(support_api, admin_role_user, api_client):
    listed = support_api.get("/api/sla-policies/")
    api_client.force_authenticate(admin_role_user)

    created = api_client.post("/api/sla-policies/", {"priority": "low"}, format="json")

    assert {row["priority"] for row in listed.data["results"]} == {"low", "normal", "high", "urgent"}
    assert created.status_code == 405
    assert SlaPolicy.objects.count() == 4


def test_the_schema_documents_the_ticket_actions(support_api):
    response = support_api.get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    for action in ("reply", "note", "customer-message", "assign", "priority", "status", "resolve", "reopen", "close"):
        assert f"/api/tickets/{{id}}/{action}/" in paths
    assert "/api/sla-policies/" in paths


def test_a_ticket_body_read_before_a_colleague_replied_says_the_status_moved_and_saves_once_it_says_the_new_one(
    support_api, support_user
):
    """The conversation the GET shows is taken back and left alone; so are the times and counters a reply moved.
    The status a reply moved is refused with its value now: the body cannot say whether it asks to move it back."""
    ticket = open_ticket()
    shown = support_api.get(url(ticket)).json()
    assert shown["messages"] and (shown["status"], shown["first_response_at"]) == ("new", None)
    services.ticket_reply(ticket=ticket, author=support_user, body="On it.")

    stale = support_api.put(url(ticket), {**shown, "subject": "Export stops at 1000 rows"}, format="json")
    assert stale.status_code == 400
    assert stale.json() == {
        "status": [
            f'This field cannot be changed here (it is "open" now): POST /api/tickets/{ticket.pk}/status/, '
            "/resolve/, /reopen/ or /close/."
        ]
    }

    body = {**shown, "status": "open", "subject": "Export stops at 1000 rows"}
    response = support_api.put(url(ticket), body, format="json")
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert ticket.subject == "Export stops at 1000 rows"
    assert (ticket.agent_replies, ticket.first_response_at is not None) == (1, True)
