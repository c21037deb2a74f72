import factory
from django.utils import timezone
from django.utils.text import slugify

from contacts.models import Channel, Company, Contact, Interaction


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("name",)

    name = factory.Iterator(["Organic search", "Paid ads", "Referral", "Events", "Outbound", "Partner"])


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n} Ltd")
    domain = factory.LazyAttribute(lambda c: f"{slugify(c.name)}.example.com")
    industry = "Software"
    region = "Europe"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    company = factory.SubFactory(CompanyFactory)
    channel = factory.SubFactory(ChannelFactory)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    contact = factory.SubFactory(ContactFactory)
    kind = Interaction.Kind.CALL
    direction = Interaction.Direction.OUTBOUND
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "Talked about the renewal."
