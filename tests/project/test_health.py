"""/health/: what a load balancer or an operator asks; it answers without a login."""

import pytest
from django.db import OperationalError, connections
from django.urls import reverse

from crm_project.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_conf():
    """The Celery app's settings, put back as they were after the test."""
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    yield celery_app.conf
    celery_app.conf.update(saved)


def test_health_answers_ok_without_a_login(client):
    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "eager"}


def test_health_is_never_cached(client):
    response = client.get(reverse("health"))

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.redis
def test_health_reaches_the_redis_broker(client, celery_conf):
    # The test settings run tasks eagerly; without that, the health check looks at the real broker.
    celery_conf.task_always_eager = False

    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}


def test_health_is_degraded_but_up_when_the_broker_is_down(client, celery_conf):
    celery_conf.task_always_eager = False
    celery_conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(reverse("health"))

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "error"


def test_health_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def unreachable(self):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    # What Django raises when it cannot reach the server: the check runs for real and meets it.
    with monkeypatch.context() as patch:
        patch.setattr(type(connections["default"]), "ensure_connection", unreachable)
        response = client.get(reverse("health"))

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "error"


def test_health_only_answers_get(client):
    response = client.post(reverse("health"))

    assert response.status_code == 405
