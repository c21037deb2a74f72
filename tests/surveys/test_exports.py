"""What the survey exports write: answers for people, and survey responses for re-import (a row per invitation)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from surveys.models import Response, SurveyKind
from tests.contacts.factories import ContactFactory
from tests.exports import csv_records
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

RESPONSE_LIST = reverse("surveys:response_list")
SENT = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def csat():
    return SurveyFactory(name="Support satisfaction", kind=SurveyKind.CSAT)


@pytest.fixture
def greta():
    return ContactFactory(first_name="Greta", last_name="Berg", external_id="C-7")


def invitation(survey, contact, *, external_id="", sent_at=SENT, **kwargs):
    return InvitationFactory(survey=survey, contact=contact, external_id=external_id, sent_at=sent_at, **kwargs)


def answer(invitation, score, comment="", submitted_at=None):
    submitted_at = submitted_at or invitation.sent_at + timedelta(hours=2, microseconds=5)
    return Response.objects.create(
        invitation=invitation, kind=invitation.survey.kind, score=score, comment=comment, submitted_at=submitted_at
    )


def test_an_answered_invitation_for_re_import_carries_its_answer(manager, csat, greta):
    ticket = TicketFactory(contact=greta, external_id="T-100")
    answer(invitation(csat, greta, ticket=ticket, external_id="INV-1"), 4, comment="Quick, thanks")

    (row,) = csv_records(manager.get(RESPONSE_LIST, {"export": "reimport"}))

    assert row == {
        "external_id": "INV-1",
        "survey": "Support satisfaction",
        "kind": "csat",
        "contact": "C-7",
        "ticket": "T-100",
        "sent_at": "2025-09-01T10:00:00+00:00",
        "submitted_at": "2025-09-01T12:00:00.000005+00:00",
        "score": "4",
        "comment": "Quick, thanks",
    }


def test_invitations_for_re_import_include_those_not_answered_and_leave_out_those_never_sent(manager_api, csat, greta):
    unanswered = invitation(csat, greta)
    answer(invitation(SurveyFactory(name="Customer NPS"), greta, external_id="INV-2"), 9)
    invitation(csat, ContactFactory(), sent_at=None, expires_at=None)

    rows = csv_records(manager_api.get("/api/invitations/", {"export": "reimport", "ordering": "created"}))

    assert [(row["external_id"], row["survey"], row["kind"], row["score"], row["submitted_at"]) for row in rows] == [
        (f"crm-invitation-{unanswered.pk}", "Support satisfaction", "csat", "", ""),
        ("INV-2", "Customer NPS", "nps", "9", rows[1]["submitted_at"]),
    ]
    assert rows[1]["submitted_at"]


def test_the_responses_api_and_page_write_the_same_import_rows(manager, manager_api, csat, greta):
    answer(invitation(csat, greta, external_id="INV-1"), 5)
    answer(invitation(csat, ContactFactory()), 2, comment="=1+1")

    from_page = csv_records(manager.get(RESPONSE_LIST, {"export": "reimport"}))
    from_api = csv_records(manager_api.get("/api/responses/", {"export": "reimport", "ordering": "-submitted"}))

    assert from_page == from_api
    assert {row["comment"] for row in from_page} == {"", "=1+1"}


def test_answers_for_people_are_written_readably(manager, csat, greta):
    answer(invitation(csat, greta, ticket=TicketFactory(contact=greta, subject="Late invoice")), 5, comment="Great")

    (row,) = csv_records(manager.get(RESPONSE_LIST, {"export": "csv"}))

    assert {name: row[name] for name in ("Survey", "Kind", "Score", "Band", "Comment", "Contact", "Ticket")} == {
        "Survey": "Support satisfaction",
        "Kind": "CSAT (1-5)",
        "Score": "5",
        "Band": "satisfied",
        "Comment": "Great",
        "Contact": "Greta Berg",
        "Ticket": "Late invoice",
    }


def test_surveys_for_people_show_their_numbers(manager, csat, greta):
    answer(invitation(csat, greta, sent_at=datetime.now(UTC) - timedelta(days=1)), 5)

    (row,) = csv_records(manager.get(reverse("surveys:survey_list"), {"export": "csv"}))

    assert (row["Name"], row["Kind"], row["Active"], row["Answers"], row["Score (90 days)"]) == (
        "Support satisfaction",
        "CSAT (1-5)",
        "yes",
        "1",
        "100.0",
    )
