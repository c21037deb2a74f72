"""Importing campaigns, spend, leads, deals, orders and subscriptions."""

import datetime
import io
from decimal import Decimal

import pytest

from contacts.importing import records_import
from sales.models import Campaign, Deal, DealStageChange, Lead, Order, Pipeline, Spend, Stage, Subscription
from tests.contacts.factories import ContactFactory
from tests.imports.conftest import problems, reasons
from tests.sales.factories import CampaignFactory, DealFactory, SubscriptionFactory, stage

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def contacts(db):
    return {key: ContactFactory(external_id=key) for key in ("c-1", "c-2")}


# Campaigns and spend


def test_campaigns_and_their_spend_are_imported(import_csv):
    import_csv(
        "campaigns", "external_id,name,channel,starts_on,ends_on\ncamp-1,Spring webinar,Events,2024-03-01,2024-03-31"
    )

    import_csv(
        "spend",
        """
        external_id,spent_on,amount,category,channel,campaign
        sp-1,2024-03-15,650.50,acquisition,Events,camp-1
        sp-2,2024-06-30,400,retention,,
        """,
    )

    campaign = Campaign.objects.get(external_id="camp-1")
    assert (campaign.name, campaign.channel.name, campaign.starts_on) == (
        "Spring webinar",
        "Events",
        datetime.date(2024, 3, 1),
    )
    spend = Spend.objects.get(external_id="sp-1")
    assert (spend.amount, spend.category, spend.campaign, spend.channel.name) == (
        Decimal("650.50"),
        "acquisition",
        campaign,
        "Events",
    )
    assert Spend.objects.get(external_id="sp-2").amount == Decimal("400.00")


def test_a_campaign_cannot_end_before_it_starts(import_csv):
    result = import_csv("campaigns", "external_id,name,starts_on,ends_on\ncamp-1,Spring,2024-03-31,2024-03-01")

    assert problems(result) == [(2, "ends_on")]


def test_a_campaign_name_belongs_to_one_campaign(import_csv):
    CampaignFactory(name="Search ads", external_id="")

    result = import_csv("campaigns", "external_id,name\ncamp-1,Webinar\ncamp-2,WEBINAR\ncamp-3,search ads")

    assert problems(result) == [(3, "name"), (4, "name")]


def test_spend_needs_a_known_category_and_campaign(import_csv):
    result = import_csv("spend", "external_id,spent_on,amount,category,campaign\nsp-1,2024-01-31,10,brand,camp-404")

    assert problems(result) == [(2, "category"), (2, "campaign")]


# Leads


def test_leads_are_imported_with_their_conversion(import_csv, contacts):
    import_csv(
        "leads",
        """
        external_id,first_name,last_name,email,company_name,channel,status,created_at,converted_at,contact
        l-1,Bob,Martin,Bob@Globex.example,Globex,Paid ads,converted,2024-01-28T12:00Z,2024-02-01T09:00Z,c-1
        l-2,,,,Stone & Co,,disqualified,2024-03-21T09:30Z,,
        """,
    )

    lead = Lead.objects.get(external_id="l-1")
    assert (lead.status, lead.email, lead.contact, lead.channel.name) == (
        "converted",
        "bob@globex.example",
        contacts["c-1"],
        "Paid ads",
    )
    assert lead.converted_at == datetime.datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
    assert Lead.objects.get(external_id="l-2").status == "disqualified"


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",,,new,2024-01-01T00:00Z,", "first_name", "a name, an e-mail or a company"),
        ("Bob,,,converted,2024-01-01T00:00Z,", "converted_at", "needs converted_at"),
        ("Bob,,,working,2024-01-01T00:00Z,2024-01-02T00:00Z", "converted_at", "only a converted lead"),
        ("Bob,,,converted,2024-01-05T00:00Z,2024-01-02T00:00Z", "converted_at", "before created_at"),
    ],
)
def test_lead_rules(import_csv, row, column, reason):
    result = import_csv("leads", f"external_id,first_name,email,company_name,status,created_at,converted_at\nl-1,{row}")

    assert problems(result) == [(2, column)]
    assert reason in reasons(result)


# Deals

DEALS = "external_id,title,contact,kind,amount,pipeline,stage,status,created_at,closed_at,lost_reason,lead\n"


def test_deals_go_to_the_stage_their_status_says_when_none_is_given(import_csv, contacts):
    import_csv(
        "deals",
        DEALS
        + """d-1,Won,c-1,new,24000.00,,,won,2024-01-12T09:00Z,2024-02-15T14:00Z,,
        d-2,Lost,c-1,new,5000,,,lost,2024-03-10T12:00Z,2024-04-02T12:00Z,Too expensive,
        d-3,Open,c-2,upsell,8000,,,open,2024-09-02T10:00Z,,,
        d-4,Proposal,c-2,renewal,100,Sales,proposal,open,2024-09-02T10:00Z,,,""",
    )

    stages = dict(Deal.objects.values_list("external_id", "stage__name"))
    assert stages == {"d-1": "Won", "d-2": "Lost", "d-3": "Qualification", "d-4": "Proposal"}
    won = Deal.objects.get(external_id="d-1")
    assert (won.status, won.amount, won.closed_at, won.stage_changed_at) == (
        "won",
        Decimal("24000.00"),
        datetime.datetime(2024, 2, 15, 14, 0, tzinfo=UTC),
        datetime.datetime(2024, 2, 15, 14, 0, tzinfo=UTC),
    )
    assert Deal.objects.get(external_id="d-2").lost_reason == "Too expensive"


