"""FilterSets shared by the survey pages and the API, so both filter the same way."""

import django_filters
from django import forms
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from contacts.filters import (
    DATE_INPUT,
    DrillDownFiltersMixin,
    IdFilter,
    SegmentFilter,
    StableOrderingFilter,
    contact_segment_filters,
)
from contacts.models import Channel
from crm_project.forms import StyledForm

from .models import Invitation, Response, Survey, SurveyKind
from .selectors import BAND_CHOICES, band_condition

ACTIVE_CHOICES = [("true", "Active"), ("false", "Inactive")]


class SurveyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or question…"}),
    )
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices, empty_label="Any kind")
    is_active = django_filters.ChoiceFilter(
        choices=ACTIVE_CHOICES, method="filter_active", empty_label="Active or not", label="Status"
    )
    ordering = StableOrderingFilter(fields=(("name", "name"), ("created_at", "created")), label="Sort by")

    class Meta:
        model = Survey
        form = StyledForm
        fields = ["q", "kind", "is_active"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(Q(name__icontains=term) | Q(question__icontains=term))
        return queryset

    @extend_schema_field({"type": "string", "enum": [value for value, _ in ACTIVE_CHOICES]})
    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")


class ResponseFilter(DrillDownFiltersMixin, django_filters.FilterSet):
    """Answers by survey, score band, date and the contact's segment (channel, region, industry)."""

    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Contact or comment…"}),
    )
    survey = django_filters.ModelChoiceFilter(
        field_name="invitation__survey",
        queryset=Survey.objects.order_by("name"),
        empty_label="Any survey",
        label="Survey",
    )
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices, empty_label="NPS or CSAT", label="Kind")
    band = django_filters.ChoiceFilter(
        choices=BAND_CHOICES, method="filter_band", label="Score band", empty_label="Any score"
    )
    submitted_after = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label="Answered from", widget=DATE_INPUT
    )
    submitted_before = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label="Answered until", widget=DATE_INPUT
    )
    channel = django_filters.ModelChoiceFilter(
        field_name="invitation__contact__channel",
        queryset=Channel.objects.all(),
        empty_label="Any channel",
        label="Channel",
    )
    region = django_filters.CharFilter(field_name="invitation__contact__region", lookup_expr="iexact", label="Region")
    industry = django_filters.CharFilter(method="filter_industry", label="Industry")
    contact = IdFilter(field_name="invitation__contact_id", widget=forms.HiddenInput)
    ticket = IdFilter(field_name="invitation__ticket_id", widget=forms.HiddenInput)
    ordering = StableOrderingFilter(
        fields=(("submitted_at", "submitted"), ("score", "score")),
        field_labels={"submitted_at": "Answered", "score": "Score"},
        label="Sort by",
    )
    # KPI drill-downs: a score range, when the invitation went out, the contact's or the ticket's segment.
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", label="Score from")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", label="Score up to")
    sent_after = django_filters.DateFilter(
        field_name="invitation__sent_at", lookup_expr="date__gte", label="Sent from", widget=DATE_INPUT
    )
    sent_before = django_filters.DateFilter(
        field_name="invitation__sent_at", lookup_expr="date__lte", label="Sent until", widget=DATE_INPUT
    )
    locals().update(contact_segment_filters("invitation__contact__", "contact_"))
    ticket_channel = SegmentFilter("invitation__ticket__channel", label="Ticket channel (segment)")
    ticket_assignee = SegmentFilter("invitation__ticket__assignee__username", label="Ticket assignee (segment)")
    segment_survey = SegmentFilter("invitation__survey__name", label="Survey (segment)")
    drilldown_filters = (
        "score_min",
        "score_max",
        "sent_after",
        "sent_before",
        "contact_channel",
        "contact_region",
        "contact_industry",
        "contact_owner",
        "ticket_channel",
        "ticket_assignee",
        "segment_survey",
    )

    class Meta:
        model = Response
        form = StyledForm
        fields = ["q", "survey", "kind", "band"]

    def filter_search(self, queryset, name, value):
        for term in value.split():
            queryset = queryset.filter(
                Q(comment__icontains=term)
                | Q(invitation__contact__first_name__icontains=term)
                | Q(invitation__contact__last_name__icontains=term)
                | Q(invitation__contact__email__icontains=term)
            )
        return queryset

    # The choices are grouped by survey kind; the schema lists the bands themselves.
    @extend_schema_field({"type": "string", "enum": [band for _, bands in BAND_CHOICES for band, _ in bands]})
    def filter_band(self, queryset, name, value):
        return queryset.filter(band_condition(value))

    def filter_industry(self, queryset, name, value):
        # A contact's industry falls back to its company's (as on the contact list).
        return queryset.filter(
            Q(invitation__contact__industry__iexact=value)
            | Q(invitation__contact__industry="", invitation__contact__company__industry__iexact=value)
        )


class InvitationFilter(django_filters.FilterSet):
    survey = django_filters.ModelChoiceFilter(queryset=Survey.objects.all())
    contact = IdFilter(field_name="contact_id")
    ticket = IdFilter(field_name="ticket_id")
    sent_after = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")
    responded = django_filters.BooleanFilter(field_name="response", lookup_expr="isnull", exclude=True)
    ordering = StableOrderingFilter(fields=(("created_at", "created"), ("sent_at", "sent")))

    class Meta:
        model = Invitation
        fields = ["survey", "contact", "ticket"]
