"""The staff survey pages, as a manager uses them: the numbers, sending, the answers and their export."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from surveys.models import Invitation, Response, Survey, SurveyKind
from surveys.timeline import contact_timeline
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

SURVEY_LIST = reverse("surveys:survey_list")
SURVEY_CREATE = reverse("surveys:survey_create")
RESPONSE_LIST = reverse("surveys:response_list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(survey) -> str:
    return reverse("surveys:survey_detail", args=[survey.pk])


def update_url(survey) -> str:
    return reverse("surveys:survey_update", args=[survey.pk])


def send_url(survey) -> str:
    return reverse("surveys:survey_send", args=[survey.pk])


def answered(survey=None, score=9, comment="", days_ago=1, **invitation_kwargs) -> Response:
    """A sent invitation of `survey` answered `days_ago` days ago with `score`."""
    survey = survey or SurveyFactory()
    sent = timezone.now() - timedelta(days=days_ago, hours=2)
    invitation = InvitationFactory(
        survey=survey, sent_at=sent, expires_at=sent + timedelta(days=30), created_at=sent, **invitation_kwargs
    )
    return Response.objects.create(
        invitation=invitation,
        kind=survey.kind,
        score=score,
        comment=comment,
        submitted_at=sent + timedelta(hours=1),
    )


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def form_data(**overrides) -> dict:
    data = {
        "name": "Quarterly NPS",
        "kind": "nps",
        "question": "How likely are you to recommend us?",
        "low_label": "",
        "high_label": "",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def nps():
    return SurveyFactory(name="Customer NPS", kind=SurveyKind.NPS)


# The survey list: each survey's numbers


def test_survey_list_shows_each_surveys_responses_nps_and_response_rate(manager, nps):
    for score in (10, 9, 7, 3):  # 2 promoters, 1 passive, 1 detractor
        answered(nps, score)
    InvitationFactory.create_batch(6, survey=nps)  # sent, not answered

    response = manager.get(SURVEY_LIST)

    (row,) = shown(response)
    assert (row.response_count, row.recent_responses) == (4, 4)
    assert row.score == pytest.approx(25.0)  # (2 - 1) / 4 x 100
    assert (row.recent_answered, row.recent_sent) == (4, 10)
    assert row.response_rate == pytest.approx(40.0)
    html = response.content.decode()
    assert "40.00 %" in html
    assert "(n = 4)" in html


def test_survey_list_shows_csat_as_the_share_of_answers_scoring_4_or_5(manager):
    csat = SurveyFactory(kind=SurveyKind.CSAT)
    for score in (5, 4, 2):
        answered(csat, score)

    (row,) = shown(manager.get(SURVEY_LIST))

    assert row.score == pytest.approx(200 / 3)
    assert "66.67 %" in manager.get(SURVEY_LIST).content.decode()


def test_survey_list_scores_only_the_last_90_days_but_counts_every_answer(manager, nps):
    answered(nps, 10, days_ago=5)
    answered(nps, 0, days_ago=200)

    (row,) = shown(manager.get(SURVEY_LIST))

    assert row.response_count == 2
    assert row.recent_responses == 1
    assert row.score == pytest.approx(100.0)


def test_survey_list_shows_a_dash_when_there_is_nothing_to_divide_by(manager, nps):
    response = manager.get(SURVEY_LIST)

    (row,) = shown(response)
    assert row.score is None
    assert row.response_rate is None
    assert "—" in response.content.decode()


def test_survey_list_filters_by_kind(manager, nps):
    csat = SurveyFactory(kind=SurveyKind.CSAT)

    assert shown(manager.get(SURVEY_LIST, {"kind": "csat"})) == [csat]


def test_survey_list_filters_inactive_surveys(manager, nps):
    retired = SurveyFactory(is_active=False)

    assert shown(manager.get(SURVEY_LIST, {"is_active": "false"})) == [retired]
    assert shown(manager.get(SURVEY_LIST, {"is_active": "true"})) == [nps]


def test_survey_list_htmx_request_gets_only_the_results_fragment(manager, nps):
    response = manager.get(SURVEY_LIST, {"q": "customer"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert detail_url(nps) in html


def surveys_with_answers(count: int) -> None:
    for number in range(count):
        survey = SurveyFactory(kind=SurveyKind.NPS if number % 2 else SurveyKind.CSAT)
        answered(survey, 4)
        InvitationFactory(survey=survey)


def test_survey_list_costs_the_same_queries_for_3_or_30_surveys(manager, django_assert_max_num_queries):
    surveys_with_answers(3)
    with django_assert_max_num_queries(10) as with_three:
        assert len(shown(manager.get(SURVEY_LIST))) == 3
    surveys_with_answers(27)
    with django_assert_max_num_queries(len(with_three)):
        assert len(shown(manager.get(SURVEY_LIST))) == 25  # one page


# Creating and editing a survey


def test_manager_creates_a_survey_with_the_usual_scale_words(manager):
    response = manager.post(SURVEY_CREATE, form_data())

    survey = Survey.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(survey)
    assert (survey.kind, survey.low_label, survey.high_label) == ("nps", "Not at all likely", "Extremely likely")


def test_an_nps_survey_cannot_be_sent_after_resolved_tickets(manager):
    response = manager.post(SURVEY_CREATE, form_data(send_on_ticket_resolved="on"))

    assert response.status_code == 200
    assert "Only a CSAT survey" in response.content.decode()
    assert not Survey.objects.exists()


@pytest.mark.parametrize("name", ["Customer NPS", "customer nps"])
def test_a_survey_name_is_unique_whatever_its_case(manager, nps, name):
    response = manager.post(SURVEY_CREATE, form_data(name=name))

    assert response.status_code == 200
    assert "A survey with this name exists." in response.content.decode()
    assert Survey.objects.count() == 1


def test_the_api_refuses_a_survey_named_as_another_in_another_case(manager_api, nps):
    response = manager_api.post(
        "/api/surveys/", {"name": "CUSTOMER nps", "kind": "nps", "question": "Would you?"}, format="json"
    )

    assert response.status_code == 400
    assert "A survey with this name exists." in str(response.json())
    assert Survey.objects.count() == 1


def test_editing_a_survey_saves_the_changes(manager, nps):
    response = manager.post(update_url(nps), form_data(name="Customer NPS", question="Would you recommend us?"))

    nps.refresh_from_db()
    assert response.status_code == 302
    assert nps.question == "Would you recommend us?"


def test_the_kind_of_a_survey_already_sent_is_fixed(manager, nps):
    InvitationFactory(survey=nps)

    page = manager.get(update_url(nps)).content.decode()
    manager.post(update_url(nps), form_data(name="Customer NPS", kind="csat"))

    nps.refresh_from_db()
    assert "Fixed: this survey has been sent." in page
    assert nps.kind == "nps"


def test_changing_the_kind_of_an_unsent_survey_gives_it_the_new_scales_words(manager, nps):
    manager.post(
        update_url(nps),
        form_data(name="Customer NPS", kind="csat", low_label=nps.low_label, high_label=nps.high_label),
    )

    nps.refresh_from_db()
    assert (nps.kind, nps.low_label, nps.high_label) == ("csat", "Very unsatisfied", "Very satisfied")


# A survey's page


def test_survey_page_shows_the_numbers_the_distribution_and_the_latest_answers(manager, nps):
    for score in (10, 10, 8, 2):
        answered(nps, score, comment=f"Gave {score}")

    response = manager.get(detail_url(nps))

    html = response.content.decode()
    distribution = {row["score"]: row["count"] for row in response.context["distribution"]}
    assert distribution == {score: {10: 2, 8: 1, 2: 1}.get(score, 0) for score in range(11)}
    assert response.context["survey"].score == pytest.approx(25.0)
    assert "low confidence" in html  # 4 answers < 30
    assert "Gave 8" in html
    assert "± " in html  # the margin of error


def test_survey_page_shows_comments_escaped(manager, nps):
    answered(nps, 1, comment="<img src=x onerror=alert(1)>")

    html = manager.get(detail_url(nps)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_unknown_survey_is_not_found(manager):
    assert manager.get(reverse("surveys:survey_detail", args=[98765])).status_code == 404


# Sending


def test_send_page_for_one_contact_previews_and_sends_it(manager, nps, django_capture_on_commit_callbacks):
    contact = ContactFactory(first_name="Greta", last_name="Lind")

    preview = manager.get(send_url(nps), {"contact": contact.pk})
    with django_capture_on_commit_callbacks(execute=True):
        sent = manager.post(send_url(nps), {"contact": contact.pk, "expected": "1"})

    assert preview.status_code == 200
    assert "Send to Greta Lind" in preview.content.decode()
    assert sent.status_code == 302
    assert sent.url == detail_url(nps)
    assert [message.to for message in mail.outbox] == [[contact.email]]
    assert Invitation.objects.get().contact == contact


def test_send_page_says_an_opted_out_contact_is_skipped_and_sends_nothing(manager, nps):
    contact = ContactFactory(email_opt_out=True)

    preview = manager.get(send_url(nps), {"contact": contact.pk})
    refused = manager.post(send_url(nps), {"contact": contact.pk, "expected": "0"})

    assert preview.context["preview"]["opted_out"] == 1
    assert preview.context["preview"]["will_send"] == 0
    assert 'name="expected"' not in preview.content.decode()  # no send button
    assert refused.status_code == 400
    assert not Invitation.objects.exists()


def test_send_page_previews_a_filtered_set_with_who_is_skipped(manager, nps):
    referral = ChannelFactory(name="Referral")
    ContactFactory(channel=referral)
    ContactFactory(channel=referral, email_opt_out=True)
    ContactFactory(channel=referral, email="")
    InvitationFactory(contact=ContactFactory(channel=referral))  # asked recently
    ContactFactory(channel=ChannelFactory(name="Paid ads"))

    response = manager.get(send_url(nps), {"channel": referral.pk})

    assert response.context["preview"] == {
        "total": 4,
        "opted_out": 1,
        "no_email": 1,
        "recently_asked": 1,
        "will_send": 1,
        "skipped": 3,
    }
    assert "Send to 1 contact" in response.content.decode()


def test_sending_to_a_filtered_set_invites_only_the_eligible_contacts(manager, nps, django_capture_on_commit_callbacks):
    europe = [ContactFactory(region="Europe", customer_since=timezone.now() - timedelta(days=100)) for _ in range(2)]
    ContactFactory(region="Europe", email_opt_out=True, customer_since=timezone.now() - timedelta(days=100))
    ContactFactory(region="Europe")  # a prospect
    ContactFactory(region="Asia", customer_since=timezone.now() - timedelta(days=100))

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(send_url(nps), {"region": "europe", "status": "customer", "expected": "2"})

    assert response.status_code == 302
    assert set(Invitation.objects.values_list("contact", flat=True)) == {contact.pk for contact in europe}
    assert len(mail.outbox) == 2
    assert f"{nps} is on its way to 2 contacts." in manager.get(response.url).content.decode()


def test_sending_to_a_filtered_set_of_one_says_one_contact(manager, nps, django_capture_on_commit_callbacks):
    ContactFactory(region="Europe", customer_since=timezone.now() - timedelta(days=100))

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(send_url(nps), {"region": "europe", "status": "customer", "expected": "1"})

    assert f"{nps} is on its way to 1 contact." in manager.get(response.url).content.decode()


def test_sending_refuses_when_the_audience_changed_since_the_preview(manager, nps):
    ContactFactory.create_batch(2, region="Europe")

    response = manager.post(send_url(nps), {"region": "Europe", "expected": "1"})

    assert response.status_code == 409
    assert "has changed since the preview" in response.content.decode()
    assert not Invitation.objects.exists()


def test_sending_with_an_unreadable_filter_sends_nothing(manager, nps):
    ContactFactory()

    response = manager.post(send_url(nps), {"channel": "98765", "expected": "1"})

    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_an_inactive_survey_offers_no_send_button_and_refuses_to_send(manager):
    retired = SurveyFactory(is_active=False)
    contact = ContactFactory()

    preview = manager.get(send_url(retired), {"contact": contact.pk})
    refused = manager.post(send_url(retired), {"contact": contact.pk, "expected": "1"})

    assert "This survey is inactive" in preview.content.decode()
    assert 'name="expected"' not in preview.content.decode()  # no send button
    assert refused.status_code == 400
    assert "not active" in refused.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("contact", ["98765", "abc"])
def test_sending_to_an_unknown_contact_is_not_found(manager, nps, contact):
    assert manager.get(send_url(nps), {"contact": contact}).status_code == 404


def test_send_page_costs_the_same_queries_however_many_contacts_match(manager, nps, django_assert_max_num_queries):
    ContactFactory.create_batch(3, region="Europe")
    with django_assert_max_num_queries(12) as with_three:
        manager.get(send_url(nps), {"region": "Europe"})
    ContactFactory.create_batch(27, region="Europe")
    with django_assert_max_num_queries(len(with_three)):
        response = manager.get(send_url(nps), {"region": "Europe"})
    assert response.context["preview"]["will_send"] == 30


# The responses list


def test_response_list_shows_the_answers_newest_first(manager, nps):
    older = answered(nps, 9, days_ago=3)
    newer = answered(nps, 4, days_ago=1)

    assert shown(manager.get(RESPONSE_LIST)) == [newer, older]


def test_a_long_comment_is_clipped_in_the_list_with_the_whole_text_a_click_away(manager, nps):
    essay = "Word " * 1000
    answered(nps, 3, comment=essay.strip())
    answered(nps, 9, comment="Quick and kind.")

    html = manager.get(RESPONSE_LIST).content.decode()

    summary = re.search(r"<summary>(.*?)<span", html, re.S).group(1).strip()
    assert summary.endswith("…") and len(summary) <= 200
    assert essay.strip() in html  # inside the <details>, shown on a click
    assert "Quick and kind.</td>" in html  # a short one as it is


@pytest.mark.parametrize(
    ("band", "expected"),
    [("promoter", [10, 9]), ("passive", [8, 7]), ("detractor", [6, 0]), ("satisfied", [5, 4]), ("unsatisfied", [3])],
)
def test_response_list_filters_by_score_band(manager, nps, band, expected):
    csat = SurveyFactory(kind=SurveyKind.CSAT)
    for score in (10, 9, 8, 7, 6, 0):
        answered(nps, score)
    for score in (5, 4, 3):
        answered(csat, score)

    scores = [row.score for row in shown(manager.get(RESPONSE_LIST, {"band": band, "ordering": "-score"}))]

    assert scores == expected


def test_response_list_filters_by_survey_and_date_range(manager, nps):
    other = SurveyFactory()
    match = answered(nps, 9, days_ago=10)
    answered(nps, 9, days_ago=40)
    answered(other, 9, days_ago=10)
    day = timezone.localdate() - timedelta(days=10)

    response = manager.get(
        RESPONSE_LIST, {"survey": nps.pk, "submitted_after": day - timedelta(days=1), "submitted_before": day}
    )

    assert shown(response) == [match]


def test_response_list_filters_by_the_contacts_segment(manager, nps):
    referral = ChannelFactory(name="Referral")
    match = answered(nps, contact=ContactFactory(channel=referral, region="Europe", industry="Retail"))
    answered(nps, contact=ContactFactory(channel=referral, region="Asia", industry="Retail"))
    answered(nps, contact=ContactFactory(channel=ChannelFactory(name="Paid ads"), region="Europe", industry="Retail"))

    response = manager.get(RESPONSE_LIST, {"channel": referral.pk, "region": "europe", "industry": "retail"})

    assert shown(response) == [match]


def test_response_list_industry_falls_back_to_the_companys(manager, nps):
    match = answered(nps, contact=ContactFactory(industry="", company=CompanyFactory(industry="Logistics")))
    answered(nps, contact=ContactFactory(industry="", company=CompanyFactory(industry="Retail")))

    assert shown(manager.get(RESPONSE_LIST, {"industry": "logistics"})) == [match]


def test_response_list_shows_comments_escaped(manager, nps):
    answered(nps, 2, comment='<script>alert("x")</script>')

    html = manager.get(RESPONSE_LIST).content.decode()

    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_response_list_htmx_request_gets_the_results_with_an_export_link_that_keeps_the_filters(manager, nps):
    answered(nps, 10)

    html = manager.get(RESPONSE_LIST, {"band": "promoter"}, **HTMX).content.decode()

    assert html.lstrip().startswith('<div id="results">')
    assert f"{RESPONSE_LIST}?band=promoter&amp;export=csv" in html


def answers_with_everything(count: int) -> None:
    """Answers from contacts with their own company and channel, some about a ticket: what a row shows."""
    for number in range(count):
        contact = ContactFactory(channel=ChannelFactory(name=f"Channel {number}"))
        answered(SurveyFactory(), 7, comment="ok", contact=contact, ticket=TicketFactory(contact=contact))


def test_response_list_costs_the_same_queries_for_3_or_30_rows(manager, django_assert_max_num_queries):
    answers_with_everything(3)
    with django_assert_max_num_queries(12) as with_three:
        assert len(shown(manager.get(RESPONSE_LIST))) == 3
    answers_with_everything(27)
    with django_assert_max_num_queries(len(with_three)):
        assert len(shown(manager.get(RESPONSE_LIST))) == 25


# CSV export


def export(client, **filters):
    return client.get(RESPONSE_LIST, {**filters, "export": "csv"})


def exported(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_the_filtered_rows(manager, nps):
    answered(nps, 10, comment="Love it", contact=ContactFactory(first_name="Ada", last_name="Byron"))
    answered(nps, 2, comment="Meh")

    rows = exported(export(manager, band="promoter"))

    assert len(rows) == 1
    assert (rows[0]["Contact"], rows[0]["Score"], rows[0]["Band"], rows[0]["Comment"]) == (
        "Ada Byron",
        "10",
        "promoter",
        "Love it",
    )
    assert 'attachment; filename="survey-responses-' in export(manager)["Content-Disposition"]


@pytest.mark.parametrize(
    "comment",
    ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1+1"],
)
def test_export_neutralises_spreadsheet_formulas(manager, nps, comment):
    answered(nps, 5, comment=comment)

    (row,) = exported(export(manager))

    assert row["Comment"] == "'" + comment


def test_export_neutralises_formulas_in_contact_names(manager, nps):
    answered(nps, 5, contact=ContactFactory(first_name="=cmd|'/C calc'!A0", last_name="X"))

    (row,) = exported(export(manager))

    assert row["Contact"].startswith("'=cmd")


def test_export_leaves_ordinary_text_alone(manager, nps):
    answered(nps, 5, comment="Fine - thanks")

    (row,) = exported(export(manager))

    assert row["Comment"] == "Fine - thanks"


def test_export_with_an_unreadable_filter_says_so(manager):
    response = export(manager, submitted_after="not a date")

    assert response.status_code == 400
    assert "submitted_after" in response.content.decode()


def test_export_costs_the_same_queries_for_3_or_30_rows(manager, django_assert_max_num_queries):
    answers_with_everything(3)
    with django_assert_max_num_queries(8) as with_three:
        assert len(exported(export(manager))) == 3
    answers_with_everything(27)
    with django_assert_max_num_queries(len(with_three)):
        assert len(exported(export(manager))) == 30


# The contact's page


def test_an_answer_appears_on_the_contacts_timeline_with_its_ticket(manager, nps):
    contact = ContactFactory()
    csat = SurveyFactory(name="Support satisfaction", kind=SurveyKind.CSAT)
    answered(csat, 2, comment="Took <too> long", contact=contact, ticket=TicketFactory(subject="Export broken"))

    html = manager.get(contact.get_absolute_url()).content.decode()

    assert "Support satisfaction: 2 of 1-5 (unsatisfied)" in html
    assert "Export broken" in html
    assert "Took &lt;too&gt; long" in html


def test_the_timeline_source_costs_one_query_however_many_answers(nps, django_assert_max_num_queries):
    contact = ContactFactory()
    for _ in range(5):
        answered(nps, 9, contact=contact, ticket=TicketFactory(contact=contact))

    with django_assert_max_num_queries(2):
        entries = contact_timeline(contact, 50)

    assert len(entries) == 5
    assert {entry.kind for entry in entries} == {"survey"}


def test_contact_page_offers_managers_to_send_a_survey(manager, nps):
    contact = ContactFactory()

    html = manager.get(contact.get_absolute_url()).content.decode()

    assert f"{send_url(nps)}?contact={contact.pk}" in html
    assert "Never asked." in html


def test_contact_page_says_when_the_contact_was_asked_recently(manager, nps):
    contact = ContactFactory()
    answered(nps, 9, contact=contact)

    html = manager.get(contact.get_absolute_url()).content.decode()

    assert "Asked recently" in html
    assert f"{send_url(nps)}?contact={contact.pk}" not in html


def test_contact_page_shows_no_survey_card_to_sales(sales_client, nps):
    contact = ContactFactory()

    html = sales_client.get(contact.get_absolute_url()).content.decode()

    assert send_url(nps) not in html
    assert 'id="surveys-panel-title"' not in html


# Who may do what


def staff_urls(survey) -> list[str]:
    return [SURVEY_LIST, SURVEY_CREATE, detail_url(survey), update_url(survey), send_url(survey), RESPONSE_LIST,
            f"{RESPONSE_LIST}?export=csv", f"{RESPONSE_LIST}?export=reimport"]  # fmt: skip


@pytest.mark.parametrize("role", ["sales", "support", None])
def test_only_managers_and_admins_open_the_survey_pages(client, make_user, nps, role):
    client.force_login(make_user(role))

    statuses = {url: client.get(url).status_code for url in staff_urls(nps)}

    assert set(statuses.values()) == {403}, statuses


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_open_every_survey_page(client, make_user, nps, role):
    client.force_login(make_user(role))

    statuses = {url: client.get(url).status_code for url in staff_urls(nps)}

    assert set(statuses.values()) == {200}, statuses


def test_anonymous_visitor_is_sent_to_the_login_page(client, nps):
    response = client.get(SURVEY_LIST)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sales_cannot_send_or_create(client, sales_user, nps):
    contact = ContactFactory()
    client.force_login(sales_user)

    sent = client.post(send_url(nps), {"contact": contact.pk, "expected": "1"})
    created = client.post(SURVEY_CREATE, form_data(name="Sneaky"))
    edited = client.post(update_url(nps), form_data(name="Renamed"))

    assert (sent.status_code, created.status_code, edited.status_code) == (403, 403, 403)
    assert not Invitation.objects.exists()
    assert list(Survey.objects.values_list("name", flat=True)) == ["Customer NPS"]


def test_viewing_surveys_without_the_right_to_invite_cannot_send(client, make_user, nps):
    reader = make_user(None)
    reader.user_permissions.add(Permission.objects.get(codename="view_survey"))
    client.force_login(reader)
    contact = ContactFactory()

    assert client.get(SURVEY_LIST).status_code == 200
    assert client.post(send_url(nps), {"contact": contact.pk, "expected": "1"}).status_code == 403
    assert not Invitation.objects.exists()


def test_navbar_shows_surveys_to_managers_only(client, manager_user, sales_user):
    client.force_login(manager_user)
    manager_html = client.get(reverse("dashboard")).content.decode()
    client.force_login(sales_user)
    sales_html = client.get(reverse("dashboard")).content.decode()

    assert f'href="{SURVEY_LIST}">Surveys</a>' in manager_html
    assert SURVEY_LIST not in sales_html
