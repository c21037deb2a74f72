from django import forms

from crm_project.forms import StyledFormMixin

from .models import Company, Contact, Interaction, normalize_email


class CompanyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "domain", "industry", "size_band", "region", "owner"]


class ContactForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "region",
            "industry",
            "channel",
            "owner",
            "email_opt_out",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.order_by("name")
        self.fields["channel"].queryset = self.fields["channel"].queryset.filter(is_active=True)

    def clean_email(self):
        return normalize_email(self.cleaned_data.get("email", ""))


class InteractionForm(StyledFormMixin, forms.ModelForm):
    occurred_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now; in the local time shown below.",
    )

    class Meta:
        model = Interaction
        fields = ["kind", "direction", "occurred_at", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}
