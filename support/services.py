"""Every write of the help desk. Each service is one transaction; a refused action changes nothing.

The times that KPIs measure are kept here from what happened, never typed in:
- `first_response_at`: the first public agent reply (not an internal note, not a customer
  message; for a ticket an agent opened on the customer's behalf, the next public agent
  reply after creation);
- `resolved_at`: set by resolving, cleared by reopening, set again by the next resolve;
- `agent_replies` counts public agent replies; `reopened_count` counts reopenings.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit import recording as audit
from contacts.models import Contact
from crm_project import outbox
from crm_project.mail import send_each_once
from crm_project.services import apply_and_save, refuse
from crm_project.templatetags.crm import display_name

from . import registry, sla
from .models import SlaPolicy, Ticket, TicketEvent, TicketMessage

User = AbstractBaseUser
MAX_BODY = 20000
WORKING_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)


def _event(ticket: Ticket, verb: str, actor=None, note: str = "", at=None) -> None:
    TicketEvent.objects.create(ticket=ticket, verb=verb, actor=actor, note=note[:300], at=at or timezone.now())


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        refuse("Write something first: the message is empty.", "body")
    if len(body) > MAX_BODY:
        refuse(f"The message is too long ({len(body):,} characters; at most {MAX_BODY:,}).", "body")
    return body


TICKET_EDITABLE_FIELDS = ("subject", "contact")


@transaction.atomic
def ticket_update(*, ticket: Ticket, data: dict) -> Ticket:
    """Correct a ticket's subject or contact; the workflow fields change through their own services."""
    ticket = _locked(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        refuse("A closed ticket is final.")
    return apply_and_save(ticket, TICKET_EDITABLE_FIELDS, data)


@transaction.atomic
def ticket_delete(*, ticket: Ticket) -> None:
    """Delete a ticket entered by mistake, with its messages (needs delete_ticket: administrators)."""
    ticket.delete()


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _set_due_times(ticket: Ticket) -> None:
    policy = SlaPolicy.objects.filter(priority=ticket.priority).first()
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    hours = sla.business_hours()
    ticket.first_response_due_at = sla.add_hours(ticket.created_at, policy.first_response_hours, hours)
    ticket.resolution_due_at = sla.add_hours(ticket.created_at, policy.resolution_hours, hours)


def check_assignee(user) -> None:
    """Only an active user who may work on tickets can be given one."""
    if user is None:
        return
    if not user.is_active or not user.has_perm("support.change_ticket"):
        refuse(f"{user} cannot take tickets.", "assignee")


@transaction.atomic
def ticket_create(
    *,
    contact: Contact | None = None,
    subject: str,
    body: str,
    channel: str = Ticket.Channel.EMAIL,
    priority: str = Ticket.Priority.NORMAL,
    opened_by: User | None = None,
    assignee: User | None = None,
) -> Ticket:
    """Open a ticket with the customer's first message.

    `opened_by` is the agent who opened it on the customer's behalf (a phone call, say);
    the first message is still the customer's, so the first response is the next
    public agent reply.
    """
    check_assignee(assignee)
    ticket = Ticket(
        contact=contact,
        subject=(subject or "").strip(),
        channel=channel,
        priority=priority,
        opened_by=opened_by,
        assignee=assignee,
        status=Ticket.Status.OPEN if assignee else Ticket.Status.NEW,
        created_at=timezone.now(),
    )
    _set_due_times(ticket)
    ticket.full_clean()
    body = _clean_body(body)
    ticket.save()
    TicketMessage.objects.create(
        ticket=ticket, author_kind=TicketMessage.Author.CUSTOMER, body=body, created_at=ticket.created_at
    )
    _event(ticket, TicketEvent.Verb.CREATED, opened_by, at=ticket.created_at)
    if assignee:
        _event(ticket, TicketEvent.Verb.ASSIGNED, opened_by, note=f"to {display_name(assignee)}", at=ticket.created_at)
    return ticket


@transaction.atomic
def ticket_reply(*, ticket: Ticket, author: User, body: str) -> TicketMessage:
    """A public agent reply: the first one sets the first response time. It is e-mailed to the ticket's contact
    after commit (`email_to`; none without a contact or an address): a support answer, sent whether or not the
    contact opted out of surveys and campaigns."""
    ticket = _locked(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        refuse("This ticket is closed: a reply cannot be added. Open a new ticket instead.")
    contact = ticket.contact
    message = TicketMessage.objects.create(
        ticket=ticket,
        author_kind=TicketMessage.Author.AGENT,
        author=author,
        is_public=True,
        body=_clean_body(body),
        created_at=timezone.now(),
        email_to=contact.email if contact is not None else "",
    )
    if message.email_to:  # the message is its own outbox: unsent, it waits until a worker sends it
        outbox.enqueue_on_commit(_send_replies_task(), [message.pk])
    ticket.agent_replies += 1
    if ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
    if ticket.status == Ticket.Status.NEW:
        ticket.status = Ticket.Status.OPEN
    ticket.save(update_fields=["agent_replies", "first_response_at", "status", "updated_at"])
    return message


def _send_replies_task():
    from .tasks import send_replies

    return send_replies


def unsent_replies():
    """Replies to e-mail that have not gone (nor been given up: a refused address)."""
    return TicketMessage.objects.filter(emailed_at__isnull=True, email_error="").exclude(email_to="")


def replies_dispatch_pending(created_before: datetime.datetime) -> int:
    """The outbox's dispatch: queue the sending of replies still unsent that were written before then."""
    ids = list(unsent_replies().filter(created_at__lt=created_before).order_by("pk").values_list("pk", flat=True))
    batch = settings.SURVEY_SEND_BATCH
    return sum(outbox.enqueue(_send_replies_task(), ids[start : start + batch]) for start in range(0, len(ids), batch))


def _email_for(message: TicketMessage) -> EmailMessage:
    context = {"message": message, "ticket": message.ticket, "contact": message.ticket.contact}
    return EmailMessage(
        subject=f"Re: {' '.join(message.ticket.subject.split())} [ticket #{message.ticket_id}]",
        body=render_to_string("support/email/reply.txt", context),
        to=[message.email_to],
    )


def replies_send(*, message_ids: list[int]) -> int:
    """E-mail the unsent replies among these, each once (`crm_project.mail.send_each_once`). Returns how many
    went."""

    def prepare(message: TicketMessage) -> EmailMessage:
        message.emailed_at = timezone.now()
        message.save(update_fields=["emailed_at"])
        return _email_for(message)

    return send_each_once(
        unsent=unsent_replies().select_related("ticket__contact", "author"),
        ids=message_ids,
        prepare=prepare,
        give_up=lambda ids, reason: TicketMessage.objects.filter(pk__in=ids).update(email_error=reason),
    )


@transaction.atomic
def ticket_add_note(*, ticket: Ticket, author: User, body: str) -> TicketMessage:
    """An internal note: staff see it, the customer never does; it is not a response."""
    ticket = _locked(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        refuse("This ticket is closed: nothing can be added.")
    message = TicketMessage.objects.create(
        ticket=ticket,
        author_kind=TicketMessage.Author.AGENT,
        author=author,
        is_public=False,
        body=_clean_body(body),
        created_at=timezone.now(),
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    return message


@transaction.atomic
def ticket_customer_message(*, ticket: Ticket, body: str) -> TicketMessage:
    """The customer writes again; on a resolved ticket that reopens it."""
    ticket = _locked(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        refuse("This ticket is closed; the customer's message needs a new ticket.")
    message = TicketMessage.objects.create(
        ticket=ticket, author_kind=TicketMessage.Author.CUSTOMER, body=_clean_body(body), created_at=timezone.now()
    )
    if ticket.status == Ticket.Status.RESOLVED:
        _reopen(ticket, None, "by the customer's message")
    elif ticket.status == Ticket.Status.PENDING:
        ticket.status = Ticket.Status.OPEN
        ticket.save(update_fields=["status", "updated_at"])
    return message


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor: User | None) -> Ticket:
    ticket = _locked(ticket)
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        refuse(f"This ticket is already {ticket.get_status_display().lower()}.")
    ticket.status = Ticket.Status.RESOLVED
    ticket.resolved_at = timezone.now()
    ticket.save(update_fields=["status", "resolved_at", "updated_at"])
    _event(ticket, TicketEvent.Verb.RESOLVED, actor, at=ticket.resolved_at)
    registry.ticket_resolved(ticket.pk)  # in this transaction: the survey invitations it makes are ours too
    return ticket


def _reopen(ticket: Ticket, actor, note: str) -> None:
    ticket.status = Ticket.Status.OPEN
    ticket.resolved_at = None
    ticket.reopened_count += 1
    ticket.save(update_fields=["status", "resolved_at", "reopened_count", "updated_at"])
    _event(ticket, TicketEvent.Verb.REOPENED, actor, note=note)


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: User | None) -> Ticket:
    ticket = _locked(ticket)
    if ticket.status != Ticket.Status.RESOLVED:
        refuse("Only a resolved ticket can be reopened." if ticket.status != "closed" else "A closed ticket is final.")
    _reopen(ticket, actor, "")
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, actor: User | None) -> Ticket:
    """Close a resolved ticket: final, nothing more can be added."""
    ticket = _locked(ticket)
    if ticket.status != Ticket.Status.RESOLVED:
        refuse("Resolve the ticket before closing it." if ticket.is_open else "This ticket is already closed.")
    ticket.status = Ticket.Status.CLOSED
    ticket.closed_at = timezone.now()
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    _event(ticket, TicketEvent.Verb.CLOSED, actor)
    return ticket


@transaction.atomic
def tickets_close_resolved(*, older_than_days: int) -> int:
    """Close tickets resolved more than `older_than_days` ago (the periodic task)."""
    cutoff = timezone.now() - timezone.timedelta(days=older_than_days)
    due = list(Ticket.objects.select_for_update().filter(status=Ticket.Status.RESOLVED, resolved_at__lt=cutoff))
    now = timezone.now()
    for ticket in due:
        ticket.status = Ticket.Status.CLOSED
        ticket.closed_at = now
    for ticket in due:
        ticket.updated_at = now
    audit.bulk_update(due, ["status", "closed_at", "updated_at"])
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=ticket, verb=TicketEvent.Verb.CLOSED, at=now, note="automatically") for ticket in due
    )
    return len(due)


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User | None) -> Ticket:
    ticket = _locked(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        refuse("A closed ticket cannot be reassigned.")
    check_assignee(assignee)
    if ticket.assignee_id != (assignee.pk if assignee else None):
        ticket.assignee = assignee
        if assignee is not None and ticket.status == Ticket.Status.NEW:
            ticket.status = Ticket.Status.OPEN
        ticket.save(update_fields=["assignee", "status", "updated_at"])
        _event(
            ticket, TicketEvent.Verb.ASSIGNED, actor, note=f"to {display_name(assignee)}" if assignee else "unassigned"
        )
    return ticket


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, priority: str, actor: User | None) -> Ticket:
    """Change the priority; the SLA targets follow the new priority, counted from creation."""
    ticket = _locked(ticket)
    if priority not in Ticket.Priority.values:
        refuse(f"Unknown priority {priority!r}.", "priority")
    if ticket.status == Ticket.Status.CLOSED:
        refuse("A closed ticket is final.")
    if ticket.priority != priority:
        old = ticket.get_priority_display()
        ticket.priority = priority
        _set_due_times(ticket)
        ticket.save(update_fields=["priority", "first_response_due_at", "resolution_due_at", "updated_at"])
        _event(ticket, TicketEvent.Verb.PRIORITY, actor, note=f"{old} → {ticket.get_priority_display()}")
    return ticket


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor: User | None) -> Ticket:
    """Move an unresolved ticket between new, open and pending (resolve, reopen, close have their own)."""
    ticket = _locked(ticket)
    if status not in WORKING_STATUSES:
        refuse("Use resolve, reopen or close for that.", "status")
    if not ticket.is_open:
        refuse(f"This ticket is {ticket.get_status_display().lower()}; reopen it first.")
    if ticket.status != status:
        old = ticket.get_status_display()
        ticket.status = status
        ticket.save(update_fields=["status", "updated_at"])
        _event(ticket, TicketEvent.Verb.STATUS, actor, note=f"{old} → {ticket.get_status_display()}")
    return ticket


def agents():
    """Active users who may work on tickets."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(groups__permissions__codename="change_ticket").distinct().order_by("username")
