"""A record's dates fall in the years 1900 to 2100: a year typed wrong (0001, 3026, 9999) is refused with a
message by the forms, the API and the import, instead of sitting on top of every "latest" list for good."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contacts.models import Contact, Interaction
from crm_project.validators import plausible_date
from sales.models import Campaign, Deal, DealStageChange, Lead, Order, Spend, Subscription
from support.models import Ticket
from surveys.models import Invitation, Response
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Enter a date between the years 1900 and 2100."

# Every date a person or a file gives for a record.
RECORD_DATES = [
    (Contact, "created_at"),
    (Contact, "customer_since"),
    (Contact, "churned_at"),
    (Interaction, "occurred_at"),
    (Campaign, "starts_on"),
    (Campaign, "ends_on"),
    (Spend, "spent_on"),
    (Lead, "created_at"),
    (Lead, "converted_at"),
    (Deal, "created_at"),
    (Deal, "expected_close_date"),
    (Deal, "closed_at"),
    (DealStageChange, "changed_at"),
    (Order, "ordered_at"),
    (Subscription, "starts_on"),
    (Subscription, "ends_on"),
    (Subscription, "cancelled_at"),
    (Ticket, "created_at"),
    (Ticket, "first_response_at"),
    (Ticket, "resolved_at"),
    (Ticket, "closed_at"),
    (Invitation, "sent_at"),
    (Response, "submitted_at"),
]


def a_value(field, year: int, month: int, day: int):
    if field.get_internal_type() == "DateField":
        return datetime.date(year, month, day)
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("model", "name"), RECORD_DATES, ids=lambda item: getattr(item, "__name__", item))
def test_every_record_date_refuses_a_year_outside_1900_to_2100(model, name):
    field = model._meta.get_field(name)

    for year, month, day in ((1, 1, 1), (1899, 12, 31), (2101, 1, 1), (9999, 12, 31)):
        with pytest.raises(ValidationError) as refused:
            field.run_validators(a_value(field, year, month, day))
        assert refused.value.messages == [MESSAGE]
    for year, month, day in ((1900, 1, 1), (2026, 11, 24), (2100, 12, 31)):
        field.run_validators(a_value(field, year, month, day))


def test_the_order_form_refuses_a_year_typed_wrong(sales_client):
    contact = ContactFactory()
    data = {"contact": contact.pk, "deal": "", "ordered_at": "1800-01-01T10:30", "amount": "100.00", "description": ""}

    response = sales_client.post(reverse("sales:order_create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["ordered_at"] == [MESSAGE]
    assert MESSAGE in response.content.decode()
    assert not Order.objects.exists()


def test_the_api_answers_400_for_a_year_typed_wrong(sales_api):
    contact = ContactFactory()

    response = sales_api.post(
        "/api/interactions/",
        {"contact": contact.pk, "kind": "call", "occurred_at": "9999-12-31T00:00:00Z", "summary": "Typo"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["occurred_at"] == [MESSAGE]
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    ("moment", "plausible"),
    [
        ("1900-01-01T00:00:00+05:00", False),  # 1899-12-31T19:00 in UTC, as the database keeps it
        ("1900-01-01T06:00:00+05:00", True),
        ("2100-12-31T23:00:00-05:00", False),  # 2101 in UTC
        ("9999-12-31T23:00:00-05:00", False),  # far out: no overflow on the way to UTC
    ],
)
def test_a_time_is_judged_by_its_year_in_utc(moment, plausible):
    value = datetime.datetime.fromisoformat(moment)
    if plausible:
        plausible_date(value)
    else:
        with pytest.raises(ValidationError):
            plausible_date(value)
