"""Forms of the leads, campaigns, spend and public lead form pages: they parse input, services write."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q

from contacts.models import Channel
from contacts.selectors import active_users
from crm_project.forms import StyledFormMixin
from crm_project.templatetags.crm import display_name

from .models import Campaign, Lead, Spend

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NEGATIVE_AMOUNT = "The amount cannot be negative."


def money_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=f"{label} ({settings.CRM_CURRENCY})",
        required=required,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text=help_text,
        error_messages={"min_value": NEGATIVE_AMOUNT},
    )


class ServiceErrorsMixin:
    """Show a service's ValidationError on the form, whatever field names it uses.

    A service speaks of model fields (`first_name`, `reason` ...); an error for a field
    this form does not have is shown at the top of the form instead of raising.
    """

    service_field_map: dict[str, str] = {}

    def add_error(self, field, error):
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                name = self.service_field_map.get(name, name)
                super().add_error(name if name in self.fields else None, errors)
            return
        super().add_error(field, error)


class ActiveChannelsMixin:
    """Offer active channels (and the one already set), campaigns by name, active staff."""

    def limit_choices(self):
        if "channel" in self.fields:
            current = getattr(self.instance, "channel_id", None) if hasattr(self, "instance") else None
            self.fields["channel"].queryset = Channel.objects.filter(Q(is_active=True) | Q(pk=current))
        if "campaign" in self.fields:
            self.fields["campaign"].queryset = Campaign.objects.order_by("name")
        if "owner" in self.fields:
            self.fields["owner"].queryset = active_users()
            self.fields["owner"].label_from_instance = display_name


# Leads -----------------------------------------------------------------------------------------


class LeadQuickForm(ServiceErrorsMixin, ActiveChannelsMixin, StyledFormMixin, forms.ModelForm):
    """Quick capture: who, how to reach them, where they came from. The capturer owns the lead."""

    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "email", "phone", "company_name", "channel", "campaign", "message"]
        labels = {"company_name": "Company", "email": "E-mail"}
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices()
        self.fields["first_name"].widget.attrs["autofocus"] = True


class LeadForm(LeadQuickForm):
    """Editing a lead: the quick capture fields and its owner."""

    class Meta(LeadQuickForm.Meta):
        fields = [*LeadQuickForm.Meta.fields[:-1], "owner", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs.pop("autofocus", None)


class LeadStatusForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Lead.Status.NEW, Lead.Status.NEW.label),
            (Lead.Status.WORKING, Lead.Status.WORKING.label),
            (Lead.Status.QUALIFIED, Lead.Status.QUALIFIED.label),
        ],
        error_messages={
            "invalid_choice": "Choose new, working or qualified; convert and disqualify have their own forms."
        },
    )


class LeadConvertForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    service_field_map = {"title": "deal_title"}

    deal_title = forms.CharField(
        label="Deal title", required=False, max_length=200, help_text="Leave empty to use the company's name."
    )
    amount = money_field("Amount", required=False, help_text="Leave empty if not known yet.")
    expected_close_date = forms.DateField(label="Expected close date", required=False, widget=DATE_INPUT)


class LeadDisqualifyForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    reason = forms.CharField(
        max_length=300,
        error_messages={"required": "Say why the lead is disqualified."},
        widget=forms.TextInput(attrs={"placeholder": "No budget, wrong fit, duplicate…"}),
    )


class LeadAssignForm(ServiceErrorsMixin, StyledFormMixin, forms.Form):
    """Bulk assign from the list: every checked lead must exist, or nothing is assigned."""

    leads = forms.ModelMultipleChoiceField(
        queryset=Lead.objects.all(),
        error_messages={
            "required": "Tick the leads to assign first.",
            "invalid_choice": "Lead %(value)s does not exist (any more); nothing was assigned.",
            "invalid_pk_value": "“%(pk)s” is not a lead; nothing was assigned.",
        },
    )
    owner = forms.ModelChoiceField(
        queryset=active_users(),
        empty_label="Choose an owner…",
        error_messages={
            "required": "Choose who gets the leads.",
            "invalid_choice": "That user cannot own leads; nothing was assigned.",
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_assign_%s")  # the filter form above has an owner select too
        super().__init__(*args, **kwargs)
        self.fields["owner"].label_from_instance = display_name

    def error_text(self) -> str:
        return " ".join(message for errors in self.errors.values() for message in errors)


class PublicLeadForm(ServiceErrorsMixin, forms.Form):
    """The form a website visitor fills in. `website` is the honeypot: people never see it."""

    service_field_map = {"first_name": "name", "last_name": "name", "company_name": "company"}

    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="E-mail", max_length=254)
    company = forms.CharField(label="Company", max_length=200, required=False)
    message = forms.CharField(
        label="How can we help?", max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "website":
                field.widget.attrs["class"] = "form-control"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["company"].widget.attrs["autocomplete"] = "organization"

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website", "").strip())

    def lead_data(self, channel: Channel) -> dict:
        """The lead's fields: the name split at its last space ("Ada King Lovelace" -> "Ada King", "Lovelace")."""
        first_name, _, last_name = self.cleaned_data["name"].strip().rpartition(" ")
        if not first_name:  # one word: a first name
            first_name, last_name = last_name, ""
        return {
            "first_name": first_name.strip(),
            "last_name": last_name.strip(),
            "email": self.cleaned_data["email"],
            "company_name": self.cleaned_data["company"].strip(),
            "message": self.cleaned_data["message"].strip(),
            "channel": channel,
        }


# Campaigns and spend ---------------------------------------------------------------------------


class CampaignForm(ServiceErrorsMixin, ActiveChannelsMixin, StyledFormMixin, forms.ModelForm):
    budget = money_field("Budget", required=False)

    class Meta:
        model = Campaign
        fields = ["name", "channel", "starts_on", "ends_on", "budget"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices()


class SpendForm(ServiceErrorsMixin, ActiveChannelsMixin, StyledFormMixin, forms.ModelForm):
    amount = money_field("Amount")

    class Meta:
        model = Spend
        fields = ["spent_on", "amount", "category", "channel", "campaign", "description"]
        labels = {"spent_on": "Date"}
        help_texts = {
            "category": "Acquisition spend counts in CAC, retention spend in the cost of keeping customers.",
            "channel": "Leave empty to use the campaign's channel.",
        }
        widgets = {"spent_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_choices()

    def clean(self):
        cleaned = super().clean()
        campaign = cleaned.get("campaign")
        if campaign is not None and cleaned.get("channel") is None:
            cleaned["channel"] = campaign.channel
        return cleaned
