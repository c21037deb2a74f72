"""The help desk's timestamp rules, one test each: what KPIs will measure must be what happened."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from support import services, sla
from support.models import SlaPolicy, Ticket, TicketEvent, TicketMessage
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)  # a Monday


@pytest.fixture
def agent(support_user):
    return support_user


@pytest.fixture
def clock(monkeypatch):
    """Move Django's clock by hand: services stamp times with timezone.now()."""

    class Clock:
        now = T0

        def advance(self, **delta):
            self.now += datetime.timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def open_ticket(**kwargs) -> Ticket:
    kwargs.setdefault("contact", ContactFactory())
    kwargs.setdefault("subject", "Export fails")
    kwargs.setdefault("body", "The CSV export stops at 1000 rows.")
    return services.ticket_create(**kwargs)


def test_the_first_public_agent_reply_sets_the_first_response_time(agent, clock):
    ticket = open_ticket()
    clock.advance(minutes=90)

    services.ticket_reply(ticket=ticket, author=agent, body="Looking into it.")
    clock.advance(hours=1)
    services.ticket_reply(ticket=ticket, author=agent, body="Fixed.")

    ticket.refresh_from_db()
    assert ticket.first_response_at == T0 + datetime.timedelta(minutes=90)
    assert ticket.first_response_hours == 1.5


def test_an_internal_note_is_not_a_response(agent, clock):
    ticket = open_ticket()
    clock.advance(minutes=10)
    services.ticket_add_note(ticket=ticket, author=agent, body="Probably the export limit.")

    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.agent_replies == 0


def test_a_customer_message_is_not_a_response(clock):
    ticket = open_ticket()
    clock.advance(minutes=10)
    services.ticket_customer_message(ticket=ticket, body="Any news?")

    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_a_ticket_an_agent_opens_for_a_customer_waits_for_the_next_public_reply(agent, clock):
    ticket = open_ticket(opened_by=agent, channel=Ticket.Channel.PHONE)
    clock.advance(minutes=30)

    services.ticket_reply(ticket=ticket, author=agent, body="As discussed on the phone: here is the fix.")

    ticket.refresh_from_db()
    assert ticket.first_response_at == T0 + datetime.timedelta(minutes=30)
    assert ticket.messages.first().author_kind == TicketMessage.Author.CUSTOMER


def test_the_agent_reply_count_counts_public_agent_replies_only(agent):
    ticket = open_ticket()
    services.ticket_reply(ticket=ticket, author=agent, body="One")
    services.ticket_add_note(ticket=ticket, author=agent, body="Note")
    services.ticket_customer_message(ticket=ticket, body="Thanks")
    services.ticket_reply(ticket=ticket, author=agent, body="Two")

    ticket.refresh_from_db()
    assert ticket.agent_replies == 2


def test_resolving_sets_the_resolution_time(agent, clock):
    ticket = open_ticket()
    clock.advance(hours=5)

    services.ticket_resolve(ticket=ticket, actor=agent)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at == T0 + datetime.timedelta(hours=5)


def test_reopening_counts_and_clears_the_resolution_and_the_next_resolve_sets_it_again(agent, clock):
    ticket = open_ticket()
    clock.advance(hours=1)
    services.ticket_resolve(ticket=ticket, actor=agent)
    clock.advance(hours=1)

    services.ticket_reopen(ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.reopened_count) == (Ticket.Status.OPEN, None, 1)

    clock.advance(hours=3)
    services.ticket_resolve(ticket=ticket, actor=agent)
    ticket.refresh_from_db()
    assert ticket.resolved_at == T0 + datetime.timedelta(hours=5)


def test_a_customer_message_on_a_resolved_ticket_reopens_it(agent):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)

    services.ticket_customer_message(ticket=ticket, body="Still broken.")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopened_count == 1
    assert ticket.resolved_at is None


def test_closing_is_final(agent):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)
    services.ticket_close(ticket=ticket, actor=agent)

    with pytest.raises(ValidationError, match="closed"):
        services.ticket_reply(ticket=ticket, author=agent, body="Hello?")
    with pytest.raises(ValidationError):
        services.ticket_reopen(ticket=ticket, actor=agent)
    with pytest.raises(ValidationError):
        services.ticket_customer_message(ticket=ticket, body="Hi")
    assert ticket.messages.count() == 1


def test_resolved_tickets_close_automatically_after_the_configured_days(agent, clock):
    old = open_ticket()
    services.ticket_resolve(ticket=old, actor=agent)
    clock.advance(days=8)
    recent = open_ticket()
    services.ticket_resolve(ticket=recent, actor=agent)

    closed = services.tickets_close_resolved(older_than_days=7)

    assert closed == 1
    assert Ticket.objects.get(pk=old.pk).status == Ticket.Status.CLOSED
    assert Ticket.objects.get(pk=recent.pk).status == Ticket.Status.RESOLVED


