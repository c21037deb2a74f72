"""Demo help desk: two years of tickets with their conversations, from the contacts the contacts seeder made.

Registered with `contacts.registry.register_demo_seeder("support", seed_support)` in apps.py, and keeps the
rules every seeder keeps (see contacts/demo.py): deterministic, idempotent, chunked, nothing in the future.

Each ticket is played out as what happened (the customer writes, an agent picks it up, replies, the
customer answers, the agent resolves; sometimes the customer writes again and reopens it), cut at
`context.now`; the ticket's times and counters are then derived from its messages exactly as the services
keep them: `first_response_at` is the first public agent reply, `agent_replies` counts those replies,
`reopened_count` the reopenings, `resolved_at` the latest resolve. Agents work Monday to Friday, 07:00 to
20:00 UTC: outside those hours most tickets wait for the next morning, so weekend tickets wait longer.

Messages and events have no external id: they are inserted only for tickets that this run inserted, so a
second run adds nothing.
"""

import random
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import accumulate

from django.conf import settings
from django.utils import timezone

from contacts.demo import (
    DemoContext,
    DemoRow,
    bulk_path,
    copy_rows,
    demo_range,
    demo_rows,
    external_id,
    ids_by_external_id,
    indexes_built_after,
    insert_new,
    reserve_ids,
)
from contacts.models import Contact

from . import sla
from .models import SlaPolicy, Ticket, TicketEvent, TicketMessage

TICKETS_PER_CONTACT = 0.5  # one ticket per two contacts, unless the size says how many

CHANNELS = ("email", "chat", "web", "phone")
CHANNEL_WEIGHTS = (45, 22, 20, 13)
PRIORITIES = ("low", "normal", "high", "urgent")
# channel -> weights of low, normal, high, urgent: people call and chat when it is pressing
PRIORITY_WEIGHTS = {
    "email": (25, 52, 18, 5),
    "web": (28, 52, 16, 4),
    "chat": (14, 50, 27, 9),
    "phone": (8, 42, 34, 16),
}
# Median hours of agents' working time before they answer, per priority.
FIRST_REPLY_HOURS = {"urgent": 0.25, "high": 0.8, "normal": 2.0, "low": 6.0}
FOLLOW_UP_HOURS = {"urgent": 0.5, "high": 1.5, "normal": 4.0, "low": 8.0}
# Median hours the customer takes to answer: the more pressing, the quicker.
CUSTOMER_ANSWER_HOURS = {"urgent": 1.0, "high": 2.5, "normal": 5.0, "low": 10.0}
# Hours a solved ticket may wait for the customer's confirmation before it is resolved.
CONFIRMATION_HOURS = {"urgent": (0.5, 4), "high": (1, 12), "normal": (1, 36), "low": (2, 72)}
# Share of replies that come outside working hours anyway (someone on call).
ON_CALL = {"urgent": 0.7, "high": 0.4, "normal": 0.15, "low": 0.05}
WORKDAY_OPENS, WORKDAY_CLOSES = time(7), time(20)
EXTRA_EXCHANGES = (0, 1, 2, 3, 4)  # customer answers then agent replies, after the first reply
EXTRA_EXCHANGE_WEIGHTS = (45, 30, 15, 7, 3)
REOPEN_RATE = 0.08
# Tickets that arrived in the last hours and wait in the queue: at least a few per chunk.
RECENT_SHARE, RECENT_MINIMUM = 0.015, 3
RECENT_HOURS = 10
QUEUE_BACKLOG_HOURS = (6, 16)  # the queue they wait in before an agent gets to them
CUSTOMER_SHARE = 0.85  # the rest come from prospects trying the product
# A chunk's messages and events (four or five a ticket) in statements PostgreSQL takes (65,535 parameters at most).
ROWS_PER_INSERT = 5000
TICKET_COLUMNS = (
    "id", "contact_id", "subject", "channel", "priority", "status", "opened_by_id", "assignee_id", "created_at",
    "updated_at", "first_response_at", "resolved_at", "closed_at", "agent_replies", "reopened_count",
    "first_response_due_at", "resolution_due_at", "external_id",
)  # fmt: skip
MESSAGE_COLUMNS = ("ticket_id", "author_kind", "is_public", "body", "created_at", "author_id")
EVENT_COLUMNS = ("ticket_id", "verb", "at", "note", "actor_id")

