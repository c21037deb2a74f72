"""FilterSets shared by the sales list pages and the API."""

import django_filters
from django import forms
from django.db.models import Q

from contacts.filters import SEARCH_INPUT, PersonFilter, StableOrderingFilter, staff_choices
from contacts.models import Channel
from crm_project.forms import StyledForm

from .models import Campaign, Deal, Lead, Order, Pipeline, Spend, Stage, Subscription

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _search(queryset, fields: tuple[str, ...], value: str):
    for term in value.split():
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": term})
        queryset = queryset.filter(condition)
    return queryset


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    status = django_filters.ChoiceFilter(choices=Lead.Status.choices, empty_label="Any status")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), empty_label="Any campaign")
    owner = PersonFilter(queryset=staff_choices, empty_label="Anyone")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=DATE_INPUT
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=DATE_INPUT
    )
    ordering = StableOrderingFilter(
        fields=(("created_at", "created"), ("last_name", "name"), ("company_name", "company"), ("status", "status")),
        label="Sort by",
    )

    class Meta:
        model = Lead
        form = StyledForm
        fields = ["q", "status", "channel", "campaign", "owner"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("first_name", "last_name", "email", "company_name"), value)


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    state = django_filters.ChoiceFilter(
        field_name="status", choices=Deal.Status.choices, label="State", empty_label="Open, won or lost"
    )
    pipeline = django_filters.ModelChoiceFilter(queryset=Pipeline.objects.all(), empty_label="Any pipeline")
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.select_related("pipeline"), empty_label="Any stage")
    owner = PersonFilter(queryset=staff_choices, empty_label="Anyone")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    kind = django_filters.ChoiceFilter(choices=Deal.Kind.choices, empty_label="Any kind")
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label="Amount from")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label="Amount up to")
    expected_close_month = django_filters.DateFilter(
        method="filter_close_month",
        label="Expected close month",
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    closed_after = django_filters.IsoDateTimeFilter(field_name="closed_at", lookup_expr="gte", widget=forms.HiddenInput)
    closed_before = django_filters.IsoDateTimeFilter(field_name="closed_at", lookup_expr="lt", widget=forms.HiddenInput)
    ordering = StableOrderingFilter(
        fields=(
            ("created_at", "created"),
            ("amount", "amount"),
            ("expected_close_date", "expected_close"),
            ("closed_at", "closed"),
            ("title", "title"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Deal
        form = StyledForm
        fields = ["q", "state", "pipeline", "stage", "owner", "channel", "kind"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("title", "company__name", "contact__last_name", "contact__email"), value)

    def filter_close_month(self, queryset, name, value):
        return queryset.filter(expected_close_date__year=value.year, expected_close_date__month=value.month)


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
    deal = django_filters.NumberFilter(field_name="deal_id", widget=forms.HiddenInput)
    ordered_after = django_filters.DateFilter(
        field_name="ordered_at", lookup_expr="date__gte", label="Ordered from", widget=DATE_INPUT
    )
    ordered_before = django_filters.DateFilter(
        field_name="ordered_at", lookup_expr="date__lte", label="Ordered until", widget=DATE_INPUT
    )
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label="Amount from")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label="Amount up to")
    ordering = StableOrderingFilter(fields=(("ordered_at", "ordered"), ("amount", "amount")), label="Sort by")

    class Meta:
        model = Order
        form = StyledForm
        fields = ["q"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("contact__first_name", "contact__last_name", "contact__email", "description"), value)


class SubscriptionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    outcome = django_filters.ChoiceFilter(choices=Subscription.Outcome.choices, empty_label="Any outcome")
    contact = django_filters.NumberFilter(field_name="contact_id", widget=forms.HiddenInput)
    ends_after = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="gte", label="Ends from", widget=DATE_INPUT
    )
    ends_before = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="lte", label="Ends until", widget=DATE_INPUT
    )
    ordering = StableOrderingFilter(
        fields=(("ends_on", "ends"), ("starts_on", "starts"), ("amount", "amount")), label="Sort by"
    )

    class Meta:
        model = Subscription
        form = StyledForm
        fields = ["q", "outcome"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("plan", "contact__last_name", "contact__email"), value)


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search", widget=SEARCH_INPUT)
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    ordering = StableOrderingFilter(fields=(("starts_on", "starts"), ("name", "name")), label="Sort by")

    class Meta:
        model = Campaign
        form = StyledForm
        fields = ["q", "channel"]


class SpendFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Spend.Category.choices, empty_label="Any category")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), empty_label="Any campaign")
    spent_after = django_filters.DateFilter(
        field_name="spent_on", lookup_expr="gte", label="Spent from", widget=DATE_INPUT
    )
    spent_before = django_filters.DateFilter(
        field_name="spent_on", lookup_expr="lte", label="Spent until", widget=DATE_INPUT
    )
    ordering = StableOrderingFilter(fields=(("spent_on", "spent"), ("amount", "amount")), label="Sort by")

    class Meta:
        model = Spend
        form = StyledForm
        fields = ["category", "channel", "campaign"]
