"""Importing tickets and survey answers."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.test import override_settings

from support.models import SlaPolicy, Ticket
from surveys.models import Invitation, Response, Survey
from tests.contacts.factories import ContactFactory
from tests.imports.conftest import problems, reasons
from tests.support.factories import TicketFactory
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
TICKETS = (
    "external_id,contact,subject,channel,priority,status,assignee_email,created_at,first_response_at,resolved_at,"
    "agent_replies,reopened_count\n"
)


@pytest.fixture
def contacts(db):
    return {key: ContactFactory(external_id=key) for key in ("c-1", "c-2")}


# Tickets


def test_tickets_keep_their_history_and_get_their_sla_targets(import_csv, contacts, make_user):
    agent = make_user("support", email="sue@example.com")
    SlaPolicy.objects.filter(priority="high").update(first_response_hours=Decimal("4"), resolution_hours=Decimal("24"))

    import_csv(
        "tickets",
        TICKETS + "t-1,c-1,Robot offline,email,high,closed,sue@example.com,2024-03-04T08:10Z,2024-03-04T09:05Z,"
        "2024-03-04T15:40Z,2,1",
    )

    ticket = Ticket.objects.get()
    assert (ticket.contact, ticket.status, ticket.priority, ticket.assignee) == (
        contacts["c-1"],
        "closed",
        "high",
        agent,
    )
    assert (ticket.agent_replies, ticket.reopened_count) == (2, 1)
    assert ticket.first_response_at == datetime.datetime(2024, 3, 4, 9, 5, tzinfo=UTC)
    assert ticket.resolved_at == ticket.closed_at == datetime.datetime(2024, 3, 4, 15, 40, tzinfo=UTC)
    assert ticket.first_response_due_at == datetime.datetime(2024, 3, 4, 12, 10, tzinfo=UTC)
    assert ticket.resolution_due_at == datetime.datetime(2024, 3, 5, 8, 10, tzinfo=UTC)
    assert ticket.first_response_met_sla is True
    assert not ticket.messages.exists()


@override_settings(SUPPORT_BUSINESS_HOURS="mon-fri 09:00-17:00", SUPPORT_TIME_ZONE="UTC")
def test_ticket_sla_targets_follow_business_hours(import_csv, contacts):
    SlaPolicy.objects.filter(priority="normal").update(first_response_hours=Decimal("8"))

    import_csv("tickets", TICKETS + "t-1,c-1,Help,chat,normal,open,,2024-03-08T16:00Z,,,,")  # a Friday

    ticket = Ticket.objects.get()
    assert ticket.first_response_due_at == datetime.datetime(2024, 3, 11, 16, 0, tzinfo=UTC)
    assert (ticket.agent_replies, ticket.reopened_count, ticket.closed_at) == (0, 0, None)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("resolved,2024-03-04T08:00Z,,", "resolved_at", "a resolved ticket needs resolved_at"),
        ("closed,2024-03-04T08:00Z,,", "resolved_at", "a closed ticket needs resolved_at"),
        ("open,2024-03-04T08:00Z,,2024-03-05T08:00Z", "resolved_at", "has no resolved_at"),
        ("open,2024-03-04T08:00Z,2024-03-04T07:00Z,", "first_response_at", "before created_at"),
        ("resolved,2024-03-04T08:00Z,,2024-03-04T07:00Z", "resolved_at", "before created_at"),
    ],
)
def test_ticket_rules(import_csv, row, column, reason):
    result = import_csv(
        "tickets",
        f"external_id,subject,channel,priority,status,created_at,first_response_at,resolved_at\nt-1,S,web,low,{row}",
    )

    assert problems(result) == [(2, column)]
    assert reason in reasons(result)


def test_a_ticket_channel_and_priority_must_be_known(import_csv):
    result = import_csv(
        "tickets", "external_id,subject,channel,priority,status,created_at\nt-1,S,fax,asap,new,2024-03-04T08:00Z"
    )

    assert problems(result) == [(2, "channel"), (2, "priority")]


# Survey answers

ANSWERS = "external_id,survey,kind,contact,ticket,sent_at,submitted_at,score,comment\n"


def test_an_answer_makes_an_invitation_and_a_response_and_sends_nothing(import_csv, contacts, settings):
    settings.SURVEY_LINK_DAYS = 30

    result = import_csv(
        "survey_responses",
        ANSWERS
        + """sr-1,Customer NPS,nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:30Z,9,"Fast, reliable"
        sr-2,Customer NPS,nps,c-2,,2024-06-03T09:00Z,,,""",
    )

    assert result.notes == ["new survey: Customer NPS (nps)"]
    survey = Survey.objects.get()
    assert (survey.name, survey.kind, survey.question != "") == ("Customer NPS", "nps", True)
    answered = Invitation.objects.get(external_id="sr-1")
    assert (answered.survey, answered.contact, answered.sent_at) == (
        survey,
        contacts["c-1"],
        datetime.datetime(2024, 6, 3, 9, 0, tzinfo=UTC),
    )
    assert answered.expires_at == datetime.datetime(2024, 7, 3, 9, 0, tzinfo=UTC)
    assert len(answered.token_hash) == 64
    response = answered.response
    assert (response.score, response.comment, response.kind) == (9, "Fast, reliable", "nps")
    assert response.submitted_at == datetime.datetime(2024, 6, 3, 12, 30, tzinfo=UTC)
    assert not Response.objects.filter(invitation__external_id="sr-2").exists()
    assert mail.outbox == []


def test_importing_answers_again_updates_them_and_drops_a_withdrawn_one(import_csv, contacts):
    first = (
        ANSWERS
        + "sr-1,NPS,nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:30Z,9,\n"
        + "sr-2,NPS,nps,c-2,,2024-06-03T09:00Z,2024-06-04T00:00Z,3,"
    )
    import_csv("survey_responses", first)
    token_hash = Invitation.objects.get(external_id="sr-1").token_hash

    again = import_csv(
        "survey_responses",
        ANSWERS + "sr-1,NPS,nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:30Z,10,\nsr-2,NPS,nps,c-2,,2024-06-03T09:00Z,,,",
    )

    assert (again.updated, Invitation.objects.count(), Response.objects.count()) == (2, 2, 1)
    invitation = Invitation.objects.get(external_id="sr-1")
    assert (invitation.response.score, invitation.token_hash) == (10, token_hash)


def test_a_csat_answer_may_name_its_ticket(import_csv, contacts):
    ticket = TicketFactory(contact=contacts["c-1"], external_id="t-1")

    import_csv("survey_responses", ANSWERS + "sr-1,Support CSAT,csat,c-1,t-1,2024-03-04T15:45Z,2024-03-04T16:10Z,5,")

    assert Invitation.objects.get().ticket == ticket


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:00Z,11,", "score", "off the nps scale (0-10)"),
        ("nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:00Z,-1,", "score", "-1 is off the nps scale (0-10)"),
        ("csat,c-1,,2024-06-03T09:00Z,2024-06-03T12:00Z,0,", "score", "off the csat scale (1-5)"),
        ("nps,c-1,,2024-06-03T09:00Z,2024-06-03T12:00Z,,", "score", "needs a score"),
        ("nps,c-1,,2024-06-03T09:00Z,,7,", "submitted_at", "a score needs submitted_at"),
        ("nps,c-1,,2024-06-03T09:00Z,,,Nice", "submitted_at", "a comment needs submitted_at"),
        ("nps,c-1,,2024-06-03T09:00Z,2024-06-02T12:00Z,7,", "submitted_at", "before sent_at"),
        ("nps,c-9,,2024-06-03T09:00Z,,,", "contact", "no record of contacts"),
        ("nps,c-1,t-9,2024-06-03T09:00Z,,,", "ticket", "no record of tickets"),
    ],
)
def test_survey_answer_rules(import_csv, contacts, row, column, reason):
    result = import_csv("survey_responses", ANSWERS + f"sr-1,Pulse,{row}")

    assert problems(result) == [(2, column)]
    assert reason in reasons(result)


def test_an_answer_keeps_to_its_survey_kind_and_its_contact_ticket(import_csv, contacts):
    SurveyFactory(name="Support CSAT", kind="csat")
    TicketFactory(contact=contacts["c-2"], external_id="t-2")

    result = import_csv(
        "survey_responses",
        ANSWERS
        + """sr-1,support csat,nps,c-1,,2024-06-03T09:00Z,,,
        sr-2,Support CSAT,csat,c-1,t-2,2024-06-03T09:00Z,,,
        sr-3,Pulse,nps,c-1,,2024-06-03T09:00Z,,,
        sr-4,Pulse,csat,c-1,,2024-06-03T09:00Z,,,""",
    )

    assert problems(result) == [(2, "kind"), (3, "ticket"), (5, "kind")]
    assert "is a csat survey" in reasons(result) and "another contact's" in reasons(result)
