"""Two beat schedulers at once (a second one started by mistake, or during a deploy) fire every periodic task
twice at the same moment: the work is done once. The locks are in PostgreSQL, so this holds with Redis down.
"""

import datetime
import importlib
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection

from kpis.models import KpiRefresh, KpiSnapshot
from kpis.services import kpis_refresh
from sales.models import SalesEvent
from support.models import TicketEvent
from surveys.models import Invitation
from tests.contacts.factories import ContactFactory
from tests.factories import UserFactory
from tests.sales.factories import OrderFactory, SubscriptionFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import SurveyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date.today()
LONG_AGO = datetime.datetime.combine(TODAY - datetime.timedelta(days=100), datetime.time(9), tzinfo=datetime.UTC)
DEAD_REDIS = {
    "default": {
        "BACKEND": "crm_project.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: no cache, no cache lock
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def fire_twice_at_once(task_name: str) -> list[Exception]:
    """Run the task in two threads (two database sessions) released at the same instant, as two beats would."""
    module, name = task_name.rsplit(".", 1)
    task, start, errors = getattr(importlib.import_module(module), name), threading.Barrier(2), []

    def run():
        try:
            start.wait(timeout=10)
            task.apply(throw=True)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    return errors


@pytest.fixture
def due_work(settings):
    """Something for every periodic task: history to compute, tickets to close, subscriptions to expire,
    managers for the digest, survey e-mails waiting in the outbox."""
    settings.CACHES = DEAD_REDIS
    settings.OUTBOX_GRACE_SECONDS = 0
    for day in range(0, 100, 3):
        OrderFactory(ordered_at=LONG_AGO + datetime.timedelta(days=day))
    resolved = LONG_AGO + datetime.timedelta(days=30)
    TicketFactory.create_batch(3, status="resolved", created_at=LONG_AGO, resolved_at=resolved)
    ended = TODAY - datetime.timedelta(days=10)
    SubscriptionFactory.create_batch(2, starts_on=ended - datetime.timedelta(days=365), ends_on=ended)
    managers = [UserFactory(role="manager", email=f"manager{n}@example.com") for n in range(3)]
    survey = SurveyFactory()
    invitations = [Invitation.objects.create(survey=survey, contact=ContactFactory()) for _ in range(4)]
    return {"managers": managers, "invitations": invitations}


def test_every_periodic_task_fired_twice_at_once_does_its_work_once(due_work):
    errors = {name: fire_twice_at_once(entry["task"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}

    assert errors == {name: [] for name in settings.CELERY_BEAT_SCHEDULE}
    runs = Counter(KpiRefresh.objects.filter(status="succeeded").values_list("scope", flat=True))
    assert runs == {"open": 1, "all": 1}  # the second of each pair found the refresh running and stood down
    sent_to = Counter(address for message in mail.outbox for address in message.to)
    expected = [user.email for user in due_work["managers"]]
    expected += [invitation.contact.email for invitation in due_work["invitations"]]
    assert sent_to == Counter(expected)  # one digest per manager, one survey e-mail per invitation
    closings = Counter(TicketEvent.objects.filter(verb="closed").values_list("ticket", flat=True))
    assert list(closings.values()) == [1, 1, 1]
    expiries = Counter(SalesEvent.objects.filter(verb="subscription_expired").values_list("subscription", flat=True))
    assert list(expiries.values()) == [1, 1]


def test_two_refreshes_at_once_leave_the_snapshots_of_one(due_work):
    fire_twice_at_once("kpis.tasks.refresh_all_history")
    twice = set(KpiSnapshot.objects.values_list("kpi", "granularity", "dimension", "period_start", "segment", "value"))

    kpis_refresh(scope="all")

    once = set(KpiSnapshot.objects.values_list("kpi", "granularity", "dimension", "period_start", "segment", "value"))
    assert twice == once
    assert KpiSnapshot.objects.count() == len(once)
