"""An agent's reply reaches the customer by e-mail: after commit, once, to the ticket's contact; notes never do."""

from smtplib import SMTPRecipientsRefused

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from support import services
from support.models import TicketMessage
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


class RefusingBackend(EmailBackend):
    """The test mailbox, with a mail server that refuses addresses at refused.example (as SMTP does)."""

    def send_messages(self, messages):
        for message in messages:
            refused = [address for address in message.to if address.endswith("@refused.example")]
            if refused:
                raise SMTPRecipientsRefused(dict.fromkeys(refused, (550, b"No such user")))
        return super().send_messages(messages)


@pytest.fixture
def ticket():
    contact = ContactFactory(first_name="Ines", email="ines@example.com")
    return services.ticket_create(contact=contact, subject="Export fails", body="The export stops at 1000 rows.")


def reply(ticket, agent, body, django_capture_on_commit_callbacks) -> TicketMessage:
    with django_capture_on_commit_callbacks(execute=True):
        return services.ticket_reply(ticket=ticket, author=agent, body=body)


def test_a_reply_is_emailed_to_the_contact_after_commit_with_the_ticket_and_the_agent(
    ticket, support_user, django_capture_on_commit_callbacks
):
    support_user.first_name, support_user.last_name = "Sue", "Porter"
    support_user.save()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.ticket_reply(ticket=ticket, author=support_user, body="Fixed in 2.4: please update.")
    assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()

    [email] = mail.outbox
    assert email.to == ["ines@example.com"]
    assert email.subject == f"Re: Export fails [ticket #{ticket.pk}]"
    assert "Hello Ines," in email.body
    assert "Fixed in 2.4: please update." in email.body
    assert "Sue Porter" in email.body
    message.refresh_from_db()
    assert message.email_to == "ines@example.com" and message.emailed_at is not None


def test_notes_and_the_customers_own_messages_are_never_emailed(
    ticket, support_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.ticket_add_note(ticket=ticket, author=support_user, body="Customer is on the old plan.")
        own = services.ticket_customer_message(ticket=ticket, body="Any news?")

    assert mail.outbox == []
    assert note.email_to == own.email_to == ""
    assert not services.unsent_replies().exists()


def test_a_ticket_without_a_contact_address_keeps_the_reply_and_sends_nothing(
    support_user, django_capture_on_commit_callbacks
):
    ticket = services.ticket_create(contact=ContactFactory(email=""), subject="Phone call", body="Called about X.")

    message = reply(ticket, support_user, "We looked into it.", django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert message.email_to == "" and TicketMessage.objects.filter(pk=message.pk).exists()


def test_a_contact_who_opted_out_of_surveys_still_gets_the_answer_to_their_ticket(
    support_user, django_capture_on_commit_callbacks
):
    contact = ContactFactory(email="tom@example.com", email_opt_out=True)
    ticket = services.ticket_create(contact=contact, subject="Invoice", body="Wrong VAT.")

    reply(ticket, support_user, "Corrected invoice attached to your account.", django_capture_on_commit_callbacks)

    assert [email.to for email in mail.outbox] == [["tom@example.com"]]


def test_sending_again_sends_nothing_twice(ticket, support_user, django_capture_on_commit_callbacks):
    message = reply(ticket, support_user, "Done.", django_capture_on_commit_callbacks)

    assert services.replies_send(message_ids=[message.pk, message.pk]) == 0
    assert len(mail.outbox) == 1


def test_an_address_the_mail_server_refuses_is_given_up_with_the_reason(
    support_user, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    contact = ContactFactory(email="gone@refused.example")
    ticket = services.ticket_create(contact=contact, subject="Login", body="Cannot log in.")
    kept = services.ticket_create(contact=ContactFactory(email="ok@example.com"), subject="Other", body="Hi.")

    refused = reply(ticket, support_user, "Reset link sent.", django_capture_on_commit_callbacks)
    sent = reply(kept, support_user, "Hello.", django_capture_on_commit_callbacks)

    refused.refresh_from_db()
    assert refused.emailed_at is None
    assert refused.email_error == "The mail server refused the address."
    assert [email.to for email in mail.outbox] == [["ok@example.com"]]
    assert services.replies_dispatch_pending(created_before=sent.created_at.replace(year=2100)) == 0


def test_a_subject_over_several_lines_makes_a_one_line_email_subject(support_user, django_capture_on_commit_callbacks):
    ticket = services.ticket_create(contact=ContactFactory(), subject="Line one\nline two", body="Hi.")

    reply(ticket, support_user, "Answer.", django_capture_on_commit_callbacks)

    assert mail.outbox[0].subject == f"Re: Line one line two [ticket #{ticket.pk}]"


def test_the_ticket_page_says_where_the_reply_went(client, ticket, support_user, django_capture_on_commit_callbacks):
    client.force_login(support_user)
    page = client.get(ticket.get_absolute_url())
    assert "A reply is e-mailed to ines@example.com" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"body": "On it."}, follow=True)

    html = answer.content.decode()
    assert "Reply added; it is e-mailed to ines@example.com." in html
    assert "Waiting to be e-mailed to ines@example.com" in html  # the page came before the commit's sending
    assert [email.to for email in mail.outbox] == [["ines@example.com"]]
    assert "E-mailed to ines@example.com at" in client.get(ticket.get_absolute_url()).content.decode()


def test_the_page_says_a_reply_stays_on_a_ticket_without_an_address(client, support_user):
    ticket = services.ticket_create(contact=None, subject="Walk-in", body="Asked at the desk.")
    client.force_login(support_user)

    answer = client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"body": "Noted."}, follow=True)

    html = answer.content.decode()
    assert "A reply stays on the ticket (no contact with an e-mail address)" in html
    assert "Reply added to the ticket only: it has no contact with an e-mail address to send it to." in html
    assert mail.outbox == []


def test_the_api_reply_is_emailed_and_says_to_whom(support_api, ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = support_api.post(f"/api/tickets/{ticket.pk}/reply/", {"body": "Fixed."}, format="json")

    assert answer.status_code == 201
    assert answer.json()["email_to"] == "ines@example.com"
    assert [email.to for email in mail.outbox] == [["ines@example.com"]]
    assert TicketMessage.objects.get(pk=answer.json()["id"]).emailed_at is not None
