"""Reading KPIs: the cached selector and the API over the snapshots (never computing on request)."""

import datetime
import json
import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kpis.definitions.base import registry
from kpis.models import KpiSnapshot
from kpis.selectors import kpi_series
from kpis.services import GENERATION_KEY, kpis_refresh
from sales.models import Lead
from tests.contacts.factories import ChannelFactory, ContactFactory
from tests.sales.factories import LeadFactory, OrderFactory

pytestmark = pytest.mark.django_db

KPIS = "/api/kpis/"
SINCE = datetime.date(2025, 1, 1)
UNTIL = datetime.date(2025, 6, 30)
MARCH = datetime.date(2025, 3, 1)
FIRST_HALF = {"granularity": "month", "start": "2025-01-01", "end": "2025-06-30"}
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # a closed port
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}
# Queries of one API call with the cache cold: the snapshots of the range, whatever its length (the user and
# permissions come with force_authenticate; a session or token adds its own few).
QUERY_CEILING = 3


@pytest.fixture
def manager_api(api_client, manager_user):
    api_client.force_authenticate(manager_user)
    return api_client


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def refresh(*keys: str, since=SINCE, until=UNTIL) -> None:
    kpis_refresh(keys=keys, granularities=["month"], since=since, until=until)


@pytest.fixture
def march_leads():
    """Two leads in March (one converted), in two channels; new_leads and its conversion refreshed for
    March and April only."""
    LeadFactory(channel=ChannelFactory(name="Referral"), created_at=at(MARCH))
    LeadFactory(
        channel=ChannelFactory(name="Events"),
        created_at=at(MARCH),
        status=Lead.Status.CONVERTED,
        converted_at=at(MARCH, 15),
    )
    refresh("new_leads", "lead_conversion_rate", since=MARCH, until=datetime.date(2025, 4, 30))


def column(results: list[dict], name: str) -> list:
    return [item[name] for item in results]


# --- the selector and its cache -----------------------------------------------------------------------------


def revenue_series() -> list[dict]:
    return kpi_series(kpi=registry()["revenue"], granularity="month", start=SINCE, end=UNTIL)


def test_a_warm_series_is_served_from_the_cache_without_a_query(django_assert_num_queries):
    OrderFactory(ordered_at=at(MARCH), amount=Decimal("100.00"))
    refresh("revenue")
    first = revenue_series()

    with django_assert_num_queries(0):
        again = revenue_series()

    assert again == first


def test_a_refresh_that_writes_invalidates_the_cached_series():
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(MARCH), amount=Decimal("100.00"))
    refresh("revenue")
    assert column(revenue_series(), "value")[2] == 100

    OrderFactory(contact=customer, ordered_at=at(MARCH, 13), amount=Decimal("20.00"))
    refresh("revenue")

    assert column(revenue_series(), "value")[2] == 120


def test_a_refresh_another_process_ran_shows_once_the_short_cache_time_of_a_process_cache_ends(settings):
    """Without Redis each process caches on its own, and `manage.py refresh_kpis` cannot start a new generation
    in the server's cache: the server sees the new numbers after KPI_CACHE_SECONDS (5 s there)."""
    settings.KPI_CACHE_SECONDS = 1
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(MARCH), amount=Decimal("100.00"))
    refresh("revenue")
    assert column(revenue_series(), "value")[2] == 100

    generation = cache.get(GENERATION_KEY)
    OrderFactory(contact=customer, ordered_at=at(MARCH, 13), amount=Decimal("20.00"))
    refresh("revenue")
    cache.set(GENERATION_KEY, generation)  # what the other process leaves this one's cache with

    assert column(revenue_series(), "value")[2] == 100
    time.sleep(1.1)
    assert column(revenue_series(), "value")[2] == 120


@override_settings(CACHES=UNREACHABLE_CACHE)
def test_with_the_cache_unreachable_refresh_selector_and_api_work_from_the_database(manager_api):
    OrderFactory(ordered_at=at(MARCH), amount=Decimal("100.00"))
    refresh("revenue")  # no lock to take: it refreshes anyway

    series = revenue_series()
    response = manager_api.get(f"{KPIS}revenue/", FIRST_HALF)
    overview = manager_api.get(KPIS)

    assert column(series, "value") == [0, 0, 100, 0, 0, 0]
    assert response.status_code == 200
    assert column(response.json()["results"], "value") == [0, 0, 100, 0, 0, 0]
    assert overview.status_code == 200
    assert len(overview.json()) == len(registry())


# --- GET /api/kpis/ -----------------------------------------------------------------------------------------