TOPICS = (
    ("Cannot export the monthly report", "The CSV export of the monthly report stops after 1,000 rows. We need all."),
    ("Invoice shows the wrong VAT number", "Our last invoice has an old VAT number on it. Can you correct it?"),
    ("Single sign-on stopped working", "Since this morning nobody on our team can log in through SSO."),
    ("How do I add more users?", "We hired two people. How do I give them access, and what will it cost?"),
    ("Data import fails with an error", "Importing our contacts file fails with 'invalid date in row 212'."),
    ("Dashboard is very slow", "The dashboard takes more than a minute to load since yesterday."),
    ("Integration with our mail server", "E-mails sent from the CRM end up in our customers' spam folders."),
    ("Mobile app crashes on start", "The mobile app closes right after the splash screen on my phone."),
    ("Question about the annual plan", "If we switch to the annual plan now, is the rest of the month credited?"),
    ("API returns 429 errors", "Our nightly sync gets 'too many requests' from the API after a few minutes."),
    ("Password reset e-mail never arrives", "I asked for a password reset three times and got no e-mail."),
    ("Wrong totals in the sales report", "The sales report for last quarter shows totals that do not match."),
    ("Cannot delete an old pipeline", "Deleting our old pipeline says it is in use, but it has no deals."),
    ("Request for a security questionnaire", "Our IT department needs your security questionnaire filled in."),
    ("Charged twice this month", "Our card was charged twice for this month's subscription."),
    ("Feature request: custom fields on tickets", "Could we add our own fields to tickets, such as a site number?"),
)
CUSTOMER_FOLLOW_UPS = (
    "Thanks, but it still does not work on my side.",
    "I tried that; here is a screenshot of what I see now.",
    "Which version do you need? We are on the latest one, I believe.",
    "That helped for one user, but two colleagues still have the problem.",
    "Sorry for the late answer: yes, you can go ahead.",
    "Could you call me? It is easier to show you.",
    "Any news on this? We need it for Friday.",
)
REOPEN_MESSAGES = (
    "It happened again this morning, same error as before.",
    "I am afraid the problem is back.",
    "The fix worked for a day, now it is broken again.",
    "One more question on this, sorry: what about the archived records?",
)
AGENT_FIRST_REPLIES = (
    "Hi {name}, thanks for reaching out. I am looking into it and will get back to you shortly.",
    "Hi {name}, thank you for the details. Could you tell me which browser you use?",
    "Hi {name}, I can reproduce this and have passed it on to our engineers.",
    "Hi {name}, thanks for your message. Could you send us a screenshot of the error?",
    "Hi {name}, this is a known issue; a fix is on its way. I will let you know when it is out.",
)
AGENT_FOLLOW_UPS = (
    "Thanks {name}. I have changed the setting on our side; could you try again?",
    "Good news: the fix is live. Please let us know if you still see the problem.",
    "I have corrected it and sent you the updated document.",
    "Thank you for your patience, {name}. This should be sorted now.",
    "I have added the steps to our help centre too: Settings, then Users, then Invite.",
)
INTERNAL_NOTES = (
    "Same as last month's issue with this account; see the earlier ticket.",
    "Checked the logs: the error comes from their mail server, not from us.",
    "Escalated to engineering, waiting for a fix.",
    "Customer is on the annual plan; finance has been told about the refund.",
    "Asked the account owner to call them about the renewal while we are at it.",
)


@dataclass(frozen=True)
class _ContactRef:
    id: int
    first_name: str
    created_at: datetime
    customer_since: datetime | None
    churned_at: datetime | None


@dataclass
class _Step:
    """One thing that happened to a ticket: a message (customer, reply, note) or a change (assign, pending ...)."""

    at: datetime
    kind: str
    body: str = ""


