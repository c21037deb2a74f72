from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from crm_project.validators import plausible_date


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class SlaPolicy(models.Model):
    """Targets per priority, in hours (calendar or business hours, see settings.SUPPORT_BUSINESS_HOURS)."""

    priority = models.CharField(max_length=10, choices=Priority.choices, unique=True)
    first_response_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(0.01)], help_text="Hours to the first reply."
    )
    resolution_hours = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(0.01)], help_text="Hours to resolution."
    )

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(first_response_hours__gt=0) & Q(resolution_hours__gt=0), name="sla_targets_positive"
            ),
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=F("first_response_hours")),
                name="sla_resolution_after_response",
                violation_error_message="The resolution target cannot be shorter than the first response target.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_priority_display()}: reply in {self.first_response_hours} h, "
            f"resolve in {self.resolution_hours} h"
        )


class Ticket(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        WEB = "web", "Web"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    Priority = Priority

    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=250)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent who opened it on the customer's behalf; empty when the customer did.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, validators=[plausible_date])
    # Kept by the services from what happened (KPIS.md: first response, resolution, FCR, SLA).
    first_response_at = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True, validators=[plausible_date])
    closed_at = models.DateTimeField(null=True, blank=True, validators=[plausible_date])
    agent_replies = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="Id in the system it was imported from.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_status_due_idx"),
            # The KPI refresh reads the tickets still waiting for a first response (SLA overdue by now).
            models.Index(
                fields=["created_at"], condition=Q(first_response_at__isnull=True), name="ticket_waiting_created_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status__in=["resolved", "closed"]) & Q(resolved_at__isnull=False))
                | (Q(status__in=["new", "open", "pending"]) & Q(resolved_at__isnull=True)),
                name="ticket_resolved_has_time",
                violation_error_message="A resolved or closed ticket has a resolution time; an open one has none.",
            ),
            models.CheckConstraint(
                condition=Q(first_response_at__isnull=True) | Q(first_response_at__gte=F("created_at")),
                name="ticket_response_after_created",
                violation_error_message="The first response cannot come before the ticket was created.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("created_at")),
                name="ticket_resolved_after_created",
                violation_error_message="A ticket cannot be resolved before it was created.",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="ticket_closed_has_time",
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="ticket_external_id_unique"
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("support:ticket_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in {self.Status.NEW, self.Status.OPEN, self.Status.PENDING}

    @property
    def first_response_hours(self) -> float | None:
        if self.first_response_at is None:
            return None
        return (self.first_response_at - self.created_at).total_seconds() / 3600

    @property
    def resolution_hours(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.created_at).total_seconds() / 3600

    @property
    def first_response_met_sla(self) -> bool | None:
        """True or False once it is known; None while there is no target or it is still running."""
        if self.first_response_due_at is None:
            return None
        if self.first_response_at is not None:
            return self.first_response_at <= self.first_response_due_at
        return False if timezone.now() > self.first_response_due_at else None


class TicketMessage(models.Model):
    class Author(models.TextChoices):
        AGENT = "agent", "Agent"
        CUSTOMER = "customer", "Customer"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_public = models.BooleanField(default=True, help_text="Internal notes are seen by staff only.")
    body = models.TextField(max_length=20000)
    created_at = models.DateTimeField(default=timezone.now)
    # A reply is e-mailed to the ticket's contact after commit (`email_to` is set when it is written: the
    # message is its own outbox). Messages written otherwise (notes, the customer's, imported history) have
    # no `email_to` and are never sent.
    email_to = models.EmailField(
        blank=True, db_default="", help_text="Where the reply is e-mailed; empty: not e-mailed."
    )
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(
        max_length=200, blank=True, db_default="", help_text="Why the reply could not be e-mailed."
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketmessage_ticket_time_idx"),
            models.Index(
                fields=["created_at"],
                name="ticketmessage_unsent_idx",
                condition=Q(emailed_at__isnull=True, email_error="") & ~Q(email_to=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_kind="agent") | Q(is_public=True),
                name="customer_messages_are_public",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="ticketmessage_not_empty"),
            models.CheckConstraint(
                condition=Q(email_to="") | Q(author_kind="agent", is_public=True),
                name="only_replies_are_emailed",
            ),
        ]

    def __str__(self):
        kind = "note" if not self.is_public else f"{self.author_kind} message"
        return f"{kind} on {self.ticket_id}"

    @property
    def is_internal_note(self) -> bool:
        return not self.is_public


class TicketEvent(models.Model):
    """Who changed what on a ticket, and when: assignments, priority and status changes."""

    class Verb(models.TextChoices):
        CREATED = "created", "Opened"
        ASSIGNED = "assigned", "Assigned"
        PRIORITY = "priority", "Priority changed"
        STATUS = "status", "Status changed"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    verb = models.CharField(max_length=20, choices=Verb.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_verb_display()} #{self.ticket_id}"
