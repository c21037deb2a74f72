"""The campaign and spend pages: what marketing costs, by campaign, channel, category and month."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse

from sales.models import Campaign, Spend
from tests.contacts.factories import ChannelFactory
from tests.sales.factories import CampaignFactory, LeadFactory, SpendFactory

pytestmark = pytest.mark.django_db

CAMPAIGN_LIST = reverse("sales:campaign_list")
CAMPAIGN_CREATE = reverse("sales:campaign_create")
SPEND_LIST = reverse("sales:spend_list")
SPEND_CREATE = reverse("sales:spend_create")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def day(value: str) -> datetime.date:
    return datetime.date.fromisoformat(value)


# Campaign list ---------------------------------------------------------------------------------


def test_the_campaign_list_shows_each_campaigns_spend_and_lead_count(sales_client):
    spring = CampaignFactory(name="Spring fair")
    SpendFactory(campaign=spring, amount=Decimal("1200.50"))
    SpendFactory(campaign=spring, amount=Decimal("300.00"))
    LeadFactory.create_batch(3, campaign=spring)
    CampaignFactory(name="Quiet one")

    response = sales_client.get(CAMPAIGN_LIST)

    rows = {campaign.name: (campaign.total_spend, campaign.lead_count) for campaign in shown(response)}
    assert rows == {"Spring fair": (Decimal("1500.50"), 3), "Quiet one": (Decimal("0.00"), 0)}
    html = response.content.decode()
    assert "1,500.50 EUR" in html
    assert "0.00 EUR" in html


def test_the_campaign_list_shows_spend_of_a_campaign_without_leads(sales_client):
    campaign = CampaignFactory(name="Spring fair")
    SpendFactory(campaign=campaign, amount=Decimal("1200.50"))
    SpendFactory(campaign=campaign, amount=Decimal("300.00"))

    response = sales_client.get(CAMPAIGN_LIST)

    (row,) = shown(response)
    assert (row.total_spend, row.lead_count) == (Decimal("1500.50"), 0)
    assert "1,500.50 EUR" in response.content.decode()


@override_settings(CRM_CURRENCY="USD")
def test_money_is_shown_in_the_configured_currency(sales_client):
    SpendFactory(campaign=CampaignFactory(), amount=Decimal("99.9"))

    html = sales_client.get(CAMPAIGN_LIST).content.decode()

    assert "99.90 USD" in html


def test_the_campaign_list_filters_by_channel_and_search(sales_client):
    events = ChannelFactory(name="Events")
    match = CampaignFactory(name="Spring fair", channel=events)
    CampaignFactory(name="Autumn fair", channel=events)
    CampaignFactory(name="Spring ads", channel=ChannelFactory(name="Paid ads"))

    response = sales_client.get(CAMPAIGN_LIST, {"channel": events.pk, "q": "spring"})

    assert shown(response) == [match]


def test_the_campaign_list_htmx_request_gets_only_the_results_fragment(sales_client):
    campaign = CampaignFactory()

    response = sales_client.get(CAMPAIGN_LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert campaign.get_absolute_url() in html


def campaigns_with_everything(count: int) -> None:
    for n in range(count):
        channel = ChannelFactory(name=f"Channel {Campaign.objects.count()} {n}")
        campaign = CampaignFactory(channel=channel)
        SpendFactory.create_batch(2, campaign=campaign, channel=channel)
        LeadFactory.create_batch(2, campaign=campaign, channel=channel)


def test_the_campaign_list_queries_do_not_grow_with_the_rows(sales_client, django_assert_max_num_queries):
    campaigns_with_everything(3)
    with django_assert_max_num_queries(15) as with_three_rows:
        sales_client.get(CAMPAIGN_LIST)

    campaigns_with_everything(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(CAMPAIGN_LIST)

    assert len(shown(response)) == PAGE_SIZE


# Campaign create, page, edit, delete -----------------------------------------------------------


def campaign_form_data(**overrides) -> dict:
    data = {"name": "Spring fair", "channel": "", "starts_on": "2026-03-01", "ends_on": "2026-03-31", "budget": ""}
    data.update(overrides)
    return data


def test_creating_a_campaign_stores_it_and_opens_its_page(sales_client):
    events = ChannelFactory(name="Events")

    response = sales_client.post(CAMPAIGN_CREATE, campaign_form_data(channel=events.pk, budget="5000"))

    campaign = Campaign.objects.get()
    assert response["Location"] == campaign.get_absolute_url()
    assert (campaign.name, campaign.channel, campaign.budget) == ("Spring fair", events, Decimal("5000.00"))
    assert (campaign.starts_on, campaign.ends_on) == (day("2026-03-01"), day("2026-03-31"))


def test_a_negative_budget_is_refused_with_a_clear_message(sales_client):
    response = sales_client.post(CAMPAIGN_CREATE, campaign_form_data(budget="-1"))

    assert response.status_code == 200
    assert response.context["form"].errors["budget"] == ["The amount cannot be negative."]
    assert not Campaign.objects.exists()


def test_a_campaign_cannot_end_before_it_starts(sales_client):
    response = sales_client.post(CAMPAIGN_CREATE, campaign_form_data(starts_on="2026-03-31", ends_on="2026-03-01"))

    assert "A campaign cannot end before it starts." in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_name_is_unique_whatever_its_case(sales_client):
    CampaignFactory(name="Spring fair")

    response = sales_client.post(CAMPAIGN_CREATE, campaign_form_data(name="SPRING FAIR"))

    assert "A campaign with this name exists." in response.content.decode()
    assert Campaign.objects.count() == 1


def test_the_campaign_page_shows_its_spend_and_leads(sales_client):
    campaign = CampaignFactory(name="Spring fair", budget=Decimal("5000.00"))
    spend = SpendFactory(campaign=campaign, amount=Decimal("1234.5"), description="Booth rental")
    lead = LeadFactory(campaign=campaign, first_name="Ada", last_name="Lovelace")
    SpendFactory(description="Other campaign's spend")

    response = sales_client.get(campaign.get_absolute_url())

    html = response.content.decode()
    assert list(response.context["spend_rows"]) == [spend]
    assert list(response.context["leads"]) == [lead]
    assert "Booth rental" in html and "Other campaign" not in html
    assert "1,234.50 EUR" in html and "5,000.00 EUR" in html
    assert lead.get_absolute_url() in html


def test_editing_a_campaign_saves_it(sales_client):
    campaign = CampaignFactory(name="Spring fair")

    response = sales_client.post(
        reverse("sales:campaign_update", args=[campaign.pk]), campaign_form_data(name="Spring fair 2026")
    )

    campaign.refresh_from_db()
    assert response.status_code == 302
    assert campaign.name == "Spring fair 2026"


def test_deleting_an_unused_campaign_removes_it(sales_client):
    campaign = CampaignFactory()

    response = sales_client.post(reverse("sales:campaign_delete", args=[campaign.pk]))

    assert response["Location"] == CAMPAIGN_LIST
    assert not Campaign.objects.exists()


def test_a_campaign_with_spend_cannot_be_deleted_and_the_page_says_why(sales_client):
    campaign = CampaignFactory(name="Spring fair")
    SpendFactory(campaign=campaign)

    response = sales_client.post(reverse("sales:campaign_delete", args=[campaign.pk]))

    assert response["Location"] == campaign.get_absolute_url()
    assert messages_of(response) == ["Spring fair cannot be deleted while other records refer to it: 1 spend."]
    assert Campaign.objects.filter(pk=campaign.pk).exists()


# Spend list: filters, totals, monthly table ----------------------------------------------------


def test_the_spend_list_filters_by_category_channel_campaign_and_dates(sales_client):
    ads = ChannelFactory(name="Paid ads")
    campaign = CampaignFactory(channel=ads)
    match = SpendFactory(channel=ads, campaign=campaign, category=Spend.Category.RETENTION, spent_on=day("2026-03-01"))
    SpendFactory(channel=ads, campaign=campaign, category=Spend.Category.ACQUISITION, spent_on=day("2026-03-02"))
    SpendFactory(channel=ads, campaign=campaign, category=Spend.Category.RETENTION, spent_on=day("2026-04-01"))
    SpendFactory(channel=ChannelFactory(name="Events"), category=Spend.Category.RETENTION, spent_on=day("2026-03-05"))

    response = sales_client.get(
        SPEND_LIST,
        {
            "category": "retention",
            "channel": ads.pk,
            "campaign": campaign.pk,
            "spent_after": "2026-03-01",
            "spent_before": "2026-03-31",
        },
    )

    assert shown(response) == [match]


def test_the_spend_list_totals_every_matching_row_not_only_the_page(sales_client):
    SpendFactory.create_batch(PAGE_SIZE + 5, amount=Decimal("10.00"), category=Spend.Category.ACQUISITION)
    SpendFactory(amount=Decimal("999.00"), category=Spend.Category.RETENTION)

    response = sales_client.get(SPEND_LIST, {"category": "acquisition"})

    assert len(shown(response)) == PAGE_SIZE
    assert response.context["total"] == Decimal("300.00")
    assert "300.00 EUR" in response.content.decode()


def test_the_spend_list_shows_monthly_totals_by_channel_and_category(sales_client):
    ads, events = ChannelFactory(name="Paid ads"), ChannelFactory(name="Events")
    SpendFactory(spent_on=day("2026-03-02"), channel=ads, category="acquisition", amount=Decimal("100.00"))
    SpendFactory(spent_on=day("2026-03-30"), channel=ads, category="acquisition", amount=Decimal("50.00"))
    SpendFactory(spent_on=day("2026-03-15"), channel=ads, category="retention", amount=Decimal("20.00"))
    SpendFactory(spent_on=day("2026-03-15"), channel=events, category="acquisition", amount=Decimal("7.00"))
    SpendFactory(spent_on=day("2026-04-01"), channel=None, category="retention", amount=Decimal("5.00"))

    response = sales_client.get(SPEND_LIST)

    months = response.context["months"]
    assert [month["month"] for month in months] == [day("2026-04-01"), day("2026-03-01")]
    april, march = months
    assert [(c["name"], c["acquisition"], c["retention"], c["total"]) for c in march["channels"]] == [
        ("Events", Decimal("7.00"), 0, Decimal("7.00")),
        ("Paid ads", Decimal("150.00"), Decimal("20.00"), Decimal("170.00")),
    ]
    assert (march["acquisition"], march["retention"], march["total"]) == (
        Decimal("157.00"),
        Decimal("20.00"),
        Decimal("177.00"),
    )
    assert [(c["name"], c["total"]) for c in april["channels"]] == [("", Decimal("5.00"))]
    html = response.content.decode()
    assert "Mar 2026" in html and "No channel" in html and "177.00" in html
    assert response.context["total"] == Decimal("182.00")


def test_the_monthly_totals_follow_the_filters(sales_client):
    ads = ChannelFactory(name="Paid ads")
    SpendFactory(spent_on=day("2026-03-02"), channel=ads, amount=Decimal("100.00"))
    SpendFactory(spent_on=day("2026-03-02"), channel=ChannelFactory(name="Events"), amount=Decimal("7.00"))

    response = sales_client.get(SPEND_LIST, {"channel": ads.pk})

    (march,) = response.context["months"]
    assert [c["name"] for c in march["channels"]] == ["Paid ads"]
    assert march["total"] == Decimal("100.00")


def test_the_spend_list_htmx_request_gets_the_rows_and_totals_fragment(sales_client):
    SpendFactory(amount=Decimal("42.00"))

    response = sales_client.get(SPEND_LIST, {"category": "acquisition"}, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert 'class="filters' not in html
    assert 'id="spend-total"' in html and "Monthly totals" in html


def spend_with_everything(count: int) -> None:
    for n in range(count):
        channel = ChannelFactory(name=f"Channel {Spend.objects.count()} {n}")
        SpendFactory(
            channel=channel,
            campaign=CampaignFactory(channel=channel),
            spent_on=day("2026-01-01") + datetime.timedelta(days=20 * n),
        )


def test_the_spend_list_queries_do_not_grow_with_the_rows(sales_client, django_assert_max_num_queries):
    spend_with_everything(3)
    with django_assert_max_num_queries(15) as with_three_rows:
        sales_client.get(SPEND_LIST)

    spend_with_everything(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(SPEND_LIST)

    assert len(shown(response)) == PAGE_SIZE


# Spend create, edit, delete --------------------------------------------------------------------


def spend_form_data(**overrides) -> dict:
    data = {
        "spent_on": "2026-03-15",
        "amount": "1234.56",
        "category": "acquisition",
        "channel": "",
        "campaign": "",
        "description": "Search ads, March",
    }
    data.update(overrides)
    return data


def test_recording_spend_stores_it_and_returns_to_the_list(sales_client):
    ads = ChannelFactory(name="Paid ads")

    response = sales_client.post(SPEND_CREATE, spend_form_data(channel=ads.pk))

    spend = Spend.objects.get()
    assert response["Location"] == SPEND_LIST
    assert (spend.spent_on, spend.amount, spend.category, spend.channel) == (
        day("2026-03-15"),
        Decimal("1234.56"),
        "acquisition",
        ads,
    )


def test_spend_for_a_campaign_takes_the_campaigns_channel_when_none_is_given(sales_client):
    events = ChannelFactory(name="Events")
    campaign = CampaignFactory(channel=events)

    sales_client.post(SPEND_CREATE, spend_form_data(campaign=campaign.pk))

    assert Spend.objects.get().channel == events


def test_the_new_spend_form_starts_from_the_campaign_of_the_campaign_page(sales_client):
    campaign = CampaignFactory()

    response = sales_client.get(SPEND_CREATE, {"campaign": campaign.pk})

    assert response.context["form"]["campaign"].value() == str(campaign.pk)


def test_negative_spend_is_refused_with_a_clear_message_and_nothing_stored(sales_client):
    response = sales_client.post(SPEND_CREATE, spend_form_data(amount="-10.00"))

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == ["The amount cannot be negative."]
    assert "The amount cannot be negative." in response.content.decode()
    assert 'value="Search ads, March"' in response.content.decode()
    assert not Spend.objects.exists()


def test_editing_spend_saves_it(sales_client):
    spend = SpendFactory(amount=Decimal("10.00"))

    response = sales_client.post(reverse("sales:spend_update", args=[spend.pk]), spend_form_data(amount="20.00"))

    spend.refresh_from_db()
    assert response["Location"] == SPEND_LIST
    assert spend.amount == Decimal("20.00")


def test_editing_spend_to_a_negative_amount_is_refused(sales_client):
    spend = SpendFactory(amount=Decimal("10.00"))

    response = sales_client.post(reverse("sales:spend_update", args=[spend.pk]), spend_form_data(amount="-20"))

    spend.refresh_from_db()
    assert response.context["form"].errors["amount"] == ["The amount cannot be negative."]
    assert spend.amount == Decimal("10.00")


def test_deleting_spend_removes_it(sales_client):
    spend = SpendFactory()

    confirm = sales_client.get(reverse("sales:spend_delete", args=[spend.pk]))
    response = sales_client.post(reverse("sales:spend_delete", args=[spend.pk]))

    assert "1,000.00 EUR" in confirm.content.decode()
    assert response["Location"] == SPEND_LIST
    assert not Spend.objects.exists()


# Permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["campaign_list", "campaign_detail", "spend_list", "campaign_create", "spend_create"])
def test_support_cannot_open_campaign_or_spend_pages(client, support_user, name):
    campaign = CampaignFactory()
    client.force_login(support_user)

    url = reverse(f"sales:{name}", args=[campaign.pk]) if name == "campaign_detail" else reverse(f"sales:{name}")
    response = client.get(url)

    assert response.status_code == 403


@pytest.mark.parametrize("name", ["campaign_list", "campaign_detail", "spend_list"])
def test_a_manager_reads_campaigns_and_spend(client, manager_user, name):
    campaign = CampaignFactory()
    SpendFactory(campaign=campaign)
    client.force_login(manager_user)

    url = reverse(f"sales:{name}", args=[campaign.pk]) if name == "campaign_detail" else reverse(f"sales:{name}")
    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "New campaign" not in html and "Record spend" not in html and ">Edit<" not in html


@pytest.mark.parametrize(
    ("name", "with_pk"),
    [
        ("campaign_create", False),
        ("campaign_update", True),
        ("campaign_delete", True),
        ("spend_create", False),
        ("spend_update", True),
        ("spend_delete", True),
    ],
)
def test_a_manager_cannot_change_campaigns_or_spend(client, manager_user, name, with_pk):
    campaign = CampaignFactory(name="Spring fair")
    spend = SpendFactory(amount=Decimal("10.00"))
    client.force_login(manager_user)
    target = spend if name.startswith("spend") else campaign

    url = reverse(f"sales:{name}", args=[target.pk]) if with_pk else reverse(f"sales:{name}")
    response = client.post(url, {**campaign_form_data(name="Changed"), **spend_form_data(amount="99")})

    campaign.refresh_from_db()
    spend.refresh_from_db()
    assert response.status_code == 403
    assert (campaign.name, spend.amount) == ("Spring fair", Decimal("10.00"))
    assert (Campaign.objects.count(), Spend.objects.count()) == (1, 1)
