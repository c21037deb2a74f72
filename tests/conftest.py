"""Shared fixtures, and the rule for tests that need a service.

Tests marked `postgres`, `redis`, `celery_worker` or `browser` need PostgreSQL, Redis,
a Celery worker on Redis, or Debian's Chromium. Without one, they are skipped on a
laptop and listed at the end of the run; with CI=true they fail instead.
"""

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = "/usr/bin/chromium"
_skipped_for_service: Counter = Counter()


def _redis_available() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


def _chromium_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return shutil.which(CHROMIUM) is not None


def _missing_service(marker: str) -> str | None:
    if marker == "postgres" and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker in {"redis", "celery_worker"} and not _redis_available():
        return "needs Redis: set REDIS_URL=redis://... to a running server"
    if marker == "browser" and not _chromium_available():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium) and playwright"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "celery_worker", "browser"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_service(marker)
        if reason is None:
            continue
        if IN_CI:
            pytest.fail(f"CI must run this test but it {reason}", pytrace=False)
        _skipped_for_service[marker] += 1
        pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    if _skipped_for_service:
        counts = ", ".join(f"{marker}: {n}" for marker, n in sorted(_skipped_for_service.items()))
        terminalreporter.write_line(
            f"Skipped for want of a service ({counts}). Set DATABASE_URL and REDIS_URL, and install chromium, "
            "to run them.",
            yellow=True,
        )
    terminalreporter.write_line(
        f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
        f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
    )


@pytest.fixture
def make_user(db):
    """make_user("sales") -> a user in the sales group (role None: no group)."""

    def make(role: str | None = None, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def sales_user(make_user):
    return make_user("sales", username="sam.sales")


@pytest.fixture
def support_user(make_user):
    return make_user("support", username="sue.support")


@pytest.fixture
def manager_user(make_user):
    return make_user("manager", username="max.manager")


@pytest.fixture
def admin_role_user(make_user):
    return make_user("admin", username="ada.admin", is_staff=True)


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def sales_api(api_client, sales_user):
    api_client.force_authenticate(sales_user)
    return api_client


@pytest.fixture
def support_api(api_client, support_user):
    api_client.force_authenticate(support_user)
    return api_client


@pytest.fixture
def manager_api(api_client, manager_user):
    api_client.force_authenticate(manager_user)
    return api_client


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (threads) consuming from the real Redis broker for this test."""
    from celery.contrib.testing.worker import start_worker

    from crm_project.celery import app

    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
