"""The help desk pages: the agent's queue, the ticket page and its actions, the new-ticket form.

Views parse input, call one service or selector and render. Every action on the ticket page
answers an htmx request with the page's `ticket` partial (200, so htmx swaps it in, errors
included) and a plain POST with a redirect back to the ticket (or the page with the error, 400).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import DetailView

from audit.views import RecordHistoryMixin
from contacts import selectors as contact_selectors
from contacts.models import Contact
from crm_project.permissions import PagePermissionMixin
from crm_project.templatetags.crm import display_name
from crm_project.views_mixins import PAGING_PARAMETERS, FilteredListView, ServiceCreateView

from . import exports, selectors, services
from .filters import TicketFilter
from .forms import AssignForm, ConfirmForm, MessageForm, PriorityForm, StatusForm, TicketForm
from .models import Ticket

# The queue page offers these of TicketFilter's filters (the tabs cover status; the API has the rest).
QUEUE_FILTERS = ("q", "priority", "channel", "assignee", "created_after", "created_before", "ordering")
TIMELINE_LENGTH = 20  # the contact's latest activity beside the ticket; the contact page has the rest


def is_agent(user) -> bool:
    """Someone who works tickets (the queue opens on their own tickets)."""
    return user.has_perm("support.change_ticket")


class TicketQueueFilter(TicketFilter):
    """The queue page's filters: TicketFilter, with "SLA urgency" as the default sort."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The form's own copies of the fields (django-filter may have cached the filters' fields).
        ordering = self.form.fields["ordering"]
        ordering.empty_label = "SLA urgency"
        ordering.choices = [choice for choice in ordering.choices if choice[0]]  # rebuilt with the new label
        self.form.fields["q"].widget.attrs["placeholder"] = "Subject, customer, e-mail…"


class TicketListView(FilteredListView):
    """The agent's queue: a tab per queue with its live count, filters, the most urgent first."""

    permission_required = "support.view_ticket"
    filterset_class = TicketQueueFilter
    template_name = "support/ticket_list.html"
    export_format = exports.TICKET_LIST
    reimport_format = exports.TICKETS_IMPORT

    def get_queue(self) -> str:
        queue = self.request.GET.get("queue", "")
        if queue in selectors.QUEUES:
            return queue
        return "mine" if is_agent(self.request.user) else "open"

    def get_base_queryset(self):
        return selectors.ticket_queue(self.queue, self.request.user)

    def get_queryset(self):
        self.queue = self.get_queue()
        if self.queue == "all":
            # Deadlines of long-closed tickets say nothing about urgency: everything, newest first.
            self.default_ordering = "-created"
        return super().get_queryset()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filters = self.request.GET.copy()
        for name in ("queue", *PAGING_PARAMETERS):
            filters.pop(name, None)
        filters = filters.urlencode()
        counts = selectors.queue_counts(self.request.user)
        context["queue"] = self.queue
        context["filtered"] = any(
            value for key, value in self.request.GET.items() if key not in ("queue", *PAGING_PARAMETERS)
        )
        context["filter_fields"] = [self.filterset.form[name] for name in QUEUE_FILTERS]
        context["queues"] = [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "query": urlencode({"queue": key}) + (f"&{filters}" if filters else ""),
            }
            for key, label in selectors.QUEUES.items()
        ]
        return context


def ticket_for_page(pk) -> Ticket:
    return get_object_or_404(selectors.ticket_list().select_related("opened_by"), pk=pk)


def ticket_page_context(
    request, ticket: Ticket, failed_form: tuple[str, object] | None = None, done: str = "", draft: str = ""
) -> dict:
    """Everything the ticket page shows.

    `failed_form` (its name in the context, the form) replaces a fresh form by the one carrying
    errors: field errors show beside the field, a refusal of the whole action above everything
    (the form itself may be hidden by then, e.g. on a closed ticket). `draft` is what the agent
    had typed in the answer box when they used another action: it stays there.
    """
    forms = {
        "message_form": MessageForm(initial={"body": draft}),
        "assign_form": AssignForm(initial={"assignee": ticket.assignee_id}),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        "status_form": StatusForm(initial={"status": ticket.status}),
    }
    refusal = ""
    if failed_form is not None:
        name, form = failed_form
        forms[name] = form
        refusal = " ".join(form.non_field_errors())
    timeline = []
    if ticket.contact and request.user.has_perm("contacts.view_contact"):
        # The conversation is on the page already: beside it, what else happened with the customer.
        ticket_url = ticket.get_absolute_url()
        entries = contact_selectors.contact_timeline(
            contact=ticket.contact, user=request.user, limit=2 * TIMELINE_LENGTH
        )
        timeline = [entry for entry in entries if entry.url != ticket_url][:TIMELINE_LENGTH]
    return {
        "ticket": ticket,
        "object": ticket,
        "conversation": selectors.ticket_conversation(ticket),
        "history": selectors.ticket_history(ticket),
        "timeline": timeline,
        "can_work": is_agent(request.user),
        "done": done,
        "refusal": refusal,
        **forms,
    }


