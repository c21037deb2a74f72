"""seed_demo at a size's volumes: the rates scale to the numbers a size asks for, and the bulk path (COPY with
ids reserved up front, used by a first run on PostgreSQL) writes the very rows the insert path writes."""

import datetime
from collections import Counter

import pytest
from django.db import connection

from contacts.demo import DEMO_SIZES, DemoContext, DemoSize, ensure_demo_users, seed_contacts
from contacts.models import Company, Contact, Interaction
from sales.demo import seed_sales
from sales.models import Campaign, Deal, DealStageChange, Lead, Order, SalesEvent, Spend, Subscription
from support.demo import seed_support
from support.models import Ticket, TicketEvent, TicketMessage
from surveys.demo import seed_surveys
from surveys.models import Invitation, Response

pytestmark = pytest.mark.django_db

# A fixed "now" (a Wednesday, midnight UTC) makes the data the same whatever day the tests run.
NOW = datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
# A tenth of a thousandth of `large`, with its proportions.
TINY = DemoSize(
    contacts=400, companies=40, leads=400, orders=2_000, interactions=800, tickets=400, invitations=200
)  # fmt: skip
SEEDERS = (seed_contacts, seed_sales, seed_support, seed_surveys)
# Children first, so that deleting them is allowed.
SEEDED_MODELS = (
    Response, Invitation, TicketEvent, TicketMessage, Ticket, SalesEvent, DealStageChange, Order, Subscription,
    Deal, Lead, Spend, Campaign, Interaction, Contact, Company,
)  # fmt: skip


@pytest.fixture
def tiny_size(monkeypatch):
    monkeypatch.setitem(DEMO_SIZES, "tiny", TINY)


def seed(*, bulk: bool = True) -> None:
    context = DemoContext(
        size="tiny", seed=3, users=ensure_demo_users(), log=lambda message: None, now=NOW, chunk_size=150, bulk=bulk
    )
    for seeder in SEEDERS:
        seeder(context)


def rows_of(model) -> Counter:
    """The model's rows without their ids: a foreign key shows as the external id of the row it points to."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name == "updated_at":
            continue
        related = field.related_model
        has_external_id = related is not None and any(f.name == "external_id" for f in related._meta.fields)
        fields.append(f"{field.name}__external_id" if has_external_id else field.attname)
    return Counter(model.objects.values_list(*fields))


def test_the_sizes_ask_for_a_large_company_and_a_tenth_of_it():
    large, medium = DEMO_SIZES["large"], DEMO_SIZES["medium"]

    assert (large.contacts, large.leads, large.orders, large.interactions) == (10**6, 10**6, 5 * 10**6, 2 * 10**6)
    assert (large.tickets, large.invitations) == (10**6, 500_000)
    for volume in ("contacts", "companies", "leads", "orders", "interactions", "tickets", "invitations"):
        assert getattr(medium, volume) * 10 == getattr(large, volume)
    assert DEMO_SIZES["small"].orders is None, "small keeps the seeders' own rates"


def test_a_size_gets_about_the_volumes_it_asks_for(tiny_size):
    seed()

    assert Contact.objects.count() == TINY.contacts
    assert Ticket.objects.count() == TINY.tickets
    for model, wanted in ((Lead, TINY.leads), (Order, TINY.orders), (Interaction, TINY.interactions)):
        assert 0.75 * wanted <= model.objects.count() <= 1.25 * wanted, model.__name__
    assert 0.6 * TINY.invitations <= Invitation.objects.count() <= 1.4 * TINY.invitations
    customers = Contact.objects.filter(customer_since__isnull=False).count()
    assert 0.25 * TINY.contacts <= customers <= 0.4 * TINY.contacts


def test_a_few_customers_place_most_orders(tiny_size):
    seed()

    per_customer = sorted(Counter(Order.objects.values_list("contact_id", flat=True)).values(), reverse=True)
    top_tenth = per_customer[: max(1, len(per_customer) // 10)]
    assert sum(top_tenth) >= 0.3 * sum(per_customer)


def test_more_tickets_arrive_on_weekdays(tiny_size):
    seed()

    weekdays = Counter(created_at.weekday() for created_at in Ticket.objects.values_list("created_at", flat=True))
    assert min(weekdays[day] for day in range(5)) > max(weekdays[5], weekdays[6])


def test_nothing_lies_in_the_future(tiny_size):
    seed()

    for model, field in (
        (Contact, "created_at"), (Interaction, "occurred_at"), (Lead, "created_at"), (Deal, "closed_at"),
        (DealStageChange, "changed_at"), (Order, "ordered_at"), (SalesEvent, "at"), (Ticket, "resolved_at"),
        (TicketMessage, "created_at"), (TicketEvent, "at"), (Invitation, "sent_at"), (Response, "submitted_at"),
    ):  # fmt: skip
        assert not model.objects.filter(**{f"{field}__gt": NOW}).exists(), model.__name__


@pytest.mark.postgres
def test_the_bulk_path_writes_the_rows_the_insert_path_writes(tiny_size):
    seed(bulk=False)
    inserted = {model.__name__: rows_of(model) for model in SEEDED_MODELS}
    for model in SEEDED_MODELS:
        model.objects.all().delete()

    seed(bulk=True)

    assert connection.vendor == "postgresql"
    assert {model.__name__: rows_of(model) for model in SEEDED_MODELS} == inserted
    assert sum(len(rows) for rows in inserted.values()) > 10_000


@pytest.mark.postgres
def test_a_second_run_after_the_bulk_path_adds_nothing(tiny_size):
    seed()
    counts = {model.__name__: model.objects.count() for model in SEEDED_MODELS}

    seed()

    assert {model.__name__: model.objects.count() for model in SEEDED_MODELS} == counts
