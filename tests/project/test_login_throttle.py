"""Login throttling: 5 failures lock a (username, client address) pair for 15 minutes, on the login page, the
admin's login and the API token endpoint; an address trying many usernames is locked as a whole; the lock
holds without Redis, and nobody can lock a user out from another address."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's
LOGIN = reverse("login")
DASHBOARD = reverse("dashboard")
ADMIN_LOGIN = reverse("admin:login")
TOKEN = reverse("api_token")
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"
LOCKED_PAIR = "Too many failed logins for this username from your network address"
LOCKED_ADDRESS = "Too many failed logins from your network address"


def log_in(client, username: str, password: str, *, address: str = HOME, url: str = LOGIN, **extra):
    return client.post(url, {"username": username, "password": password, **extra}, REMOTE_ADDR=address)


def fail(client, username: str, times: int, *, address: str = HOME, url: str = LOGIN):
    for _ in range(times):
        log_in(client, username, "not-my-password", address=address, url=url)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_four_failures_still_let_the_user_in(client, sales_user):
    fail(client, sales_user.username, 4)

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == DASHBOARD
    assert signed_in(client)


def test_the_fifth_failure_locks_the_pair_and_says_so(client, sales_user):
    fail(client, sales_user.username, 4)

    response = log_in(client, sales_user.username, "still-wrong")

    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED_PAIR in html
    assert "locked here for 15 more minutes" in html
    assert 'name="username"' in html  # the login page, with its form


def test_a_locked_pair_is_refused_even_with_the_right_password(client, sales_user):
    fail(client, sales_user.username, 5)

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 429
    assert LOCKED_PAIR in response.content.decode()
    assert not signed_in(client)


def test_the_same_user_from_another_address_is_not_locked_out(client, sales_user):
    fail(client, sales_user.username, 5, address=HOME)

    response = log_in(client, sales_user.username, PASSWORD, address=ELSEWHERE)

    assert response.status_code == 302
    assert signed_in(client)


def test_another_user_from_the_same_address_is_not_locked_out(client, sales_user, support_user):
    fail(client, sales_user.username, 5)

    response = log_in(client, support_user.username, PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_lock_ends_after_fifteen_minutes(client, sales_user):
    fail(client, sales_user.username, 5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=15, seconds=1))

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_lock_is_still_on_just_before_fifteen_minutes(client, sales_user):
    fail(client, sales_user.username, 5)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=14, seconds=30))

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 429
    assert "locked here for 1 more minute." in response.content.decode()


def test_failures_more_than_fifteen_minutes_apart_do_not_add_up(client, sales_user):
    fail(client, sales_user.username, 4)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    fail(client, sales_user.username, 1)

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 302


def test_a_successful_login_starts_the_count_again(client, sales_user):
    fail(client, sales_user.username, 4)
    log_in(client, sales_user.username, PASSWORD)
    client.post(reverse("logout"))
    fail(client, sales_user.username, 4)

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 302


@override_settings(LOGIN_FAILURES_PER_ADDRESS=8)
def test_an_address_trying_many_usernames_is_locked_for_every_username(client, sales_user):
    for name in ("ann", "bob", "cem", "dan"):
        fail(client, name, 2)  # 8 failures, none of the pairs at its limit

    response = log_in(client, sales_user.username, PASSWORD)

    assert response.status_code == 429
    assert LOCKED_ADDRESS in response.content.decode()
    assert not signed_in(client)


@override_settings(LOGIN_FAILURES_PER_ADDRESS=8)
def test_an_address_locked_as_a_whole_does_not_lock_other_addresses(client, sales_user):
    for name in ("ann", "bob", "cem", "dan"):
        fail(client, name, 2)

    response = log_in(client, sales_user.username, PASSWORD, address=ELSEWHERE)

    assert response.status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_pair_is_the_client_address_the_proxy_saw(client, sales_user):
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": sales_user.username, "password": "nope"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=HOME,
        )

    response = client.post(
        LOGIN,
        {"username": sales_user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"{HOME}, {ELSEWHERE}",  # the client wrote HOME itself; the proxy saw ELSEWHERE
    )

    assert response.status_code == 302
    assert AccessAttempt.objects.get().ip_address == HOME


# The admin's login and the API token endpoint


def test_the_admin_login_is_locked_after_five_failures_and_says_so(client, admin_role_user):
    fail(client, admin_role_user.username, 5, url=ADMIN_LOGIN)

    response = log_in(client, admin_role_user.username, PASSWORD, url=ADMIN_LOGIN, next="/admin/")

    assert response.status_code == 429
    assert LOCKED_PAIR in response.content.decode()
    assert not signed_in(client)


def test_failures_on_the_login_page_lock_the_admin_login_too(client, admin_role_user):
    fail(client, admin_role_user.username, 5, url=LOGIN)

    response = log_in(client, admin_role_user.username, PASSWORD, url=ADMIN_LOGIN, next="/admin/")

    assert response.status_code == 429


def test_the_api_token_endpoint_is_locked_after_five_failures_and_says_why(api_client, sales_user):
    for _ in range(5):
        api_client.post(TOKEN, {"username": sales_user.username, "password": "nope"}, REMOTE_ADDR=HOME)

    response = api_client.post(TOKEN, {"username": sales_user.username, "password": PASSWORD}, REMOTE_ADDR=HOME)

    assert response.status_code == 429
    assert LOCKED_PAIR in response.json()["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "token" not in response.json()


def test_the_api_token_endpoint_still_answers_the_same_user_elsewhere(api_client, sales_user):
    for _ in range(5):
        api_client.post(TOKEN, {"username": sales_user.username, "password": "nope"}, REMOTE_ADDR=HOME)

    response = api_client.post(TOKEN, {"username": sales_user.username, "password": PASSWORD}, REMOTE_ADDR=ELSEWHERE)

    assert response.status_code == 200
    assert response.json()["token"]


# Without Redis


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: Redis is down
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
def test_with_redis_down_staff_log_in_and_the_lock_still_holds(client, sales_user, support_user):
    fail(client, sales_user.username, 5)

    locked = log_in(client, sales_user.username, PASSWORD)
    allowed = log_in(client, support_user.username, PASSWORD)

    assert locked.status_code == 429
    assert allowed.status_code == 302
    assert signed_in(client)


# Lifting a lock


def test_an_administrator_lifts_a_lock_in_the_admin(client, sales_user, admin_role_user):
    fail(client, sales_user.username, 5)
    attempt = AccessAttempt.objects.get(username=sales_user.username)
    admin = type(client)()
    admin.force_login(admin_role_user)

    deleted = admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    response = log_in(client, sales_user.username, PASSWORD)

    assert deleted.status_code == 302
    assert response.status_code == 302
    assert signed_in(client)
