"""What surveys add to a contact's page: answers on the timeline, and a "Surveys" card (registered in apps.py)."""

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from contacts.registry import TimelineEntry

from . import selectors
from .models import Response, SurveyKind


def _ticket_url(ticket_id: int) -> str:
    # The help desk's pages may not be installed; the answer still shows, without the link.
    try:
        return reverse("support:ticket_detail", args=[ticket_id])
    except NoReverseMatch:
        return ""


def contact_timeline(contact, limit: int) -> list[TimelineEntry]:
    """The contact's survey answers, newest first (one query)."""
    responses = (
        Response.objects.filter(invitation__contact=contact)
        .select_related("invitation__survey", "invitation__ticket")
        .order_by("-submitted_at", "-pk")[:limit]
    )
    entries = []
    for response in responses:
        survey, ticket = response.invitation.survey, response.invitation.ticket
        scale = "0-10" if survey.kind == SurveyKind.NPS else "1-5"
        body = response.comment
        if ticket is not None:
            body = f"About the ticket “{ticket.subject}”.\n{body}".strip()
        entries.append(
            TimelineEntry(
                when=response.submitted_at,
                kind="survey",
                title=f"{survey.name}: {response.score} of {scale} ({response.band})",
                body=body,
                url=_ticket_url(ticket.pk) if ticket is not None else "",
            )
        )
    return entries


def contact_panel(request, contact) -> str | None:
    """The "Surveys" card: when the contact was last asked, the answer, and links to send a survey (two queries)."""
    if not request.user.has_perm("surveys.view_survey"):
        return None
    return render_to_string(
        "surveys/includes/contact_panel.html",
        {"contact": contact, **selectors.contact_survey_summary(contact=contact)},
        request=request,
    )