def test_winning_an_imported_deal_leaves_the_contact_as_imported(import_csv, contacts):
    import_csv("deals", DEALS + "d-1,Won,c-1,new,100,,,won,2024-01-12T09:00Z,2024-02-15T14:00Z,,")

    contacts["c-1"].refresh_from_db()
    assert contacts["c-1"].customer_since is None


def test_a_new_deal_gets_one_stage_change_and_a_second_import_adds_none(import_csv, contacts):
    import_csv("deals", DEALS + "d-1,Won,c-1,new,100,,,won,2024-01-12T09:00Z,2024-02-15T14:00Z,,")
    import_csv("deals", DEALS + "d-1,Won big,c-1,new,200,,,won,2024-01-12T09:00Z,2024-02-15T14:00Z,,")

    change = DealStageChange.objects.get()
    assert (change.to_stage.name, change.changed_at) == ("Won", datetime.datetime(2024, 2, 15, 14, 0, tzinfo=UTC))


def test_a_pipeline_and_a_stage_named_by_the_file_are_created(import_csv, contacts):
    result = import_csv("deals", DEALS + "d-1,Big,c-1,new,5000,Enterprise,Discovery,open,2024-03-10T09:00Z,,,")

    pipeline = Pipeline.objects.get(name="Enterprise")
    names = list(pipeline.stages.order_by("position").values_list("name", "kind"))
    assert names[-1] == ("Discovery", "open")
    assert ("Won", "won") in names and ("Lost", "lost") in names
    assert Deal.objects.get().stage.name == "Discovery"
    assert result.notes == [
        "new pipeline: Enterprise (with the default stages)",
        "new stage in Enterprise: Discovery (an open stage, after the others)",
    ]


def test_a_skipped_row_leaves_no_stage_nor_pipeline_behind(import_csv, contacts):
    result = import_csv(
        "deals",
        DEALS
        + "d-1,Good,c-1,new,1,,,open,2024-03-10T09:00Z,,,\n"
        + "d-2,Ghost,c-1,new,1,,Ghost Stage,won,2024-03-10T09:00Z,2024-03-11T09:00Z,,\n"
        + "d-3,Nowhere,c-1,new,1,Phantom,Ghost Stage,won,2024-03-10T09:00Z,2024-03-11T09:00Z,,",
        skip_bad_rows=True,
    )

    assert [problem.line for problem in result.problems] == [3, 4]
    assert list(Deal.objects.values_list("external_id", flat=True)) == ["d-1"]
    assert not Stage.objects.filter(name="Ghost Stage").exists()
    assert not Pipeline.objects.filter(name="Phantom").exists()
    assert result.notes == []


def test_a_dry_run_creates_no_pipeline(import_csv, contacts):
    import_csv("deals", DEALS + "d-1,Big,c-1,new,5000,Enterprise,,open,2024-03-10T09:00Z,,,", dry_run=True)

    assert not Pipeline.objects.filter(name="Enterprise").exists()


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("won,2024-01-12T09:00Z,", "closed_at", "a won deal needs closed_at"),
        ("lost,2024-01-12T09:00Z,", "closed_at", "a lost deal needs closed_at"),
        ("open,2024-01-12T09:00Z,2024-02-01T00:00Z", "closed_at", "an open deal has no closed_at"),
        ("won,2024-01-12T09:00Z,2024-01-01T00:00Z", "closed_at", "before created_at"),
    ],
)
def test_deal_close_rules(import_csv, contacts, row, column, reason):
    result = import_csv("deals", f"external_id,title,kind,amount,status,created_at,closed_at\nd-1,Deal,new,100,{row}")

    assert problems(result) == [(2, column)]
    assert reason in reasons(result)


def test_a_deal_stage_must_match_its_status(import_csv, contacts):
    result = import_csv("deals", DEALS + "d-1,Deal,c-1,new,100,,Won,open,2024-01-12T09:00Z,,,")

    assert problems(result) == [(2, "stage")]
    assert "Won is a won stage, but the deal is open" in reasons(result)


def test_a_deal_names_its_lead_by_external_id(import_csv, contacts):
    import_csv("leads", "external_id,first_name,status,created_at\nl-1,Bob,qualified,2024-01-01T00:00Z")

    result = import_csv(
        "deals",
        DEALS
        + "d-1,Deal,c-1,new,100,,,open,2024-01-12T09:00Z,,,l-1\nd-2,Deal,c-1,new,1,,,open,2024-01-12T09:00Z,,,l-9",
    )

    assert problems(result) == [(3, "lead")]


# Orders


