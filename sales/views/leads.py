"""Lead pages: the list (mine by default, bulk assign), quick capture, the lead page and its actions."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from crm_project.permissions import PagePermissionMixin
from crm_project.templatetags.crm import display_name
from crm_project.views_mixins import FilteredListView, ServiceCreateView, ServiceDeleteView, ServiceUpdateView

from .. import exports, selectors, services
from ..filters import LeadFilter
from ..forms import (
    LeadAssignForm,
    LeadConvertForm,
    LeadDisqualifyForm,
    LeadForm,
    LeadQuickForm,
    LeadStatusForm,
)
from ..models import Lead

LEAD_LIST = reverse_lazy("sales:lead_list")


class LeadListView(FilteredListView):
    permission_required = "sales.view_lead"
    filterset_class = LeadFilter
    template_name = "sales/lead_list.html"
    default_ordering = "-created"
    export_format = exports.LEAD_LIST
    reimport_format = exports.LEADS_IMPORT

    def get_base_queryset(self):
        return selectors.lead_list()

    def get_queryset(self):
        if "owner" not in self.request.GET:
            # The list opens on the user's own leads; "Anyone" (owner= empty) shows everyone's.
            query = self.request.GET.copy()
            query["owner"] = str(self.request.user.pk)
            self.request.GET = query
        return super().get_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.has_perm("sales.change_lead"):
            context["assign_form"] = LeadAssignForm()
        return context


class LeadAssignView(PagePermissionMixin, View):
    """Bulk assign from the list: all checked leads or none, then back to the same list."""

    permission_required = "sales.change_lead"
    http_method_names = ["post"]

    def post(self, request):
        form = LeadAssignForm(request.POST)
        if form.is_valid():
            try:
                changed = services.leads_assign(
                    leads=list(form.cleaned_data["leads"]), owner=form.cleaned_data["owner"], actor=request.user
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                owner = form.cleaned_data["owner"]
                count = len(form.cleaned_data["leads"])
                noun = "lead" if count == 1 else "leads"
                messages.success(
                    request,
                    f"{count} {noun} assigned to {display_name(owner)}"
                    + (f" ({count - changed} already had that owner)." if changed < count else "."),
                )
        else:
            messages.error(request, form.error_text())
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
            back = LEAD_LIST
        return redirect(back)


def lead_page_context(lead: Lead, **forms) -> dict:
    """What the lead page shows; an action that failed passes its bound form to show the error."""
    return {
        "lead": lead,
        "object": lead,
        "history": selectors.lead_history(lead),
        "deals": list(lead.deals.order_by("-created_at")) if lead.status == Lead.Status.CONVERTED else [],
        "status_choices": LeadStatusForm.base_fields["status"].choices,
        "convert_form": LeadConvertForm(),
        "disqualify_form": LeadDisqualifyForm(),
        **forms,
    }


class LeadDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "sales.view_lead"
    template_name = "sales/lead_detail.html"

    def get_queryset(self):
        return selectors.lead_list()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **lead_page_context(self.object)}


class LeadCreateView(ServiceCreateView):
    permission_required = "sales.add_lead"
    model = Lead
    form_class = LeadQuickForm
    template_name = "sales/lead_form.html"
    success_message = "Lead {object} captured."

    def get_initial(self):
        initial = super().get_initial()
        for name in ("channel", "campaign"):  # "Save and add another" keeps where the leads come from
            value = self.request.GET.get(name, "").strip()
            if value.isdigit():
                initial[name] = value
        return initial

    def perform(self, form):
        return services.lead_create(data=form.cleaned_data, actor=self.request.user)

    def get_success_url(self):
        if "add_another" in self.request.POST:
            query = {name: value for name in ("channel", "campaign") if (value := self.request.POST.get(name, ""))}
            return f"{reverse('sales:lead_create')}?{urlencode(query)}" if query else reverse("sales:lead_create")
        return self.object.get_absolute_url()


class LeadUpdateView(ServiceUpdateView):
    permission_required = "sales.change_lead"
    model = Lead
    form_class = LeadForm
    template_name = "sales/lead_form.html"
    success_message = "Lead {object} saved."

    def perform(self, form):
        return services.lead_update(lead=self.object, data=form.cleaned_data, actor=self.request.user)


class LeadDeleteView(ServiceDeleteView):
    permission_required = "sales.delete_lead"
    model = Lead
    success_url = LEAD_LIST
    delete_note = "Its history goes with it."

    def perform(self, obj):
        services.lead_delete(lead=obj)


class LeadActionView(PagePermissionMixin, View):
    """A workflow action posted from the lead page.

    Success redirects (post/redirect/get); bad input or a refusal shows the lead page
    again with the message on the form, which keeps what was typed, and changes nothing.
    """

    http_method_names = ["post"]
    permission_required = "sales.change_lead"
    form_class = None
    form_context_name = ""

    def perform(self, lead: Lead, data: dict):
        raise NotImplementedError

    def success(self, lead: Lead, result):
        return redirect(lead)

    def post(self, request, pk):
        lead = get_object_or_404(selectors.lead_list(), pk=pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                result = self.perform(lead, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self.success(lead, result)
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        context = lead_page_context(lead, **({self.form_context_name: form} if self.form_context_name else {}))
        return render(request, LeadDetailView.template_name, context, status=400)


class LeadStatusView(LeadActionView):
    form_class = LeadStatusForm

    def perform(self, lead, data):
        return services.lead_change_status(lead=lead, status=data["status"], actor=self.request.user)

    def success(self, lead, result):
        messages.success(self.request, f"Status set to {result.get_status_display().lower()}.")
        return redirect(lead)


class LeadConvertView(LeadActionView):
    # Converting opens a deal, so it takes the right to add deals as well.
    permission_required = ("sales.change_lead", "sales.add_deal")
    form_class = LeadConvertForm
    form_context_name = "convert_form"

    def perform(self, lead, data):
        return services.lead_convert(lead=lead, actor=self.request.user, **data)

    def success(self, lead, deal):
        messages.success(self.request, f"{lead} converted: deal {deal} opened.")
        return redirect(reverse("sales:deal_detail", args=[deal.pk]))


class LeadDisqualifyView(LeadActionView):
    form_class = LeadDisqualifyForm
    form_context_name = "disqualify_form"

    def perform(self, lead, data):
        return services.lead_disqualify(lead=lead, reason=data["reason"], actor=self.request.user)

    def success(self, lead, result):
        messages.success(self.request, f"{lead} disqualified.")
        return redirect(lead)


urlpatterns = [
    path("leads/", LeadListView.as_view(), name="lead_list"),
    path("leads/new/", LeadCreateView.as_view(), name="lead_create"),
    path("leads/assign/", LeadAssignView.as_view(), name="lead_assign"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/edit/", LeadUpdateView.as_view(), name="lead_update"),
    path("leads/<int:pk>/delete/", LeadDeleteView.as_view(), name="lead_delete"),
    path("leads/<int:pk>/status/", LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead_convert"),
    path("leads/<int:pk>/disqualify/", LeadDisqualifyView.as_view(), name="lead_disqualify"),
]
