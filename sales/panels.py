"""The sales card on the contact page (registered in apps.py): customer state, counts, and what to do next."""

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string

from .models import Deal, Order


def contact_sales_panel(request, contact) -> str | None:
    """Two queries: the contact's deals and orders, counted and summed in the database."""
    if not request.user.has_perm("sales.view_deal"):
        return None
    deals = Deal.objects.filter(contact=contact).aggregate(
        open_count=Count("pk", filter=Q(status=Deal.Status.OPEN)),
        open_total=Sum("amount", filter=Q(status=Deal.Status.OPEN)),
        won_count=Count("pk", filter=Q(status=Deal.Status.WON)),
    )
    orders = Order.objects.filter(contact=contact).aggregate(count=Count("pk"), total=Sum("amount"))
    context = {
        "contact": contact,
        "deals": deals,
        "orders": orders,
        "currency": settings.CRM_CURRENCY,
    }
    return render_to_string("sales/contact_panel.html", context, request=request)