def test_orders_are_imported_with_their_won_deal(import_csv, contacts):
    deal = DealFactory(
        contact=contacts["c-1"],
        external_id="d-1",
        stage=stage("Won"),
        status="won",
        created_at=datetime.datetime(2024, 1, 1, tzinfo=UTC),
        closed_at=datetime.datetime(2024, 2, 1, tzinfo=UTC),
    )

    import_csv("orders", "external_id,contact,deal,ordered_at,amount\no-1,c-1,d-1,2024-02-16T09:00+01:00,24000.00")

    order = Order.objects.get()
    assert (order.contact, order.deal, order.amount) == (contacts["c-1"], deal, Decimal("24000.00"))
    assert order.ordered_at == datetime.datetime(2024, 2, 16, 8, 0, tzinfo=UTC)


def test_an_order_comes_from_a_won_deal_of_the_same_contact(import_csv, contacts):
    DealFactory(contact=contacts["c-1"], external_id="d-open")
    DealFactory(
        contact=contacts["c-2"],
        external_id="d-won",
        stage=stage("Won"),
        status="won",
        created_at=datetime.datetime(2024, 1, 1, tzinfo=UTC),
        closed_at=datetime.datetime(2024, 2, 1, tzinfo=UTC),
    )

    result = import_csv(
        "orders",
        """
        external_id,contact,deal,ordered_at,amount
        o-1,c-1,d-open,2024-02-16T09:00Z,10
        o-2,c-1,d-won,2024-02-16T09:00Z,10
        """,
    )

    assert problems(result) == [(2, "deal"), (3, "deal")]
    assert "is open" in reasons(result) and "another contact" in reasons(result)


# Subscriptions

SUBSCRIPTIONS = "external_id,contact,plan,amount,starts_on,ends_on,outcome,renews\n"


def test_a_renewal_may_name_a_subscription_above_it_in_the_file(import_csv, contacts):
    result = import_csv(
        "subscriptions",
        SUBSCRIPTIONS
        + """s-1,c-1,Annual,24000.00,2024-02-15,2025-02-15,renewed,
        s-2,c-1,Annual,26000.00,2025-02-15,2026-02-15,active,s-1""",
    )

    assert result.created == 2
    renewal = Subscription.objects.get(external_id="s-2")
    assert (renewal.renews.external_id, renewal.amount, renewal.outcome) == ("s-1", Decimal("26000.00"), "active")


def test_a_renewal_may_name_a_subscription_of_an_earlier_batch_or_import(import_csv, contacts):
    rows = "".join(
        f"s-{n},c-1,Monthly,10,2024-{n:02d}-01,2024-{n + 1:02d}-01,renewed,{f's-{n - 1}' if n > 1 else ''}\n"
        for n in range(1, 11)
    )
    records_import(kind="subscriptions", stream=io.BytesIO((SUBSCRIPTIONS + rows).encode()), batch_size=3)
    import_csv("subscriptions", SUBSCRIPTIONS + "s-11,c-1,Monthly,10,2024-11-01,2024-12-01,active,s-10")

    chain = dict(Subscription.objects.values_list("external_id", "renews__external_id"))
    assert chain["s-1"] is None and chain["s-4"] == "s-3" and chain["s-10"] == "s-9" and chain["s-11"] == "s-10"


def test_a_renewal_of_a_subscription_below_it_or_unknown_is_an_error(import_csv, contacts):
    result = import_csv(
        "subscriptions",
        SUBSCRIPTIONS
        + """s-2,c-1,Annual,1,2025-02-15,2026-02-15,active,s-1
        s-1,c-1,Annual,1,2024-02-15,2025-02-15,renewed,
        s-3,c-1,Annual,1,2024-02-15,2025-02-15,renewed,s-3""",
    )

    assert problems(result) == [(2, "renews"), (4, "renews")]
    assert "earlier in this file" in reasons(result) and "itself" in reasons(result)


def test_subscription_rules(import_csv, contacts):
    SubscriptionFactory(contact=contacts["c-1"], external_id="s-old")
    SubscriptionFactory(contact=contacts["c-1"], external_id="s-renewed")
    SubscriptionFactory(
        contact=contacts["c-1"], external_id="s-by-hand", renews=Subscription.objects.get(external_id="s-renewed")
    )

    result = import_csv(
        "subscriptions",
        SUBSCRIPTIONS
        + """s-1,c-1,Annual,1,2025-02-15,2025-02-15,active,
        s-2,c-2,Annual,1,2025-02-15,2026-02-15,active,s-old
        s-3,c-1,Annual,1,2025-02-15,2026-02-15,active,s-old
        s-4,c-1,Annual,1,2025-02-15,2026-02-15,active,s-old
        s-5,c-1,Annual,1,2025-02-15,2026-02-15,active,s-renewed""",
    )

    assert problems(result) == [(2, "ends_on"), (3, "renews"), (5, "renews"), (6, "renews")]
    text = reasons(result)
    assert "on or before starts_on" in text and "another contact" in text
    assert "renewed on line 4 already" in text and "renewed by 's-by-hand' already" in text
