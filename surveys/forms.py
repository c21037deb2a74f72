from django import forms

from crm_project.forms import StyledFormMixin

from .models import Survey


class SurveyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["name", "kind", "question", "low_label", "high_label", "is_active", "send_on_ticket_resolved"]
        labels = {"is_active": "Active (can be sent)", "send_on_ticket_resolved": "Send when a ticket is resolved"}
        help_texts = {
            "question": "What the customer reads in the e-mail and on the page.",
            "low_label": "Leave empty for the usual words of the scale.",
            "high_label": "Leave empty for the usual words of the scale.",
            "send_on_ticket_resolved": "CSAT only: the ticket's customer gets it when the ticket is resolved.",
        }
        widgets = {"question": forms.TextInput(attrs={"maxlength": 300})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.invitations.exists():
            # Its answers are on this scale: the service refuses a change, so do not offer one.
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = "Fixed: this survey has been sent."
