"""seed_demo's help desk: two years of tickets whose times and counters obey the services' rules."""

import datetime
import statistics
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from contacts.demo import DemoContext, ensure_demo_users, seed_contacts
from support import sla
from support.demo import seed_support
from support.models import SlaPolicy, Ticket, TicketEvent, TicketMessage

pytestmark = pytest.mark.django_db

# A fixed "now" (a Wednesday, midnight UTC) makes the data the same whatever day the tests run.
NOW = datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
SMALL_TICKETS = 150  # 300 contacts


def seed(*, seed: int = 1, chunk_size: int = 64) -> DemoContext:
    """Contacts, then tickets, in several chunks of each."""
    context = DemoContext(
        size="small", seed=seed, users=ensure_demo_users(), log=lambda message: None, now=NOW, chunk_size=chunk_size
    )
    seed_contacts(context)
    seed_support(context)
    return context


def counts() -> tuple[int, int, int]:
    return Ticket.objects.count(), TicketMessage.objects.count(), TicketEvent.objects.count()


def count_of(queryset) -> Subquery:
    """A per-ticket count as a subquery: counting two relations in one query would multiply them."""
    return Coalesce(Subquery(queryset.order_by().values("ticket").annotate(n=Count("pk")).values("n")), 0)


def first_response_hours(tickets) -> list[float]:
    return [ticket.first_response_hours for ticket in tickets if ticket.first_response_at is not None]


@contextmanager
def counting_queries():
    """Count queries even though the seeder clears Django's query log after every chunk."""
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield executed


# Through the command


def test_seed_demo_runs_the_support_seeder_and_reports_its_tickets():
    out = StringIO()
    call_command("seed_demo", size="small", force=True, stdout=out)

    lines = [line.split() for line in out.getvalue().splitlines()]
    assert ["tickets", str(SMALL_TICKETS), str(SMALL_TICKETS)] in lines
    assert Ticket.objects.count() == SMALL_TICKETS


# Volumes


def test_one_ticket_per_two_contacts_each_from_a_demo_contact_with_a_demo_external_id():
    seed()

    assert Ticket.objects.count() == SMALL_TICKETS
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {
        f"demo-ticket-{number:07d}" for number in range(1, SMALL_TICKETS + 1)
    }
    assert not Ticket.objects.exclude(contact__external_id__startswith="demo-contact-").exists()


def test_tickets_come_after_their_contact_was_created_and_nothing_lies_in_the_future():
    seed()

    assert not Ticket.objects.filter(created_at__lt=NOW - datetime.timedelta(days=730)).exists()
    assert not Ticket.objects.filter(created_at__lt=F("contact__created_at")).exists()
    assert not Ticket.objects.filter(
        Q(created_at__gt=NOW) | Q(first_response_at__gt=NOW) | Q(resolved_at__gt=NOW) | Q(closed_at__gt=NOW)
    ).exists()
    assert not TicketMessage.objects.filter(created_at__gt=NOW).exists()
    assert not TicketEvent.objects.filter(at__gt=NOW).exists()


def test_email_is_the_busiest_channel_and_normal_the_commonest_priority():
    seed()

    channels = dict(Ticket.objects.values_list("channel").annotate(n=Count("pk")))
    priorities = dict(Ticket.objects.values_list("priority").annotate(n=Count("pk")))
    assert set(channels) == set(Ticket.Channel.values)
    assert max(channels, key=channels.get) == "email"
    assert set(priorities) == set(Ticket.Priority.values)
    assert max(priorities, key=priorities.get) == "normal"
    assert min(priorities, key=priorities.get) == "urgent"


def test_more_tickets_arrive_on_weekdays_than_at_weekends():
    seed()

    weekdays = [created.weekday() for created in Ticket.objects.values_list("created_at", flat=True)]
    per_weekday = sum(day < 5 for day in weekdays) / 5
    per_weekend_day = sum(day >= 5 for day in weekdays) / 2
    assert per_weekday > 1.5 * per_weekend_day


# Conversations


