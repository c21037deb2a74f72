"""Work queued while the broker (Redis) is down is kept in the database and goes out once it is back, once.

The broker is the test's own redis-server, stopped for real; a real Celery worker (threads, in this process,
so that Django's test mailbox sees its e-mails) consumes once it is started again.
"""

import datetime
import time
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from contacts.models import Contact, ImportJob
from crm_project import outbox
from crm_project.celery import app as celery_app
from crm_project.tasks import clear_expired_sessions, dispatch_pending
from support import services as support_services
from surveys import services as survey_services
from surveys.models import Invitation, SurveyKind
from tests.contacts.factories import ContactFactory
from tests.factories import UserFactory
from tests.reliability.conftest import queued_messages, wait_for
from tests.support.factories import TicketFactory
from tests.surveys.factories import SurveyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

NOW = {"older_than": datetime.timedelta(0)}  # dispatch everything pending, whatever its age


@contextmanager
def worker():
    with start_worker(celery_app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        yield


def drained(server) -> bool:
    client = server.client()
    return queued_messages(server) == 0 and client.hlen("unacked") == 0


def invite(contact) -> Invitation:
    started = time.monotonic()
    [invitation] = survey_services.invitations_create(
        survey=SurveyFactory(), contacts=Contact.objects.filter(pk=contact.pk)
    )
    print(f"\ninviting with the broker down took {time.monotonic() - started:.3f} s")
    return invitation


def test_with_the_broker_down_inviting_succeeds_and_the_invitation_waits_unsent(app_on_redis):
    contact = ContactFactory()
    app_on_redis.stop()

    started = time.monotonic()
    invitation = invite(contact)

    invitation.refresh_from_db()
    assert invitation.sent_at is None and invitation.send_error == ""
    assert mail.outbox == []
    assert time.monotonic() - started < 3  # one short connection attempt, not Celery's retries


def test_once_the_broker_is_back_the_dispatch_sends_the_waiting_email_exactly_once(app_on_redis):
    contact = ContactFactory(email="ines@example.com")
    app_on_redis.stop()
    invitation = invite(contact)
    app_on_redis.start()

    first = outbox.dispatch_pending(**NOW)
    second = outbox.dispatch_pending(**NOW)  # two dispatchers at once: the same e-mail is queued twice
    with worker():
        wait_for(lambda: Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=False).exists(), timeout=30)
        wait_for(lambda: drained(app_on_redis), timeout=30, what="the worker to take both messages")
        third = outbox.dispatch_pending(**NOW)

    assert first["survey invitations"] == second["survey invitations"] == 1
    assert third["survey invitations"] == 0  # nothing is pending any more
    assert [message.to for message in mail.outbox] == [["ines@example.com"]]


def test_resolving_a_ticket_with_the_broker_down_keeps_its_survey_for_later(app_on_redis):
    SurveyFactory(kind=SurveyKind.CSAT, send_on_ticket_resolved=True)
    ticket = TicketFactory(contact=ContactFactory(email="tom@example.com"))
    agent = UserFactory(role="support")
    app_on_redis.stop()

    support_services.ticket_resolve(ticket=ticket, actor=agent)

    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    invitation = Invitation.objects.get(ticket=ticket)
    assert invitation.sent_at is None and mail.outbox == []
    app_on_redis.start()
    outbox.dispatch_pending(**NOW)
    with worker():  # the worker acks a task as it starts it: an empty broker does not mean the e-mail went
        wait_for(lambda: Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=False).exists(), timeout=30)
        wait_for(lambda: drained(app_on_redis), timeout=30, what="the worker")
    assert [message.to for message in mail.outbox] == [["tom@example.com"]]


