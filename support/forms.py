from django import forms

from contacts.models import Contact
from crm_project.forms import StyledFormMixin

from . import services
from .models import Ticket

UNKNOWN_AGENT = "Choose someone from the list: that user does not exist or cannot take tickets."


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, contact):
        if contact.email and contact.full_name != contact.email:
            return f"{contact.full_name} <{contact.email}>"
        return str(contact)


class TicketForm(StyledFormMixin, forms.ModelForm):
    """A ticket an agent opens on a customer's behalf; the first message is the customer's."""

    contact = ContactChoiceField(queryset=Contact.objects.order_by("last_name", "first_name", "pk"), label="Customer")
    body = forms.CharField(
        label="Customer's message",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the customer asked, in their words: the ticket's first message.",
        strip=True,
        max_length=services.MAX_BODY,
    )
    assignee = AgentChoiceField(
        queryset=services.agents(),
        required=False,
        empty_label="Unassigned",
        error_messages={"invalid_choice": UNKNOWN_AGENT},
    )

    class Meta:
        model = Ticket
        fields = ["contact", "subject", "channel", "priority", "body", "assignee"]


class MessageForm(StyledFormMixin, forms.Form):
    """A public reply or an internal note; the service refuses an empty one with its own message."""

    body = forms.CharField(
        label="Message",
        required=False,
        strip=True,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "Write to the customer, or a note for your colleagues…"}
        ),
    )


class AssignForm(StyledFormMixin, forms.Form):
    assignee = AgentChoiceField(
        queryset=services.agents(),
        required=False,
        empty_label="Unassigned",
        label="Assignee",
        error_messages={"invalid_choice": UNKNOWN_AGENT},
    )


class PriorityForm(StyledFormMixin, forms.Form):
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, label="Priority")


class StatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        choices=[(status, Ticket.Status(status).label) for status in services.WORKING_STATUSES],
        label="Status",
        help_text="Resolve, reopen and close have their own buttons.",
    )


class ConfirmForm(forms.Form):
    """Resolve, reopen and close: a button, no input."""
