"""The lead pages, as a member of staff uses them: list, bulk assign, quick capture, the lead page and its actions."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.models import Deal, Lead, SalesEvent
from tests.contacts.factories import ChannelFactory
from tests.sales.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

LEAD_LIST = reverse("sales:lead_list")
LEAD_CREATE = reverse("sales:lead_create")
LEAD_ASSIGN = reverse("sales:lead_assign")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day))


def lead_url(name: str, lead: Lead) -> str:
    return reverse(f"sales:{name}", args=[lead.pk])


# The list: mine by default, filters, sorting -----------------------------------------------------


def test_the_list_shows_my_leads_when_no_owner_is_chosen(sales_client, sales_user, make_user):
    mine = LeadFactory(owner=sales_user)
    LeadFactory(owner=make_user("sales"))
    LeadFactory(owner=None)

    response = sales_client.get(LEAD_LIST)

    assert shown(response) == [mine]
    assert response.context["filter"].form["owner"].value() == str(sales_user.pk)


def test_choosing_anyone_shows_every_lead(sales_client, sales_user, make_user):
    leads = [LeadFactory(owner=sales_user), LeadFactory(owner=make_user("sales")), LeadFactory(owner=None)]

    response = sales_client.get(LEAD_LIST, {"owner": ""})

    assert set(shown(response)) == set(leads)


def test_leads_nobody_owns_yet_have_their_own_tab_and_api_filter(sales_client, sales_api, sales_user):
    web = LeadFactory(owner=None, first_name="Webby")
    LeadFactory(owner=sales_user, first_name="Mine")

    response = sales_client.get(LEAD_LIST, {"owner": "null"})

    assert shown(response) == [web]
    assert 'aria-current="page" href="?owner=null">Nobody\'s yet</a>' in response.content.decode()
    assert [lead["id"] for lead in sales_api.get("/api/leads/", {"owner": "null"}).json()["results"]] == [web.pk]


def test_the_list_shows_another_owners_leads_when_asked(sales_client, sales_user, make_user):
    colleague = make_user("sales")
    theirs = LeadFactory(owner=colleague)
    LeadFactory(owner=sales_user)

    response = sales_client.get(LEAD_LIST, {"owner": colleague.pk})

    assert shown(response) == [theirs]


@pytest.mark.parametrize("status", ["new", "working", "qualified", "converted", "disqualified"])
def test_the_list_filters_by_status(sales_client, status):
    leads = {}
    for value in ["new", "working", "qualified", "disqualified"]:
        leads[value] = LeadFactory(status=value)
    now = timezone.now()
    leads["converted"] = LeadFactory(status="converted", created_at=now, converted_at=now)

    response = sales_client.get(LEAD_LIST, {"owner": "", "status": status})

    assert shown(response) == [leads[status]]


def test_the_list_filters_by_channel_and_campaign(sales_client):
    events = ChannelFactory(name="Events")
    fair = CampaignFactory(name="Spring fair", channel=events)
    match = LeadFactory(channel=events, campaign=fair)
    LeadFactory(channel=events)
    LeadFactory(channel=ChannelFactory(name="Referral"), campaign=fair)

    response = sales_client.get(LEAD_LIST, {"owner": "", "channel": events.pk, "campaign": fair.pk})

    assert shown(response) == [match]


def test_the_list_filters_by_creation_dates_inclusive(sales_client):
    LeadFactory(created_at=at("2026-02-28T23:59"))
    first_day = LeadFactory(created_at=at("2026-03-01T00:00"))
    last_day = LeadFactory(created_at=at("2026-03-31T23:59"))
    LeadFactory(created_at=at("2026-04-01T00:00"))

    response = sales_client.get(LEAD_LIST, {"owner": "", "created_after": "2026-03-01", "created_before": "2026-03-31"})

    assert set(shown(response)) == {first_day, last_day}


def test_the_list_search_finds_leads_by_name_email_or_company(sales_client):
    by_name = LeadFactory(first_name="Grace", last_name="Hopper")
    by_email = LeadFactory(email="grace@navy.example")
    by_company = LeadFactory(company_name="Grace Logistics")
    LeadFactory(first_name="Ada", last_name="Lovelace", email="ada@x.example", company_name="Engines")

    response = sales_client.get(LEAD_LIST, {"owner": "", "q": "grace"})

    assert set(shown(response)) == {by_name, by_email, by_company}


def test_the_list_is_newest_first_and_sorts_by_the_chosen_column(sales_client):
    now = timezone.now()
    older = LeadFactory(last_name="Zuse", created_at=now.replace(year=now.year - 1))
    newer = LeadFactory(last_name="Babbage", created_at=now)

    assert shown(sales_client.get(LEAD_LIST, {"owner": ""})) == [newer, older]
    assert shown(sales_client.get(LEAD_LIST, {"owner": "", "ordering": "-name"})) == [older, newer]


def test_the_list_htmx_request_gets_only_the_results_fragment(sales_client, sales_user):
    lead = LeadFactory(owner=sales_user)

    response = sales_client.get(LEAD_LIST, {"owner": sales_user.pk}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert 'class="filters' not in html
    assert lead.get_absolute_url() in html


def leads_with_everything(count: int, make_user) -> None:
    """Leads each with their own owner, channel and campaign: what a list row shows."""
    for n in range(count):
        channel = ChannelFactory(name=f"Channel {n} {Lead.objects.count()}")
        LeadFactory(owner=make_user("sales"), channel=channel, campaign=CampaignFactory(channel=channel))


def test_the_list_queries_do_not_grow_with_the_rows(sales_client, make_user, django_assert_max_num_queries):
    leads_with_everything(3, make_user)
    with django_assert_max_num_queries(20) as with_three_rows:
        sales_client.get(LEAD_LIST, {"owner": ""})

    leads_with_everything(27, make_user)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(LEAD_LIST, {"owner": ""})

    assert len(shown(response)) == PAGE_SIZE


# Bulk assign -----------------------------------------------------------------------------------


def test_assigning_checked_leads_gives_them_all_to_the_owner(sales_client, sales_user, make_user):
    colleague = make_user("sales", first_name="Rita", last_name="Rep")
    checked = LeadFactory.create_batch(2, owner=sales_user)
    untouched = LeadFactory(owner=sales_user)

    response = sales_client.post(
        LEAD_ASSIGN,
        {"leads": [lead.pk for lead in checked], "owner": colleague.pk, "next": f"{LEAD_LIST}?owner="},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{LEAD_LIST}?owner="
    assert {lead.owner for lead in Lead.objects.filter(pk__in=[lead.pk for lead in checked])} == {colleague}
    untouched.refresh_from_db()
    assert untouched.owner == sales_user
    assert messages_of(response) == ["2 leads assigned to Rita Rep."]
    assert SalesEvent.objects.filter(verb=SalesEvent.Verb.LEAD_ASSIGNED).count() == 2


def test_assigning_with_an_unknown_lead_changes_nothing_and_says_so(sales_client, sales_user, make_user):
    colleague = make_user("sales")
    lead = LeadFactory(owner=sales_user)

    response = sales_client.post(LEAD_ASSIGN, {"leads": [lead.pk, 999999], "owner": colleague.pk})

    lead.refresh_from_db()
    assert lead.owner == sales_user
    assert messages_of(response) == ["Lead 999999 does not exist (any more); nothing was assigned."]
    assert not SalesEvent.objects.filter(verb=SalesEvent.Verb.LEAD_ASSIGNED).exists()


def test_assigning_with_a_malformed_lead_id_changes_nothing(sales_client, sales_user, make_user):
    lead = LeadFactory(owner=sales_user)

    response = sales_client.post(LEAD_ASSIGN, {"leads": [lead.pk, "1; drop"], "owner": make_user("sales").pk})

    lead.refresh_from_db()
    assert lead.owner == sales_user
    assert "nothing was assigned" in messages_of(response)[0]


def test_assigning_to_an_inactive_user_is_refused(sales_client, sales_user, make_user):
    gone = make_user("sales", is_active=False)
    lead = LeadFactory(owner=sales_user)

    response = sales_client.post(LEAD_ASSIGN, {"leads": [lead.pk], "owner": gone.pk})

    lead.refresh_from_db()
    assert lead.owner == sales_user
    assert messages_of(response) == ["That user cannot own leads; nothing was assigned."]


def test_assigning_without_ticking_a_lead_asks_for_one(sales_client, sales_user):
    response = sales_client.post(LEAD_ASSIGN, {"owner": sales_user.pk})

    assert response.status_code == 302
    assert messages_of(response) == ["Tick the leads to assign first."]


def test_assign_does_not_redirect_to_another_site(sales_client, sales_user):
    lead = LeadFactory()

    response = sales_client.post(
        LEAD_ASSIGN, {"leads": [lead.pk], "owner": sales_user.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == LEAD_LIST


def test_the_list_offers_checkboxes_and_the_assign_control_to_sales(sales_client, sales_user):
    lead = LeadFactory(owner=sales_user)

    html = sales_client.get(LEAD_LIST).content.decode()

    assert f'name="leads" value="{lead.pk}"' in html
    assert f'action="{LEAD_ASSIGN}"' in html
    assert ">Assign</button>" in html
    assert html.count('id="id_owner"') == 1  # the filter's owner select; the assign one has its own id
    assert 'id="id_assign_owner"' in html


def test_a_manager_sees_the_list_without_assign_controls_and_cannot_assign(client, manager_user):
    lead = LeadFactory(owner=manager_user)
    client.force_login(manager_user)

    html = client.get(LEAD_LIST, {"owner": ""}).content.decode()
    response = client.post(LEAD_ASSIGN, {"leads": [lead.pk], "owner": manager_user.pk})

    assert lead.get_absolute_url() in html
    assert 'name="leads"' not in html
    assert response.status_code == 403


# Quick capture ---------------------------------------------------------------------------------


def lead_form_data(**overrides) -> dict:
    data = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "Ada@Engines.example",
        "phone": "+44 20 7946 0000",
        "company_name": "Analytical Engines",
        "channel": "",
        "campaign": "",
        "message": "Wants a demo.",
    }
    data.update(overrides)
    return data


def test_capturing_a_lead_stores_it_owned_by_me_and_opens_its_page(sales_client, sales_user):
    events = ChannelFactory(name="Events")
    fair = CampaignFactory(name="Spring fair", channel=events)

    response = sales_client.post(LEAD_CREATE, lead_form_data(channel=events.pk, campaign=fair.pk))

    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == lead.get_absolute_url()
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", "ada@engines.example")
    assert (lead.company_name, lead.channel, lead.campaign) == ("Analytical Engines", events, fair)
    assert lead.owner == sales_user
    assert lead.status == Lead.Status.NEW
    assert messages_of(response) == ["Lead Ada Lovelace captured."]


def test_save_and_add_another_opens_a_fresh_form_keeping_channel_and_campaign(sales_client):
    events = ChannelFactory(name="Events")
    fair = CampaignFactory(channel=events)

    response = sales_client.post(
        LEAD_CREATE, lead_form_data(channel=events.pk, campaign=fair.pk, add_another="1"), follow=True
    )

    form = response.context["form"]
    assert response.redirect_chain[-1][0] == f"{LEAD_CREATE}?channel={events.pk}&campaign={fair.pk}"
    assert not form.is_bound
    assert form["channel"].value() == str(events.pk)
    assert form["campaign"].value() == str(fair.pk)
    assert Lead.objects.count() == 1


def test_a_lead_with_no_name_email_or_company_is_refused_with_a_message(sales_client):
    response = sales_client.post(
        LEAD_CREATE, lead_form_data(first_name="", last_name="", email="", company_name="", phone="123")
    )

    assert response.status_code == 200
    assert "Give the lead a name, an e-mail address or a company." in response.content.decode()
    assert response.context["form"]["phone"].value() == "123"
    assert not Lead.objects.exists()


def test_a_bad_email_is_refused_and_the_input_kept(sales_client):
    response = sales_client.post(LEAD_CREATE, lead_form_data(email="not-an-address"))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    assert 'value="Analytical Engines"' in response.content.decode()
    assert not Lead.objects.exists()


# The lead page and its actions -----------------------------------------------------------------


def test_the_lead_page_shows_its_facts_and_history(sales_client, sales_user):
    lead = LeadFactory(first_name="Ada", last_name="Lovelace", company_name="Engines", message="Call me\nafter 5")
    services.lead_change_status(lead=lead, status="working", actor=sales_user)

    response = sales_client.get(lead.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ada Lovelace" in html and "Engines" in html and "Call me\nafter 5" in html
    history = list(response.context["history"])
    assert [event.verb for event in history] == [SalesEvent.Verb.LEAD_STATUS]
    assert "Lead status changed" in html and "New → Working" in html


def test_changing_the_status_records_it(sales_client):
    lead = LeadFactory()

    response = sales_client.post(lead_url("lead_status", lead), {"status": "qualified"})

    lead.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == lead.get_absolute_url()
    assert lead.status == Lead.Status.QUALIFIED
    assert messages_of(response) == ["Status set to qualified."]


def test_a_disqualified_lead_cannot_change_status_and_the_page_says_why(sales_client):
    lead = LeadFactory(status=Lead.Status.DISQUALIFIED, disqualified_reason="No budget")

    response = sales_client.post(lead_url("lead_status", lead), {"status": "working"})

    lead.refresh_from_db()
    assert response.status_code == 400
    assert "This lead is already disqualified." in response.content.decode()
    assert lead.status == Lead.Status.DISQUALIFIED


def test_converting_opens_the_deal_page_of_the_new_deal(sales_client, sales_user):
    lead = LeadFactory(email="cy@client.example", company_name="Client Co")

    response = sales_client.post(
        lead_url("lead_convert", lead),
        {"deal_title": "Client Co licences", "amount": "1500.00", "expected_close_date": "2026-09-30"},
    )

    deal = Deal.objects.get()
    lead.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:deal_detail", args=[deal.pk])
    assert lead.status == Lead.Status.CONVERTED and lead.converted_at is not None
    assert (deal.title, deal.amount, str(deal.expected_close_date)) == (
        "Client Co licences",
        Decimal("1500.00"),
        "2026-09-30",
    )
    assert deal.contact.email == "cy@client.example"


def test_a_converted_lead_page_links_its_contact_and_deal(sales_client):
    lead = LeadFactory()
    services.lead_convert(lead=lead)
    deal = Deal.objects.get()

    html = sales_client.get(lead.get_absolute_url()).content.decode()

    assert deal.get_absolute_url() in html
    assert deal.contact.get_absolute_url() in html
    assert "Convert to deal" not in html


def test_converting_twice_is_refused_with_the_reason_and_opens_no_second_deal(sales_client):
    lead = LeadFactory()
    services.lead_convert(lead=lead)

    response = sales_client.post(lead_url("lead_convert", lead), {"deal_title": "Again"})

    assert response.status_code == 400
    assert "This lead is already converted." in response.content.decode()
    assert Deal.objects.count() == 1


def test_converting_with_a_negative_amount_is_refused_and_keeps_the_input(sales_client):
    lead = LeadFactory()

    response = sales_client.post(lead_url("lead_convert", lead), {"deal_title": "Big one", "amount": "-5"})

    lead.refresh_from_db()
    assert response.status_code == 400
    assert response.context["convert_form"].errors["amount"] == ["The amount cannot be negative."]
    assert 'value="Big one"' in response.content.decode()
    assert lead.status == Lead.Status.NEW
    assert not Deal.objects.exists()


def test_a_disqualified_lead_cannot_be_converted(sales_client):
    lead = LeadFactory(status=Lead.Status.DISQUALIFIED, disqualified_reason="Duplicate")

    response = sales_client.post(lead_url("lead_convert", lead), {})

    assert response.status_code == 400
    assert "A disqualified lead cannot be converted." in response.content.decode()
    assert not Deal.objects.exists()


def test_disqualifying_records_the_reason(sales_client):
    lead = LeadFactory()

    response = sales_client.post(lead_url("lead_disqualify", lead), {"reason": "No budget this year"})

    lead.refresh_from_db()
    assert response.status_code == 302
    assert lead.status == Lead.Status.DISQUALIFIED
    assert lead.disqualified_reason == "No budget this year"


@pytest.mark.parametrize("reason", ["", "   "])
def test_disqualifying_without_a_reason_is_refused(sales_client, reason):
    lead = LeadFactory()

    response = sales_client.post(lead_url("lead_disqualify", lead), {"reason": reason})

    lead.refresh_from_db()
    assert response.status_code == 400
    assert "Say why the lead is disqualified." in response.content.decode()
    assert lead.status == Lead.Status.NEW


# Edit and delete -------------------------------------------------------------------------------


def test_editing_a_lead_saves_it_and_can_change_its_owner(sales_client, make_user):
    lead = LeadFactory(first_name="Ada")
    colleague = make_user("sales")

    response = sales_client.post(
        lead_url("lead_update", lead), {**lead_form_data(first_name="Augusta"), "owner": colleague.pk}
    )

    lead.refresh_from_db()
    assert response.status_code == 302
    assert (lead.first_name, lead.owner) == ("Augusta", colleague)


def test_editing_a_converted_lead_is_refused_with_the_reason(sales_client):
    lead = LeadFactory(first_name="Ada")
    services.lead_convert(lead=lead)

    response = sales_client.post(lead_url("lead_update", lead), lead_form_data(first_name="Augusta"))

    lead.refresh_from_db()
    assert response.status_code == 200
    assert "A converted lead cannot be edited; edit its contact and deal instead." in response.content.decode()
    assert lead.first_name == "Ada"


def test_deleting_a_lead_removes_it(sales_client):
    lead = LeadFactory()

    response = sales_client.post(lead_url("lead_delete", lead))

    assert response.status_code == 302
    assert response["Location"] == LEAD_LIST
    assert not Lead.objects.exists()


def test_deleting_a_converted_lead_is_refused_with_the_reason(sales_client):
    lead = LeadFactory()
    services.lead_convert(lead=lead)

    response = sales_client.post(lead_url("lead_delete", lead))

    assert response["Location"] == lead.get_absolute_url()
    assert messages_of(response) == ["A converted lead cannot be deleted: its deal refers to it."]
    assert Lead.objects.filter(pk=lead.pk).exists()


# Permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lead_list", "lead_create", "lead_detail", "lead_update", "lead_delete"])
def test_support_cannot_open_lead_pages(client, support_user, name):
    lead = LeadFactory()
    client.force_login(support_user)

    url = (
        reverse(f"sales:{name}", args=[lead.pk])
        if name not in {"lead_list", "lead_create"}
        else reverse(f"sales:{name}")
    )
    response = client.get(url)

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


def test_a_manager_reads_a_lead_without_action_buttons(client, manager_user):
    lead = LeadFactory()
    client.force_login(manager_user)

    response = client.get(lead.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "Convert to deal" not in html and "Disqualify" not in html and ">Edit<" not in html


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("lead_create", None),
        ("lead_update", None),
        ("lead_delete", None),
        ("lead_status", {"status": "working"}),
        ("lead_convert", {}),
        ("lead_disqualify", {"reason": "No"}),
    ],
)
def test_a_manager_cannot_change_leads(client, manager_user, name, data):
    lead = LeadFactory()
    client.force_login(manager_user)

    url = reverse("sales:lead_create") if name == "lead_create" else lead_url(name, lead)
    response = client.post(url, data or lead_form_data())

    lead.refresh_from_db()
    assert response.status_code == 403
    assert lead.status == Lead.Status.NEW
    assert Lead.objects.count() == 1
    assert not Deal.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(LEAD_LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_long_email_may_wrap_at_its_at_sign_and_dots_only_and_stays_escaped(sales_client, sales_user):
    LeadFactory(owner=sales_user, email="gilles.pinto@sequoia-logistics.example.com")
    LeadFactory(owner=sales_user, first_name="<b>x</b>", email="")

    html = sales_client.get(LEAD_LIST).content.decode()

    assert "gilles<wbr>.pinto@<wbr>sequoia-logistics<wbr>.example<wbr>.com" in html
    assert "<b>x</b>" not in html
