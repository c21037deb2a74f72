"""Drill-downs: for every KPI, the list a number links to shows exactly as many records as the number counts.

One small business in March and April 2025 (UTC) touches every KPI. For each KPI the snapshots of April are
refreshed, then every segment of every dimension (and the whole business) is checked: the list behind the
numerator, the denominator or the sample (whichever counts records) holds that many rows, read from the list
page a manager opens.
"""

import datetime
from decimal import Decimal

import pytest

from contacts.models import Company
from kpis.definitions.base import registry
from kpis.drilldown import drilldown_for
from kpis.models import KpiSnapshot
from kpis.periods import Period
from sales.models import Lead
from surveys.models import Response
from tests.kpis.conftest import (
    at,
    channel,
    make_customer,
    make_deal,
    make_interaction,
    make_order,
    make_spend,
    make_subscription,
    make_ticket,
    refresh_kpis,
    user,
)
from tests.sales.factories import CampaignFactory, LeadFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

APRIL = Period("month", datetime.date(2025, 4, 1))


def business():
    """Customers, orders, spend, subscriptions, interactions, leads, deals, tickets and answers around April."""
    referral, paid = channel("Referral"), channel("Paid ads")
    alice, bob, agent = user("alice"), user("bob"), user("agent.ann")
    retail = Company.objects.create(name="Shop Ltd", industry="Retail")
    c1 = make_customer(
        at(2025, 1, 10), at(2025, 4, 12), channel=referral, owner=alice, region="North", industry="Software"
    )
    c2 = make_customer(at(2025, 2, 3), channel=referral, owner=bob, region="South", company=retail, industry="")
    c3 = make_customer(at(2025, 3, 15), at(2025, 4, 25), channel=paid, owner=alice, region="North")
    c4 = make_customer(at(2025, 4, 5), channel=paid)
    c5 = make_customer(at(2025, 4, 8), at(2025, 4, 20), region="South")
    make_customer(at(2025, 2, 20), at(2025, 3, 10), channel=referral)
    make_customer(at(2025, 4, 28), channel=referral, owner=bob)
    prospect = make_customer(None, channel=paid)

    make_order(c1, at(2025, 3, 5), "100.00")
    make_order(c1, at(2025, 4, 3), "200.00")
    make_order(c2, at(2024, 10, 4), "70.00")
    make_order(c2, at(2025, 4, 10), "50.00")
    make_order(c2, at(2025, 4, 11), "60.00")
    make_order(c3, at(2025, 4, 2), "80.00")
    make_order(c4, at(2025, 4, 20), "300.00")
    make_order(prospect, at(2025, 4, 15), "40.00")

    spring = CampaignFactory(name="Spring", channel=paid)
    autumn = CampaignFactory(name="Autumn", channel=referral)
    make_spend(datetime.date(2025, 4, 3), "500.00", channel=referral)
    make_spend(datetime.date(2025, 4, 4), "300.00", channel=paid)
    make_spend(datetime.date(2025, 4, 5), "100.00")
    make_spend(datetime.date(2025, 4, 6), "50.00", category="retention")
    make_spend(datetime.date(2025, 4, 7), "200.00", channel=paid, campaign=spring)
    make_spend(datetime.date(2025, 4, 8), "150.00", channel=referral, campaign=autumn)
    make_spend(datetime.date(2024, 11, 8), "400.00", channel=referral)

    make_subscription(c1, datetime.date(2025, 4, 10), "renewed")
    make_subscription(c2, datetime.date(2025, 4, 15), "cancelled")
    make_subscription(c3, datetime.date(2025, 4, 20), "expired")
    make_subscription(c4, datetime.date(2025, 4, 22), "active")

    for contact, when in [(c1, at(2025, 4, 2)), (c2, at(2025, 4, 3)), (c2, at(2025, 4, 4)), (c5, at(2025, 4, 9)),
                          (prospect, at(2025, 4, 10))]:  # fmt: skip
        make_interaction(contact, when)

    def lead(created, converted=None, **fields):
        status = Lead.Status.CONVERTED if converted else Lead.Status.NEW
        return LeadFactory(created_at=created, converted_at=converted, status=status, **fields)

    from_spring = lead(at(2025, 4, 2), at(2025, 4, 10), channel=paid, campaign=spring, owner=alice)
    from_autumn = lead(at(2025, 3, 2), at(2025, 3, 20), channel=referral, campaign=autumn, owner=bob)
    lead(at(2025, 4, 3), channel=paid, owner=bob)
    lead(at(2025, 4, 20), at(2025, 4, 21), channel=None, owner=bob)
    lead(at(2025, 3, 30), channel=referral)

    make_deal(
        created=at(2025, 3, 1),
        status="won",
        closed=at(2025, 4, 10),
        amount="1000.00",
        channel=referral,
        owner=alice,
        contact=c1,
        lead=from_spring,
    )
    make_deal(created=at(2025, 3, 5), status="lost", closed=at(2025, 4, 12), channel=paid, owner=bob, contact=c3)
    make_deal(
        created=at(2025, 4, 1),
        status="won",
        closed=at(2025, 4, 15),
        amount="500.00",
        kind="upsell",
        channel=referral,
        owner=bob,
        contact=c2,
        lead=from_autumn,
    )
    make_deal(
        created=at(2025, 4, 2),
        status="won",
        closed=at(2025, 4, 16),
        amount="300.00",
        kind="cross_sell",
        channel=referral,
        owner=bob,
        contact=c2,
    )
    make_deal(created=at(2025, 3, 20), owner=alice, contact=c1)
    make_deal(
        created=at(2025, 4, 3),
        status="won",
        closed=at(2025, 4, 18),
        amount="200.00",
        kind="upsell",
        channel=paid,
        owner=alice,
        contact=c4,
    )
    make_deal(created=at(2025, 4, 29), owner=bob, contact=c2)
    make_deal(created=at(2025, 2, 1), status="won", closed=at(2025, 3, 28), owner=alice, contact=c3)  # fmt: skip

    t1 = make_ticket(
        at(2025, 4, 2, 9),
        first_response=at(2025, 4, 2, 10),
        resolved=at(2025, 4, 3),
        first_response_due_at=at(2025, 4, 2, 11),
        agent_replies=1,
        contact=c1,
        channel="email",
        priority="high",
        assignee=agent,
    )
    t2 = make_ticket(
        at(2025, 4, 5, 9),
        first_response=at(2025, 4, 5, 14),
        resolved=at(2025, 4, 10),
        first_response_due_at=at(2025, 4, 5, 11),
        agent_replies=3,
        contact=c2,
        channel="chat",
        assignee=agent,
    )
    make_ticket(at(2025, 4, 6, 9), first_response_due_at=at(2025, 4, 6, 10), contact=c3, channel="email")
    make_ticket(at(2025, 4, 7, 9), contact=c4, channel="phone")
    make_ticket(at(2025, 3, 30), first_response=at(2025, 3, 30, 2), resolved=at(2025, 4, 2), contact=c2,
                channel="email", reopened_count=1, assignee=agent)  # fmt: skip

    nps, csat = SurveyFactory(kind="nps", name="Quarterly NPS"), SurveyFactory(kind="csat", name="Ticket CSAT")
    for contact, score in [(c1, 10), (c2, 6), (c3, 8), (prospect, 9)]:
        answer(InvitationFactory(survey=nps, contact=contact, sent_at=at(2025, 4, 1)), "nps", score)
    InvitationFactory(survey=nps, contact=c4, sent_at=at(2025, 4, 1))
    for ticket, score in [(t1, 5), (t2, 2)]:
        answer(InvitationFactory(survey=csat, contact=ticket.contact, ticket=ticket, sent_at=at(2025, 4, 12)), "csat",
               score)  # fmt: skip