@dataclass
class _Played:
    """A ticket played out up to `now`: the ticket row and what goes with it (ticket ids are set later)."""

    ticket: DemoRow  # the Ticket's fields, by attribute name
    messages: list[DemoRow] = field(default_factory=list)
    events: list[DemoRow] = field(default_factory=list)


def seed_support(context: DemoContext) -> None:
    """Tickets over the two years, a chunk at a time, each with its conversation and its events."""
    policies = {policy.priority: policy for policy in SlaPolicy.objects.all()}
    hours_of_business = sla.business_hours()
    agents = _agents(context)
    dimensions = context.dimensions
    total = dimensions.tickets or int(dimensions.contacts * TICKETS_PER_CONTACT)
    tickets_before = demo_rows(Ticket, "ticket").count()
    bulk = bulk_path(context, Ticket, "ticket")
    with indexes_built_after(Ticket, TicketMessage, TicketEvent) if bulk else nullcontext():
        messages_new = _write_tickets(context, total, bulk, policies, hours_of_business, agents)
    tickets_now = demo_rows(Ticket, "ticket").count()
    context.record("tickets", new=tickets_now - tickets_before, total=tickets_now)
    messages_now = TicketMessage.objects.filter(ticket__external_id__startswith="demo-ticket-").count()
    context.record("ticket messages", new=messages_new, total=messages_now)


def _write_tickets(context, total, bulk, policies, hours_of_business, agents) -> int:
    """Play and write the tickets a chunk at a time, with their messages and events; how many messages."""
    contacts_per_ticket = context.dimensions.contacts / total
    messages_new = 0
    for index, numbers in context.chunks("tickets", total):
        keys = [external_id("ticket", number) for number in numbers]
        existing = set()
        if not bulk:
            existing = set(Ticket.objects.filter(external_id__in=keys).order_by().values_list("external_id", flat=True))
            if len(existing) == len(keys):
                continue  # an earlier run made them with their messages
        contacts = _contacts_for(numbers, contacts_per_ticket)
        if not contacts:
            continue
        rng = context.rng_for("tickets", index)
        picker = _ContactPicker(contacts, context)
        recent = set(rng.sample(numbers, min(len(numbers), max(RECENT_MINIMUM, round(len(numbers) * RECENT_SHARE)))))
        played = []
        for number in numbers:
            ticket_rng = random.Random(rng.getrandbits(64))  # one per ticket: draws do not shift between tickets
            picked = picker.pick(ticket_rng, recent=number in recent)
            played.append(_play_ticket(context, ticket_rng, number, picked, agents, policies, hours_of_business))
        new = [item for item in played if item.ticket.external_id not in existing]
        if bulk:
            updated_at = timezone.now()
            for item, ticket_id in zip(new, reserve_ids(Ticket, len(new)), strict=True):
                item.ticket.id, item.ticket.updated_at = ticket_id, updated_at
            copy_rows(Ticket, TICKET_COLUMNS, (tuple(item.ticket[c] for c in TICKET_COLUMNS) for item in new))
            ids = {item.ticket.external_id: (item.ticket.id,) for item in new}
        else:
            insert_new(Ticket, [Ticket(**item.ticket) for item in new])
            ids = ids_by_external_id(Ticket, [item.ticket.external_id for item in new])
        messages, events = [], []
        for item in new:
            ticket_id = ids[item.ticket.external_id][0]
            for row in (*item.messages, *item.events):
                row.ticket_id = ticket_id
            messages.extend(item.messages)
            events.extend(item.events)
        if bulk:
            copy_rows(TicketMessage, MESSAGE_COLUMNS, (tuple(row[c] for c in MESSAGE_COLUMNS) for row in messages))
            copy_rows(TicketEvent, EVENT_COLUMNS, (tuple(row[c] for c in EVENT_COLUMNS) for row in events))
        else:
            TicketMessage.objects.bulk_create([TicketMessage(**row) for row in messages], batch_size=ROWS_PER_INSERT)
            TicketEvent.objects.bulk_create([TicketEvent(**row) for row in events], batch_size=ROWS_PER_INSERT)
        messages_new += len(messages)
    return messages_new