def test_assign_priority_and_status_changes_are_recorded_with_who_and_when(agent, clock):
    ticket = open_ticket()
    clock.advance(minutes=5)

    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    services.ticket_change_priority(ticket=ticket, priority=Ticket.Priority.URGENT, actor=agent)
    services.ticket_change_status(ticket=ticket, status=Ticket.Status.PENDING, actor=agent)

    events = list(ticket.events.exclude(verb=TicketEvent.Verb.CREATED).values_list("verb", "actor", "at"))
    at = T0 + datetime.timedelta(minutes=5)
    assert events == [("assigned", agent.pk, at), ("priority", agent.pk, at), ("status", agent.pk, at)]


# Refusals ------------------------------------------------------------------------------------------------------


def test_an_empty_reply_is_refused(agent):
    ticket = open_ticket()

    with pytest.raises(ValidationError, match="empty"):
        services.ticket_reply(ticket=ticket, author=agent, body="   ")

    ticket.refresh_from_db()
    assert ticket.agent_replies == 0
    assert ticket.first_response_at is None


def test_resolving_a_resolved_ticket_is_refused(agent):
    ticket = open_ticket()
    services.ticket_resolve(ticket=ticket, actor=agent)
    resolved_at = Ticket.objects.get().resolved_at

    with pytest.raises(ValidationError, match="already resolved"):
        services.ticket_resolve(ticket=ticket, actor=agent)

    assert Ticket.objects.get().resolved_at == resolved_at


def test_a_user_who_cannot_work_tickets_cannot_be_assigned(agent, sales_user):
    ticket = open_ticket()

    with pytest.raises(ValidationError, match="cannot take tickets"):
        services.ticket_assign(ticket=ticket, assignee=sales_user, actor=agent)

    assert Ticket.objects.get().assignee is None


def test_a_huge_message_is_refused(agent):
    ticket = open_ticket()

    with pytest.raises(ValidationError, match="too long"):
        services.ticket_reply(ticket=ticket, author=agent, body="x" * 20001)


# SLA -----------------------------------------------------------------------------------------------------------


def test_sla_targets_in_calendar_hours_follow_the_priority(clock):
    ticket = open_ticket(priority=Ticket.Priority.HIGH)  # 4 h to reply, 24 h to resolve (default policies)

    assert ticket.first_response_due_at == T0 + datetime.timedelta(hours=4)
    assert ticket.resolution_due_at == T0 + datetime.timedelta(hours=24)


def test_a_reply_within_the_target_meets_the_sla_and_a_late_one_misses_it(agent, clock):
    on_time = open_ticket(priority=Ticket.Priority.URGENT)  # 1 h
    late = open_ticket(priority=Ticket.Priority.URGENT)
    clock.advance(minutes=59)
    services.ticket_reply(ticket=on_time, author=agent, body="On it")
    clock.advance(minutes=2)
    services.ticket_reply(ticket=late, author=agent, body="On it")

    on_time.refresh_from_db()
    late.refresh_from_db()
    assert on_time.first_response_met_sla is True
    assert late.first_response_met_sla is False


def test_raising_the_priority_moves_the_targets(agent, clock):
    ticket = open_ticket(priority=Ticket.Priority.LOW)
    clock.advance(minutes=20)

    services.ticket_change_priority(ticket=ticket, priority=Ticket.Priority.URGENT, actor=agent)

    ticket.refresh_from_db()
    assert ticket.first_response_due_at == T0 + datetime.timedelta(hours=1)


def test_business_hours_skip_nights_and_weekends(settings):
    settings.SUPPORT_BUSINESS_HOURS = "mon-fri 09:00-17:00"
    settings.SUPPORT_TIME_ZONE = "Europe/Berlin"
    friday_4pm_berlin = datetime.datetime(2026, 3, 6, 15, 0, tzinfo=datetime.UTC)

    due = sla.add_hours(friday_4pm_berlin, Decimal("4"), sla.business_hours())

    # One hour on Friday, three on Monday from 09:00 Berlin (08:00 UTC): Monday 11:00 UTC.
    assert due == datetime.datetime(2026, 3, 9, 11, 0, tzinfo=datetime.UTC)


def test_without_a_policy_a_ticket_has_no_target():
    SlaPolicy.objects.filter(priority="low").delete()

    ticket = open_ticket(priority=Ticket.Priority.LOW)

    assert ticket.first_response_due_at is None
    assert ticket.first_response_met_sla is None
