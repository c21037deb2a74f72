"""The "Tickets" card on the contact page (registered with contacts.registry in apps.py)."""

from django.template.loader import render_to_string

from . import selectors

SHOWN = 5


def contact_panel(request, contact) -> str | None:
    """The contact's open tickets, most urgent first, and a "New ticket" button; one query."""
    if not request.user.has_perm("support.view_ticket"):
        return None
    tickets = list(selectors.ticket_queue("open", request.user).filter(contact=contact)[: SHOWN + 1])
    return render_to_string(
        "support/contact_panel.html",
        {
            "contact": contact,
            "tickets": tickets[:SHOWN],
            "more": len(tickets) > SHOWN,
            "can_open": request.user.has_perm("support.add_ticket"),
        },
        request=request,
    )
