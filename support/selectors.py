"""Reads shared by the help desk pages and API: joins, queue counts and SLA urgency in SQL."""

from django.db.models import Case, Count, DateTimeField, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from .models import PRIORITY_RANK, Ticket, TicketEvent, TicketMessage

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)


def ticket_list() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("contact", "contact__company", "assignee")


def with_sla_urgency(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `next_due_at`: the deadline that matters now (first response until answered, then resolution)."""
    return queryset.annotate(
        next_due_at=Case(
            When(first_response_at__isnull=True, then=F("first_response_due_at")),
            default=F("resolution_due_at"),
            output_field=DateTimeField(),
        ),
        priority_rank=Case(
            *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANK.items()),
            output_field=IntegerField(),
        ),
    )


def overdue_condition(now=None) -> Q:
    """Open tickets past the deadline that matters now."""
    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES) & (
        Q(first_response_at__isnull=True, first_response_due_at__lt=now)
        | Q(first_response_at__isnull=False, resolution_due_at__lt=now)
    )


QUEUES = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "overdue": "Overdue",
    "open": "All open",
    "all": "All tickets",
}


def queue_filter(queue: str, user) -> Q:
    if queue == "mine":
        return Q(assignee=user, status__in=OPEN_STATUSES)
    if queue == "unassigned":
        return Q(assignee__isnull=True, status__in=OPEN_STATUSES)
    if queue == "overdue":
        return overdue_condition()
    if queue == "open":
        return Q(status__in=OPEN_STATUSES)
    return Q()


def queue_counts(user) -> dict[str, int]:
    """Live counts of every queue, in one query."""
    return Ticket.objects.aggregate(
        **{queue: Count("pk", filter=queue_filter(queue, user)) for queue in QUEUES},
    )


def ticket_queue(queue: str, user) -> QuerySet[Ticket]:
    """A queue sorted by SLA urgency: the earliest deadline first, no deadline last, then priority.

    The "all" queue, closed tickets included, is newest first instead.
    """
    tickets = with_sla_urgency(ticket_list().filter(queue_filter(queue, user)))
    if queue == "all":
        return tickets.order_by("-created_at", "-pk")
    return tickets.order_by(F("next_due_at").asc(nulls_last=True), "priority_rank", "created_at", "pk")


def ticket_conversation(ticket: Ticket) -> QuerySet[TicketMessage]:
    return ticket.messages.select_related("author").order_by("created_at", "pk")


def ticket_history(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor").order_by("at", "pk")
