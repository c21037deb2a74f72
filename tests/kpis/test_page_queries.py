"""The other KPI pages read a fixed number of queries, whatever the data: cohorts, targets and the CSV export.

The overview and detail pages are pinned in test_pages.py, the KPI API in test_api.py.
"""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.cohorts import kpis_cohorts_refresh
from kpis.models import KpiTarget
from tests.kpis.conftest import at, channel, make_customer, make_order, refresh_kpis

pytestmark = pytest.mark.django_db

COHORTS_QUERIES = 8  # session, user, permissions, groups of the menu, cells, segments ...
TARGETS_QUERIES = 6
EXPORT_QUERIES = 7
APRIL = {"granularity": "month", "period": "chosen", "on": "2025-04-10"}


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def grow_business(start: int) -> None:
    """Six more customers in six more channels, each with an order and a monthly target of its own KPI."""
    kpis = ("revenue", "churn_rate", "active_customers", "new_customers", "average_order_value", "bookings")
    for number in range(start, start + 6):
        customer = make_customer(at(2025, 1 + number % 4, 2), channel=channel(f"Channel {number}"))
        make_order(customer, at(2025, 4, 3), "90.00")
        KpiTarget.objects.update_or_create(
            kpi=kpis[number % len(kpis)],
            granularity="month",
            period_start=datetime.date(2025, 1 + number % 6, 1),
            defaults={"value": 100 + number},
        )


@pytest.mark.parametrize(
    ("url", "params", "ceiling"),
    [
        ("/kpis/cohorts/", {"dimension": "channel"}, COHORTS_QUERIES),
        ("/kpis/targets/", {}, TARGETS_QUERIES),
        ("/kpis/revenue/export.csv", {**APRIL, "dimension": "channel"}, EXPORT_QUERIES),
    ],
    ids=["cohorts", "targets", "export"],
)
def test_the_other_kpi_pages_take_the_same_few_queries_for_more_data(
    manager_client, django_assert_max_num_queries, url, params, ceiling
):
    counts = []
    for start in (0, 12):
        grow_business(start)
        refresh_kpis()
        kpis_cohorts_refresh()
        cache.clear()
        with django_assert_max_num_queries(ceiling), CaptureQueriesContext(connection) as captured:
            response = manager_client.get(url, params)
        assert response.status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1], f"{url}: {counts[0]} queries, then {counts[1]} with more data"
