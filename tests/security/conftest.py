"""Fixtures of the access tests.

`world` is built once per test module inside a transaction that is rolled back at the end; each test runs in
a savepoint of it (pytest-django's `db`), so what one request changes is gone before the next test.
"""

import pytest
from django.core.cache import cache
from django.db import transaction

from .world import build_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits and throttles count in the cache: each test starts with none counted."""
    cache.clear()
