"""Each views module declares its own urlpatterns; this file only gathers them."""

from .views import campaigns, deals, leads, orders, public, subscriptions

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *campaigns.urlpatterns,
    *deals.urlpatterns,
    *orders.urlpatterns,
    *subscriptions.urlpatterns,
    *public.urlpatterns,
]
