"""A body's key that names no field is refused with a 400 naming it, and nothing is written; a record as a GET
answered it (read-only fields included) can still be sent back."""

import pytest

from contacts.models import Contact
from sales.models import Order
from tests.contacts.factories import ContactFactory
from tests.sales.factories import DealFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_a_misspelt_field_on_create_is_a_400_naming_it_and_nothing_is_saved(sales_api):
    contact = ContactFactory()

    response = sales_api.post("/api/orders/", {"contact": contact.pk, "amout": "120.00"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["amout"]
    assert response.json()["amout"][0].startswith("Unknown field. The fields to send are: ")
    assert "amount" in response.json()["amout"][0]
    assert not Order.objects.exists()


def test_an_unknown_field_is_said_along_with_the_other_mistakes(sales_api):
    response = sales_api.post("/api/orders/", {"amount": "abc", "colour": "red"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"colour", "amount"}


def test_a_misspelt_field_on_update_changes_nothing(sales_api):
    contact = ContactFactory(first_name="Ana", email="ana@example.com")

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {"first_name": "Anna", "emial": "x@y.z"}, format="json")

    assert response.status_code == 400 and "emial" in response.json()
    assert Contact.objects.get(pk=contact.pk).first_name == "Ana"


def test_what_a_get_answered_can_be_put_back_as_it_is(sales_api):
    order = OrderFactory()
    body = sales_api.get(f"/api/orders/{order.pk}/").json()

    response = sales_api.put(f"/api/orders/{order.pk}/", body, format="json")

    assert response.status_code == 200, response.json()


def test_an_actions_misspelt_field_is_a_400(sales_api):
    deal = DealFactory()

    response = sales_api.post(f"/api/deals/{deal.pk}/lose/", {"reson": "Too expensive"}, format="json")

    assert response.status_code == 400 and "reson" in response.json()
    deal.refresh_from_db()
    assert deal.status == "open"


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/deals/?status=won", "status"),
        ("/api/contacts/?search=ana", "search"),
        ("/api/orders/?amout_min=5", "amout_min"),
    ],
)
def test_a_list_parameter_that_is_no_filter_is_a_400_naming_the_filters(sales_api, url, parameter):
    DealFactory()

    response = sales_api.get(url)

    assert response.status_code == 400
    [message] = response.json()[parameter]
    assert message.startswith("Unknown filter. This list's filters are: ")


def test_paging_format_and_export_parameters_are_not_filters_and_still_work(sales_api):
    OrderFactory.create_batch(3)

    first = sales_api.get("/api/orders/", {"page_size": 2, "ordering": "-ordered"})
    following = sales_api.get(first.json()["next"])
    export = sales_api.get("/api/orders/", {"export": "csv"})

    assert first.status_code == following.status_code == export.status_code == 200
    assert len(first.json()["results"]) + len(following.json()["results"]) == 3