def answer(invitation, kind: str, score: int) -> Response:
    return Response.objects.create(invitation=invitation, kind=kind, score=score, submitted_at=at(2025, 4, 14))


# (part of the drill-down, field of the snapshot that counts its records) for each KPI.
COUNTED = {
    "new_customers": [("numerator", "numerator")],
    "active_customers": [("numerator", "numerator")],
    "churn_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "retention_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "revenue": [("sample", "sample_size")],
    "bookings": [("sample", "sample_size")],
    "average_order_value": [("denominator", "denominator")],
    "repeat_purchase_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "cac": [("denominator", "denominator")],
    "crc": [("denominator", "denominator")],
    "clv": [("sample", "sample_size")],
    "clv_cac_ratio": [("sample", "sample_size")],
    "upsell_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "renewal_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "engagement": [("denominator", "denominator")],
    "new_leads": [("numerator", "numerator")],
    "lead_conversion_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "win_rate": [("numerator", "numerator"), ("denominator", "denominator")],
    "average_deal_size": [("denominator", "denominator")],
    "sales_cycle_length": [("denominator", "denominator")],
    "pipeline_velocity": [("sample", "sample_size")],
    "campaign_roi": [("sample", "sample_size")],
    "new_tickets": [("numerator", "numerator")],
    "first_response_time": [("sample", "sample_size")],
    "resolution_time": [("sample", "sample_size")],
    "first_contact_resolution": [("numerator", "numerator"), ("denominator", "denominator")],
    "sla_attainment": [("numerator", "numerator"), ("denominator", "denominator")],
    "csat": [("numerator", "numerator"), ("denominator", "denominator")],
    "nps": [("denominator", "denominator")],
    "survey_response_rate": [("numerator", "numerator")],
}
# Links to records that the snapshot counts in its details.
COUNTED_IN_DETAILS = {
    "pipeline_velocity": {"deals open at the end": "open_deals"},
    "first_response_time": {"tickets still waiting": "waiting"},
    "nps": {"promoters (9-10)": "promoters", "passives (7-8)": "passives", "detractors (0-6)": "detractors"},
}


