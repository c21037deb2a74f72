"""Subscription pages (create, renew, cancel) and the customer churn and reactivate actions of the contact page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views import View
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from contacts.models import Contact
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import FilteredListView, ServiceCreateView

from .. import exports, selectors, services
from ..filters import SubscriptionFilter
from ..forms_deals import ChurnForm, SubscriptionForm, SubscriptionRenewForm
from ..models import Subscription
from .deals import currency_context


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


def detail_context(subscription: Subscription, renew_form: SubscriptionRenewForm | None = None) -> dict:
    return {
        **currency_context(),
        "object": subscription,
        "subscription": subscription,
        "events": subscription.events.select_related("actor"),
        "renew_form": renew_form or SubscriptionRenewForm(),
    }


class SubscriptionListView(FilteredListView):
    permission_required = "sales.view_subscription"
    filterset_class = SubscriptionFilter
    template_name = "sales/subscription_list.html"
    default_ordering = "-ends"
    export_format = exports.SUBSCRIPTION_LIST
    reimport_format = exports.SUBSCRIPTIONS_IMPORT

    def get_base_queryset(self):
        return selectors.subscription_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["total"] = selectors.money_total(self.object_list)
        return {**context, **currency_context()}


class SubscriptionDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "sales.view_subscription"
    template_name = "sales/subscription_detail.html"

    def get_queryset(self):
        return selectors.subscription_list().select_related("renewed_by")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **detail_context(self.object)}


class SubscriptionCreateView(ServiceCreateView):
    permission_required = "sales.add_subscription"
    model = Subscription
    form_class = SubscriptionForm
    template_name = "sales/subscription_form.html"
    success_message = "Subscription {object.plan} for {object.contact} created."

    def get_initial(self):
        initial = super().get_initial()
        contact_id = self.request.GET.get("contact", "").strip()
        if contact_id.isdigit() and Contact.objects.filter(pk=contact_id).exists():
            initial["contact"] = int(contact_id)
        return initial

    def perform(self, form):
        return services.subscription_create(actor=self.request.user, **form.cleaned_data)


class SubscriptionRenewView(PagePermissionMixin, View):
    """Renew: this one closes as renewed and its successor starts where it ends."""

    permission_required = "sales.change_subscription"
    http_method_names = ["post"]

    def post(self, request, pk):
        subscription = get_object_or_404(Subscription, pk=pk)
        form = SubscriptionRenewForm(request.POST)
        if not form.is_valid():
            subscription = get_object_or_404(SubscriptionDetailView().get_queryset(), pk=pk)
            return render(request, "sales/subscription_detail.html", detail_context(subscription, renew_form=form))
        data = form.cleaned_data
        try:
            successor = services.subscription_renew(
                subscription=subscription,
                actor=request.user,
                ends_on=data["ends_on"],
                amount=data["amount"],
                plan=data["plan"],
            )
        except ValidationError as error:
            messages.error(request, _refusal(error))
            return redirect(subscription)
        messages.success(request, f"Renewed: {successor.plan} until {successor.ends_on:%Y-%m-%d}.")
        return redirect(successor)


class SubscriptionCancelView(PagePermissionMixin, View):
    """GET asks for confirmation (a cancellation cannot be undone); POST cancels."""

    permission_required = "sales.change_subscription"

    def get(self, request, pk):
        subscription = get_object_or_404(selectors.subscription_list(), pk=pk)
        return render(request, "sales/subscription_cancel.html", {"subscription": subscription})

    def post(self, request, pk):
        subscription = get_object_or_404(Subscription, pk=pk)
        try:
            subscription = services.subscription_cancel(subscription=subscription, actor=request.user)
        except ValidationError as error:
            messages.error(request, _refusal(error))
        else:
            messages.success(request, f"Cancelled; it runs until {subscription.ends_on:%Y-%m-%d}.")
        return redirect(subscription)


class CustomerChurnView(PagePermissionMixin, View):
    """Staff mark a current customer as churned, with a reason (the contact page's sales panel)."""

    permission_required = "sales.change_deal"
    http_method_names = ["post"]

    def post(self, request, contact_pk):
        contact = get_object_or_404(Contact, pk=contact_pk)
        form = ChurnForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["reason"]))
            return redirect(contact)
        try:
            services.customer_mark_churned(contact=contact, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as error:
            messages.error(request, _refusal(error))
        else:
            messages.success(request, f"{contact} is marked as churned.")
        return redirect(contact)


class CustomerReactivateView(PagePermissionMixin, View):
    permission_required = "sales.change_deal"
    http_method_names = ["post"]

    def post(self, request, contact_pk):
        contact = get_object_or_404(Contact, pk=contact_pk)
        try:
            services.customer_reactivate(contact=contact, actor=request.user)
        except ValidationError as error:
            messages.error(request, _refusal(error))
        else:
            messages.success(request, f"{contact} is a customer again.")
        return redirect(contact)


urlpatterns = [
    path("subscriptions/", SubscriptionListView.as_view(), name="subscription_list"),
    path("subscriptions/new/", SubscriptionCreateView.as_view(), name="subscription_create"),
    path("subscriptions/<int:pk>/", SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("subscriptions/<int:pk>/renew/", SubscriptionRenewView.as_view(), name="subscription_renew"),
    path("subscriptions/<int:pk>/cancel/", SubscriptionCancelView.as_view(), name="subscription_cancel"),
    path("customers/<int:contact_pk>/churn/", CustomerChurnView.as_view(), name="customer_churn"),
    path("customers/<int:contact_pk>/reactivate/", CustomerReactivateView.as_view(), name="customer_reactivate"),
]
