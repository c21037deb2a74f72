"""The sales API: CRUD, the workflow actions, and their refusals (400 with a reason, nothing changed)."""

import datetime
from decimal import Decimal

import pytest

from contacts.models import Contact
from sales.models import Deal, Lead, Pipeline, Stage, Subscription
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, LeadFactory, SubscriptionFactory, stage

pytestmark = pytest.mark.django_db


def test_a_lead_is_created_owned_by_its_creator(sales_api, sales_user):
    response = sales_api.post(
        "/api/leads/", {"first_name": "Ana", "email": "ANA@x.example", "channel": None}, format="json"
    )

    assert response.status_code == 201, response.data
    assert response.data["owner"] == sales_user.username
    assert response.data["status"] == "new"
    assert Lead.objects.get().email == "ana@x.example"


def test_status_and_conversion_time_cannot_be_written(sales_api):
    response = sales_api.post(
        "/api/leads/",
        {"first_name": "Bo", "status": "converted", "converted_at": "2026-01-01T00:00:00Z"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"status", "converted_at"}
    assert "/convert/" in response.json()["status"][0]
    assert not Lead.objects.exists()


def test_convert_answers_with_the_new_deal(sales_api):
    lead = LeadFactory(email="cy@client.example")

    response = sales_api.post(f"/api/leads/{lead.pk}/convert/", {"amount": "1500.00"}, format="json")

    assert response.status_code == 201, response.data
    deal = Deal.objects.get(pk=response.data["id"])
    assert deal.contact == Contact.objects.get(email="cy@client.example")
    assert deal.amount == Decimal("1500.00")
    assert response.data["stage_name"] == "Qualification"


def test_converting_twice_is_a_400_with_a_reason(sales_api):
    lead = LeadFactory()
    sales_api.post(f"/api/leads/{lead.pk}/convert/", {}, format="json")

    response = sales_api.post(f"/api/leads/{lead.pk}/convert/", {}, format="json")

    assert response.status_code == 400
    assert "already converted" in str(response.data)
    assert Deal.objects.count() == 1


def test_disqualify_needs_a_reason(sales_api):
    lead = LeadFactory()

    missing = sales_api.post(f"/api/leads/{lead.pk}/disqualify/", {}, format="json")
    done = sales_api.post(f"/api/leads/{lead.pk}/disqualify/", {"reason": "Spam"}, format="json")

    assert missing.status_code == 400
    assert "reason" in missing.data
    assert done.status_code == 200
    assert done.data["status"] == "disqualified"


def test_bulk_assign_changes_every_lead(sales_api, make_user):
    rep = make_user("sales")
    leads = LeadFactory.create_batch(2)

    response = sales_api.post(
        "/api/leads/assign/", {"leads": [lead.pk for lead in leads], "owner": rep.pk}, format="json"
    )

    assert response.status_code == 200
    assert response.data == {"changed": 2}
    assert set(Lead.objects.values_list("owner", flat=True)) == {rep.pk}


def test_bulk_assign_with_an_unknown_lead_changes_nothing(sales_api, make_user):
    rep = make_user("sales")
    lead = LeadFactory()

    response = sales_api.post("/api/leads/assign/", {"leads": [lead.pk, 999999], "owner": rep.pk}, format="json")

    assert response.status_code == 400
    assert Lead.objects.get().owner_id is None


def test_move_win_lose_and_reopen_a_deal(sales_api):
    created = sales_api.post("/api/deals/", {"title": "Fleet", "contact": ContactFactory().pk}, format="json")
    url = f"/api/deals/{created.data['id']}"

    moved = sales_api.post(f"{url}/move/", {"stage": stage("Proposal").pk}, format="json")
    won = sales_api.post(f"{url}/win/", format="json")
    again = sales_api.post(f"{url}/win/", format="json")
    reopened = sales_api.post(f"{url}/reopen/", {}, format="json")
    lost = sales_api.post(f"{url}/lose/", {"reason": "Budget cut"}, format="json")

    assert moved.data["stage_name"] == "Proposal"
    assert won.data["status"] == "won"
    assert won.data["closed_at"] is not None
    assert again.status_code == 400
    assert "already won" in str(again.data)
    assert reopened.data["status"] == "open"
    assert reopened.data["closed_at"] is None
    assert lost.data["status"] == "lost"
    assert lost.data["lost_reason"] == "Budget cut"
    history = sales_api.get(f"{url}/stage-history/").data
    assert [change["to_stage"] for change in reversed(history)] == [
        "Qualification",
        "Proposal",
        "Won",
        "Proposal",  # back to the stage it was won from
        "Lost",
    ]


def test_moving_a_deal_to_another_pipelines_stage_is_refused(sales_api):
    other = Pipeline.objects.create(name="Partners")
    foreign = Stage.objects.create(pipeline=other, name="Intro", position=1, probability=10)
    deal = DealFactory()

    response = sales_api.post(f"/api/deals/{deal.pk}/move/", {"stage": foreign.pk}, format="json")

    assert response.status_code == 400
    assert "another pipeline" in str(response.data)
    assert Deal.objects.get().stage.name == "Qualification"


def test_deal_stage_and_close_time_are_not_editable(sales_api):
    deal = DealFactory()
    title = deal.title

    response = sales_api.patch(
        f"/api/deals/{deal.pk}/",
        {"stage": stage("Won").pk, "status": "won", "closed_at": "2026-01-01T00:00:00Z", "title": "Renamed"},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"status", "closed_at"}  # the stage is checked once the fields are valid
    assert "/win/" in errors["status"][0]
    deal.refresh_from_db()
    assert (deal.title, deal.status, deal.closed_at, deal.stage.name) == (title, "open", None, "Qualification")

    moved = sales_api.patch(f"/api/deals/{deal.pk}/", {"stage": stage("Won").pk, "title": "Renamed"}, format="json")
    assert moved.status_code == 400
    assert moved.json() == {
        "stage": [f"This field cannot be changed here (it is {deal.stage_id} now): POST /api/deals/{deal.pk}/move/."]
    }
    deal.refresh_from_db()
    assert (deal.title, deal.stage.name) == (title, "Qualification")

    kept = sales_api.patch(f"/api/deals/{deal.pk}/", {"stage": deal.stage.pk, "title": "Renamed"}, format="json")
    assert kept.status_code == 200  # the stage as it is, as a GET showed it
    deal.refresh_from_db()
    assert deal.title == "Renamed"


def test_a_negative_amount_is_a_400(sales_api):
    contact = ContactFactory()

    deal = sales_api.post("/api/deals/", {"title": "X", "contact": contact.pk, "amount": "-10"}, format="json")
    order = sales_api.post("/api/orders/", {"contact": contact.pk, "amount": "-1.00"}, format="json")

    assert deal.status_code == 400
    assert "amount" in deal.data
    assert order.status_code == 400
    assert not Deal.objects.exists()


def test_renew_answers_with_the_successor_and_a_cancelled_one_cannot_renew(sales_api):
    subscription = SubscriptionFactory(starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 7, 1))
    other = SubscriptionFactory()

    renewed = sales_api.post(f"/api/subscriptions/{subscription.pk}/renew/", {}, format="json")
    cancelled = sales_api.post(f"/api/subscriptions/{other.pk}/cancel/", format="json")
    refused = sales_api.post(f"/api/subscriptions/{other.pk}/renew/", {}, format="json")

    assert renewed.status_code == 201
    assert renewed.data["renews"] == subscription.pk
    assert renewed.data["starts_on"] == "2026-07-01"
    assert cancelled.data["outcome"] == "cancelled"
    assert refused.status_code == 400
    assert Subscription.objects.count() == 3