def test_the_list_gives_every_kpi_with_its_definition(manager_api):
    response = manager_api.get(KPIS)

    items = response.json()
    assert response.status_code == 200
    assert len(items) == len(registry()) == 30
    assert [item["key"] for item in items] == list(registry())
    for item in items:
        kpi = registry()[item["key"]]
        assert item["name"] == kpi.name and item["name"]
        assert item["formula"] == kpi.formula and item["formula"]
        assert item["unit"] == kpi.unit and item["unit"]
        assert item["direction"] in {"up", "down", None}
        assert item["dimensions"] == list(kpi.dimensions)
        assert item["granularity"] == "month"
    revenue = next(item for item in items if item["key"] == "revenue")
    assert revenue["dimensions"] == ["channel", "region", "industry", "owner"]
    assert revenue["direction"] == "up"


def test_the_list_gives_the_latest_and_previous_values_and_the_change(manager_api):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(last_month, 10), amount=Decimal("200.00"))
    OrderFactory(contact=customer, ordered_at=at(this_month, 10), amount=Decimal("250.50"))
    refresh("revenue", since=last_month, until=timezone.localdate())

    items = {item["key"]: item for item in manager_api.get(KPIS).json()}

    revenue = items["revenue"]
    assert (revenue["value"], revenue["previous_value"], revenue["change"]) == (250.5, 200.0, 50.5)
    assert (revenue["period_start"], revenue["sample_size"]) == (this_month.isoformat(), 1)
    assert revenue["computed_at"] is not None
    never_computed = items["bookings"]
    assert (never_computed["value"], never_computed["previous_value"], never_computed["change"]) == (None, None, None)


def test_the_list_takes_a_granularity_and_refuses_an_unknown_one(manager_api):
    assert {item["granularity"] for item in manager_api.get(KPIS, {"granularity": "quarter"}).json()} == {"quarter"}

    response = manager_api.get(KPIS, {"granularity": "fortnight"})

    assert response.status_code == 400
    assert "granularity" in response.json()


# --- GET /api/kpis/<key>/ -----------------------------------------------------------------------------------


def test_the_series_has_every_period_of_the_range_with_zero_counts_and_null_rates_where_never_computed(
    manager_api, march_leads
):
    counts = manager_api.get(f"{KPIS}new_leads/", FIRST_HALF).json()
    rates = manager_api.get(f"{KPIS}lead_conversion_rate/", FIRST_HALF).json()

    months = ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"]
    assert [counts[name] for name in ("key", "granularity", "segment", "count")] == ["new_leads", "month", "all", 6]
    assert column(counts["results"], "period_start") == months
    assert column(counts["results"], "period_end") == months[1:] + ["2025-07-01"]
    assert column(counts["results"], "value") == [0, 0, 2, 0, 0, 0]
    assert column(rates["results"], "value") == [None, None, 50.0, None, None, None]
    assert column(rates["results"], "numerator")[2:4] == [1.0, 0.0]
    assert column(rates["results"], "denominator")[2:4] == [2.0, 0.0]
    assert column(rates["results"], "sample_size") == [0, 0, 2, 0, 0, 0]
    computed = [item["computed_at"] is not None for item in rates["results"]]
    assert computed == [False, False, True, True, False, False]  # March and April were refreshed
    assert set(counts["results"][0]) >= {
        "period_start",
        "period_end",
        "segment",
        "value",
        "numerator",
        "denominator",
        "sample_size",
        "computed_at",
    }


def test_the_series_by_segment_has_every_period_for_every_segment(manager_api, march_leads):
    response = manager_api.get(f"{KPIS}new_leads/", {**FIRST_HALF, "segment": "channel"})

    results = response.json()["results"]
    assert response.status_code == 200
    assert len(results) == 6 * 2
    by_segment = {
        segment: [item["value"] for item in results if item["segment"] == segment] for segment in ("Events", "Referral")
    }
    assert by_segment == {"Events": [0, 0, 1, 0, 0, 0], "Referral": [0, 0, 1, 0, 0, 0]}


def test_the_series_of_nps_and_csat_carries_the_interval_bounds(manager_api):
    refresh("nps")

    nps = manager_api.get(f"{KPIS}nps/", FIRST_HALF).json()["results"]
    revenue = manager_api.get(f"{KPIS}revenue/", FIRST_HALF).json()["results"]

    assert {"ci_low", "ci_high"} <= set(nps[0])
    assert not {"ci_low", "ci_high"} & set(revenue[0])


def test_the_series_defaults_to_the_last_twelve_months(manager_api):
    results = manager_api.get(f"{KPIS}revenue/").json()["results"]

    this_month = timezone.localdate().replace(day=1)
    assert len(results) == 12
    assert results[-1]["period_start"] == this_month.isoformat()


