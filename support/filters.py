"""FilterSets shared by the help desk pages and the API."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils import timezone

from contacts.filters import (
    DATE_INPUT,
    SEARCH_INPUT,
    DrillDownFiltersMixin,
    IdFilter,
    PersonFilter,
    SegmentFilter,
    StableOrderingFilter,
)
from crm_project.forms import StyledForm

from . import selectors
from .models import Ticket


def agent_choices(request):
    from .services import agents

    return agents()


SLA_CHOICES = [
    ("met", "First response within target"),
    ("missed", "First response target missed"),
    ("due", "Target met or missed"),
]


def sla_met() -> Q:
    return Q(first_response_due_at__isnull=False, first_response_at__lte=F("first_response_due_at"))


def sla_missed() -> Q:
    """Answered late, or not answered and overdue now."""
    return Q(first_response_due_at__isnull=False) & (
        Q(first_response_at__gt=F("first_response_due_at"))
        | Q(first_response_at__isnull=True, first_response_due_at__lt=timezone.now())
    )


class TicketFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    status = django_filters.MultipleChoiceFilter(
        choices=Ticket.Status.choices, widget=forms.SelectMultiple(attrs={"size": 1})
    )
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices, empty_label="Any priority")
    channel = django_filters.ChoiceFilter(choices=Ticket.Channel.choices, empty_label="Any channel")
    assignee = PersonFilter(queryset=agent_choices, empty_label="Anyone")
    contact = IdFilter(field_name="contact_id", widget=forms.HiddenInput)
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=DATE_INPUT
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=DATE_INPUT
    )
    resolved_after = django_filters.DateFilter(
        field_name="resolved_at", lookup_expr="date__gte", label="Resolved from", widget=DATE_INPUT
    )
    resolved_before = django_filters.DateFilter(
        field_name="resolved_at", lookup_expr="date__lte", label="Resolved until", widget=DATE_INPUT
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only")
    ordering = StableOrderingFilter(
        fields=(("created_at", "created"), ("next_due_at", "due"), ("priority_rank", "priority"), ("status", "status")),
        label="Sort by",
    )
    # KPI drill-downs.
    responded = django_filters.BooleanFilter(
        field_name="first_response_at", lookup_expr="isnull", exclude=True, label="Has a first response"
    )
    sla = django_filters.ChoiceFilter(choices=SLA_CHOICES, method="filter_sla", label="SLA", empty_label="Any SLA")
    first_contact = django_filters.BooleanFilter(method="filter_first_contact", label="Resolved at first contact")
    segment_channel = SegmentFilter("channel", label="Channel (segment)")
    segment_priority = SegmentFilter("priority", label="Priority (segment)")
    segment_assignee = SegmentFilter("assignee__username", label="Assignee (segment)")
    drilldown_filters = (
        "responded",
        "sla",
        "first_contact",
        "segment_channel",
        "segment_priority",
        "segment_assignee",
    )

    class Meta:
        model = Ticket
        form = StyledForm
        fields = ["q", "status", "priority", "channel", "assignee"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(
                Q(subject__icontains=term)
                | Q(contact__first_name__icontains=term)
                | Q(contact__last_name__icontains=term)
                | Q(contact__email__icontains=term)
            )
        return queryset

    def filter_sla(self, queryset, name, value):
        if value == "met":
            return queryset.filter(sla_met())
        if value == "missed":
            return queryset.filter(sla_missed())
        return queryset.filter(sla_met() | sla_missed())

    def filter_first_contact(self, queryset, name, value):
        condition = Q(agent_replies__lte=1, reopened_count=0)
        if value is None:
            return queryset
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = selectors.overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)