def test_every_kpi_has_its_drill_down_checked_here():
    assert set(COUNTED) == set(registry())


def listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page_obj"].total


@pytest.mark.parametrize("key", sorted(COUNTED))
def test_the_drill_down_lists_as_many_records_as_the_number_counts(client, manager_user, key):
    business()
    refresh_kpis(key, granularity="month", since="2024-01-01")
    client.force_login(manager_user)
    snapshots = KpiSnapshot.objects.filter(kpi=key, granularity="month", period_start=APRIL.start)
    checked = 0

    for snapshot in snapshots:
        links = drilldown_for(key, APRIL, snapshot.dimension, snapshot.segment)
        for part, field in COUNTED[key]:
            link = getattr(links, part)
            expected = getattr(snapshot, field)
            where = f"{key} {snapshot.dimension}={snapshot.segment} {part} ({link.url})"
            assert listed(client, link.url) == int(expected or 0), where
            checked += 1
        for link in links.extra:
            detail = COUNTED_IN_DETAILS.get(key, {}).get(link.label)
            if detail is not None:
                assert listed(client, link.url) == snapshot.details[detail], f"{key} {link.label}"

    whole = snapshots.get(dimension="all")
    with_segments = 2 if registry()[key].dimensions else 1
    assert checked >= len(COUNTED[key]) * with_segments, "the whole business and at least one segment"
    assert any(int(getattr(whole, field) or 0) > 0 for _, field in COUNTED[key]), "a number worth checking"


def test_the_churned_customers_of_a_channel_are_its_lost_customers(client, manager_user):
    business()
    refresh_kpis("churn_rate", granularity="month", since="2024-01-01")
    client.force_login(manager_user)

    link = drilldown_for("churn_rate", APRIL, "channel", "Referral").numerator
    names = [contact.first_name for contact in client.get(link.url).context["object_list"]]

    assert len(names) == 1  # c1 churned on 12 April; c6 churned in March; nobody else from Referral
    assert link.csv_url.endswith("&export=csv")


def test_a_segment_without_a_value_drills_down_to_the_records_without_one(client, manager_user):
    business()
    refresh_kpis("new_customers", granularity="month", since="2024-01-01")
    client.force_login(manager_user)
    snapshot = KpiSnapshot.objects.get(
        kpi="new_customers", granularity="month", period_start=APRIL.start, dimension="channel", segment="(none)"
    )

    link = drilldown_for("new_customers", APRIL, "channel", "(none)").numerator

    assert snapshot.numerator == Decimal(1)  # c5
    assert listed(client, link.url) == 1


def test_drill_down_filters_appear_in_the_filter_bar_only_when_used(client, manager_user):
    client.force_login(manager_user)

    plain = client.get("/contacts/").content.decode()
    drilled = client.get("/contacts/?customer_on=2025-04-01&segment_channel=Referral").content.decode()

    assert 'name="customer_on"' not in plain
    assert 'type="date" name="customer_on" value="2025-04-01"' in drilled
    assert "Channel (segment)" in drilled and "Channel (segment)" not in plain
