"""FilterSets shared by the list pages and the API, so both filter the same way."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django_filters.constants import EMPTY_VALUES

from crm_project.forms import StyledForm
from crm_project.templatetags.crm import display_name

from .models import Channel, Company, Contact, Interaction
from .selectors import active_users

SEARCH_INPUT = forms.TextInput(attrs={"type": "search", "placeholder": "Name, e-mail, phone…"})
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def staff_choices(request):
    """django-filter calls a callable queryset with the request."""
    return active_users()


class PersonChoiceField(forms.ModelChoiceField):
    """Staff are listed by name, not username."""

    def label_from_instance(self, obj):
        return display_name(obj)


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts by the chosen columns, then by id, so pages never repeat or skip rows that tie.

    `then_by` names further columns per sort column ({"last_name": ["first_name"]}).
    """

    def __init__(self, *args, then_by: dict[str, list[str]] | None = None, **kwargs):
        self.then_by = then_by or {}
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        qs = super().filter(qs, value)
        order_by = []
        for column in qs.query.order_by:
            order_by.append(column)
            descending = column.startswith("-")
            for extra in self.then_by.get(column.lstrip("-"), []):
                order_by.append(f"-{extra}" if descending else extra)
        return qs.order_by(*order_by, "pk")


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    status = django_filters.ChoiceFilter(
        choices=[
            ("customer", "Customer"),
            ("churned", "Churned"),
            ("prospect", "Prospect"),
        ],
        method="filter_status",
        label="Status",
        empty_label="Any status",
    )
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    company = django_filters.NumberFilter(field_name="company_id", widget=forms.HiddenInput)
    owner = PersonFilter(queryset=staff_choices, empty_label="Any owner")
    region = django_filters.CharFilter(lookup_expr="iexact")
    industry = django_filters.CharFilter(method="filter_industry")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=DATE_INPUT
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=DATE_INPUT
    )
    ordering = StableOrderingFilter(
        then_by={"last_name": ["first_name"]},
        fields=(
            ("last_name", "name"),
            ("email", "email"),
            ("company__name", "company"),
            ("created_at", "created"),
            ("customer_since", "customer_since"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Contact
        form = StyledForm
        fields = ["q", "status", "channel", "company", "owner", "region", "industry"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(email__icontains=term)
                | Q(phone__icontains=term)
                | Q(company__name__icontains=term)
            )
        return queryset

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        is_customer = Q(customer_since__lte=now) & (Q(churned_at__isnull=True) | Q(churned_at__gt=now))
        if value == "customer":
            return queryset.filter(is_customer)
        if value == "churned":
            return queryset.filter(churned_at__lte=now)
        return queryset.filter(Q(customer_since__isnull=True) | Q(customer_since__gt=now))

    def filter_industry(self, queryset, name, value):
        # A contact's industry falls back to its company's.
        return queryset.filter(Q(industry__iexact=value) | Q(industry="", company__industry__iexact=value))


class CompanyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    industry = django_filters.CharFilter(lookup_expr="iexact")
    region = django_filters.CharFilter(lookup_expr="iexact")
    size_band = django_filters.ChoiceFilter(choices=Company.SizeBand.choices, empty_label="Any size")
    owner = PersonFilter(queryset=staff_choices, empty_label="Any owner")
    ordering = StableOrderingFilter(
        fields=(
            ("name", "name"),
            ("industry", "industry"),
            ("region", "region"),
            ("created_at", "created"),
        ),
        label="Sort by",
    )

    class Meta:
        model = Company
        form = StyledForm
        fields = ["q", "industry", "region", "size_band", "owner"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(Q(name__icontains=term) | Q(domain__icontains=term))
        return queryset


class InteractionFilter(django_filters.FilterSet):
    contact = django_filters.NumberFilter(field_name="contact_id")
    kind = django_filters.ChoiceFilter(choices=Interaction.Kind.choices)
    direction = django_filters.ChoiceFilter(choices=Interaction.Direction.choices)
    user = PersonFilter(queryset=staff_choices)
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_search", label="Search")
    ordering = StableOrderingFilter(fields=(("occurred_at", "occurred_at"),))

    class Meta:
        model = Interaction
        fields = ["contact", "kind", "direction", "user"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(summary__icontains=term)
        return queryset


class ChannelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Search")
    ordering = StableOrderingFilter(fields=(("name", "name"),))

    class Meta:
        model = Channel
        fields = ["is_active"]
