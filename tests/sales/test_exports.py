"""What the sales exports write, cell by cell: leads, deals, orders, subscriptions, campaigns and spend."""

import datetime
from datetime import UTC
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory
from tests.exports import csv_records
from tests.sales.factories import (
    CampaignFactory,
    DealFactory,
    LeadFactory,
    OrderFactory,
    SpendFactory,
    SubscriptionFactory,
    default_pipeline,
    stage,
)

pytestmark = pytest.mark.django_db

CREATED = datetime.datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
CLOSED = datetime.datetime(2025, 4, 15, 16, 5, 30, tzinfo=UTC)


def export(client, name: str, mode: str, **params) -> list[dict]:
    return csv_records(client.get(reverse(f"sales:{name}_list"), {**params, "export": mode}))


@pytest.fixture
def owner(make_user):
    return make_user("sales", username="owen", email="owen@example.com", first_name="Owen", last_name="Ng")


@pytest.fixture
def ada():
    return ContactFactory(first_name="Ada", last_name="Lovelace", company=CompanyFactory(external_id="ACME-1"),
                          external_id="C-1")  # fmt: skip


@pytest.fixture
def spring(owner):
    return CampaignFactory(
        name="Spring webinar",
        channel=ChannelFactory(name="Events"),
        starts_on=datetime.date(2025, 3, 1),
        ends_on=datetime.date(2025, 3, 31),
        external_id="CAMP-1",
    )


def test_leads_for_re_import_are_written_in_the_import_format(sales_client, owner, spring, ada):
    LeadFactory(
        first_name="Grace",
        last_name="Hopper",
        email="grace@navy.example",
        company_name="Navy",
        channel=ChannelFactory(name="Referral"),
        campaign=spring,
        owner=owner,
        status="converted",
        created_at=CREATED,
        converted_at=CLOSED,
        contact=ada,
        external_id="L-1",
    )

    (row,) = export(sales_client, "lead", "reimport", owner="")

    assert row == {
        "external_id": "L-1",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example",
        "company_name": "Navy",
        "channel": "Referral",
        "campaign": "CAMP-1",
        "owner_email": "owen@example.com",
        "status": "converted",
        "created_at": "2025-03-04T09:30:00+00:00",
        "converted_at": "2025-04-15T16:05:30+00:00",
        "contact": "C-1",
    }


def test_deals_for_re_import_are_written_in_the_import_format(sales_client, owner, ada):
    lead = LeadFactory(external_id="")
    deal = DealFactory(
        title="Acme rollout",
        contact=ada,
        company=ada.company,
        owner=owner,
        channel=ChannelFactory(name="Outbound"),
        kind="upsell",
        amount=Decimal("12500.50"),
        stage=stage("Won"),
        status="won",
        created_at=CREATED,
        closed_at=CLOSED,
        lead=lead,
        external_id="",
    )

    (row,) = export(sales_client, "deal", "reimport", owner="")

    assert row == {
        "external_id": f"crm-deal-{deal.pk}",
        "title": "Acme rollout",
        "contact": "C-1",
        "company": "ACME-1",
        "owner_email": "owen@example.com",
        "channel": "Outbound",
        "kind": "upsell",
        "amount": "12500.50",
        "pipeline": default_pipeline().name,
        "stage": "Won",
        "status": "won",
        "created_at": "2025-03-04T09:30:00+00:00",
        "closed_at": "2025-04-15T16:05:30+00:00",
        "lost_reason": "",
        "lead": f"crm-lead-{lead.pk}",
    }


