"""Order pages: record a purchase (optionally from a won deal), list with totals, edit, delete."""

from django.contrib import messages
from django.urls import path, reverse_lazy
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from contacts.models import Contact
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import FilteredListView, ServiceCreateView, ServiceDeleteView, ServiceUpdateView

from .. import exports, selectors, services
from ..filters import OrderFilter
from ..forms_deals import OrderForm
from ..models import Deal, Order
from .deals import currency_context


class OrderListView(FilteredListView):
    permission_required = "sales.view_order"
    filterset_class = OrderFilter
    template_name = "sales/order_list.html"
    default_ordering = "-ordered"
    export_format = exports.ORDER_LIST
    reimport_format = exports.ORDERS_IMPORT

    def get_base_queryset(self):
        return selectors.order_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["total"] = selectors.money_total(self.object_list)
        return {**context, **currency_context()}


class OrderDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "sales.view_order"
    template_name = "sales/order_detail.html"

    def get_queryset(self):
        return selectors.order_list().select_related("contact__company")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **currency_context()}


class OrderCreateView(ServiceCreateView):
    permission_required = "sales.add_order"
    model = Order
    form_class = OrderForm
    template_name = "sales/order_form.html"
    success_message = "{object} recorded."

    def get_initial(self):
        initial = super().get_initial()
        deal_id = self.request.GET.get("deal", "").strip()
        contact_id = self.request.GET.get("contact", "").strip()
        if deal_id.isdigit():
            deal = Deal.objects.filter(pk=deal_id).first()
            if deal is not None and deal.status == Deal.Status.WON:
                initial.update(deal=deal.pk, contact=deal.contact_id, amount=deal.amount)
            elif deal is not None and self.request.method == "GET":
                messages.warning(self.request, f"{deal} is not won; an order can only come from a won deal.")
        elif contact_id.isdigit() and Contact.objects.filter(pk=contact_id).exists():
            initial["contact"] = int(contact_id)
        return initial

    def perform(self, form):
        return services.order_create(data=form.cleaned_data, actor=self.request.user)


class OrderUpdateView(ServiceUpdateView):
    permission_required = "sales.change_order"
    model = Order
    form_class = OrderForm
    template_name = "sales/order_form.html"
    success_message = "{object} saved."

    def perform(self, form):
        return services.order_update(order=self.object, data=form.cleaned_data)


class OrderDeleteView(ServiceDeleteView):
    permission_required = "sales.delete_order"
    model = Order
    success_url = reverse_lazy("sales:order_list")
    delete_note = "Its revenue no longer counts."

    def perform(self, obj):
        services.order_delete(order=obj)


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="order_list"),
    path("orders/new/", OrderCreateView.as_view(), name="order_create"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order_detail"),
    path("orders/<int:pk>/edit/", OrderUpdateView.as_view(), name="order_update"),
    path("orders/<int:pk>/delete/", OrderDeleteView.as_view(), name="order_delete"),
]
