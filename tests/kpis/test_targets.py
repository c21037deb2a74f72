"""Targets: managers set them per KPI and period (or standing), pages say on or off target, and the weekly
digest e-mail tells managers what moved most and what is off target, with links to the pages."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from kpis.digest import kpis_digest_send
from kpis.models import KpiTarget
from kpis.tasks import send_weekly_digest
from tests.kpis.conftest import at, make_customer, make_order, refresh_kpis

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def test_a_manager_sets_a_standing_monthly_target(manager_client, manager_user):
    response = manager_client.post(
        "/kpis/targets/new/",
        {"kpi": "churn_rate", "granularity": "month", "standing": "on", "value": "4.5", "note": "Board plan"},
    )

    assert response.status_code == 302
    target = KpiTarget.objects.get()
    assert (target.kpi, target.granularity, target.period_start, target.value) == (
        "churn_rate",
        "month",
        None,
        Decimal("4.50"),
    )
    assert target.updated_by == manager_user
    assert "every month (standing)" in manager_client.get("/kpis/targets/").content.decode()


def test_a_target_for_one_period_starts_at_the_period_and_replaces_the_earlier_one(manager_client):
    for value in ("10", "12"):
        manager_client.post(
            "/kpis/targets/new/",
            {"kpi": "new_customers", "granularity": "quarter", "period_start": "2025-05-20", "value": value},
        )

    target = KpiTarget.objects.get()
    assert (target.period_start, target.value) == (datetime.date(2025, 4, 1), Decimal("12.00"))


def test_a_second_standing_target_says_it_replaces_the_first(manager_client):
    target = {"kpi": "churn_rate", "granularity": "month", "standing": "on"}
    first = manager_client.post("/kpis/targets/new/", {**target, "value": "4.5"}, follow=True)
    second = manager_client.post("/kpis/targets/new/", {**target, "value": "3"}, follow=True)

    assert "replaces" not in first.content.decode()
    assert "It replaces the earlier one, 4.5." in second.content.decode()
    assert KpiTarget.objects.get().value == Decimal("3.00")


def test_a_target_needs_a_period_or_to_be_standing(manager_client):
    response = manager_client.post("/kpis/targets/new/", {"kpi": "revenue", "granularity": "month", "value": "1"})

    assert response.status_code == 200
    assert "Choose a day in the period, or make the target standing." in response.content.decode()
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kpi": "churn_rate", "value": "-5"}, "value", "A target of Customer churn rate is from 0 to 100."),
        ({"kpi": "csat", "value": "1000000000"}, "value", "A target of Customer satisfaction (CSAT) is from 0 to 100."),
        ({"kpi": "nps", "value": "-101"}, "value", "A target of Net Promoter Score is from -100 to 100."),
        ({"kpi": "revenue", "value": "-1"}, "value", "A target of Revenue is 0 or more."),
        ({"kpi": "campaign_roi", "value": "-101"}, "value", "is -100 or more."),
        (
            {"kpi": "revenue", "value": "10", "standing": "", "period_start": "9998-12-28"},
            "period_start",
            "Enter a date between the years 1900 and 2100.",
        ),
        (
            {"kpi": "revenue", "value": "10", "period_start": "2026-11-17"},
            "period_start",
            "A standing target is for every period: clear the day, or untick Standing for that period only.",
        ),
    ],
)
def test_a_target_that_cannot_be_is_refused_with_the_reason(manager_client, fields, field, message):
    data = {"granularity": "month", "standing": "on", **fields}
    data = {name: value for name, value in data.items() if value != ""}

    response = manager_client.post("/kpis/targets/new/", data)

    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not KpiTarget.objects.exists()


def test_a_negative_return_on_spend_and_a_negative_nps_are_targets(manager_client):
    for kpi, value in (("campaign_roi", "-20"), ("nps", "-10")):
        manager_client.post(
            "/kpis/targets/new/", {"kpi": kpi, "granularity": "month", "standing": "on", "value": value}
        )

    assert KpiTarget.objects.count() == 2


def test_a_period_target_wins_over_the_standing_one(manager_client):
    make_customer(at(2025, 3, 2))
    refresh_kpis()
    KpiTarget.objects.create(kpi="active_customers", granularity="month", period_start=None, value=5)
    KpiTarget.objects.create(kpi="active_customers", granularity="month", period_start=datetime.date(2025, 3, 1),
                             value=1)  # fmt: skip

    html = manager_client.get("/kpis/active_customers/", {"period": "chosen", "on": "2025-03-10"}).content.decode()

    assert "on target</span> Target 1" in html


def test_targets_can_be_edited_and_deleted(manager_client):
    target = KpiTarget.objects.create(kpi="nps", granularity="month", period_start=None, value=20)

    manager_client.post(
        f"/kpis/targets/{target.pk}/edit/", {"kpi": "nps", "granularity": "month", "standing": "on", "value": "30"}
    )
    assert KpiTarget.objects.get().value == Decimal("30.00")

    manager_client.post(f"/kpis/targets/{KpiTarget.objects.get().pk}/delete/")
    assert not KpiTarget.objects.exists()


@pytest.mark.parametrize("url", ["/kpis/targets/new/", "/kpis/targets/"])
def test_sales_cannot_see_or_set_targets(client, sales_user, url):
    client.force_login(sales_user)

    assert client.get(url).status_code == 403


# --- the weekly digest -----------------------------------------------------------------------------------------

MONDAY = datetime.date(2025, 4, 14)  # the digest of week 2025-W15 (7-13 April)


def weeks_of_orders():
    customer = make_customer(at(2025, 3, 1))
    make_order(customer, at(2025, 4, 1), "100.00")  # W14
    make_order(customer, at(2025, 4, 8), "300.00")  # W15
    make_order(customer, at(2025, 4, 9), "100.00")  # W15
    refresh_kpis(since="2025-03-01")


def test_the_digest_goes_to_each_manager_with_the_movers_and_absolute_links(make_user, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    make_user("manager", username="mia", email="mia@example.com")
    make_user("manager", username="mo", email="mo@example.com")
    make_user("sales", username="sid", email="sid@example.com")
    weeks_of_orders()

    sent = kpis_digest_send(today=MONDAY)

    assert sent == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["mia@example.com", "mo@example.com"]
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "KPIs of week 2025-W15"
    assert "Revenue: 400.00 EUR (+300.00 EUR vs 2025-W14 (better))" in body
    assert "https://crm.example.com/kpis/revenue/?granularity=week&period=chosen&on=2025-04-07" in body
    html = mail.outbox[0].alternatives[0][0]
    assert 'href="https://crm.example.com/kpis/revenue/?granularity=week&amp;period=chosen&amp;on=2025-04-07"' in html


def test_the_digest_lists_the_kpis_off_target(make_user):
    make_user("manager", username="mia", email="mia@example.com")
    weeks_of_orders()
    KpiTarget.objects.create(kpi="revenue", granularity="week", period_start=None, value=1000)
    KpiTarget.objects.create(kpi="orders_never", granularity="week", period_start=None, value=1)
    KpiTarget.objects.create(kpi="revenue", granularity="month", period_start=None, value=100)

    kpis_digest_send(today=MONDAY)

    off_target = mail.outbox[0].body.split("Off target", 1)[1]
    assert "- Revenue, 2025-W15: 400.00 EUR; target 1,000.00 eur" in off_target
    assert "Apr 2025" not in off_target  # 500.00 this month: on the monthly target of 100


def test_the_weekly_task_sends_the_digest(make_user, settings):
    make_user("manager", username="mia", email="mia@example.com")
    weeks_of_orders()

    send_weekly_digest.delay()

    assert len(mail.outbox) == 1
    assert "send-kpi-digest" in settings.CELERY_BEAT_SCHEDULE