def test_deals_for_people_are_written_readably(sales_client, owner, ada):
    DealFactory(title="Acme rollout", contact=ada, owner=owner, kind="cross_sell", amount=Decimal("1000.00"),
                stage=stage("Proposal"), created_at=CREATED)  # fmt: skip

    (row,) = export(sales_client, "deal", "csv", owner="")

    assert {name: row[name] for name in ("Title", "Contact", "Owner", "Kind", "Amount", "Stage", "Status")} == {
        "Title": "Acme rollout",
        "Contact": "Ada Lovelace",
        "Owner": "Owen Ng",
        "Kind": "Cross-sell",
        "Amount": "1000.00",
        "Stage": "Proposal",
        "Status": "Open",
    }
    assert (row["Probability %"], row["Weighted amount"], row["Created"]) == (
        "50",
        "500.00",
        "2025-03-04T09:30:00+00:00",
    )


def test_orders_for_re_import_are_written_in_the_import_format(sales_client, ada):
    deal = DealFactory(contact=ada, external_id="D-9")
    OrderFactory(contact=ada, deal=deal, ordered_at=CLOSED, amount=Decimal("99.90"), external_id="O-1")

    (row,) = export(sales_client, "order", "reimport")

    assert row == {
        "external_id": "O-1",
        "contact": "C-1",
        "deal": "D-9",
        "ordered_at": "2025-04-15T16:05:30+00:00",
        "amount": "99.90",
    }


def test_subscriptions_for_re_import_refer_to_the_one_they_renew(client, manager_user, ada):
    client.force_login(manager_user)
    first = SubscriptionFactory(contact=ada, outcome="renewed", external_id="S-1",
                                starts_on=datetime.date(2024, 1, 1), ends_on=datetime.date(2025, 1, 1))  # fmt: skip
    SubscriptionFactory(contact=ada, plan="Business", amount=Decimal("2400.00"), renews=first, external_id="S-2",
                        starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 1, 1))  # fmt: skip

    rows = export(client, "subscription", "reimport", ordering="starts")

    assert rows == [
        {
            "external_id": "S-1",
            "contact": "C-1",
            "plan": "Team",
            "amount": "1200.00",
            "starts_on": "2024-01-01",
            "ends_on": "2025-01-01",
            "outcome": "renewed",
            "renews": "",
        },
        {
            "external_id": "S-2",
            "contact": "C-1",
            "plan": "Business",
            "amount": "2400.00",
            "starts_on": "2025-01-01",
            "ends_on": "2026-01-01",
            "outcome": "active",
            "renews": "S-1",
        },
    ]


def test_campaigns_for_re_import_are_written_in_the_import_format(sales_client, spring):
    (row,) = export(sales_client, "campaign", "reimport")

    assert row == {
        "external_id": "CAMP-1",
        "name": "Spring webinar",
        "channel": "Events",
        "starts_on": "2025-03-01",
        "ends_on": "2025-03-31",
    }


def test_campaigns_for_people_show_their_spend_and_leads(sales_client, spring):
    SpendFactory(campaign=spring, amount=Decimal("100.10"))
    SpendFactory(campaign=spring, amount=Decimal("0.20"))
    LeadFactory(campaign=spring)

    (row,) = export(sales_client, "campaign", "csv")

    assert (row["Name"], row["Spend"], row["Leads"], row["Starts on"]) == (
        "Spring webinar",
        "100.30",
        "1",
        "2025-03-01",
    )


def test_spend_for_re_import_is_written_in_the_import_format(sales_client, spring):
    SpendFactory(spent_on=datetime.date(2025, 3, 2), amount=Decimal("750.00"), category="acquisition",
                 channel=ChannelFactory(name="Paid ads"), campaign=spring, external_id="SP-1")  # fmt: skip

    (row,) = export(sales_client, "spend", "reimport")

    assert row == {
        "external_id": "SP-1",
        "spent_on": "2025-03-02",
        "amount": "750.00",
        "category": "acquisition",
        "channel": "Paid ads",
        "campaign": "CAMP-1",
    }


def test_spend_for_people_names_its_category(sales_client, spring):
    SpendFactory(category="retention", campaign=spring, amount=Decimal("12.00"))

    (row,) = export(sales_client, "spend", "csv")

    assert (row["Category"], row["Campaign"], row["Amount"]) == ("Retention", "Spring webinar", "12.00")
