"""The project's tasks, run by a real Celery worker through the Redis broker (not eagerly)."""

from datetime import timedelta

import pytest
from celery.result import EagerResult
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from crm_project.tasks import clear_expired_sessions, worker_health

TIMEOUT = 20  # seconds: a worker on the same machine answers in well under one


@pytest.mark.celery_worker
def test_a_worker_runs_the_project_tasks_through_the_broker(celery_worker):
    now = timezone.now()
    Session.objects.create(session_key="expired-session", session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="live-session", session_data="", expire_date=now + timedelta(days=1))

    health = worker_health.delay()
    cleared = clear_expired_sessions.delay().get(timeout=TIMEOUT)

    assert not isinstance(health, EagerResult)  # it went through the broker to the worker
    assert health.get(timeout=TIMEOUT) == {"database": "ok", "vendor": connection.vendor}
    assert cleared == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live-session"]
