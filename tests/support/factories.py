import factory
from django.utils import timezone

from support.models import Ticket
from tests.contacts.factories import ContactFactory


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket as an integration would leave it; use services.ticket_create for the full workflow."""

    class Meta:
        model = Ticket

    contact = factory.SubFactory(ContactFactory)
    subject = factory.Sequence(lambda n: f"Cannot export report {n}")
    channel = Ticket.Channel.EMAIL
    priority = Ticket.Priority.NORMAL
    created_at = factory.LazyFunction(timezone.now)