def test_every_ticket_opens_with_the_customers_message_at_its_creation():
    seed()

    first = TicketMessage.objects.filter(ticket=OuterRef("pk")).order_by("created_at", "pk")
    tickets = Ticket.objects.annotate(
        first_kind=Subquery(first.values("author_kind")[:1]), first_at=Subquery(first.values("created_at")[:1])
    )
    assert {ticket.first_kind for ticket in tickets} == {"customer"}
    assert all(ticket.first_at == ticket.created_at for ticket in tickets)


def test_conversations_have_follow_ups_and_internal_notes():
    seed()

    customer_messages = count_of(TicketMessage.objects.filter(ticket=OuterRef("pk"), author_kind="customer"))
    tickets = Ticket.objects.annotate(customer_messages=customer_messages)
    assert tickets.filter(customer_messages__gte=2).count() >= 20
    assert Ticket.objects.filter(agent_replies__gte=3).count() >= 10
    assert TicketMessage.objects.filter(is_public=False).count() >= 10
    assert not TicketMessage.objects.filter(is_public=False, author_kind="customer").exists()


def test_the_reply_count_and_the_first_response_are_those_of_the_public_agent_replies():
    seed()

    replies = TicketMessage.objects.filter(ticket=OuterRef("pk"), author_kind="agent", is_public=True)
    tickets = Ticket.objects.annotate(
        replies=count_of(replies),
        first_reply_at=Subquery(replies.order_by("created_at").values("created_at")[:1]),
    )
    assert all(ticket.agent_replies == ticket.replies for ticket in tickets)
    assert all(ticket.first_response_at == ticket.first_reply_at for ticket in tickets)


def test_the_reopening_count_matches_the_reopenings_and_some_tickets_were_reopened():
    seed()

    reopenings = count_of(TicketEvent.objects.filter(ticket=OuterRef("pk"), verb="reopened"))
    tickets = Ticket.objects.annotate(reopenings=reopenings)
    assert all(ticket.reopened_count == ticket.reopenings for ticket in tickets)
    assert tickets.filter(reopened_count__gt=0).count() >= 3


def test_the_resolution_time_matches_the_status_and_the_latest_resolve():
    seed()

    latest_resolve = TicketEvent.objects.filter(ticket=OuterRef("pk"), verb="resolved").order_by("-at")
    tickets = Ticket.objects.annotate(latest_resolve=Subquery(latest_resolve.values("at")[:1]))
    for ticket in tickets:
        if ticket.status in ("resolved", "closed"):
            assert ticket.resolved_at == ticket.latest_resolve
        else:
            assert ticket.resolved_at is None


def test_most_tickets_are_resolved_and_the_older_resolved_ones_are_closed(settings):
    seed()

    done = Ticket.objects.filter(status__in=("resolved", "closed")).count()
    assert done >= 0.9 * SMALL_TICKETS
    auto_close = datetime.timedelta(days=settings.SUPPORT_AUTO_CLOSE_DAYS)
    assert not Ticket.objects.filter(status="resolved", resolved_at__lt=NOW - auto_close).exists()
    for ticket in Ticket.objects.filter(status="closed"):
        assert auto_close <= ticket.closed_at - ticket.resolved_at <= auto_close + datetime.timedelta(hours=1)


def test_a_few_recent_tickets_still_wait_for_their_first_response():
    seed()

    waiting = Ticket.objects.filter(first_response_at__isnull=True)
    assert waiting.exists()
    assert not waiting.filter(created_at__lt=NOW - datetime.timedelta(days=3)).exists()
    assert set(waiting.values_list("status", flat=True)) <= {"new", "open"}
    assert not waiting.filter(messages__author_kind="agent", messages__is_public=True).exists()


# Response and resolution times


def test_the_more_pressing_the_ticket_the_sooner_the_first_response():
    seed()

    medians = [
        statistics.median(first_response_hours(Ticket.objects.filter(priority=priority)))
        for priority in ("urgent", "high", "normal", "low")
    ]
    assert medians == sorted(medians)
    assert medians[0] < 1 < medians[-1]


def test_weekend_tickets_wait_longer_for_a_first_response():
    seed()

    tickets = list(Ticket.objects.all())
    weekend = statistics.median(first_response_hours(t for t in tickets if t.created_at.weekday() >= 5))
    weekday = statistics.median(first_response_hours(t for t in tickets if t.created_at.weekday() < 5))
    assert weekend > 3 * weekday


