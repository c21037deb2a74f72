"""A Celery worker killed with SIGKILL in the middle of a task: the task runs again, and the end state is that
of one run (no e-mail twice, no snapshot twice, nothing missing).

Real workers (`celery -A crm_project worker`, prefork) run in subprocesses on the test database, the test's
own redis-server as broker, and a real SMTP server that can hang in the middle of a batch.
"""

import time
from io import StringIO

import pytest
from django.core.management import call_command

from contacts.models import Contact
from kpis.models import KpiRefresh, KpiSnapshot
from kpis.services import INTERRUPTED, kpis_refresh
from kpis.tasks import refresh_all_history
from surveys import services as survey_services
from surveys.models import Invitation
from tests.contacts.factories import ContactFactory
from tests.reliability.conftest import queued_messages, wait_for
from tests.surveys.factories import SurveyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]

BATCH = 30
SENT_BEFORE_THE_KILL = 10
VISIBILITY = 2  # seconds (production: an hour, above the longest task)


def drained(server) -> bool:
    return queued_messages(server) == 0 and server.client().hlen("unacked") == 0


def test_a_worker_killed_mid_batch_sends_the_rest_after_redelivery_and_no_email_twice(
    app_on_redis, smtp_server, start_worker
):
    contacts = ContactFactory.create_batch(BATCH)
    survey_services.invitations_create(survey=SurveyFactory(), contacts=Contact.objects.all())  # one message
    mail_to_smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": smtp_server.port,
        "CELERY_VISIBILITY_TIMEOUT": VISIBILITY,  # a message taken by a dead worker is handed out again then
        "OUTBOX_GRACE_SECONDS": 3600,  # so only the redelivered message can finish the batch, not the dispatch
    }
    smtp_server.hang_after(SENT_BEFORE_THE_KILL)

    first = start_worker(app_on_redis.url, **mail_to_smtp)
    wait_for(smtp_server.hung.is_set, timeout=90, what="the batch to reach its 11th e-mail")
    first.kill()  # SIGKILL, worker and pool process, while the mail server has the 11th e-mail unanswered
    sent_at_the_kill = Invitation.objects.filter(sent_at__isnull=False).count()
    smtp_server.stop_hanging()
    time.sleep(VISIBILITY + 0.5)  # the replacement worker takes back messages unacknowledged for this long
    start_worker(app_on_redis.url, **mail_to_smtp)
    wait_for(lambda: not Invitation.objects.filter(sent_at__isnull=True).exists(), timeout=90, what="the rest")
    wait_for(lambda: drained(app_on_redis), timeout=30, what="the broker to have nothing left")

    received = smtp_server.recipients()
    print(f"\nkilled after {sent_at_the_kill} e-mails; {len(received) - sent_at_the_kill} sent after the restart")
    assert sent_at_the_kill == SENT_BEFORE_THE_KILL  # the 11th, unanswered, was not marked sent
    assert sorted(received) == sorted(contact.email for contact in contacts)  # every one once, none twice


def snapshot_values() -> set[tuple]:
    return set(
        KpiSnapshot.objects.values_list(
            "kpi", "granularity", "dimension", "period_start", "segment", "value", "numerator", "denominator"
        )
    )


def test_a_kpi_refresh_whose_worker_process_is_killed_runs_again_and_ends_as_one_run(app_on_redis, start_worker):
    call_command("seed_demo", size="small", force=True, stdout=StringIO())
    app_on_redis.client().delete("celery")  # the demo's survey e-mails: not this test's business
    refresh_all_history.delay()
    worker = start_worker(app_on_redis.url)

    wait_for(
        lambda: KpiRefresh.objects.filter(scope="all", status="running").exists() and KpiSnapshot.objects.exists(),
        timeout=90,
        interval=0.01,
        what="the refresh to be half-way",
    )
    snapshots_at_the_kill = KpiSnapshot.objects.count()
    worker.kill_child()  # SIGKILL of the pool process; the worker itself sees it die and requeues the task
    wait_for(lambda: KpiRefresh.objects.filter(scope="all", status="succeeded").exists(), timeout=180, what="the rerun")
    wait_for(lambda: drained(app_on_redis), timeout=30, what="the broker to have nothing left")
    after_the_rerun = snapshot_values()
    runs = list(KpiRefresh.objects.filter(scope="all").order_by("id").values_list("status", "error"))

    kpis_refresh(scope="all")  # what one uninterrupted run gives

    print(f"\nkilled with {snapshots_at_the_kill} snapshots written; {len(after_the_rerun)} after the rerun")
    assert runs == [("failed", INTERRUPTED), ("succeeded", "")]
    assert after_the_rerun == snapshot_values()
    assert KpiSnapshot.objects.count() == len(after_the_rerun)  # no duplicates
