"""The History section of record pages, and the deleted records an administrator can restore."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import ListView

from crm_project.permissions import PagePermissionMixin
from crm_project.views_mixins import KeysetListMixin

from . import selectors, services
from .models import AuditEntry

RESTORE_PERMISSION = "audit.restore_auditentry"


class RecordHistoryMixin:
    """A record's page: its audit trail as `audit_trail` (the template includes audit/history.html)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["audit_trail"] = selectors.record_history(self.object)
        return context


class DeletedRecordListView(KeysetListMixin, PagePermissionMixin, ListView):
    permission_required = RESTORE_PERMISSION
    template_name = "audit/deleted_list.html"
    context_object_name = "deletions"
    paginate_by = 50

    def get_queryset(self):
        self.kinds = selectors.deleted_kinds()
        kind = self.request.GET.get("kind", "")
        self.kind = kind if kind in dict(self.kinds) else ""
        return selectors.deleted_records(model=self.kind)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(kinds=self.kinds, kind=self.kind, querystring=f"kind={self.kind}" if self.kind else "")
        return context


class DeletedRecordRestoreView(PagePermissionMixin, View):
    permission_required = RESTORE_PERMISSION
    http_method_names = ["post"]

    def post(self, request, pk):
        entry = get_object_or_404(AuditEntry, pk=pk, action=AuditEntry.Action.DELETE)
        try:
            record = services.record_restore(entry=entry)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(reverse("audit:deleted_list"))
        messages.success(request, f"Restored the {entry.kind_label} {entry.object_repr or entry.object_id}.")
        url = getattr(record, "get_absolute_url", None)
        return redirect(url() if url else reverse("audit:deleted_list"))
