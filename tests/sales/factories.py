import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from sales.models import Campaign, Deal, Lead, Order, Pipeline, Spend, Stage, Subscription
from tests.contacts.factories import ChannelFactory, ContactFactory


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def stage(name: str, pipeline: Pipeline | None = None) -> Stage:
    return (pipeline or default_pipeline()).stages.get(name=name)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = factory.SubFactory(ChannelFactory, name="Paid ads")
    starts_on = datetime.date(2026, 1, 1)
    ends_on = datetime.date(2026, 12, 31)


class SpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Spend

    spent_on = datetime.date(2026, 3, 15)
    amount = Decimal("1000.00")
    category = Spend.Category.ACQUISITION
    channel = factory.SubFactory(ChannelFactory, name="Paid ads")


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@prospect.example")
    company_name = factory.Sequence(lambda n: f"Prospect {n} GmbH")
    channel = factory.SubFactory(ChannelFactory, name="Referral")


class DealFactory(factory.django.DjangoModelFactory):
    """An open deal in the first stage of the default pipeline."""

    class Meta:
        model = Deal

    title = factory.Sequence(lambda n: f"Deal {n}")
    contact = factory.SubFactory(ContactFactory)
    company = factory.LazyAttribute(lambda deal: deal.contact.company if deal.contact else None)
    amount = Decimal("5000.00")
    pipeline = factory.LazyFunction(default_pipeline)
    stage = factory.LazyAttribute(lambda deal: deal.pipeline.stages.filter(kind="open").order_by("position").first())


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    contact = factory.SubFactory(ContactFactory)
    ordered_at = factory.LazyFunction(timezone.now)
    amount = Decimal("250.00")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    contact = factory.SubFactory(ContactFactory)
    plan = "Team"
    amount = Decimal("1200.00")
    starts_on = datetime.date(2026, 1, 1)
    ends_on = datetime.date(2027, 1, 1)