class TicketDetailView(RecordHistoryMixin, PagePermissionMixin, DetailView):
    permission_required = "support.view_ticket"
    template_name = "support/ticket_detail.html"

    def get_object(self, queryset=None):
        return ticket_for_page(self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **ticket_page_context(self.request, self.object)}


def show_refusal(form, error: ValidationError) -> None:
    """Put a service's refusal beside the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class TicketActionView(PagePermissionMixin, View):
    """One action of the ticket page: parse the form, call one service, show the ticket again.

    Subclasses set `form_class`, `form_name` (the form's name in the page's context) and
    implement `perform(ticket, data)`, returning what to tell the agent.
    """

    permission_required = "support.change_ticket"
    http_method_names = ["post"]
    form_class = ConfirmForm
    form_name = "confirm_form"  # not rendered: its only errors are refusals, shown above the page

    def perform(self, ticket: Ticket, data: dict) -> str:
        raise NotImplementedError

    def post(self, request, pk):
        ticket = get_object_or_404(Ticket, pk=pk)
        form = self.form_class(request.POST)
        done = ""
        if form.is_valid():
            try:
                done = self.perform(ticket, form.cleaned_data)
            except ValidationError as error:
                show_refusal(form, error)
            else:
                if not request.htmx:  # post/redirect/get: a reload does not send it twice
                    messages.success(request, done)
                    return redirect(ticket)
        # htmx sends the answer box along with every action (hx-include): an unsent draft survives the swap.
        draft = request.POST.get("body", "") if self.form_name != "message_form" else ""
        failed_form = None if done else (self.form_name, form)
        context = ticket_page_context(request, ticket_for_page(pk), failed_form, done, draft)
        if request.htmx:
            # htmx swaps in 2xx answers only: a refusal must come back as 200 to be seen.
            return render(request, "support/ticket_detail.html#ticket", context)
        return render(request, "support/ticket_detail.html", context, status=400)


class TicketReplyView(TicketActionView):
    form_class = MessageForm
    form_name = "message_form"

    def perform(self, ticket, data):
        message = services.ticket_reply(ticket=ticket, author=self.request.user, body=data["body"])
        if message.email_to:
            return f"Reply added; it is e-mailed to {message.email_to}."
        return "Reply added to the ticket only: it has no contact with an e-mail address to send it to."


class TicketNoteView(TicketActionView):
    form_class = MessageForm
    form_name = "message_form"

    def perform(self, ticket, data):
        services.ticket_add_note(ticket=ticket, author=self.request.user, body=data["body"])
        return "Internal note added."


class TicketResolveView(TicketActionView):
    def perform(self, ticket, data):
        services.ticket_resolve(ticket=ticket, actor=self.request.user)
        return "Ticket resolved."


class TicketReopenView(TicketActionView):
    def perform(self, ticket, data):
        services.ticket_reopen(ticket=ticket, actor=self.request.user)
        return "Ticket reopened."


class TicketCloseView(TicketActionView):
    def perform(self, ticket, data):
        services.ticket_close(ticket=ticket, actor=self.request.user)
        return "Ticket closed."


class TicketAssignView(TicketActionView):
    form_class = AssignForm
    form_name = "assign_form"

    def perform(self, ticket, data):
        assignee = data["assignee"]
        services.ticket_assign(ticket=ticket, assignee=assignee, actor=self.request.user)
        return f"Assigned to {display_name(assignee)}." if assignee else "Ticket unassigned."


class TicketPriorityView(TicketActionView):
    form_class = PriorityForm
    form_name = "priority_form"

    def perform(self, ticket, data):
        ticket = services.ticket_change_priority(ticket=ticket, priority=data["priority"], actor=self.request.user)
        return f"Priority set to {ticket.get_priority_display().lower()}."


class TicketStatusView(TicketActionView):
    form_class = StatusForm
    form_name = "status_form"

    def perform(self, ticket, data):
        ticket = services.ticket_change_status(ticket=ticket, status=data["status"], actor=self.request.user)
        return f"Status set to {ticket.get_status_display().lower()}."


class TicketCreateView(ServiceCreateView):
    """An agent opens a ticket for a customer (a call, a walk-in); they are `opened_by`."""

    permission_required = "support.add_ticket"
    model = Ticket
    form_class = TicketForm
    template_name = "support/ticket_form.html"
    success_message = "Ticket {object} opened."

    def get_contact(self):
        contact_id = self.request.GET.get("contact", "").strip()
        if not contact_id.isdigit():
            return None
        return Contact.objects.filter(pk=contact_id).first()

    def get_initial(self):
        initial = {**super().get_initial(), "channel": Ticket.Channel.PHONE}
        if self.contact is not None:
            initial["contact"] = self.contact.pk
        if is_agent(self.request.user):
            initial["assignee"] = self.request.user.pk
        return initial

    def get(self, request, *args, **kwargs):
        self.contact = self.get_contact()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.contact = self.get_contact()
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "contact": self.contact}

    def perform(self, form):
        data = form.cleaned_data
        return services.ticket_create(
            contact=data["contact"],
            subject=data["subject"],
            body=data["body"],
            channel=data["channel"],
            priority=data["priority"],
            assignee=data["assignee"],
            opened_by=self.request.user,
        )