@dataclass(frozen=True)
class _Agents:
    main: object  # the demo "support" user works most tickets
    others: tuple  # and the admin takes some

    def pick(self, rng: random.Random):
        return self.main if not self.others or rng.random() < 0.9 else rng.choice(self.others)


def _agents(context: DemoContext) -> _Agents:
    return _Agents(main=context.users["support"], others=tuple(context.users_in_role("admin")))


def _contacts_for(numbers: range, contacts_per_ticket: float) -> list[_ContactRef]:
    """The contacts of this chunk of tickets (ticket n is raised by one of the contacts around
    n x contacts_per_ticket, in the chunk's share of them), read back in one query."""
    first = int((numbers.start - 1) * contacts_per_ticket) + 1
    last = max(first, int((numbers.stop - 1) * contacts_per_ticket))
    rows = (
        demo_range(Contact, "contact", range(first, last + 1))
        .order_by("external_id")
        .values_list("id", "first_name", "created_at", "customer_since", "churned_at")
    )
    return [_ContactRef(*row) for row in rows]


class _ContactPicker:
    """Customers raise most tickets, more the longer they have been customers; prospects ask a few questions."""

    def __init__(self, contacts: list[_ContactRef], context: DemoContext):
        self.context = context
        self.contacts = contacts
        self.customers = [contact for contact in contacts if contact.customer_since is not None]
        self.customer_weights = list(
            accumulate(1 + (self._window(contact)[1] - self._window(contact)[0]).days for contact in self.customers)
        )
        # Who can have written in the last hours: customers today, or prospects trying the product.
        self.recent_from = context.now - timedelta(hours=RECENT_HOURS)
        self.active = [contact for contact in contacts if self._window(contact)[1] >= context.now - timedelta(hours=1)]

    def _window(self, contact: _ContactRef) -> tuple[datetime, datetime]:
        """When this contact may write: while a customer, or in the months they try the product."""
        if contact.customer_since is not None:
            start, end = contact.customer_since, contact.churned_at or self.context.now
        else:
            start, end = contact.created_at, contact.created_at + timedelta(days=120)
        start = max(start, self.context.start)
        return start, max(start, min(end, self.context.now))

    def pick(self, rng: random.Random, recent: bool = False) -> tuple[_ContactRef, datetime, bool]:
        """A contact, when they wrote, and whether that was in the last hours."""
        if recent and self.active:
            contact = rng.choice(self.active)
            start = max(self._window(contact)[0], self.recent_from)
            end = self.context.now - timedelta(minutes=5)
            if start < end:
                return contact, _random_instant(rng, start, end), True
        if self.customers and rng.random() < CUSTOMER_SHARE:
            contact = rng.choices(self.customers, cum_weights=self.customer_weights)[0]
        else:
            contact = rng.choice(self.contacts)
        return contact, _created_at(rng, *self._window(contact)), False


def _random_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(0, max(0, int((end - start).total_seconds()))))


def _created_at(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """An instant in [start, end]: mostly on weekdays, mostly in the daytime."""
    instant = _random_instant(rng, start, end)
    for _ in range(3):
        if instant.weekday() < 5 or rng.random() < 0.35:
            break
        instant = _random_instant(rng, start, end)
    if rng.random() < 0.8:
        daytime = instant.replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        if start <= daytime <= end:
            instant = daytime
    return instant


def _is_working_time(instant: datetime) -> bool:
    return instant.weekday() < 5 and WORKDAY_OPENS <= instant.time() < WORKDAY_CLOSES


def _next_opening(instant: datetime) -> datetime:
    day = instant.date() if instant.time() < WORKDAY_OPENS else instant.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, WORKDAY_OPENS, instant.tzinfo)


