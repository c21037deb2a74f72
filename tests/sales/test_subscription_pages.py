"""Subscription pages (create, renew, cancel), the churn and reactivate actions, and the contact page's sales panel."""

import datetime
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from sales import services
from sales.models import SalesEvent, Subscription
from sales.panels import contact_sales_panel
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, OrderFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

SUBSCRIPTION_LIST = reverse("sales:subscription_list")
SUBSCRIPTION_CREATE = reverse("sales:subscription_create")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def renew_url(subscription) -> str:
    return reverse("sales:subscription_renew", args=[subscription.pk])


def cancel_url(subscription) -> str:
    return reverse("sales:subscription_cancel", args=[subscription.pk])


def customer(**kwargs) -> Contact:
    return ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=200), **kwargs)


def subscription_form_data(**overrides) -> dict:
    data = {"contact": "", "plan": "Team", "amount": "1200.00", "starts_on": "2026-01-01", "ends_on": "2027-01-01"}
    data.update(overrides)
    return data


# The list


def test_subscription_list_filters_by_outcome_and_shows_the_total(sales_client):
    SubscriptionFactory(plan="Team", amount=Decimal("1200.00"))
    SubscriptionFactory(plan="Pro", amount=Decimal("3000.00"))
    SubscriptionFactory(plan="Old", outcome=Subscription.Outcome.EXPIRED, amount=Decimal("999.00"))

    response = sales_client.get(SUBSCRIPTION_LIST, {"outcome": "active"})

    assert {s.plan for s in shown(response)} == {"Team", "Pro"}
    assert response.context["total"] == Decimal("4200.00")
    assert "4,200.00 EUR" in response.content.decode()


def test_subscription_list_filters_by_end_date(sales_client):
    SubscriptionFactory(plan="Ends in March", ends_on=datetime.date(2027, 3, 31))
    SubscriptionFactory(plan="Ends in June", ends_on=datetime.date(2027, 6, 30))

    response = sales_client.get(SUBSCRIPTION_LIST, {"ends_after": "2027-03-01", "ends_before": "2027-03-31"})

    assert [s.plan for s in shown(response)] == ["Ends in March"]


def test_subscription_list_htmx_request_gets_only_the_results(sales_client):
    SubscriptionFactory(plan="Enterprise")

    response = sales_client.get(SUBSCRIPTION_LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert "Enterprise" in html


def test_subscription_list_queries_do_not_grow_with_the_rows(sales_client, django_assert_max_num_queries):
    def subscriptions(count):
        for _ in range(count):
            services.subscription_renew(subscription=SubscriptionFactory())

    subscriptions(2)  # four rows: two renewed, two renewals
    with django_assert_max_num_queries(15) as with_few_rows:
        sales_client.get(SUBSCRIPTION_LIST)

    subscriptions(14)
    with django_assert_max_num_queries(len(with_few_rows)):
        response = sales_client.get(SUBSCRIPTION_LIST)

    assert len(shown(response)) == PAGE_SIZE


# Creating


def test_new_subscription_from_a_contact_page_is_prefilled(sales_client):
    contact = ContactFactory()

    response = sales_client.get(SUBSCRIPTION_CREATE, {"contact": contact.pk})

    form = response.context["form"]
    assert form["contact"].value() == contact.pk
    assert form["starts_on"].value() == timezone.localdate()


def test_creating_a_subscription_stores_it_active(sales_client):
    contact = ContactFactory()

    response = sales_client.post(SUBSCRIPTION_CREATE, subscription_form_data(contact=contact.pk))

    subscription = Subscription.objects.get()
    assert response.status_code == 302 and response.url == subscription.get_absolute_url()
    assert f"Subscription Team for {contact} created." in messages_of(sales_client.get(response.url))
    assert (subscription.contact, subscription.plan, subscription.amount, subscription.outcome) == (
        contact,
        "Team",
        Decimal("1200.00"),
        Subscription.Outcome.ACTIVE,
    )


def test_a_subscription_ending_before_it_starts_is_refused_with_the_reason(sales_client):
    response = sales_client.post(
        SUBSCRIPTION_CREATE, subscription_form_data(contact=ContactFactory().pk, ends_on="2025-12-31")
    )

    assert response.status_code == 200
    assert "A subscription must end after it starts." in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_subscription_with_a_negative_amount_is_refused(sales_client):
    response = sales_client.post(SUBSCRIPTION_CREATE, subscription_form_data(contact=ContactFactory().pk, amount="-1"))

    assert "amount" in response.context["form"].errors
    assert not Subscription.objects.exists()


# Renewing and cancelling


def test_subscription_page_shows_the_terms_and_the_actions(sales_client):
    subscription = SubscriptionFactory(plan="Team", amount=Decimal("1200.00"))

    response = sales_client.get(subscription.get_absolute_url())

    html = response.content.decode()
    assert "1,200.00 EUR" in html
    assert "2026-01-01 to 2027-01-01" in html
    assert f'action="{renew_url(subscription)}"' in html
    assert f'href="{cancel_url(subscription)}"' in html


def test_cancelling_asks_for_confirmation_first(sales_client):
    subscription = SubscriptionFactory(plan="Team")

    response = sales_client.get(cancel_url(subscription))

    assert response.status_code == 200
    assert f'<form method="post" action="{cancel_url(subscription)}">' in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.ACTIVE


def test_renewing_starts_the_successor_where_it_ends_and_opens_it(sales_client, sales_user):
    subscription = SubscriptionFactory(starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2027, 1, 1))

    response = sales_client.post(renew_url(subscription), {"ends_on": "", "amount": "", "plan": ""}, follow=True)

    successor = Subscription.objects.get(renews=subscription)
    subscription.refresh_from_db()
    assert response.redirect_chain == [(successor.get_absolute_url(), 302)]
    assert subscription.outcome == Subscription.Outcome.RENEWED
    assert (successor.starts_on, successor.ends_on, successor.plan, successor.amount) == (
        datetime.date(2027, 1, 1),
        datetime.date(2028, 1, 1),
        "Team",
        Decimal("1200.00"),
    )
    assert "Renewed: Team until 2028-01-01." in messages_of(response)
    assert SalesEvent.objects.get(verb=SalesEvent.Verb.SUBSCRIPTION_RENEWED).actor == sales_user


