"""The order pages: recording revenue, from a won deal or for a contact, and the list with its total."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.models import Order
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, OrderFactory

pytestmark = pytest.mark.django_db

ORDER_LIST = reverse("sales:order_list")
ORDER_CREATE = reverse("sales:order_create")
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_SIZE = 25


def shown(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def won_deal(**kwargs):
    deal = DealFactory(**kwargs)
    return services.deal_mark_won(deal=deal)


def order_form_data(**overrides) -> dict:
    data = {
        "contact": "",
        "deal": "",
        "ordered_at": "2026-03-02T10:30",
        "amount": "480.00",
        "description": "Annual licence",
    }
    data.update(overrides)
    return data


# The list


def test_order_list_shows_orders_newest_first_with_the_total(sales_client):
    now = timezone.now()
    older = OrderFactory(amount=Decimal("100.00"), ordered_at=now - datetime.timedelta(days=3))
    newer = OrderFactory(amount=Decimal("1250.50"), ordered_at=now)

    response = sales_client.get(ORDER_LIST)

    assert shown(response) == [newer, older]
    assert response.context["total"] == Decimal("1350.50")
    assert "1,350.50 EUR" in response.content.decode()


def test_order_list_total_is_of_the_filtered_orders_only(sales_client):
    contact = ContactFactory()
    OrderFactory(contact=contact, amount=Decimal("300.00"))
    OrderFactory(contact=contact, amount=Decimal("200.00"))
    OrderFactory(amount=Decimal("9999.00"))

    response = sales_client.get(ORDER_LIST, {"contact": contact.pk})

    assert len(shown(response)) == 2
    assert response.context["total"] == Decimal("500.00")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"ordered_after": "2026-02-01", "ordered_before": "2026-02-28"}, ["February"]),
        ({"amount_min": "1000"}, ["March"]),
        ({"q": "janu"}, ["January"]),
    ],
)
def test_order_list_filters(sales_client, filters, expected):
    for description, day, amount in [("January", 10, "10.00"), ("February", 10, "20.00"), ("March", 10, "2000.00")]:
        month = ["January", "February", "March"].index(description) + 1
        OrderFactory(
            description=description,
            amount=Decimal(amount),
            ordered_at=timezone.make_aware(datetime.datetime(2026, month, day, 12)),
        )

    response = sales_client.get(ORDER_LIST, filters)

    assert [order.description for order in shown(response)] == expected


def test_order_list_htmx_request_gets_only_the_results_with_their_total(sales_client):
    OrderFactory(amount=Decimal("77.00"))

    response = sales_client.get(ORDER_LIST, **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<html" not in html
    assert "77.00 EUR" in html


def test_order_list_queries_do_not_grow_with_the_rows(sales_client, make_user, django_assert_max_num_queries):
    def orders(count):
        for _ in range(count):
            OrderFactory(deal=won_deal(), created_by=make_user("sales"))

    orders(3)
    with django_assert_max_num_queries(15) as with_three_rows:
        sales_client.get(ORDER_LIST)

    orders(27)
    with django_assert_max_num_queries(len(with_three_rows)):
        response = sales_client.get(ORDER_LIST)

    assert len(shown(response)) == PAGE_SIZE


# Recording an order


def test_record_order_from_a_won_deal_is_prefilled_with_its_contact_and_amount(sales_client):
    deal = won_deal(amount=Decimal("1234.50"))

    response = sales_client.get(ORDER_CREATE, {"deal": deal.pk})

    form = response.context["form"]
    assert (form["deal"].value(), form["contact"].value(), form["amount"].value()) == (
        deal.pk,
        deal.contact_id,
        Decimal("1234.50"),
    )


def test_record_order_from_an_open_deal_says_it_must_be_won_first(sales_client):
    deal = DealFactory()

    response = sales_client.get(ORDER_CREATE, {"deal": deal.pk})

    assert response.context["form"]["deal"].value() is None
    assert f"{deal.title} is not won; an order can only come from a won deal." in messages_of(response)


def test_record_order_from_a_contact_page_is_prefilled_with_the_contact(sales_client):
    contact = ContactFactory()

    response = sales_client.get(ORDER_CREATE, {"contact": contact.pk})

    assert response.context["form"]["contact"].value() == contact.pk


def test_recording_an_order_from_a_won_deal_stores_it_with_who_recorded_it(sales_client, sales_user):
    deal = won_deal(amount=Decimal("900.00"))

    response = sales_client.post(
        ORDER_CREATE, order_form_data(deal=deal.pk, contact=deal.contact_id, amount="900.00"), follow=True
    )

    order = Order.objects.get()
    assert response.redirect_chain == [(order.get_absolute_url(), 302)]
    assert (order.deal, order.contact, order.amount, order.created_by) == (
        deal,
        deal.contact,
        Decimal("900.00"),
        sales_user,
    )
    assert order.ordered_at == timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 30))
    assert f"{order} recorded." in messages_of(response)


def test_recording_an_order_for_a_contact_without_a_deal(sales_client):
    contact = ContactFactory()

    sales_client.post(ORDER_CREATE, order_form_data(contact=contact.pk))

    order = Order.objects.get()
    assert (order.contact, order.deal, order.amount) == (contact, None, Decimal("480.00"))


def test_an_order_of_someone_elses_won_deal_is_refused_with_the_reason(sales_client):
    deal = won_deal()

    response = sales_client.post(ORDER_CREATE, order_form_data(deal=deal.pk, contact=ContactFactory().pk))

    assert response.status_code == 200
    assert response.context["form"].errors["deal"] == ["That deal belongs to another contact."]
    assert "That deal belongs to another contact." in response.content.decode()
    assert not Order.objects.exists()


def test_an_order_from_an_open_deal_cannot_be_chosen(sales_client):
    deal = DealFactory()

    response = sales_client.post(ORDER_CREATE, order_form_data(deal=deal.pk, contact=deal.contact_id))

    assert "deal" in response.context["form"].errors
    assert not Order.objects.exists()


def test_an_order_with_a_negative_amount_is_refused(sales_client):
    response = sales_client.post(ORDER_CREATE, order_form_data(contact=ContactFactory().pk, amount="-10.00"))

    assert "amount" in response.context["form"].errors
    assert 'value="Annual licence"' in response.content.decode()
    assert not Order.objects.exists()


def test_an_order_needs_a_contact(sales_client):
    response = sales_client.post(ORDER_CREATE, order_form_data())

    assert "contact" in response.context["form"].errors
    assert not Order.objects.exists()


# The order page, editing and deleting


def test_order_page_shows_the_order(sales_client):
    deal = won_deal(title="Fleet deal")
    order = OrderFactory(contact=deal.contact, deal=deal, amount=Decimal("4321.00"), description="Ten trucks")

    response = sales_client.get(order.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "4,321.00 EUR" in html
    assert "Ten trucks" in html
    assert deal.get_absolute_url() in html
    assert order.contact.get_absolute_url() in html


def test_editing_an_order_saves_the_changes(sales_client):
    order = OrderFactory(amount=Decimal("100.00"))

    response = sales_client.post(
        reverse("sales:order_update", args=[order.pk]), order_form_data(contact=order.contact_id, amount="150.00")
    )

    order.refresh_from_db()
    assert response.status_code == 302
    assert (order.amount, order.description) == (Decimal("150.00"), "Annual licence")


def test_editing_an_order_to_a_negative_amount_stores_nothing(sales_client):
    order = OrderFactory(amount=Decimal("100.00"))

    response = sales_client.post(
        reverse("sales:order_update", args=[order.pk]), order_form_data(contact=order.contact_id, amount="-1.00")
    )

    assert "amount" in response.context["form"].errors
    order.refresh_from_db()
    assert order.amount == Decimal("100.00")


def test_deleting_an_order_removes_it(sales_client):
    order = OrderFactory()

    response = sales_client.post(reverse("sales:order_delete", args=[order.pk]))

    assert response.status_code == 302 and response.url == ORDER_LIST
    assert not Order.objects.exists()


def test_unknown_order_is_not_found(sales_client):
    assert sales_client.get(reverse("sales:order_detail", args=[987654])).status_code == 404


# Who may do what


def test_a_manager_reads_orders(client, manager_user):
    order = OrderFactory()
    client.force_login(manager_user)

    assert client.get(ORDER_LIST).status_code == 200
    response = client.get(order.get_absolute_url())
    assert response.status_code == 200
    assert reverse("sales:order_update", args=[order.pk]) not in response.content.decode()


@pytest.mark.parametrize("name", ["order_update", "order_delete"])
def test_a_manager_cannot_change_orders(client, manager_user, name):
    order = OrderFactory(amount=Decimal("100.00"))
    client.force_login(manager_user)

    response = client.post(reverse(f"sales:{name}", args=[order.pk]), order_form_data(contact=order.contact_id))

    assert response.status_code == 403
    assert Order.objects.get().amount == Decimal("100.00")


def test_a_manager_cannot_record_an_order(client, manager_user):
    client.force_login(manager_user)

    response = client.post(ORDER_CREATE, order_form_data(contact=ContactFactory().pk))

    assert response.status_code == 403
    assert not Order.objects.exists()


@pytest.mark.parametrize("name", ["order_list", "order_create"])
def test_support_sees_nothing_of_the_orders(client, support_user, name):
    client.force_login(support_user)

    assert client.get(reverse(f"sales:{name}")).status_code == 403


def test_support_cannot_open_an_order(client, support_user):
    order = OrderFactory()
    client.force_login(support_user)

    assert client.get(order.get_absolute_url()).status_code == 403


def test_orders_until_the_last_day_there_is_are_all_orders_on_the_page_and_in_the_api(sales_client, sales_api):
    OrderFactory(description="Any", ordered_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 12)))

    page = sales_client.get(ORDER_LIST, {"ordered_before": "9999-12-31"})
    api = sales_api.get("/api/orders/", {"ordered_before": "9999-12-31"})

    assert [order.description for order in shown(page)] == ["Any"]
    assert api.status_code == 200, api.content
    assert [order["description"] for order in api.json()["results"]] == ["Any"]
