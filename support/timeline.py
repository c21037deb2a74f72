"""What the help desk adds to a contact's timeline and to the global search (registered in apps.py)."""

from urllib.parse import urlencode

from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.text import Truncator

from contacts.registry import SearchGroup, TimelineEntry
from crm_project.templatetags.crm import display_name

from .filters import TicketFilter
from .models import Ticket, TicketMessage

BODY_CHARS = 280

# The customer's message that opened the ticket: shown with "Ticket opened", not again on its own.
OPENING_MESSAGE = Q(author_kind=TicketMessage.Author.CUSTOMER, created_at=F("ticket__created_at"))


def _excerpt(text: str) -> str:
    return Truncator(text).chars(BODY_CHARS)


def contact_timeline(contact, limit: int) -> list[TimelineEntry]:
    """The contact's tickets opened and resolved, and their public messages (two queries).

    Internal notes never appear here: the timeline shows what passed between the customer and us.
    """
    opening_body = (
        TicketMessage.objects.filter(ticket=OuterRef("pk"), author_kind=TicketMessage.Author.CUSTOMER)
        .order_by("created_at", "pk")
        .values("body")[:1]
    )
    tickets = (
        Ticket.objects.filter(contact=contact)
        .select_related("opened_by")
        .annotate(opening_body=Subquery(opening_body))
        .order_by("-created_at", "-pk")[:limit]
    )
    entries = []
    for ticket in tickets:
        url = reverse("support:ticket_detail", args=[ticket.pk])
        entries.append(
            TimelineEntry(
                when=ticket.created_at,
                kind="ticket",
                title=f"Ticket opened: {ticket.subject}",
                body=_excerpt(ticket.opening_body or ""),
                url=url,
                actor=display_name(ticket.opened_by),
                direction="Inbound",
            )
        )
        if ticket.resolved_at:
            entries.append(
                TimelineEntry(
                    when=ticket.resolved_at,
                    kind="ticket-resolved",
                    title=f"Ticket resolved: {ticket.subject}",
                    url=url,
                )
            )
    messages = (
        TicketMessage.objects.filter(ticket__contact=contact, is_public=True)
        .exclude(OPENING_MESSAGE)
        .select_related("ticket", "author")
        .order_by("-created_at", "-pk")[:limit]
    )
    for message in messages:
        from_customer = message.author_kind == TicketMessage.Author.CUSTOMER
        entries.append(
            TimelineEntry(
                when=message.created_at,
                kind="ticket-message" if from_customer else "ticket-reply",
                title=f"{'Wrote' if from_customer else 'Reply'} on ticket: {message.ticket.subject}",
                body=_excerpt(message.body),
                url=reverse("support:ticket_detail", args=[message.ticket_id]),
                actor="" if from_customer else display_name(message.author),
                direction="Inbound" if from_customer else "Outbound",
            )
        )
    return entries


def search_tickets(query: str, user, limit: int) -> SearchGroup | None:
    """Tickets whose subject or contact matches, for users who may read tickets."""
    if not user.has_perm("support.view_ticket"):
        return None
    queryset = Ticket.objects.select_related("contact")
    tickets = TicketFilter({"q": query}, queryset=queryset).qs.order_by("-created_at", "-pk")[:limit]
    return SearchGroup(
        label="Tickets",
        results=[
            (
                f"#{ticket.pk} {ticket.subject}",
                " · ".join(
                    part
                    for part in (
                        ticket.contact.full_name if ticket.contact else "",
                        ticket.get_status_display(),
                        ticket.get_priority_display(),
                    )
                    if part
                ),
                reverse("support:ticket_detail", args=[ticket.pk]),
            )
            for ticket in tickets
        ],
        # The queue page opens on the agent's own open tickets: more results means all of them.
        more_url=f"{reverse('support:ticket_list')}?{urlencode({'q': query, 'queue': 'all'})}",
    )