def test_renewing_with_a_new_end_amount_and_plan(sales_client):
    subscription = SubscriptionFactory()

    sales_client.post(renew_url(subscription), {"ends_on": "2027-07-01", "amount": "1500.00", "plan": "Business"})

    successor = Subscription.objects.get(renews=subscription)
    assert (successor.ends_on, successor.amount, successor.plan) == (
        datetime.date(2027, 7, 1),
        Decimal("1500.00"),
        "Business",
    )


def test_renewing_a_cancelled_subscription_is_refused_with_the_reason(sales_client):
    subscription = SubscriptionFactory()
    sales_client.post(cancel_url(subscription))

    response = sales_client.post(renew_url(subscription), {}, follow=True)

    assert "Only an active subscription can be renewed; this one is cancelled." in messages_of(response)
    assert Subscription.objects.count() == 1


def test_renewing_with_a_negative_amount_shows_the_error_and_changes_nothing(sales_client):
    subscription = SubscriptionFactory()

    response = sales_client.post(renew_url(subscription), {"amount": "-100"})

    assert response.status_code == 200
    assert "amount" in response.context["renew_form"].errors
    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.ACTIVE
    assert Subscription.objects.count() == 1


def test_renewing_to_an_end_before_the_new_start_is_refused(sales_client):
    subscription = SubscriptionFactory(ends_on=datetime.date(2027, 1, 1))

    response = sales_client.post(renew_url(subscription), {"ends_on": "2026-06-01"}, follow=True)

    assert "A subscription must end after it starts." in " ".join(messages_of(response))
    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.ACTIVE


def test_cancelling_keeps_it_running_to_its_end(sales_client, sales_user):
    subscription = SubscriptionFactory(contact=customer())

    response = sales_client.post(cancel_url(subscription), follow=True)

    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.CANCELLED and subscription.cancelled_at is not None
    assert "Cancelled; it runs until 2027-01-01." in messages_of(response)


def test_cancelling_twice_is_refused_with_the_reason(sales_client):
    subscription = SubscriptionFactory()
    sales_client.post(cancel_url(subscription))

    response = sales_client.post(cancel_url(subscription), follow=True)

    assert "Only an active subscription can be cancelled; this one is cancelled." in messages_of(response)


# Churn and reactivation from the contact page


def test_marking_a_customer_churned_records_why_and_returns_to_the_contact(sales_client, sales_user):
    contact = customer()

    response = sales_client.post(
        reverse("sales:customer_churn", args=[contact.pk]), {"reason": "Moved to a competitor"}, follow=True
    )

    contact.refresh_from_db()
    assert response.redirect_chain == [(contact.get_absolute_url(), 302)]
    assert contact.churned_at is not None
    assert f"{contact} is marked as churned." in messages_of(response)
    event = SalesEvent.objects.get(verb=SalesEvent.Verb.CUSTOMER_CHURNED)
    assert (event.note, event.actor) == ("Moved to a competitor", sales_user)


def test_marking_churned_without_a_reason_is_refused(sales_client):
    contact = customer()

    response = sales_client.post(reverse("sales:customer_churn", args=[contact.pk]), {"reason": " "}, follow=True)

    assert "Say why the customer churned." in messages_of(response)
    contact.refresh_from_db()
    assert contact.churned_at is None


def test_a_prospect_cannot_be_marked_churned(sales_client):
    contact = ContactFactory()

    response = sales_client.post(reverse("sales:customer_churn", args=[contact.pk]), {"reason": "Gone"}, follow=True)

    assert "Only a current customer can churn." in messages_of(response)