@pytest.mark.parametrize("key", ["happiness", "REVENUE", "revenue-2"])
def test_an_unknown_kpi_is_a_json_404(manager_api, key):
    response = manager_api.get(f"{KPIS}{key}/")

    assert response.status_code == 404
    assert response.json() == {"detail": f"No KPI {key!r}."}


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"granularity": "day"}, "granularity", '"day" is not a valid choice.'),
        ({"segment": "planet"}, "segment", "revenue has no dimension 'planet'; use channel, region, industry, owner."),
        ({"start": "2025-06-01", "end": "2025-01-31"}, "start", "The start must not be after the end."),
        ({"start": "2025-02-30"}, "start", "Date has wrong format."),
        ({"granularity": "week", "start": "2000-01-01", "end": "2025-01-01"}, "end", "At most 600 periods at a time"),
    ],
    ids=["granularity", "segment", "reversed-range", "impossible-date", "too-many-periods"],
)
def test_a_bad_query_is_400_with_the_reason(manager_api, query, field, reason):
    response = manager_api.get(f"{KPIS}revenue/", query)

    assert response.status_code == 400
    [message] = response.json()[field]  # a list of messages, as every 400 of the API
    assert reason in message


@pytest.mark.parametrize(
    ("role", "status"),
    [("manager", 200), ("admin", 200), ("sales", 403), ("support", 403), (None, 403)],
)
@pytest.mark.parametrize("path", [KPIS, f"{KPIS}revenue/"], ids=["list", "series"])
def test_managers_and_admins_may_read_kpis_and_other_groups_may_not(api_client, make_user, role, status, path):
    api_client.force_authenticate(make_user(role))

    assert api_client.get(path).status_code == status


@pytest.mark.parametrize("path", [KPIS, f"{KPIS}revenue/"], ids=["list", "series"])
def test_an_anonymous_caller_is_asked_to_authenticate(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_token_opens_the_api_to_a_manager(api_client, manager_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=manager_user)

    response = api_client.get(f"{KPIS}revenue/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200


def test_the_endpoints_take_a_few_queries_whatever_the_range(api_client, manager_user, django_assert_max_num_queries):
    customer = ContactFactory()
    OrderFactory(contact=customer, ordered_at=at(MARCH), amount=Decimal("10.00"))
    refresh("revenue", since=datetime.date(2023, 1, 1))
    queries = {}

    def get(path, query=None):
        """A cold call: nothing cached, the manager's permissions loaded afresh as in a new request."""
        cache.clear()
        api_client.force_authenticate(type(manager_user).objects.get(pk=manager_user.pk))
        with django_assert_max_num_queries(QUERY_CEILING), CaptureQueriesContext(connection) as captured:
            assert api_client.get(path, query).status_code == 200
        return len(captured)

    for name, query in {
        "three months": {"start": "2025-01-01", "end": "2025-03-31"},
        "three years": {"start": "2023-01-01", "end": "2025-12-31"},
        "by channel": {"start": "2023-01-01", "end": "2025-12-31", "segment": "channel"},
    }.items():
        queries[name] = get(f"{KPIS}revenue/", query)
    queries["list"] = get(KPIS)

    assert queries["three months"] == queries["three years"] == queries["by channel"]


def test_the_api_reads_snapshots_and_never_computes(manager_api):
    OrderFactory(ordered_at=at(MARCH), amount=Decimal("100.00"))  # not refreshed yet

    results = manager_api.get(f"{KPIS}revenue/", FIRST_HALF).json()["results"]

    assert column(results, "value") == [0, 0, 0, 0, 0, 0]
    assert not KpiSnapshot.objects.exists()


# --- the schema ---------------------------------------------------------------------------------------------


def test_the_openapi_schema_validates_without_warnings_and_describes_the_kpi_endpoints(tmp_path):
    path = tmp_path / "schema.json"

    arguments = ["--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(path)]
    call_command("spectacular", *arguments, stderr=StringIO())

    schema = json.loads(path.read_text())
    assert {"/api/kpis/", "/api/kpis/{key}/"} <= set(schema["paths"])
    series = schema["paths"]["/api/kpis/{key}/"]["get"]
    parameters = {parameter["name"] for parameter in series["parameters"]}
    assert {"key", "granularity", "start", "end", "segment"} <= parameters


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Kolkata"])
def test_a_range_that_reaches_into_the_future_ends_with_the_period_under_way(kpi_api, settings, tz):
    """Asked up to next year, the series stops at the current month: a month still to come has no value yet,
    and was shown with 0 active customers while there are two."""
    settings.TIME_ZONE = tz
    ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=400))
    ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=200))
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    kpis_refresh(keys=["active_customers"], granularities=["month"], since=last_month)

    items = kpi_api.series(
        "active_customers", start=last_month.isoformat(), end=(this_month + datetime.timedelta(days=400)).isoformat()
    )

    assert [item["period_start"] for item in items] == [last_month.isoformat(), this_month.isoformat()]
    assert [item["value"] for item in items] == [2, 2]
