"""FilterSets shared by the sales list pages and the API."""

import datetime

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.utils import extend_schema_field

from contacts.filters import (
    SEARCH_INPUT,
    CharInFilter,
    DrillDownFiltersMixin,
    IdFilter,
    PersonFilter,
    SegmentFilter,
    StableOrderingFilter,
    contact_segment_filters,
    first_per,
    local_midnight,
    staff_choices,
)
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


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["null"]}],
        "description": "A user's id, or null: nobody",
    }
)
class OwnerOrNobodyFilter(PersonFilter):
    """An owner's id, or `null` for the records nobody owns (the schema says both)."""


class LeadFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    status = django_filters.ChoiceFilter(choices=Lead.Status.choices, empty_label="Any status")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), empty_label="Any campaign")
    # Leads from the public form have no owner until someone takes them: `?owner=null` lists those.
    owner = OwnerOrNobodyFilter(queryset=staff_choices, empty_label="Anyone", null_label="Nobody yet")
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
    # KPI drill-downs.
    converted = django_filters.BooleanFilter(
        field_name="converted_at", lookup_expr="isnull", exclude=True, label="Converted (at any time)"
    )
    segment_channel = SegmentFilter("channel__name", label="Channel (segment)")
    segment_campaign = SegmentFilter("campaign__name", label="Campaign (segment)")
    segment_owner = SegmentFilter("owner__username", label="Owner (segment)")
    drilldown_filters = ("converted", "segment_channel", "segment_campaign", "segment_owner")

    class Meta:
        model = Lead
        form = StyledForm
        fields = ["q", "status", "channel", "campaign", "owner"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("first_name", "last_name", "email", "company_name"), value)


class DealFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    state = django_filters.ChoiceFilter(
        field_name="status", choices=Deal.Status.choices, label="State", empty_label="Open, won or lost"
    )
    pipeline = django_filters.ModelChoiceFilter(queryset=Pipeline.objects.all(), empty_label="Any pipeline")
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.select_related("pipeline"), empty_label="Any stage")
    owner = PersonFilter(queryset=staff_choices, empty_label="Anyone")
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), empty_label="Any channel")
    kind = django_filters.ChoiceFilter(choices=Deal.Kind.choices, empty_label="Any kind")
    contact = IdFilter(field_name="contact_id", widget=forms.HiddenInput)
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
    # KPI drill-downs: deals closed or open in a period, their segment, or their contact's.
    states = CharInFilter(field_name="status", label="States")
    kinds = CharInFilter(field_name="kind", label="Kinds")
    closed_from = django_filters.DateFilter(
        field_name="closed_at", lookup_expr="date__gte", label="Closed from", widget=DATE_INPUT
    )
    closed_until = django_filters.DateFilter(
        field_name="closed_at", lookup_expr="date__lte", label="Closed until", widget=DATE_INPUT
    )
    open_on = django_filters.DateFilter(method="filter_open_on", label="Open when this day began", widget=DATE_INPUT)
    contact_customer_on = django_filters.DateFilter(
        method="filter_contact_customer_on", label="Contact a customer when this day began", widget=DATE_INPUT
    )
    from_campaign = django_filters.BooleanFilter(
        field_name="lead__campaign", lookup_expr="isnull", exclude=True, label="Lead from a campaign"
    )
    segment_channel = SegmentFilter("channel__name", label="Channel (segment)")
    segment_owner = SegmentFilter("owner__username", label="Owner (segment)")
    segment_pipeline = SegmentFilter("pipeline__name", label="Pipeline (segment)")
    segment_kind = SegmentFilter("kind", label="Kind (segment)")
    segment_campaign = SegmentFilter("lead__campaign__name", label="Lead's campaign (segment)")
    campaign_channel = SegmentFilter("lead__campaign__channel__name", label="Campaign's channel (segment)")
    locals().update(contact_segment_filters("contact__", "contact_"))
    first_per_contact = django_filters.BooleanFilter(method="filter_first_per_contact", label="One per contact")
    drilldown_filters = (
        "states",
        "kinds",
        "closed_from",
        "closed_until",
        "open_on",
        "contact_customer_on",
        "from_campaign",
        "segment_channel",
        "segment_owner",
        "segment_pipeline",
        "segment_kind",
        "segment_campaign",
        "campaign_channel",
        "contact_channel",
        "contact_region",
        "contact_industry",
        "contact_owner",
        "first_per_contact",
    )

    class Meta:
        model = Deal
        form = StyledForm
        fields = ["q", "state", "pipeline", "stage", "owner", "channel", "kind"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("title", "company__name", "contact__last_name", "contact__email"), value)

    @extend_schema_field({"type": "string", "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", "example": "2026-03"})
    def filter_close_month(self, queryset, name, value):
        return queryset.filter(expected_close_date__year=value.year, expected_close_date__month=value.month)

    def filter_open_on(self, queryset, name, value):
        moment = local_midnight(value)
        return queryset.filter(Q(created_at__lt=moment) & (Q(closed_at__isnull=True) | Q(closed_at__gte=moment)))

    def filter_contact_customer_on(self, queryset, name, value):
        moment = local_midnight(value)
        return queryset.filter(
            Q(contact__customer_since__lte=moment)
            & (Q(contact__churned_at__isnull=True) | Q(contact__churned_at__gt=moment))
        )

    def filter_first_per_contact(self, queryset, name, value):
        # Declared last: keeps the first deal (by close time) of each contact among those selected so far.
        return first_per(queryset, "contact_id", "closed_at") if value else queryset


class OrderFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    contact = IdFilter(field_name="contact_id", widget=forms.HiddenInput)
    deal = IdFilter(field_name="deal_id", widget=forms.HiddenInput)
    # Local days as instants (not `ordered_at::date`), so the ordered_at index serves the range.
    ordered_after = django_filters.DateFilter(method="filter_ordered_after", label="Ordered from", widget=DATE_INPUT)
    ordered_before = django_filters.DateFilter(method="filter_ordered_before", label="Ordered until", widget=DATE_INPUT)
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label="Amount from")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label="Amount up to")
    ordering = StableOrderingFilter(fields=(("ordered_at", "ordered"), ("amount", "amount")), label="Sort by")
    # KPI drill-downs: the contact's segment, repeat buyers, one order per buyer.
    locals().update(contact_segment_filters("contact__", "contact_"))
    bought_before = django_filters.DateFilter(
        method="filter_bought_before", label="Buyer also ordered before", widget=DATE_INPUT
    )
    first_per_contact = django_filters.BooleanFilter(
        method="filter_first_per_contact", label="One per buyer (their first order here)"
    )
    drilldown_filters = (
        "contact_channel",
        "contact_region",
        "contact_industry",
        "contact_owner",
        "bought_before",
        "first_per_contact",
    )

    class Meta:
        model = Order
        form = StyledForm
        fields = ["q"]

    def filter_search(self, queryset, name, value):
        return _search(queryset, ("contact__first_name", "contact__last_name", "contact__email", "description"), value)

    def filter_bought_before(self, queryset, name, value):
        earlier = Order.objects.filter(contact_id=OuterRef("contact_id"), ordered_at__lt=local_midnight(value))
        return queryset.filter(Exists(earlier))

    def filter_ordered_after(self, queryset, name, value):
        return queryset.filter(ordered_at__gte=local_midnight(value))

    def filter_ordered_before(self, queryset, name, value):
        if value == datetime.date.max:  # up to the last day there is: no bound (the next day would overflow)
            return queryset
        return queryset.filter(ordered_at__lt=local_midnight(value + datetime.timedelta(days=1)))

    def filter_first_per_contact(self, queryset, name, value):
        # Declared last: keeps the first order of each buyer among those selected so far.
        return first_per(queryset, "contact_id", "ordered_at") if value else queryset


class SubscriptionFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_search", label="Search", widget=SEARCH_INPUT)
    outcome = django_filters.ChoiceFilter(choices=Subscription.Outcome.choices, empty_label="Any outcome")
    contact = IdFilter(field_name="contact_id", widget=forms.HiddenInput)
    ends_after = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="gte", label="Ends from", widget=DATE_INPUT
    )
    ends_before = django_filters.DateFilter(
        field_name="ends_on", lookup_expr="lte", label="Ends until", widget=DATE_INPUT
    )
    ordering = StableOrderingFilter(
        fields=(("ends_on", "ends"), ("starts_on", "starts"), ("amount", "amount")), label="Sort by"
    )
    # KPI drill-downs.
    outcomes = CharInFilter(field_name="outcome", label="Outcomes")
    locals().update(contact_segment_filters("contact__", "contact_"))
    drilldown_filters = ("outcomes", "contact_channel", "contact_region", "contact_industry", "contact_owner")

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


class SpendFilter(DrillDownFiltersMixin, django_filters.FilterSet):
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
    # KPI drill-downs.
    has_campaign = django_filters.BooleanFilter(
        field_name="campaign", lookup_expr="isnull", exclude=True, label="Names a campaign"
    )
    segment_channel = SegmentFilter("channel__name", label="Channel (segment)")
    segment_campaign = SegmentFilter("campaign__name", label="Campaign (segment)")
    campaign_channel = SegmentFilter("campaign__channel__name", label="Campaign's channel (segment)")
    drilldown_filters = ("has_campaign", "segment_channel", "segment_campaign", "campaign_channel")

    class Meta:
        model = Spend
        form = StyledForm
        fields = ["category", "channel", "campaign"]
