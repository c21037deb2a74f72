"""FilterSets shared by the help desk pages and the API."""

import django_filters
from django import forms
from django.db.models import Q

from contacts.filters import DATE_INPUT, SEARCH_INPUT, StableOrderingFilter
from crm_project.forms import StyledForm

from . import selectors
from .models import Ticket


def agent_choices(request):
    from .services import agents

    return agents()


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    status = django_filters.MultipleChoiceFilter(
        choices=Ticket.Status.choices, widget=forms.SelectMultiple(attrs={"size": 1})
    )
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices, empty_label="Any priority")
    channel = django_filters.ChoiceFilter(choices=Ticket.Channel.choices, empty_label="Any channel")
    assignee = django_filters.ModelChoiceFilter(queryset=agent_choices, empty_label="Anyone")
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
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

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = selectors.overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)
