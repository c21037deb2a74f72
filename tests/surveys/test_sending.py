"""Sending surveys: after commit, in batches, once; to the right people; and the e-mail's links work."""

import re

import pytest
from django.core import mail

from contacts.models import Contact
from support import services as support_services
from surveys import services
from surveys.models import Invitation, Response, SurveyKind
from tests.contacts.factories import ContactFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def send(survey, contacts, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.invitations_create(survey=survey, contacts=contacts, **kwargs)


def test_inviting_sends_one_email_per_contact_after_commit(django_capture_on_commit_callbacks):
    survey = SurveyFactory()
    ContactFactory.create_batch(3)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invitations_create(survey=survey, contacts=Contact.objects.all())
    assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 3
    assert Invitation.objects.filter(sent_at__isnull=False, token_hash__isnull=False).count() == 3


def test_the_email_carries_score_buttons_that_open_the_page_with_that_score(client, django_capture_on_commit_callbacks):
    survey = SurveyFactory(kind=SurveyKind.CSAT, question="How satisfied are you with our help?")
    ContactFactory(first_name="Ines")

    send(survey, Contact.objects.all(), django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    links = re.findall(r'href="(http://[^"]+\?score=(\d))"', html)
    assert [score for _, score in links] == ["1", "2", "3", "4", "5"]
    assert "Ines" in message.body
    page = client.get(links[3][0].replace("http://127.0.0.1:8000", ""))
    assert 'value="4" required checked' in page.content.decode()
    assert not Response.objects.exists()


def test_running_the_send_twice_sends_nothing_twice(django_capture_on_commit_callbacks):
    survey = SurveyFactory()
    ContactFactory()
    invitations = send(survey, Contact.objects.all(), django_capture_on_commit_callbacks)

    again = services.invitations_send(invitation_ids=[invitation.pk for invitation in invitations])

    assert again == 0
    assert len(mail.outbox) == 1


def test_opted_out_and_recently_asked_contacts_are_skipped(django_capture_on_commit_callbacks):
    survey = SurveyFactory()
    ContactFactory(email_opt_out=True)
    asked = ContactFactory()
    InvitationFactory(contact=asked)
    fresh = ContactFactory()

    invitations = send(survey, Contact.objects.all(), django_capture_on_commit_callbacks)

    assert [invitation.contact for invitation in invitations] == [fresh]
    assert [message.to for message in mail.outbox] == [[fresh.email]]


def test_an_inactive_survey_cannot_be_sent(django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    survey = SurveyFactory(is_active=False)
    ContactFactory()

    with pytest.raises(ValidationError, match="not active"):
        send(survey, Contact.objects.all(), django_capture_on_commit_callbacks)
    assert not Invitation.objects.exists()


def test_a_csat_survey_goes_out_when_a_ticket_is_resolved(support_user, django_capture_on_commit_callbacks):
    survey = SurveyFactory(kind=SurveyKind.CSAT, send_on_ticket_resolved=True, question="How did we do?")
    contact = ContactFactory()
    ticket = support_services.ticket_create(contact=contact, subject="Login fails", body="Cannot log in")

    with django_capture_on_commit_callbacks(execute=True):
        support_services.ticket_resolve(ticket=ticket, actor=support_user)

    invitation = Invitation.objects.get()
    assert (invitation.survey, invitation.contact, invitation.ticket) == (survey, contact, ticket)
    assert mail.outbox[0].to == [contact.email]


def test_a_csat_email_and_its_page_say_which_request_they_are_about(
    client, support_user, django_capture_on_commit_callbacks
):
    SurveyFactory(kind=SurveyKind.CSAT, send_on_ticket_resolved=True, question="How did we do?")
    ticket = support_services.ticket_create(contact=ContactFactory(), subject="Login <fails>", body="Cannot log in")

    with django_capture_on_commit_callbacks(execute=True):
        support_services.ticket_resolve(ticket=ticket, actor=support_user)

    message = mail.outbox[0]
    assert f'About your request #{ticket.pk}, "Login <fails>":' in message.body
    html = message.alternatives[0][0]
    assert f"About your request #{ticket.pk}, “Login &lt;fails&gt;”" in html
    link = re.search(r'href="http://[^/]+(/s/[^/"]+/)"', html).group(1)
    page = client.get(link).content.decode()
    assert f"About your request #{ticket.pk}, “Login &lt;fails&gt;”" in page

    ticket.contact = ContactFactory()  # moved to another customer since: not shown to this one any more
    ticket.save()
    assert "Login" not in client.get(link).content.decode()


def test_the_email_has_an_unsubscribe_link(django_capture_on_commit_callbacks):
    ContactFactory()
    send(SurveyFactory(), Contact.objects.all(), django_capture_on_commit_callbacks)

    message = mail.outbox[0]

    assert "/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert "/unsubscribe/" in message.body


def test_a_contact_who_opts_out_before_the_send_gets_no_email_and_is_not_offered_again(
    django_capture_on_commit_callbacks,
):
    survey = SurveyFactory()
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=False):  # invited; the worker has not sent it yet
        [invitation] = services.invitations_create(survey=survey, contacts=Contact.objects.all())
    Contact.objects.filter(pk=contact.pk).update(email_opt_out=True)

    sent = services.invitations_send(invitation_ids=[invitation.pk])

    invitation.refresh_from_db()
    assert sent == 0 and mail.outbox == []
    assert invitation.sent_at is None and invitation.send_error == "The contact opted out of e-mails."
    assert not services.pending_invitations().filter(pk=invitation.pk).exists()
