"""API throttles: requests per user and per client address (rates from settings), counted in the cache; the API
keeps answering when the cache is down.

The test settings switch the rates off (every test client is 127.0.0.1); these tests set their own.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

pytestmark = pytest.mark.django_db

CONTACTS = "/api/contacts/"
HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


def rates(**scopes):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": scopes})


@pytest.fixture(autouse=True)
def clean_counts():
    cache.clear()
    yield
    cache.clear()


def api_as(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def get(client, address: str = HOME):
    return client.get(CONTACTS, REMOTE_ADDR=address)


def test_the_api_counts_per_user_and_per_address_by_default():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "crm_project.throttles.UserThrottle",
        "crm_project.throttles.AddressThrottle",
    ]


@rates(user="3/minute", address=None)
def test_a_user_over_the_rate_is_told_to_wait(sales_user):
    client = api_as(sales_user)
    for _ in range(3):
        assert get(client).status_code == 200

    response = get(client)

    assert response.status_code == 429
    assert "Request was throttled" in response.json()["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


@rates(user="3/minute", address=None)
def test_a_user_over_the_rate_is_held_back_from_every_address(sales_user):
    client = api_as(sales_user)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        get(client, address)

    assert get(client, ELSEWHERE).status_code == 429


@rates(user="3/minute", address=None)
def test_one_user_over_the_rate_does_not_hold_back_another(sales_user, support_user):
    for _ in range(4):
        get(api_as(sales_user))

    assert get(api_as(support_user)).status_code == 200


@rates(user=None, address="3/minute")
def test_users_behind_one_address_share_its_rate(sales_user, support_user, manager_user):
    get(api_as(sales_user))
    get(api_as(support_user))
    get(api_as(manager_user))

    assert get(api_as(sales_user)).status_code == 429
    assert get(api_as(sales_user), ELSEWHERE).status_code == 200


@rates(user=None, address="3/minute")
def test_anonymous_callers_count_against_their_address_too(api_client, sales_user):
    for _ in range(3):
        api_client.post("/api/auth/token/", {"username": "nobody", "password": "x"}, REMOTE_ADDR=HOME)

    response = api_client.post(
        "/api/auth/token/", {"username": sales_user.username, "password": "correct-horse-battery"}, REMOTE_ADDR=HOME
    )

    assert response.status_code == 429


@rates(user=None, address="3/minute")
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_made_up_forwarded_addresses_do_not_escape_the_rate(sales_user):
    client = api_as(sales_user)
    for n in range(3):
        client.get(CONTACTS, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {HOME}")

    response = client.get(CONTACTS, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HOME}")

    assert response.status_code == 429


@rates(user="3/minute", address="3/minute")
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: Redis is down
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
def test_with_the_cache_down_the_api_still_answers(sales_user):
    client = api_as(sales_user)

    statuses = {get(client).status_code for _ in range(5)}

    assert statuses == {200}
