"""How the help desk pages word SLA deadlines and durations ("2 h 10 min left", "overdue by 35 min")."""

import datetime
from dataclasses import dataclass

from django import template
from django.utils import timezone

register = template.Library()

SOON = datetime.timedelta(hours=1)  # under this much time left, the deadline is shown as a warning


@dataclass(frozen=True)
class SlaState:
    text: str
    tone: str  # "ok", "soon", "overdue", "met", "missed" or "none": a CSS modifier (sla-<tone>)
    due_at: datetime.datetime | None = None
    deadline: str = ""  # which one: "first reply" or "resolution"


def humanize_duration(delta: datetime.timedelta) -> str:
    """A span of time as an agent reads it: "3 d 4 h", "2 h 10 min", "35 min", "less than a minute"."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "less than a minute"


def sla_state_of(ticket, now: datetime.datetime | None = None) -> SlaState:
    """The deadline that matters now: first response until answered, then resolution.

    Uses the `next_due_at` annotation of selectors.with_sla_urgency when the ticket has it.
    """
    now = now or timezone.now()
    if not ticket.is_open:
        if ticket.resolution_due_at is None or ticket.resolved_at is None:
            return SlaState(ticket.get_status_display(), "none")
        if ticket.resolved_at <= ticket.resolution_due_at:
            return SlaState("resolved within SLA", "met", ticket.resolution_due_at, "resolution")
        return SlaState(
            f"resolved {humanize_duration(ticket.resolved_at - ticket.resolution_due_at)} late",
            "missed",
            ticket.resolution_due_at,
            "resolution",
        )
    if hasattr(ticket, "next_due_at"):
        due_at = ticket.next_due_at
    else:
        due_at = ticket.first_response_due_at if ticket.first_response_at is None else ticket.resolution_due_at
    if due_at is None:
        return SlaState("no SLA", "none")
    deadline = "first reply" if ticket.first_response_at is None else "resolution"
    if now > due_at:
        return SlaState(f"overdue by {humanize_duration(now - due_at)}", "overdue", due_at, deadline)
    left = due_at - now
    return SlaState(f"{humanize_duration(left)} left", "soon" if left <= SOON else "ok", due_at, deadline)


@register.simple_tag
def sla_state(ticket) -> SlaState:
    """{% sla_state ticket as sla %} then {{ sla.text }} and the class sla-{{ sla.tone }}."""
    return sla_state_of(ticket)


@register.filter
def duration(delta) -> str:
    """{{ some_timedelta|duration }}"""
    if delta is None:
        return "—"
    return humanize_duration(delta)


@register.filter
def age(moment) -> str:
    """{{ ticket.created_at|age }}: how long ago, in the queue's words ("3 d 4 h")."""
    if moment is None:
        return "—"
    return humanize_duration(timezone.now() - moment)


@register.filter
def hours_as_duration(hours) -> str:
    """{{ ticket.first_response_hours|hours_as_duration }} -> "1 h 30 min"."""
    if hours is None:
        return "—"
    return humanize_duration(datetime.timedelta(hours=hours))
