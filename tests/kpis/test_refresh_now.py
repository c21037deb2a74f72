""" "Refresh now" on the KPI pages: a manager who just corrected a record sees it in the numbers without waiting
for the periodic refresh (and, under `make run`, where no scheduler runs, at all)."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from kpis.models import KpiSnapshot, KpiStaleMark
from kpis.periods import local_today
from kpis.services import kpis_refresh_open
from tests.kpis.conftest import make_customer, make_order

pytestmark = pytest.mark.django_db

REFRESH = "/kpis/refresh/"


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def revenue_this_month():
    month = local_today().replace(day=1)
    snapshot = KpiSnapshot.objects.filter(
        kpi="revenue", granularity="month", dimension="all", period_start=month
    ).first()
    return snapshot and snapshot.value


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def an_order_now(django_capture_on_commit_callbacks, amount: str) -> None:
    """An order of a minute ago, saved as a page saves one: its change is marked for the next refresh."""
    with django_capture_on_commit_callbacks(execute=True):
        make_order(make_customer(), timezone.now() - datetime.timedelta(minutes=1), amount)


def test_the_kpi_pages_offer_refresh_now(manager_client):
    kpis_refresh_open()

    for url in ("/kpis/", "/kpis/revenue/"):
        page = manager_client.get(url).content.decode()
        assert f'action="{REFRESH}"' in page
        assert "Refresh now" in page


def test_refresh_now_puts_a_new_order_in_the_numbers_and_goes_back(manager_client, django_capture_on_commit_callbacks):
    kpis_refresh_open()
    before = revenue_this_month() or 0
    an_order_now(django_capture_on_commit_callbacks, "125.00")
    assert KpiStaleMark.objects.exists()
    assert (revenue_this_month() or 0) == before  # not yet: the snapshots are as the last refresh left them

    response = manager_client.post(REFRESH, {"next": "/kpis/revenue/?granularity=month"})

    assert response.status_code == 302
    assert response.url == "/kpis/revenue/?granularity=month"
    assert revenue_this_month() == before + 125
    assert not KpiStaleMark.objects.exists()
    assert said(response) == ["The KPIs were recomputed from the records."]


def test_refresh_now_runs_once_a_minute_per_user(manager_client, django_capture_on_commit_callbacks):
    first = manager_client.post(REFRESH, {"next": "/kpis/"}, follow=True)  # the page shows (and uses up) its message
    assert "The KPIs were recomputed from the records." in first.content.decode()
    an_order_now(django_capture_on_commit_callbacks, "80.00")

    again = manager_client.post(REFRESH, {"next": "/kpis/"}, follow=True)

    assert "A refresh was asked for less than a minute ago; its numbers come shortly." in again.content.decode()
    assert KpiStaleMark.objects.exists()  # left for the periodic refresh


@pytest.mark.parametrize("back", ["https://evil.example/kpis/", "//evil.example/kpis/", "/admin/", ""])
def test_refresh_now_goes_back_only_to_a_kpi_page(manager_client, back):
    response = manager_client.post(REFRESH, {"next": back})

    assert response.status_code == 302
    assert response.url == "/kpis/"


def test_refresh_now_is_for_kpi_readers_and_only_by_post(sales_user, manager_user):
    sales, manager = Client(), Client()
    sales.force_login(sales_user)
    manager.force_login(manager_user)

    assert sales.post(REFRESH, {"next": "/kpis/"}).status_code == 403
    assert manager.get(REFRESH).status_code == 405
    assert not KpiSnapshot.objects.exists()