def test_a_reply_written_with_the_broker_down_is_emailed_once_it_is_back(app_on_redis):
    ticket = TicketFactory(contact=ContactFactory(email="lea@example.com"))
    agent = UserFactory(role="support")
    app_on_redis.stop()

    message = support_services.ticket_reply(ticket=ticket, author=agent, body="Fixed on our side.")

    message.refresh_from_db()
    assert message.emailed_at is None and message.email_to == "lea@example.com" and mail.outbox == []
    app_on_redis.start()
    first = outbox.dispatch_pending(**NOW)
    second = outbox.dispatch_pending(**NOW)  # two dispatchers at once: the same reply is queued twice
    with worker():
        wait_for(lambda: type(message).objects.filter(pk=message.pk, emailed_at__isnull=False).exists(), timeout=30)
        wait_for(lambda: drained(app_on_redis), timeout=30, what="the worker to take both messages")
    assert first["ticket replies"] == second["ticket replies"] == 1
    assert outbox.dispatch_pending(**NOW)["ticket replies"] == 0
    assert [(email.to, "Fixed on our side." in email.body) for email in mail.outbox] == [(["lea@example.com"], True)]


def test_an_upload_while_the_broker_is_down_is_checked_once_it_is_back(app_on_redis):
    client = Client()
    client.force_login(UserFactory(role="manager"))
    app_on_redis.stop()

    upload = SimpleUploadedFile("companies.csv", b"external_id,name\nco-1,Acme GmbH\n", content_type="text/csv")
    response = client.post("/imports/", {"kind": "companies", "file": upload})
    job = ImportJob.objects.get()
    page = client.get(job.get_absolute_url())

    assert response.status_code == 302 and page.status_code == 200
    assert job.status == ImportJob.Status.CHECKING
    app_on_redis.start()
    assert outbox.dispatch_pending(**NOW)["import jobs"] == 1
    with worker():
        checked = ImportJob.objects.filter(pk=job.pk).exclude(status=ImportJob.Status.CHECKING)
        wait_for(checked.exists, timeout=30, what="the check")
        wait_for(lambda: drained(app_on_redis), timeout=30, what="the worker")
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.CHECKED, 1)


def test_the_command_says_so_when_the_broker_is_still_down_and_keeps_the_work(app_on_redis):
    contact = ContactFactory()
    app_on_redis.stop()
    invitation = invite(contact)

    with pytest.raises(CommandError, match="broker .* cannot be reached: the work stays pending"):
        call_command("dispatch_pending")

    invitation.refresh_from_db()
    assert invitation.sent_at is None


def test_an_address_the_mail_server_refuses_is_given_up_not_offered_again_and_again(smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    smtp_server.refused_addresses.add("gone@example.com")
    ContactFactory(email="gone@example.com")
    ContactFactory(email="here@example.com")

    survey_services.invitations_create(survey=SurveyFactory(), contacts=Contact.objects.all())  # sent in-process

    assert smtp_server.recipients() == ["here@example.com"]
    refused = Invitation.objects.get(contact__email="gone@example.com")
    assert refused.sent_at is None and refused.send_error == "The mail server refused the address."
    assert outbox.dispatch_pending(**NOW)["survey invitations"] == 0


def test_the_periodic_dispatch_leaves_the_work_alone_while_the_queue_has_a_backlog(app_on_redis, settings):
    settings.OUTBOX_GRACE_SECONDS = 0
    contact = ContactFactory()
    app_on_redis.stop()
    invite(contact)
    app_on_redis.start()
    clear_expired_sessions.delay()  # a message waiting in the queue, no worker yet

    while_busy = dispatch_pending.apply().get()
    app_on_redis.client().delete("celery")
    once_empty = dispatch_pending.apply().get()

    assert while_busy == {}
    assert once_empty["survey invitations"] == 1


@pytest.mark.postgres
@pytest.mark.celery_worker
def test_a_worker_that_starts_after_the_outage_sends_what_waited(app_on_redis, smtp_server, start_worker):
    contact = ContactFactory(email="late@example.com")
    app_on_redis.stop()
    invite(contact)
    app_on_redis.start()

    start_worker(
        app_on_redis.url,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=smtp_server.port,
        OUTBOX_GRACE_SECONDS=0,
    )  # nobody dispatches: the worker does, on start

    wait_for(lambda: smtp_server.recipients(), timeout=90, what="the e-mail")
    assert smtp_server.recipients() == ["late@example.com"]