def _agent_time(rng: random.Random, after: datetime, median_hours: float, priority: str) -> datetime:
    """When an agent acts on what arrived at `after`: work left at closing time goes on the next morning."""
    work = timedelta(hours=median_hours * rng.lognormvariate(0, 0.7), minutes=1)
    if rng.random() < ON_CALL[priority]:
        return after + work
    start = after if _is_working_time(after) else _next_opening(after) + timedelta(minutes=rng.uniform(0, 30))
    closing = datetime.combine(start.date(), WORKDAY_CLOSES, start.tzinfo)
    if start + work <= closing:
        return start + work
    return _next_opening(closing) + (start + work - closing)


def _customer_time(rng: random.Random, after: datetime, priority: str) -> datetime:
    return after + timedelta(hours=CUSTOMER_ANSWER_HOURS[priority] * rng.lognormvariate(0, 1), minutes=2)


def _plan(rng, created_at: datetime, priority: str, topic: tuple[str, str], name: str, agent_opens: bool, queued: bool):
    """What happens to the ticket, in time order, without regard for `now` (it is cut later)."""
    steps = [_Step(created_at, "customer", topic[1])]
    arrives = created_at + timedelta(hours=rng.uniform(*QUEUE_BACKLOG_HOURS)) if queued else created_at
    first_reply = _agent_time(rng, arrives, FIRST_REPLY_HOURS[priority], priority)
    if agent_opens:
        steps.append(_Step(created_at, "assign"))
    else:
        pickup = created_at + (first_reply - created_at) * rng.uniform(0.2, 0.9)
        steps.append(_Step(pickup, "assign"))
        if rng.random() < 0.2:
            steps.append(_Step(pickup + (first_reply - pickup) / 2, "note", rng.choice(INTERNAL_NOTES)))
    steps.append(_Step(first_reply, "reply", rng.choice(AGENT_FIRST_REPLIES).format(name=name)))
    last = first_reply
    for _ in range(rng.choices(EXTRA_EXCHANGES, EXTRA_EXCHANGE_WEIGHTS)[0]):
        if rng.random() < 0.5:
            steps.append(_Step(last + timedelta(minutes=rng.randint(1, 10)), "pending"))
        answered = _customer_time(rng, last + timedelta(minutes=15), priority)
        steps.append(_Step(answered, "customer", rng.choice(CUSTOMER_FOLLOW_UPS)))
        if rng.random() < 0.15:
            steps.append(_Step(answered + timedelta(minutes=rng.randint(1, 5)), "note", rng.choice(INTERNAL_NOTES)))
        last = _agent_time(rng, answered + timedelta(minutes=6), FOLLOW_UP_HOURS[priority], priority)
        steps.append(_Step(last, "reply", rng.choice(AGENT_FOLLOW_UPS).format(name=name)))
    steps.append(_Step(_resolve_time(rng, last, priority), "resolve"))
    if rng.random() < REOPEN_RATE:
        # Within the auto-close delay: after it, the customer would have to open a new ticket.
        again = steps[-1].at + timedelta(hours=rng.uniform(2, 24 * max(1, settings.SUPPORT_AUTO_CLOSE_DAYS - 2)))
        steps.append(_Step(again, "customer", rng.choice(REOPEN_MESSAGES)))
        last = _agent_time(rng, again, FOLLOW_UP_HOURS[priority], priority)
        steps.append(_Step(last, "reply", rng.choice(AGENT_FOLLOW_UPS).format(name=name)))
        steps.append(_Step(_resolve_time(rng, last, priority), "resolve"))
    # The periodic task closes tickets resolved for SUPPORT_AUTO_CLOSE_DAYS; it runs hourly.
    closing = steps[-1].at + timedelta(days=settings.SUPPORT_AUTO_CLOSE_DAYS, minutes=rng.randint(1, 60))
    steps.append(_Step(closing, "close"))
    return steps


def _resolve_time(rng: random.Random, last_reply: datetime, priority: str) -> datetime:
    """Right after the reply that solved it, or once the customer confirmed (or went quiet)."""
    if rng.random() < 0.7:
        return last_reply + timedelta(minutes=rng.randint(1, 20))
    return last_reply + timedelta(hours=rng.uniform(*CONFIRMATION_HOURS[priority]))


