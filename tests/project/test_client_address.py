"""The client's address: REMOTE_ADDR, or what our own trusted proxies say in X-Forwarded-For, never what the
client wrote there itself. The login throttle, the API throttles and the public pages' rate limits count by it."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.urls import reverse

from crm_project.client_address import client_address
from sales.models import Lead

CLIENT = "203.0.113.7"
PROXY = "10.0.0.2"
SPOOFED = "198.51.100.66"


def request_from(remote: str = PROXY, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_the_address_is_remote_addr_whatever_the_header_says():
    assert client_address(request_from(remote=CLIENT, forwarded=SPOOFED)) == CLIENT


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_address_is_the_last_one_it_appended():
    assert client_address(request_from(forwarded=CLIENT)) == CLIENT


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_what_the_client_wrote_into_the_header_is_ignored():
    # The client sent "X-Forwarded-For: SPOOFED"; our proxy appended the address it saw.
    assert client_address(request_from(forwarded=f"{SPOOFED}, {CLIENT}")) == CLIENT


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_address_is_the_second_from_the_right():
    # client -> load balancer (appends CLIENT) -> nginx (appends the balancer's 10.0.0.1) -> app
    assert client_address(request_from(forwarded=f"{SPOOFED}, {CLIENT}, 10.0.0.1")) == CLIENT


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_a_request_that_skipped_a_proxy_counts_as_the_address_it_came_from():
    assert client_address(request_from(remote=PROXY, forwarded=CLIENT)) == PROXY


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_header_entry_that_is_not_an_address_is_not_believed():
    assert client_address(request_from(forwarded=f"{CLIENT}, <script>")) == PROXY


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_ipv6_addresses_are_read_in_their_short_form():
    assert client_address(request_from(forwarded="2001:DB8:0:0::1")) == "2001:db8::1"


# The same address in use: the public lead form's rate limit (5 posts in 10 minutes per address)


@pytest.fixture
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def post_lead(client, n: int, **meta):
    data = {"name": f"Visitor {n}", "email": f"visitor{n}@example.com", "company": "", "message": "Hi", "website": ""}
    return client.post(reverse("sales:public_lead_form"), data, REMOTE_ADDR=PROXY, **meta)


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_rate_limit_tells_two_visitors_apart(client, clean_cache):
    for n in range(6):
        post_lead(client, n, HTTP_X_FORWARDED_FOR=CLIENT)

    response = post_lead(client, 99, HTTP_X_FORWARDED_FOR="192.0.2.44")

    assert response.status_code == 302
    assert Lead.objects.filter(email="visitor99@example.com").exists()


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_flood_cannot_escape_the_rate_limit_by_making_up_forwarded_addresses(client, clean_cache):
    for n in range(5):
        assert post_lead(client, n, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 302

    response = post_lead(client, 99, HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert response.status_code == 429
    assert not Lead.objects.filter(email="visitor99@example.com").exists()
