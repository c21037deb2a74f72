"""What sales adds to a contact's timeline and to the global search (registered in apps.py)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from contacts.registry import SearchGroup, TimelineEntry
from crm_project.templatetags.crm import display_name, format_money

from .models import Deal, Lead, Order, SalesEvent

CONTACT_EVENT_VERBS = (
    SalesEvent.Verb.CUSTOMER_STARTED,
    SalesEvent.Verb.CUSTOMER_CHURNED,
    SalesEvent.Verb.CUSTOMER_REACTIVATED,
    SalesEvent.Verb.SUBSCRIPTION_RENEWED,
    SalesEvent.Verb.SUBSCRIPTION_CANCELLED,
)


def contact_timeline(contact, limit: int) -> list[TimelineEntry]:
    """Deals opened and closed, orders and customer milestones of one contact (three queries)."""
    entries = []
    for deal in Deal.objects.filter(contact=contact).select_related("stage").order_by("-created_at")[:limit]:
        entries.append(
            TimelineEntry(
                when=deal.created_at,
                kind="deal",
                title=f"Deal opened: {deal.title}",
                body=f"{deal.get_kind_display()}, {format_money(deal.amount)}",
                url=deal.get_absolute_url(),
            )
        )
        if deal.closed_at:
            entries.append(
                TimelineEntry(
                    when=deal.closed_at,
                    kind=f"deal-{deal.status}",
                    title=f"Deal {deal.get_status_display().lower()}: {deal.title}",
                    body=deal.lost_reason,
                    url=deal.get_absolute_url(),
                )
            )
    for order in Order.objects.filter(contact=contact).order_by("-ordered_at")[:limit]:
        entries.append(
            TimelineEntry(
                when=order.ordered_at,
                kind="order",
                title=f"Order of {format_money(order.amount)}",
                body=order.description,
                url=order.get_absolute_url(),
            )
        )
    events = SalesEvent.objects.filter(contact=contact, verb__in=CONTACT_EVENT_VERBS).select_related("actor")
    now = timezone.now()
    for event in events.order_by("-at")[:limit]:
        scheduled = event.verb == SalesEvent.Verb.CUSTOMER_CHURNED and event.at > now
        entries.append(
            TimelineEntry(
                when=event.at,
                kind="milestone",
                title="Customer churn scheduled" if scheduled else event.get_verb_display(),
                body=event.note,
                actor=display_name(event.actor),
            )
        )
    return entries


def search_leads(query: str, user, limit: int) -> SearchGroup | None:
    if not user.has_perm("sales.view_lead"):
        return None
    from .filters import LeadFilter  # django-filter and its schema helpers: loaded by the first search

    leads = LeadFilter({"q": query}, queryset=Lead.objects.all()).qs.order_by("-created_at")[:limit]
    return SearchGroup(
        label="Leads",
        results=[(str(lead), lead.company_name or lead.email, lead.get_absolute_url()) for lead in leads],
        more_url=f"{reverse('sales:lead_list')}?{urlencode({'q': query, 'owner': ''})}",
    )


def search_deals(query: str, user, limit: int) -> SearchGroup | None:
    if not user.has_perm("sales.view_deal"):
        return None
    from .filters import DealFilter

    deals = DealFilter({"q": query}, queryset=Deal.objects.select_related("company")).qs.order_by("-created_at")[:limit]
    return SearchGroup(
        label="Deals",
        results=[
            (
                deal.title,
                f"{deal.company or ''} · {format_money(deal.amount)} · {deal.get_status_display()}",
                deal.get_absolute_url(),
            )
            for deal in deals
        ],
        more_url=f"{reverse('sales:deal_list')}?{urlencode({'q': query, 'owner': ''})}",
    )
