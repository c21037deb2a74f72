from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views import View
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import (
    FilteredListView,
    ServiceCreateView,
    ServiceDeleteView,
    ServiceUpdateView,
)

from . import exports, import_jobs, registry, selectors, services
from .filters import CompanyFilter, ContactFilter
from .forms import CompanyForm, ContactForm, ImportUploadForm, InteractionForm
from .models import Company, Contact, ImportJob


class ContactListView(FilteredListView):
    permission_required = "contacts.view_contact"
    filterset_class = ContactFilter
    template_name = "contacts/contact_list.html"
    default_ordering = "name"
    export_format = exports.CONTACT_LIST
    reimport_format = exports.CONTACTS_IMPORT

    def get_base_queryset(self):
        return selectors.contact_list()


class ContactDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "contacts.view_contact"
    template_name = "contacts/contact_detail.html"

    def get_queryset(self):
        return Contact.objects.select_related("company", "channel", "owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["timeline"] = selectors.contact_timeline(contact=self.object, user=self.request.user)
        context["panels"] = [html for panel in registry.contact_panels() if (html := panel(self.request, self.object))]
        context["interaction_form"] = InteractionForm(initial={"kind": "call", "direction": "outbound"})
        return context


class ContactCreateView(ServiceCreateView):
    permission_required = "contacts.add_contact"
    model = Contact
    form_class = ContactForm
    template_name = "contacts/contact_form.html"
    success_message = "Contact {object} created."

    def get_initial(self):
        initial = super().get_initial()
        company_id = self.request.GET.get("company", "").strip()
        if company_id.isdigit():
            initial["company"] = company_id
        return initial

    def perform(self, form):
        return services.contact_create(data=form.cleaned_data, created_by=self.request.user)


class ContactUpdateView(ServiceUpdateView):
    permission_required = "contacts.change_contact"
    model = Contact
    form_class = ContactForm
    template_name = "contacts/contact_form.html"
    success_message = "Contact {object} saved."

    def perform(self, form):
        return services.contact_update(contact=self.object, data=form.cleaned_data)


class ContactDeleteView(ServiceDeleteView):
    permission_required = "contacts.delete_contact"
    model = Contact
    success_url = reverse_lazy("contacts:contact_list")
    delete_note = "Its logged interactions are deleted with it."

    def perform(self, obj):
        services.contact_delete(contact=obj)


class InteractionLogView(PagePermissionMixin, View):
    """Log an interaction from the contact page; htmx swaps in the timeline and a fresh form."""

    permission_required = "contacts.add_interaction"
    http_method_names = ["post"]

    def post(self, request, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = InteractionForm(request.POST)
        status = 200
        if form.is_valid():
            try:
                services.interaction_log(contact=contact, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
                status = 400
            else:
                if not request.htmx:  # post/redirect/get: a reload does not log it twice
                    messages.success(request, "Interaction logged.")
                    return redirect(contact)
                form = InteractionForm(initial={"kind": form.cleaned_data["kind"], "direction": "outbound"})
        else:
            status = 400
        context = {
            "contact": contact,
            "timeline": selectors.contact_timeline(contact=contact, user=request.user),
            "interaction_form": form,
        }
        if request.htmx:
            # htmx swaps in 2xx answers only: the form with its errors must come back as 200 to be seen.
            return render(request, "contacts/contact_detail.html#activity", context)
        return render(
            request,
            "contacts/contact_detail.html",
            {**context, "object": contact},
            status=status,
        )


class CompanyListView(FilteredListView):
    permission_required = "contacts.view_company"
    filterset_class = CompanyFilter
    template_name = "contacts/company_list.html"
    default_ordering = "name"
    export_format = exports.COMPANY_LIST
    reimport_format = exports.COMPANIES_IMPORT

    def get_base_queryset(self):
        return selectors.company_list()


class CompanyDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "contacts.view_company"
    template_name = "contacts/company_detail.html"

    def get_queryset(self):
        return Company.objects.select_related("owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contacts"] = selectors.contact_list().filter(company=self.object).order_by("last_name")[:100]
        return context


class CompanyCreateView(ServiceCreateView):
    permission_required = "contacts.add_company"
    model = Company
    form_class = CompanyForm
    template_name = "contacts/company_form.html"
    success_message = "Company {object} created."

    def perform(self, form):
        data = dict(form.cleaned_data)
        data["owner"] = data.get("owner") or self.request.user
        return services.company_create(data=data)


class CompanyUpdateView(ServiceUpdateView):
    permission_required = "contacts.change_company"
    model = Company
    form_class = CompanyForm
    template_name = "contacts/company_form.html"
    success_message = "Company {object} saved."

    def perform(self, form):
        return services.company_update(company=self.object, data=form.cleaned_data)


class CompanyDeleteView(ServiceDeleteView):
    permission_required = "contacts.delete_company"
    model = Company
    success_url = reverse_lazy("contacts:company_list")
    delete_note = "Its contacts stay, without a company."

    def perform(self, obj):
        services.company_delete(company=obj)


# The import page -------------------------------------------------------------------------------------------------

IMPORT_PERMISSION = "contacts.add_importjob"


class ImportListView(PagePermissionMixin, View):
    """Upload a CSV file (GET shows the form and the latest imports; POST stores the file and checks it)."""

    permission_required = IMPORT_PERMISSION
    template_name = "contacts/import_list.html"

    def get(self, request):
        return self.render(ImportUploadForm())

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form, status=400)
        job = import_jobs.import_job_create(
            kind=form.cleaned_data["kind"],
            file_name=request.FILES["file"].name,
            content=form.cleaned_data["file"],
            skip_bad_rows=form.cleaned_data["skip_bad_rows"],
            user=request.user,
        )
        return redirect(job.get_absolute_url())

    def render(self, form, status=200):
        context = {
            "form": form,
            "jobs": selectors.import_job_list()[:20],
            "max_upload_mb": settings.IMPORT_MAX_UPLOAD_MB,
            "kinds": [(kind.replace("_", " "), spec) for kind, spec in registry.importers().items()],
        }
        return render(self.request, self.template_name, context, status=status)


EXAMPLES = settings.BASE_DIR / "docs" / "import-examples"


class ImportExampleView(PagePermissionMixin, View):
    """An example file of a kind (docs/import-examples), to start a file from."""

    permission_required = IMPORT_PERMISSION

    def get(self, request, kind):
        if kind not in registry.importers() or not (EXAMPLES / f"{kind}.csv").is_file():
            raise Http404("No example file of that kind.")
        return FileResponse(
            (EXAMPLES / f"{kind}.csv").open("rb"), as_attachment=True, filename=f"{kind}.csv", content_type="text/csv"
        )


class ImportDetailView(PagePermissionMixin, View):
    """One import: checking, the preview and the problems, then the progress and the summary.

    An htmx request gets the `status` partial only: the page polls it while the job works.
    """

    permission_required = IMPORT_PERMISSION

    def get(self, request, pk):
        job = get_object_or_404(selectors.import_job_list(), pk=pk)
        template = "contacts/import_detail.html"
        if request.htmx:
            template += "#status"
        return render(request, template, selectors.import_job_context(job))


class ImportConfirmView(PagePermissionMixin, View):
    permission_required = IMPORT_PERMISSION

    def post(self, request, pk):
        job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
        try:
            import_jobs.import_job_confirm(job=job, skip_bad_rows=request.POST.get("skip_bad_rows") == "1")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(job.get_absolute_url())
