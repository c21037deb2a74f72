"""Campaign and spend pages: what marketing costs, by campaign, channel, category and month."""

from django.conf import settings
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.views.generic import DetailView

from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import FilteredListView, ServiceCreateView, ServiceDeleteView, ServiceUpdateView

from .. import exports, selectors, services
from ..filters import CampaignFilter, SpendFilter
from ..forms import CampaignForm, SpendForm
from ..models import ZERO, Campaign, Spend

CAMPAIGN_LIST = reverse_lazy("sales:campaign_list")
SPEND_LIST = reverse_lazy("sales:spend_list")
DETAIL_ROWS = 50  # spend rows and leads shown on a campaign page; the lists have the rest


class CurrencyMixin:
    """Money is shown in the base currency."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "currency": settings.CRM_CURRENCY}


# Campaigns -------------------------------------------------------------------------------------


class CampaignListView(CurrencyMixin, FilteredListView):
    permission_required = "sales.view_campaign"
    filterset_class = CampaignFilter
    template_name = "sales/campaign_list.html"
    default_ordering = "-starts"
    export_format = exports.CAMPAIGN_LIST
    reimport_format = exports.CAMPAIGNS_IMPORT

    def get_base_queryset(self):
        return selectors.campaign_list()


class CampaignDetailView(CurrencyMixin, PagePermissionMixin, DetailView):
    permission_required = "sales.view_campaign"
    template_name = "sales/campaign_detail.html"

    def get_queryset(self):
        return selectors.campaign_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = self.object
        context["spend_rows"] = (
            selectors.spend_list().filter(campaign=campaign).order_by("-spent_on", "-pk")[:DETAIL_ROWS]
        )
        context["leads"] = selectors.lead_list().filter(campaign=campaign).order_by("-created_at", "-pk")[:DETAIL_ROWS]
        context["detail_rows"] = DETAIL_ROWS
        return context


class CampaignCreateView(ServiceCreateView):
    permission_required = "sales.add_campaign"
    model = Campaign
    form_class = CampaignForm
    template_name = "sales/campaign_form.html"
    success_message = "Campaign {object} created."

    def perform(self, form):
        return services.campaign_create(data=form.cleaned_data)


class CampaignUpdateView(ServiceUpdateView):
    permission_required = "sales.change_campaign"
    model = Campaign
    form_class = CampaignForm
    template_name = "sales/campaign_form.html"
    success_message = "Campaign {object} saved."

    def perform(self, form):
        return services.campaign_update(campaign=self.object, data=form.cleaned_data)


class CampaignDeleteView(ServiceDeleteView):
    permission_required = "sales.delete_campaign"
    model = Campaign
    success_url = CAMPAIGN_LIST
    delete_note = "A campaign that has spend or leads cannot be deleted."

    def perform(self, obj):
        services.campaign_delete(campaign=obj)


# Spend -----------------------------------------------------------------------------------------


def monthly_table(rows: list[dict]) -> list[dict]:
    """Shape selectors.spend_monthly_totals rows as a table: per month, a row per channel, by category."""
    months: dict = {}
    for row in rows:
        month = months.setdefault(
            row["month"], {"month": row["month"], "channels": {}, "acquisition": ZERO, "retention": ZERO, "total": ZERO}
        )
        name = row["channel__name"] or ""
        channel = month["channels"].setdefault(
            name, {"name": name, "acquisition": ZERO, "retention": ZERO, "total": ZERO}
        )
        for bucket in (channel, month):
            bucket[row["category"]] += row["total"]
            bucket["total"] += row["total"]
    return [{**month, "channels": list(month["channels"].values())} for month in months.values()]


class SpendListView(CurrencyMixin, FilteredListView):
    permission_required = "sales.view_spend"
    filterset_class = SpendFilter
    template_name = "sales/spend_list.html"
    default_ordering = "-spent"
    export_format = exports.SPEND_LIST
    reimport_format = exports.SPEND_IMPORT

    def get_base_queryset(self):
        return selectors.spend_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = self.object_list  # every row that matches the filters, not only this page
        context["total"] = selectors.money_total(filtered)
        context["months"] = monthly_table(selectors.spend_monthly_totals(filtered))
        return context


class SpendFormMixin(CurrencyMixin):
    model = Spend
    form_class = SpendForm
    template_name = "sales/spend_form.html"

    def get_success_url(self):
        return reverse("sales:spend_list")


class SpendCreateView(SpendFormMixin, ServiceCreateView):
    permission_required = "sales.add_spend"
    success_message = "Spend recorded: {object}."

    def get_initial(self):
        initial = {"spent_on": timezone.localdate(), "category": Spend.Category.ACQUISITION}
        campaign_id = self.request.GET.get("campaign", "").strip()
        if campaign_id.isdigit():
            initial["campaign"] = campaign_id
        return initial

    def perform(self, form):
        return services.spend_create(data=form.cleaned_data)


class SpendUpdateView(SpendFormMixin, ServiceUpdateView):
    permission_required = "sales.change_spend"
    success_message = "Spend saved: {object}."

    def perform(self, form):
        return services.spend_update(spend=self.object, data=form.cleaned_data)


class SpendDeleteView(CurrencyMixin, ServiceDeleteView):
    permission_required = "sales.delete_spend"
    model = Spend
    template_name = "sales/spend_confirm_delete.html"
    success_url = SPEND_LIST
    success_message = "Spend deleted: {object}."

    def perform(self, obj):
        services.spend_delete(spend=obj)


urlpatterns = [
    path("campaigns/", CampaignListView.as_view(), name="campaign_list"),
    path("campaigns/new/", CampaignCreateView.as_view(), name="campaign_create"),
    path("campaigns/<int:pk>/", CampaignDetailView.as_view(), name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", CampaignUpdateView.as_view(), name="campaign_update"),
    path("campaigns/<int:pk>/delete/", CampaignDeleteView.as_view(), name="campaign_delete"),
    path("spend/", SpendListView.as_view(), name="spend_list"),
    path("spend/new/", SpendCreateView.as_view(), name="spend_create"),
    path("spend/<int:pk>/edit/", SpendUpdateView.as_view(), name="spend_update"),
    path("spend/<int:pk>/delete/", SpendDeleteView.as_view(), name="spend_delete"),
]