def test_sla_deadlines_follow_the_default_policies_in_calendar_hours():
    seed()

    policies = {policy.priority: policy for policy in SlaPolicy.objects.all()}
    for ticket in Ticket.objects.all():
        policy = policies[ticket.priority]
        assert ticket.first_response_due_at == sla.add_hours(ticket.created_at, policy.first_response_hours, None)
        assert ticket.resolution_due_at == sla.add_hours(ticket.created_at, policy.resolution_hours, None)


def test_sla_deadlines_follow_business_hours_when_they_are_set(settings):
    settings.SUPPORT_BUSINESS_HOURS = "mon-fri 09:00-17:00"
    seed()

    hours = sla.business_hours()
    policies = {policy.priority: policy for policy in SlaPolicy.objects.all()}
    for ticket in Ticket.objects.all():
        expected = sla.add_hours(ticket.created_at, policies[ticket.priority].first_response_hours, hours)
        assert ticket.first_response_due_at == expected


def test_the_support_agent_works_most_tickets():
    seed()

    assignees = dict(
        Ticket.objects.filter(assignee__isnull=False).values_list("assignee__username").annotate(n=Count("pk"))
    )
    assert assignees["support"] >= 0.8 * sum(assignees.values())
    assert set(assignees) <= {"support", "admin"}


# Idempotent, deterministic, chunked


def test_running_twice_adds_nothing():
    seed()
    first = counts()

    context = seed()

    assert counts() == first
    assert context.created["tickets"] == (0, SMALL_TICKETS)
    assert context.created["ticket messages"][0] == 0


def test_running_again_brings_back_a_deleted_demo_ticket_with_its_conversation_alone():
    seed()
    first = counts()
    ticket = Ticket.objects.get(external_id="demo-ticket-0000042")
    conversation = list(ticket.messages.values_list("author_kind", "is_public", "body", "created_at"))
    ticket.delete()

    seed()

    assert counts() == first
    again = Ticket.objects.get(external_id="demo-ticket-0000042")
    assert list(again.messages.values_list("author_kind", "is_public", "body", "created_at")) == conversation


def snapshot() -> list[tuple]:
    tickets = Ticket.objects.order_by("external_id").values_list(
        "external_id", "contact__external_id", "subject", "channel", "priority", "status", "created_at",
        "first_response_at", "resolved_at", "closed_at", "agent_replies", "reopened_count",
    )  # fmt: skip
    messages = TicketMessage.objects.order_by("ticket__external_id", "created_at", "pk").values_list(
        "ticket__external_id", "author_kind", "is_public", "body", "created_at"
    )
    return [*tickets, *messages]


def test_the_same_seed_gives_the_same_tickets():
    seed(seed=7)
    first = snapshot()
    Ticket.objects.all().delete()

    seed(seed=7)

    assert snapshot() == first


def test_tickets_are_written_a_chunk_at_a_time_with_a_few_queries_each():
    context = DemoContext(
        size="small", seed=1, users=ensure_demo_users(), log=lambda message: None, now=NOW, chunk_size=50
    )
    seed_contacts(context)

    with counting_queries() as executed:
        seed_support(context)

    chunks = SMALL_TICKETS // 50
    # On PostgreSQL a first run sets the indexes and foreign keys aside, builds them once at the end, analyses.
    once = ("SET ", "ALTER TABLE", "DROP INDEX", "CREATE ", "ANALYZE", "SELECT conrelid", "SELECT indexrelid")
    executed = [sql for sql in executed if not sql.startswith(once)]
    reads = [sql for sql in executed if not sql.startswith("INSERT")]
    assert len(reads) <= 4 + 3 * chunks  # the policies and the counts for the summary, then 3 per chunk
    # A first run on PostgreSQL copies its rows (COPY, which this log does not see) with ids reserved up front;
    # SQLite splits a long insert into several statements.
    if connection.vendor == "postgresql":
        assert len(executed) - len(reads) == 0
    assert Ticket.objects.count() == SMALL_TICKETS