def test_churn_and_reactivate_a_customer(sales_api):
    contact = ContactFactory(customer_since=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))

    churned = sales_api.post(f"/api/customers/{contact.pk}/churn/", {"reason": "Moved away"}, format="json")
    reactivated = sales_api.post(f"/api/customers/{contact.pk}/reactivate/", format="json")

    assert churned.status_code == 200
    assert churned.data["churned_at"] is not None
    assert reactivated.data["churned_at"] is None


def test_support_sees_nothing_of_sales(api_client, support_user):
    api_client.force_authenticate(support_user)
    DealFactory()

    for url in ("/api/deals/", "/api/leads/", "/api/orders/", "/api/customers/", "/api/spend/"):
        assert api_client.get(url).status_code == 403, url


def test_a_manager_reads_but_cannot_act(api_client, manager_user):
    api_client.force_authenticate(manager_user)
    deal = DealFactory()

    assert api_client.get("/api/deals/").status_code == 200
    assert api_client.post(f"/api/deals/{deal.pk}/win/").status_code == 403
    assert Deal.objects.get().status == "open"


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/deals/").status_code == 401


def test_deal_list_queries_do_not_grow_with_rows(sales_api, django_assert_max_num_queries):
    DealFactory.create_batch(3)
    with django_assert_max_num_queries(6) as few:
        sales_api.get("/api/deals/")
    DealFactory.create_batch(30)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = sales_api.get("/api/deals/")

    assert len(response.data["results"]) == 33


def test_a_new_lead_sent_with_the_status_it_starts_with_is_created(sales_api):
    response = sales_api.post("/api/leads/", {"first_name": "Bo", "status": "new"}, format="json")

    assert response.status_code == 201, response.json()
    refused = sales_api.post("/api/leads/", {"first_name": "Al", "status": "qualified"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "status": ["This field cannot be changed here: POST /api/leads/<id>/status/, /convert/ or /disqualify/."]
    }
