"""Building blocks shared by the list pages of every app."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.generic import CreateView, DeleteView, ListView, UpdateView

from .exports import CsvFormat, export_response
from .keyset import InvalidCursor, bounded_count, keyset_page
from .permissions import PagePermissionMixin, hidden_cascade, hidden_cascade_message, referring_records

EXPORT_LABELS = {"csv": "Export CSV", "reimport": "Export for re-import"}
# Paging parameters: links to another page, or to an export, leave them out and keep the rest of the query.
PAGING_PARAMETERS = ("cursor", "page")


class KeysetListMixin:
    """A ListView paged by keyset: `?cursor=` links to the next and previous pages, keeping the filters, search
    and ordering; one query for the rows whatever the depth, and one bounded count ("1–25 of 10,000+"), never a
    COUNT of the whole table. A `?page=` of an old bookmark shows the first page; a broken cursor answers 400.
    """

    count_limit = 10_000

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except InvalidCursor as error:
            return HttpResponseBadRequest(str(error), content_type="text/plain")

    def paginate_queryset(self, queryset, page_size):
        page = keyset_page(queryset, cursor=self.request.GET.get("cursor"), size=page_size)
        counted = bounded_count(queryset, self.count_limit)
        page.total, page.total_is_lower_bound = min(counted, self.count_limit), counted > self.count_limit
        return None, page, page.rows, page.has_next or page.has_previous

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        for name in PAGING_PARAMETERS:
            query.pop(name, None)
        context["querystring"] = query.urlencode()
        return context


class FilteredListView(KeysetListMixin, PagePermissionMixin, ListView):
    """A list page driven by a django-filter FilterSet (the same one the API uses).

    Subclasses set `filterset_class`, `permission_required`, `template_name` and
    `get_base_queryset()`. An htmx request gets only the `results` partial back. Pages go by keyset
    (KeysetListMixin).

    `?export=csv` answers every row the filters, search and ordering select (all pages) as CSV
    laid out by `export_format`; `?export=reimport` in the import format of the list's kind
    (`reimport_format`). The same permission guards the page and its exports.
    """

    filterset_class = None
    paginate_by = 25
    default_ordering = None
    export_format: CsvFormat | None = None
    reimport_format: CsvFormat | None = None

    def get(self, request, *args, **kwargs):
        if "export" in request.GET:
            return self.export(request.GET["export"])
        return super().get(request, *args, **kwargs)

    def export_formats(self) -> dict[str, CsvFormat]:
        formats = {"csv": self.export_format, "reimport": self.reimport_format}
        return {mode: csv_format for mode, csv_format in formats.items() if csv_format is not None}

    def export(self, mode: str):
        csv_format = self.export_formats().get(mode)
        if csv_format is None:
            return HttpResponseBadRequest(f"This list has no {mode!r} export.", content_type="text/plain")
        queryset = self.get_queryset()
        if not self.filterset.is_valid():
            problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in self.filterset.errors.items())
            return HttpResponseBadRequest(f"Correct the filters: {problems}", content_type="text/plain")
        return export_response(csv_format, queryset)

    def export_links(self) -> list[dict[str, str]]:
        """The export buttons, carrying the filters, search and ordering in force (not the page)."""
        query = self.request.GET.copy()
        for name in PAGING_PARAMETERS:
            query.pop(name, None)
        links = []
        for mode in self.export_formats():
            query["export"] = mode
            url = f"{self.request.path}?{query.urlencode()}"
            links.append({"mode": mode, "label": EXPORT_LABELS[mode], "url": url})
        return links

    def get_base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        data = self.request.GET.copy()
        if self.default_ordering and not data.get("ordering"):
            data["ordering"] = self.default_ordering
        self.filterset = self.filterset_class(data, queryset=self.get_base_queryset(), request=self.request)
        return self.filterset.qs if self.filterset.is_valid() else self.filterset.queryset.none()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["export_links"] = self.export_links()
        return context

    def get_template_names(self):
        names = super().get_template_names()
        if self.request.htmx and not self.request.htmx.boosted:
            return [f"{name}#results" for name in names]
        return names


class ServiceFormMixin:
    """Create and edit pages: the form parses input, one service writes.

    Subclasses implement `perform(form)` and return the saved object. A
    ValidationError from the service is shown on the form, which keeps the input.
    """

    success_message = "Saved."

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message.format(object=self.object))
        return redirect(self.get_success_url())


class ServiceCreateView(PagePermissionMixin, ServiceFormMixin, CreateView):
    pass


class ServiceUpdateView(PagePermissionMixin, ServiceFormMixin, UpdateView):
    pass


class ServiceDeleteView(PagePermissionMixin, DeleteView):
    """A confirmation page; the POST calls `perform(obj)` (a delete service)."""

    # Not DELETE: Django's DeleteView answers it by deleting the row itself, past the service and its refusals.
    http_method_names = ["get", "post", "head", "options"]
    template_name = "confirm_delete.html"
    success_message = "Deleted {object}."
    delete_note = ""  # what else goes, or stays, with the record

    def perform(self, obj):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "delete_note": self.delete_note}

    def refused_url(self) -> str:
        """Back to the record when it has a page, else to where a deletion would have gone."""
        return self.object.get_absolute_url() if hasattr(self.object, "get_absolute_url") else self.get_success_url()

    def form_valid(self, form):
        name = str(self.object)
        try:
            hidden = hidden_cascade(self.request.user, [self.object])
            if hidden:
                messages.error(self.request, f"{name} cannot be deleted. {hidden_cascade_message(hidden)}")
                return redirect(self.refused_url())
            self.perform(self.object)
        except (ProtectedError, RestrictedError) as error:
            referring = referring_records(error) or "other records"
            messages.error(self.request, f"{name} cannot be deleted while other records refer to it: {referring}.")
            return redirect(self.refused_url())
        except ValidationError as error:
            messages.error(self.request, " ".join(error.messages))
            return redirect(self.refused_url())
        messages.success(self.request, self.success_message.format(object=name))
        return redirect(self.get_success_url())
