"""FilterSets shared by the list pages and the API, so both filter the same way."""

import datetime
from functools import reduce
from operator import and_

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
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


class PersonChoiceField(django_filters.fields.ModelChoiceField):
    """Staff are listed by name, not username (and, with `null_label`, "nobody" first)."""

    def label_from_instance(self, obj):
        return display_name(obj)


class PersonFilter(django_filters.ModelChoiceFilter):
    field_class = PersonChoiceField


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts by the chosen columns, then by id (in the first column's direction, so one index serves both), so
    pages never repeat or skip rows that tie.

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
        return qs.order_by(*order_by, "-pk" if order_by and order_by[0].startswith("-") else "pk")


# How a KPI segment names records that have no value along its dimension (kpis.sql.NONE_LABEL).
NONE_LABEL = "(none)"


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The instant a local day starts (settings.TIME_ZONE), as KPI periods start."""
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_default_timezone())


def _empty(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


def label_condition(value: str, *fields: str) -> Q:
    """Records whose label is `value`: the first non-empty of `fields` (a KPI segment label, as a
    contact's industry falls back to its company's); NONE_LABEL selects the records with none."""
    if value == NONE_LABEL:
        return reduce(and_, [_empty(field) for field in fields])
    condition, earlier_empty = Q(pk__in=[]), Q()
    for field in fields:
        condition |= earlier_empty & Q(**{field: value})
        earlier_empty &= _empty(field)
    return condition


class SegmentFilter(django_filters.CharFilter):
    """A KPI segment: the records a segment label (a channel's name, an owner's username, "(none)") covers."""

    def __init__(self, *fields: str, **kwargs):
        self.label_fields = fields
        super().__init__(**kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(label_condition(value.strip(), *self.label_fields))


class RecordIdField(forms.IntegerField):
    """A record's id: a whole number from 1 to the largest a database key holds (a longer one would stop the
    query with an overflow, a 500; here it is the filter form's message, or the API's 400)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    field_class = RecordIdField


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Comma-separated values: ?states=won,lost."""


def first_per(queryset, group: str, moment: str):
    """One row per `group` (a contact ...): its earliest row of `queryset` by `moment` (ties by id)."""
    earlier = queryset.model._default_manager.filter(
        Q(**{f"{moment}__lt": OuterRef(moment)}) | Q(**{moment: OuterRef(moment), "pk__lt": OuterRef("pk")}),
        pk__in=queryset.order_by().values("pk"),
        **{group: OuterRef(group)},
    )
    return queryset.exclude(Exists(earlier))


def contact_segment_filters(path: str, prefix: str) -> dict[str, django_filters.Filter]:
    """Filters by the KPI segments of the contact at `path` ("" for a contact, "contact__" for an order ...)."""
    return {
        f"{prefix}channel": SegmentFilter(f"{path}channel__name", label="Channel (segment)"),
        f"{prefix}region": SegmentFilter(f"{path}region", label="Region (segment)"),
        f"{prefix}industry": SegmentFilter(f"{path}industry", f"{path}company__industry", label="Industry (segment)"),
        f"{prefix}owner": SegmentFilter(f"{path}owner__username", label="Owner (segment)"),
    }


class DrillDownFiltersMixin:
    """The filters KPI drill-downs use stay out of the filter bar (and its URLs) until a link sets them."""

    drilldown_filters: tuple[str, ...] = ()

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_drilldown_ready", False):
            for name in self.drilldown_filters:
                if name in form.fields and not (self.data or {}).get(name):
                    del form.fields[name]  # not asked for: nothing to filter, nothing to show
            form._drilldown_ready = True
        return form


class ContactFilter(DrillDownFiltersMixin, django_filters.FilterSet):
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
    company = IdFilter(field_name="company_id", widget=forms.HiddenInput)
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
    # KPI drill-downs (customers at an instant, joined or churned in a period, a segment).
    customer_on = django_filters.DateFilter(
        method="filter_customer_on", label="Customer when this day began", widget=DATE_INPUT
    )
    not_churned_before = django_filters.DateFilter(
        method="filter_not_churned_before", label="Not churned before", widget=DATE_INPUT
    )
    customer_since_after = django_filters.DateFilter(
        field_name="customer_since", lookup_expr="date__gte", label="Customer since from", widget=DATE_INPUT
    )
    customer_since_before = django_filters.DateFilter(
        field_name="customer_since", lookup_expr="date__lte", label="Customer since until", widget=DATE_INPUT
    )
    churned_after = django_filters.DateFilter(
        field_name="churned_at", lookup_expr="date__gte", label="Churned from", widget=DATE_INPUT
    )
    churned_before = django_filters.DateFilter(
        field_name="churned_at", lookup_expr="date__lte", label="Churned until", widget=DATE_INPUT
    )
    customer_during_after = django_filters.DateFilter(
        method="filter_customer_during_after", label="Customer at some time from", widget=DATE_INPUT
    )
    customer_during_before = django_filters.DateFilter(
        method="filter_customer_during_before", label="Customer at some time until", widget=DATE_INPUT
    )
    locals().update(contact_segment_filters("", "segment_"))
    drilldown_filters = (
        "customer_on",
        "not_churned_before",
        "customer_since_after",
        "customer_since_before",
        "churned_after",
        "churned_before",
        "customer_during_after",
        "customer_during_before",
        "segment_channel",
        "segment_region",
        "segment_industry",
        "segment_owner",
    )

    class Meta:
        model = Contact
        form = StyledForm
        fields = ["q", "status", "channel", "company", "owner", "region", "industry"]

    def filter_customer_on(self, queryset, name, value):
        moment = local_midnight(value)
        return queryset.filter(Q(customer_since__lte=moment) & (Q(churned_at__isnull=True) | Q(churned_at__gt=moment)))

    def filter_not_churned_before(self, queryset, name, value):
        return queryset.filter(Q(churned_at__isnull=True) | Q(churned_at__gte=local_midnight(value)))

    def filter_customer_during_after(self, queryset, name, value):
        # A customer at some instant from this day on: not churned by its start, nor on joining.
        moment = local_midnight(value)
        return queryset.filter(customer_since__isnull=False).filter(
            Q(churned_at__isnull=True) | (Q(churned_at__gt=moment) & Q(churned_at__gt=F("customer_since")))
        )

    def filter_customer_during_before(self, queryset, name, value):
        if value == datetime.date.max:  # up to the last day there is (the next day would overflow)
            return queryset.filter(customer_since__isnull=False)
        return queryset.filter(customer_since__lt=local_midnight(value + datetime.timedelta(days=1)))

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
    contact = IdFilter(field_name="contact_id")
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
