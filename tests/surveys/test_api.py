"""The surveys API, as an integration uses it: /api/surveys/, /api/invitations/ (invite and send), /api/responses/."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from surveys.models import Invitation, Response, Survey, SurveyKind
from tests.contacts.factories import ChannelFactory, ContactFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

SURVEYS = "/api/surveys/"
INVITATIONS = "/api/invitations/"
RESPONSES = "/api/responses/"


def url(base: str, pk: int) -> str:
    return f"{base}{pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.data["results"]]


def answered(survey, score, comment="", days_ago=1, **invitation_kwargs) -> Response:
    sent = timezone.now() - timedelta(days=days_ago, hours=2)
    invitation = InvitationFactory(survey=survey, sent_at=sent, created_at=sent, **invitation_kwargs)
    return Response.objects.create(
        invitation=invitation, kind=survey.kind, score=score, comment=comment, submitted_at=sent + timedelta(hours=1)
    )


@pytest.fixture
def nps():
    return SurveyFactory(name="Customer NPS", kind=SurveyKind.NPS)


def survey_data(**overrides) -> dict:
    return {"name": "Support CSAT", "kind": "csat", "question": "How did we do?", **overrides}


# Surveys


def test_survey_list_gives_each_surveys_numbers(manager_api, nps):
    for score in (10, 9, 3, 8):
        answered(nps, score)
    InvitationFactory.create_batch(4, survey=nps)

    response = manager_api.get(SURVEYS)

    (row,) = response.data["results"]
    assert (row["name"], row["kind"]) == ("Customer NPS", "nps")
    assert (row["response_count"], row["score_sample_size"]) == (4, 4)
    assert row["score"] == pytest.approx(25.0)
    assert row["response_rate"] == pytest.approx(50.0)


def test_the_survey_numbers_have_two_decimals(manager_api, nps):
    answered(nps, 10)
    InvitationFactory.create_batch(2, survey=nps)  # 1 answer of 3 sent

    row = manager_api.get(url(SURVEYS, nps.pk)).json()

    assert row["response_rate"] == 33.33
    assert row["score"] == 100.0


def test_survey_without_answers_has_null_numbers(manager_api, nps):
    row = manager_api.get(url(SURVEYS, nps.pk)).data

    assert (row["score"], row["response_rate"], row["response_count"]) == (None, None, 0)


def test_creating_a_survey_fills_the_scale_words(manager_api):
    response = manager_api.post(SURVEYS, survey_data(), format="json")

    assert response.status_code == 201, response.content
    assert (response.data["low_label"], response.data["high_label"]) == ("Very unsatisfied", "Very satisfied")
    assert Survey.objects.get().kind == "csat"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (survey_data(kind="nps", send_on_ticket_resolved=True), "send_on_ticket_resolved"),
        (survey_data(kind="ces"), "kind"),
        (survey_data(question=""), "question"),
        (survey_data(name="Customer NPS"), "name"),
    ],
)
def test_creating_a_bad_survey_is_refused_with_the_field(manager_api, nps, data, field):
    response = manager_api.post(SURVEYS, data, format="json")

    assert response.status_code == 400
    assert field in response.data
    assert Survey.objects.count() == 1


def test_changing_the_kind_of_a_sent_survey_is_refused(manager_api, nps):
    InvitationFactory(survey=nps)

    response = manager_api.patch(url(SURVEYS, nps.pk), {"kind": "csat"}, format="json")

    assert response.status_code == 400
    assert "kind" in response.data
    nps.refresh_from_db()
    assert nps.kind == "nps"


def test_deactivating_a_survey(manager_api, nps):
    response = manager_api.patch(url(SURVEYS, nps.pk), {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.data["is_active"] is False


def test_deleting_an_unsent_survey(manager_api, nps):
    assert manager_api.delete(url(SURVEYS, nps.pk)).status_code == 204
    assert not Survey.objects.exists()


def test_deleting_a_sent_survey_is_refused(manager_api, nps):
    InvitationFactory(survey=nps)

    response = manager_api.delete(url(SURVEYS, nps.pk))

    assert response.status_code == 400
    assert "deactivate it instead" in str(response.data)
    assert Survey.objects.filter(pk=nps.pk).exists()


def test_survey_list_filters_by_kind(manager_api, nps):
    csat = SurveyFactory(kind=SurveyKind.CSAT)

    assert ids(manager_api.get(SURVEYS, {"kind": "csat"})) == [csat.pk]


# Invitations


def test_invitation_list_never_shows_the_token(manager_api, nps):
    invitation = InvitationFactory(survey=nps)

    response = manager_api.get(INVITATIONS)

    (row,) = response.data["results"]
    assert row["id"] == invitation.pk
    assert (row["survey"], row["contact"], row["response"]) == (nps.pk, invitation.contact_id, None)
    assert "token_hash" not in row
    assert invitation.token_hash not in response.content.decode()


def test_invitation_shows_its_response(manager_api, nps):
    response_row = answered(nps, 9)

    row = manager_api.get(url(INVITATIONS, response_row.invitation_id)).data

    assert row["response"] == response_row.pk


def test_invitation_list_filters_by_survey_and_answered(manager_api, nps):
    answered_one = answered(nps, 9).invitation
    InvitationFactory(survey=nps)
    InvitationFactory()

    assert ids(manager_api.get(INVITATIONS, {"survey": nps.pk, "responded": "true"})) == [answered_one.pk]
    assert len(ids(manager_api.get(INVITATIONS, {"responded": "false"}))) == 2


def test_inviting_one_contact_sends_the_email_after_commit(manager_api, nps, django_capture_on_commit_callbacks):
    contact = ContactFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(INVITATIONS, {"survey": nps.pk, "contact": contact.pk}, format="json")

    assert response.status_code == 201, response.content
    assert (response.data["invited"], response.data["skipped"]) == (1, 0)
    assert response.data["invitations"][0]["contact"] == contact.pk
    assert [message.to for message in mail.outbox] == [[contact.email]]
    assert Invitation.objects.get().sent_at is not None


def test_inviting_several_contacts_skips_the_opted_out_and_recently_asked(
    manager_api, nps, django_capture_on_commit_callbacks
):
    fresh = ContactFactory()
    opted_out = ContactFactory(email_opt_out=True)
    asked = InvitationFactory().contact

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            INVITATIONS, {"survey": nps.pk, "contacts": [fresh.pk, opted_out.pk, asked.pk]}, format="json"
        )

    assert response.status_code == 201
    assert (response.data["invited"], response.data["skipped"]) == (1, 2)
    assert response.data["skipped_because"] == {"opted_out": 1, "no_email": 0, "recently_asked": 1}
    assert [message.to for message in mail.outbox] == [[fresh.email]]

    again = manager_api.post(INVITATIONS, {"survey": nps.pk, "contact": fresh.pk}, format="json")
    assert again.status_code == 200  # nothing created
    assert (again.data["invited"], again.data["skipped_because"]["recently_asked"]) == (0, 1)


def test_inviting_about_a_ticket_links_it(manager_api, django_capture_on_commit_callbacks):
    csat = SurveyFactory(kind=SurveyKind.CSAT)
    ticket = TicketFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            INVITATIONS, {"survey": csat.pk, "contact": ticket.contact_id, "ticket": ticket.pk}, format="json"
        )

    assert response.status_code == 201
    assert Invitation.objects.get().ticket == ticket


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"contact": 1, "contacts": [1]}, "non_field_errors"),
        ({"contacts": []}, "contacts"),
        ({"contacts": [98765]}, "contacts"),
        ({"contact": 0}, "contact"),
        ({"contacts": list(range(1, 1003))}, "contacts"),
    ],
)
def test_inviting_with_bad_input_is_refused(manager_api, nps, body, field):
    ContactFactory(pk=1)

    response = manager_api.post(INVITATIONS, {"survey": nps.pk, **body}, format="json")

    assert response.status_code == 400
    assert field in response.data, response.data
    assert not Invitation.objects.exists()


def test_inviting_someone_else_about_a_ticket_is_refused(manager_api):
    ticket = TicketFactory()
    stranger = ContactFactory()

    response = manager_api.post(
        INVITATIONS,
        {"survey": SurveyFactory(kind=SurveyKind.CSAT).pk, "contact": stranger.pk, "ticket": ticket.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "ticket" in response.data


def test_inviting_to_an_inactive_survey_is_refused(manager_api):
    retired = SurveyFactory(is_active=False)

    response = manager_api.post(INVITATIONS, {"survey": retired.pk, "contact": ContactFactory().pk}, format="json")

    assert response.status_code == 400
    assert "not active" in str(response.data)
    assert not Invitation.objects.exists()


def test_invitations_cannot_be_edited_or_deleted(manager_api, nps):
    invitation = InvitationFactory(survey=nps)

    assert manager_api.patch(url(INVITATIONS, invitation.pk), {"contact": 1}, format="json").status_code == 405
    assert manager_api.delete(url(INVITATIONS, invitation.pk)).status_code == 405


# Responses


def test_response_list_describes_each_answer(manager_api, nps):
    contact = ContactFactory(first_name="Ada", last_name="Byron")
    stored = answered(nps, 6, comment="<b>slow</b>", contact=contact)

    (row,) = manager_api.get(RESPONSES).data["results"]

    assert row["id"] == stored.pk
    assert (row["survey"], row["survey_name"], row["kind"]) == (nps.pk, "Customer NPS", "nps")
    assert (row["score"], row["band"], row["comment"]) == (6, "detractor", "<b>slow</b>")
    assert (row["contact"], row["contact_name"], row["ticket"]) == (contact.pk, "Ada Byron", None)


def test_response_list_filters_like_the_page(manager_api, nps):
    referral = ChannelFactory(name="Referral")
    match = answered(nps, 10, contact=ContactFactory(channel=referral, region="Europe"))
    answered(nps, 3, contact=ContactFactory(channel=referral, region="Europe"))
    answered(nps, 10, contact=ContactFactory(region="Asia"))

    response = manager_api.get(RESPONSES, {"band": "promoter", "channel": referral.pk, "region": "europe"})

    assert ids(response) == [match.pk]


def test_responses_are_read_only(manager_api, nps):
    invitation = InvitationFactory(survey=nps)
    stored = answered(nps, 9)

    created = manager_api.post(RESPONSES, {"invitation": invitation.pk, "score": 10}, format="json")
    changed = manager_api.patch(url(RESPONSES, stored.pk), {"score": 0}, format="json")

    assert (created.status_code, changed.status_code) == (405, 405)
    stored.refresh_from_db()
    assert stored.score == 9
    assert Response.objects.count() == 1


# Query counts


def answers_with_everything(count: int) -> None:
    for _ in range(count):
        survey = SurveyFactory()
        contact = ContactFactory(channel=ChannelFactory(name=f"Channel {Survey.objects.count()}"))
        answered(survey, 8, contact=contact, ticket=TicketFactory(contact=contact))
        InvitationFactory(survey=survey)


@pytest.mark.parametrize("endpoint", [SURVEYS, INVITATIONS, RESPONSES])
def test_list_endpoints_cost_the_same_queries_for_3_or_30_rows(manager_api, endpoint, django_assert_max_num_queries):
    answers_with_everything(3)
    with django_assert_max_num_queries(6) as with_three:
        assert len(ids(manager_api.get(endpoint))) >= 3
    answers_with_everything(27)
    with django_assert_max_num_queries(len(with_three)):
        assert len(ids(manager_api.get(endpoint))) >= 30


# Who may do what


@pytest.mark.parametrize("endpoint", [SURVEYS, INVITATIONS, RESPONSES])
def test_anonymous_callers_are_asked_to_authenticate(api_client, endpoint):
    assert api_client.get(endpoint).status_code == 401


@pytest.mark.parametrize("role", ["sales", "support"])
@pytest.mark.parametrize("endpoint", [SURVEYS, INVITATIONS, RESPONSES])
def test_sales_and_support_may_not_read_surveys(api_client, make_user, role, endpoint):
    api_client.force_authenticate(make_user(role))

    assert api_client.get(endpoint).status_code == 403


def test_sales_may_not_invite(api_client, sales_user, nps):
    api_client.force_authenticate(sales_user)

    response = api_client.post(INVITATIONS, {"survey": nps.pk, "contact": ContactFactory().pk}, format="json")

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_admin_may_create_surveys(api_client, admin_role_user):
    api_client.force_authenticate(admin_role_user)

    assert api_client.post(SURVEYS, survey_data(), format="json").status_code == 201


# The schema


def test_the_openapi_schema_builds_without_warnings(tmp_path):
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"), stderr=StringIO())

    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/invitations/" in schema
    assert "token_hash" not in schema