def _play_ticket(context, rng, number, picked, agents, policies, hours_of_business) -> _Played:
    contact, created_at, recent = picked
    channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
    priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS[channel])[0]
    topic = rng.choice(TOPICS)
    agent = agents.pick(rng)
    # The agent took the call and opened the ticket (then it is not waiting in the queue).
    agent_opens = channel == "phone" and rng.random() < 0.7
    ticket = DemoRow(
        contact_id=contact.id,
        subject=topic[0],
        channel=channel,
        priority=priority,
        status=Ticket.Status.NEW,
        opened_by_id=agent.pk if agent_opens else None,
        assignee_id=None,
        created_at=created_at,
        first_response_at=None,
        resolved_at=None,
        closed_at=None,
        agent_replies=0,
        reopened_count=0,
        first_response_due_at=None,
        resolution_due_at=None,
        external_id=external_id("ticket", number),
    )
    policy = policies.get(priority)
    if policy is not None:
        ticket.first_response_due_at = sla.add_hours(created_at, policy.first_response_hours, hours_of_business)
        ticket.resolution_due_at = sla.add_hours(created_at, policy.resolution_hours, hours_of_business)
    played = _Played(ticket)
    played.events.append(_event(TicketEvent.Verb.CREATED, ticket.opened_by_id, created_at))
    for step in _plan(rng, created_at, priority, topic, contact.first_name, agent_opens, recent and not agent_opens):
        if step.at > context.now:
            break
        _apply(played, step, agent)
    return played


def _message(author_kind: str, author_id: int | None, is_public: bool, body: str, at: datetime) -> DemoRow:
    return DemoRow(author_kind=author_kind, author_id=author_id, is_public=is_public, body=body, created_at=at)


def _event(verb: str, actor_id: int | None, at: datetime | None = None, note: str = "") -> DemoRow:
    return DemoRow(verb=verb, actor_id=actor_id, at=at, note=note)


def _apply(played: _Played, step: _Step, agent) -> None:
    """Change the ticket as the service for this step would, and keep its message or event."""
    ticket, at = played.ticket, step.at
    event = None
    if step.kind == "customer":
        played.messages.append(_message("customer", None, True, step.body, at))
        if ticket.status == Ticket.Status.RESOLVED:
            ticket.status, ticket.resolved_at = Ticket.Status.OPEN, None
            ticket.reopened_count += 1
            event = _event(TicketEvent.Verb.REOPENED, None, note="by the customer's message")
        elif ticket.status == Ticket.Status.PENDING:
            ticket.status = Ticket.Status.OPEN
    elif step.kind == "assign":
        ticket.assignee_id = agent.pk
        if ticket.status == Ticket.Status.NEW:
            ticket.status = Ticket.Status.OPEN
        event = _event(TicketEvent.Verb.ASSIGNED, agent.pk, note=f"to {agent}")
    elif step.kind in ("reply", "note"):
        public = step.kind == "reply"
        played.messages.append(_message("agent", agent.pk, public, step.body, at))
        if public:
            ticket.agent_replies += 1
            ticket.first_response_at = ticket.first_response_at or at
            if ticket.status == Ticket.Status.NEW:
                ticket.status = Ticket.Status.OPEN
    elif step.kind == "pending" and ticket.status == Ticket.Status.OPEN:
        ticket.status = Ticket.Status.PENDING
        event = _event(TicketEvent.Verb.STATUS, agent.pk, note="Open → Pending")
    elif step.kind == "resolve":
        ticket.status, ticket.resolved_at = Ticket.Status.RESOLVED, at
        event = _event(TicketEvent.Verb.RESOLVED, agent.pk)
    elif step.kind == "close":
        ticket.status, ticket.closed_at = Ticket.Status.CLOSED, at
        event = _event(TicketEvent.Verb.CLOSED, None, note="automatically")
    if event is not None:
        event.at = at
        played.events.append(event)