def test_reactivating_a_churned_customer(sales_client):
    contact = customer()
    services.customer_mark_churned(contact=contact, reason="Budget cut")

    response = sales_client.post(reverse("sales:customer_reactivate", args=[contact.pk]), follow=True)

    contact.refresh_from_db()
    assert contact.churned_at is None and contact.is_customer
    assert f"{contact} is a customer again." in messages_of(response)


def test_reactivating_a_contact_that_never_churned_is_refused(sales_client):
    contact = customer()

    response = sales_client.post(reverse("sales:customer_reactivate", args=[contact.pk]), follow=True)

    assert "This contact has not churned." in messages_of(response)


# The sales panel on the contact page


def test_contact_page_shows_the_sales_panel_with_counts_and_actions(sales_client):
    contact = customer()
    DealFactory.create_batch(2, contact=contact, amount=Decimal("1000.00"))
    OrderFactory.create_batch(3, contact=contact, amount=Decimal("10.00"))

    html = sales_client.get(contact.get_absolute_url()).content.decode()

    assert 'class="card mt-3 sales-panel"' in html
    assert f'?contact={contact.pk}&amp;owner=&amp;state=open">2</a> · 2,000.00 EUR' in html
    assert f'?contact={contact.pk}">3</a> · 30.00 EUR' in html
    for name in ("deal_create", "order_create", "subscription_create"):
        assert f'href="{reverse(f"sales:{name}")}?contact={contact.pk}"' in html
    assert reverse("sales:customer_churn", args=[contact.pk]) in html
    assert reverse("sales:customer_reactivate", args=[contact.pk]) not in html


def test_sales_panel_of_a_churned_customer_offers_reactivation(sales_client):
    contact = customer()
    services.customer_mark_churned(contact=contact, reason="Budget cut")

    html = sales_client.get(contact.get_absolute_url()).content.decode()

    assert "Churned" in html
    assert reverse("sales:customer_reactivate", args=[contact.pk]) in html
    assert reverse("sales:customer_churn", args=[contact.pk]) not in html


def test_sales_panel_of_a_prospect_offers_neither_churn_nor_reactivation(sales_client):
    contact = ContactFactory()

    html = sales_client.get(contact.get_absolute_url()).content.decode()

    assert "Prospect" in html
    assert reverse("sales:customer_churn", args=[contact.pk]) not in html
    assert reverse("sales:customer_reactivate", args=[contact.pk]) not in html


def test_a_manager_sees_the_sales_panel_without_its_buttons(client, manager_user):
    contact = customer()
    client.force_login(manager_user)

    html = client.get(contact.get_absolute_url()).content.decode()

    assert "sales-panel" in html
    assert reverse("sales:deal_create") not in html
    assert reverse("sales:customer_churn", args=[contact.pk]) not in html


def test_support_does_not_see_the_sales_panel(client, support_user):
    contact = customer()
    client.force_login(support_user)

    html = client.get(contact.get_absolute_url()).content.decode()

    assert "sales-panel" not in html


def test_sales_panel_costs_two_queries_however_many_deals_and_orders(sales_user, django_assert_num_queries):
    contact = customer()
    DealFactory.create_batch(5, contact=contact)
    OrderFactory.create_batch(5, contact=contact)
    request = RequestFactory().get(contact.get_absolute_url())
    request.user = sales_user
    sales_user.get_all_permissions()  # permissions are cached on the user after the first check

    with django_assert_num_queries(2):
        html = contact_sales_panel(request, contact)

    assert ">5</a>" in html


# Who may do what


def test_a_manager_reads_subscriptions_but_cannot_act(client, manager_user):
    subscription = SubscriptionFactory()
    client.force_login(manager_user)

    assert client.get(SUBSCRIPTION_LIST).status_code == 200
    page = client.get(subscription.get_absolute_url())
    assert page.status_code == 200
    assert renew_url(subscription) not in page.content.decode()
    assert client.post(renew_url(subscription)).status_code == 403
    assert client.get(cancel_url(subscription)).status_code == 403
    assert client.post(cancel_url(subscription)).status_code == 403
    assert client.get(SUBSCRIPTION_CREATE).status_code == 403
    assert Subscription.objects.get().outcome == Subscription.Outcome.ACTIVE


def test_a_manager_cannot_churn_or_reactivate(client, manager_user):
    contact = customer()
    client.force_login(manager_user)

    assert client.post(reverse("sales:customer_churn", args=[contact.pk]), {"reason": "x"}).status_code == 403
    assert client.post(reverse("sales:customer_reactivate", args=[contact.pk])).status_code == 403
    contact.refresh_from_db()
    assert contact.churned_at is None


@pytest.mark.parametrize("name", ["subscription_list", "subscription_create"])
def test_support_sees_nothing_of_the_subscriptions(client, support_user, name):
    client.force_login(support_user)

    assert client.get(reverse(f"sales:{name}")).status_code == 403


def test_support_cannot_churn_a_customer(client, support_user):
    contact = customer()
    client.force_login(support_user)

    response = client.post(reverse("sales:customer_churn", args=[contact.pk]), {"reason": "x"})

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.churned_at is None
