"""Forms of the deal, board, order and subscription pages: they parse input; services write."""

import datetime

from django import forms
from django.utils import timezone

from contacts.models import Company, Contact
from contacts.selectors import active_users
from crm_project.forms import StyledFormMixin
from crm_project.templatetags.crm import display_name

from .models import Deal, Order, Stage, Subscription

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LOST_REASON_REQUIRED = "Say why the deal was lost."


class PersonChoiceField(forms.ModelChoiceField):
    """A colleague shown by name, as everywhere else in the CRM."""

    def label_from_instance(self, obj):
        return display_name(obj)


class StageChoiceField(forms.ModelChoiceField):
    """A stage shown as "Pipeline: Stage" (the queryset joins the pipeline)."""

    def label_from_instance(self, obj):
        return f"{obj.pipeline.name}: {obj.name}"


class WonDealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.title} ({obj.contact})" if obj.contact_id else obj.title


def _contacts():
    return Contact.objects.order_by("last_name", "first_name", "pk")


class DealForm(StyledFormMixin, forms.ModelForm):
    owner = PersonChoiceField(queryset=active_users(), required=False)

    class Meta:
        model = Deal
        fields = ["title", "contact", "company", "owner", "channel", "kind", "amount", "expected_close_date"]
        widgets = {"expected_close_date": DATE_INPUT}
        help_texts = {"company": "Leave empty to use the contact's company."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = _contacts()
        self.fields["company"].queryset = Company.objects.order_by("name")
        self.fields["channel"].queryset = self.fields["channel"].queryset.filter(is_active=True)


class DealCreateForm(DealForm):
    stage = StageChoiceField(
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN).select_related("pipeline").order_by("pipeline", "position"),
        required=False,
        empty_label="First stage of the default pipeline",
        help_text="Where the deal starts; it moves on from the board or its page.",
    )


class DealMoveForm(forms.Form):
    """A move from the board (drag and drop or the card's control) or from the deal page."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.select_related("pipeline"))
    lost_reason = forms.CharField(required=False, max_length=300)


class DealLoseForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why was it lost?",
        max_length=300,
        error_messages={"required": LOST_REASON_REQUIRED},
        widget=forms.TextInput(
            attrs={"placeholder": "Went with a competitor, no budget…", "autocomplete": "off", "autofocus": True}
        ),
    )


class DealReopenForm(StyledFormMixin, forms.Form):
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN),
        required=False,
        empty_label="Its last open stage",
        label="Reopen into",
    )


class OrderForm(StyledFormMixin, forms.ModelForm):
    deal = WonDealChoiceField(
        queryset=Deal.objects.filter(status=Deal.Status.WON).select_related("contact").order_by("-closed_at", "-pk"),
        required=False,
        empty_label="No deal",
        help_text="The won deal this order comes from, if any.",
    )

    class Meta:
        model = Order
        fields = ["contact", "deal", "ordered_at", "amount", "description"]
        widgets = {"ordered_at": DATETIME_INPUT}
        labels = {"ordered_at": "Ordered at"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = _contacts()
        self.fields["ordered_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if self.instance.pk is None and not self.is_bound:
            self.initial.setdefault("ordered_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean(self):
        cleaned_data = super().clean()
        # "Ordered at" has minutes only: an order recorded in the minute its deal was won would be dated
        # seconds before the win (and before the deal was opened, on the contact's timeline). It counts from the win.
        deal, ordered_at = cleaned_data.get("deal"), cleaned_data.get("ordered_at")
        closed_at = deal.closed_at if deal is not None else None
        if closed_at and ordered_at and ordered_at < closed_at < ordered_at + datetime.timedelta(minutes=1):
            cleaned_data["ordered_at"] = closed_at
        return cleaned_data


class SubscriptionForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["contact", "plan", "amount", "starts_on", "ends_on"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = _contacts()
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("starts_on", today)
            self.initial.setdefault("ends_on", _one_year_after(today))


def _one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


class SubscriptionRenewForm(StyledFormMixin, forms.Form):
    ends_on = forms.DateField(
        required=False, widget=DATE_INPUT, label="New end date", help_text="Leave empty for another term as long."
    )
    amount = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, help_text="Leave empty to keep the amount."
    )
    plan = forms.CharField(required=False, max_length=100, help_text="Leave empty to keep the plan.")


class ChurnForm(forms.Form):
    reason = forms.CharField(max_length=300, error_messages={"required": "Say why the customer churned."})
