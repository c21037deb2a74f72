"""Settings for the test suite: the real settings, with a test secret and fast hashing.

DATABASE_URL and REDIS_URL still choose the services, as in production.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("STATIC_MANIFEST", "false")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Tasks run in-process in tests; the `celery_worker` fixture switches a test to the real broker.
CELERY_TASK_ALWAYS_EAGER = True
# The API throttles count per client address, and every test client is 127.0.0.1: the suite would throttle
# itself. Off here; the throttle tests (tests/project/test_api_throttles.py) set the rates they test.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "address": None}}
# A test's data lives in its transaction, which other database sessions cannot see: the refresh runs in one
# session here. tests/kpis/test_parallel_refresh.py commits its data and refreshes in several.
KPI_REFRESH_WORKERS = 1
