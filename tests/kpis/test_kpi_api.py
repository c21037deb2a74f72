"""The KPI API's contract: the catalogue, the shape of a series, KPIS.md's worked example, refreshes that can be
repeated, and the refusals (404, 400, 403)."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from contacts.models import Contact
from surveys.models import Response
from tests.kpis.conftest import (
    NEW_YORK,
    KpiApi,
    assert_kpi,
    at,
    channel,
    make_customer,
    make_deal,
    make_order,
    make_spend,
    make_ticket,
    refresh_kpis,
)
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

CUSTOMER = ["channel", "region", "industry", "owner"]
TICKET = ["channel", "priority", "assignee"]
# KPIS.md's tables: key -> (name, segments).
KPIS = {
    "new_customers": ("New customers", CUSTOMER),
    "active_customers": ("Active customers", CUSTOMER),
    "churn_rate": ("Customer churn rate", CUSTOMER),
    "retention_rate": ("Customer retention rate", CUSTOMER),
    "revenue": ("Revenue", CUSTOMER),
    "bookings": ("Bookings", ["channel", "owner", "pipeline", "kind"]),
    "average_order_value": ("Average purchase value", ["channel", "region", "industry"]),
    "repeat_purchase_rate": ("Repeat purchase rate", ["channel", "region", "industry"]),
    "cac": ("Customer acquisition cost", ["channel"]),
    "crc": ("Customer retention cost", []),
    "clv": ("Customer lifetime value", ["channel", "region", "industry"]),
    "clv_cac_ratio": ("CLV to CAC ratio", ["channel"]),
    "upsell_rate": ("Upsell and cross-sell rate", CUSTOMER),
    "renewal_rate": ("Rate of renewal", ["channel", "region", "industry"]),
    "engagement": ("Customer engagement", CUSTOMER),
    "new_leads": ("New leads", ["channel", "campaign", "owner"]),
    "lead_conversion_rate": ("Lead conversion rate", ["channel", "campaign", "owner"]),
    "win_rate": ("Close rate", ["channel", "owner", "pipeline", "kind"]),
    "average_deal_size": ("Average deal size", ["channel", "owner", "pipeline", "kind"]),
    "sales_cycle_length": ("Sales cycle length", ["channel", "owner", "pipeline"]),
    "pipeline_velocity": ("Sales pipeline velocity", ["owner", "pipeline"]),
    "campaign_roi": ("Campaign ROI", ["campaign", "channel"]),
    "new_tickets": ("Tickets opened", ["channel", "priority"]),
    "first_response_time": ("First response time", TICKET),
    "resolution_time": ("Resolution time", TICKET),
    "first_contact_resolution": ("First contact resolution", TICKET),
    "sla_attainment": ("SLA attainment", TICKET),
    "csat": ("Customer satisfaction (CSAT)", ["channel", "region", "industry", "assignee"]),
    "nps": ("Net Promoter Score", ["channel", "region", "industry"]),
    "survey_response_rate": ("Survey response rate", ["survey"]),
}


def kpis_md_tables(text: str) -> dict[str, tuple[str, list[str]]]:
    """The rows `| `key` | name | formula | good | segments |` of KPIS.md."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        key, name, segments = cells[0].strip("`"), cells[1], cells[-1]
        rows[key] = (name, [] if segments == "—" else [segment.strip() for segment in segments.split(",")])
    return rows


def dimension_names(dimensions) -> set[str]:
    return {dimension if isinstance(dimension, str) else dimension["key"] for dimension in dimensions}


def test_this_files_table_is_kpis_md():
    path = Path(django_settings.BASE_DIR) / "docs" / "kpis.md"

    assert kpis_md_tables(path.read_text()) == KPIS


def test_the_catalogue_lists_every_kpi_with_its_dimensions(kpi_api):
    response = kpi_api.client.get("/api/kpis/")

    assert response.status_code == 200, response.content
    body = response.json()
    items = body["results"] if isinstance(body, dict) else body
    catalogue = {item["key"]: item for item in items}
    assert set(catalogue) == set(KPIS)
    for key, (name, segments) in KPIS.items():
        item = catalogue[key]
        assert item["name"] == name, key
        assert dimension_names(item["dimensions"]) == set(segments), key
        for field in ("unit", "direction", "formula"):
            assert field in item, (key, field)
        assert item["formula"], key


def test_a_series_has_one_item_per_period_of_the_range(kpi_api, settings):
    settings.TIME_ZONE = NEW_YORK
    make_customer(at(2025, 2, 14, tz=NEW_YORK))

    refresh_kpis("new_customers", granularity="month")
    items = kpi_api.series("new_customers", start="2025-01-15", end="2025-04-02")

    assert [item["period_start"] for item in items] == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01"]
    assert [item["period_end"] for item in items] == ["2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    assert [item["value"] for item in items] == [0, 1, 0, 0]
    assert all(item["segment"] == "all" for item in items)
    assert all(item["computed_at"] for item in items)


def test_a_breakdown_is_ordered_by_period_then_segment(kpi_api):
    for name, joined in [
        ("Referral", at(2025, 3, 2)),
        ("Events", at(2025, 3, 3)),
        ("Paid ads", at(2025, 3, 4)),
        ("Referral", at(2025, 4, 2)),
        ("Events", at(2025, 4, 3)),
    ]:
        make_customer(joined, channel=channel(name))

    refresh_kpis("new_customers", granularity="month")
    items = kpi_api.series("new_customers", start="2025-03-01", end="2025-04-30", segment="channel")

    keys = [(item["period_start"], item["segment"]) for item in items]
    assert keys == sorted(keys)
    assert {segment for _, segment in keys} == {"Events", "Paid ads", "Referral"}
    assert all(isinstance(item["sample_size"], int) for item in items)


def test_nps_and_csat_items_carry_their_interval(kpi_api):
    nps = SurveyFactory(name="Quarterly NPS", kind="nps")
    invitation = InvitationFactory(survey=nps, sent_at=at(2025, 3, 1), expires_at=at(2025, 4, 1))
    Response.objects.create(invitation=invitation, kind="nps", score=9, submitted_at=at(2025, 3, 2))

    refresh_kpis("nps", "csat", granularity="month")
    nps_items = kpi_api.series("nps", start="2025-03-01", end="2025-03-31")
    csat_items = kpi_api.series("csat", start="2025-03-01", end="2025-03-31")

    assert {"ci_low", "ci_high"} <= set(nps_items[0])
    assert {"ci_low", "ci_high"} <= set(csat_items[0])
    assert csat_items[0]["value"] is None  # no CSAT answer: empty, and so is its interval
    assert csat_items[0]["ci_low"] is None


def test_refresh_all_covers_the_whole_history(kpi_api):
    make_customer(at(2023, 5, 10))

    call_command("refresh_kpis", "--all", "--kpi", "new_customers", "--granularity", "month", stdout=io.StringIO())
    months = kpi_api.by_period("new_customers", start="2023-05-01", end="2023-06-30")

    assert_kpi(months["2023-05-01"], 1)
    assert_kpi(months["2023-06-01"], 0)


# --- KPIS.md's worked example -----------------------------------------------------------------------------------


def test_the_worked_example_of_kpis_md(kpi_api):
    # S = 200 customers at the start of June; 10 of them churn in June; 30 join, 2 of whom churn before its end.
    long_standing = [
        Contact(
            first_name=f"Customer {i}", customer_since=at(2025, 1, 15), churned_at=at(2025, 6, 10) if i < 10 else None
        )
        for i in range(200)
    ]
    newcomers = [
        Contact(
            first_name=f"Newcomer {i}", customer_since=at(2025, 6, 5), churned_at=at(2025, 6, 25) if i < 2 else None
        )
        for i in range(30)
    ]
    Contact.objects.bulk_create(long_standing + newcomers)
    make_spend(datetime.date(2025, 6, 12), "15000.00")

    keys = ["churn_rate", "retention_rate", "cac", "active_customers", "new_customers"]
    refresh_kpis(*keys, since="2025-06-01", granularity="month")

    def june(key):
        return kpi_api.by_period(key, start="2025-06-01", end="2025-06-30")["2025-06-01"]

    assert_kpi(june("churn_rate"), 5.00, numerator=10, denominator=200)  # 10 / 200
    assert_kpi(june("retention_rate"), 95.00, numerator=218 - 28, denominator=200)  # (E - N') / S
    assert_kpi(june("cac"), 500.00, numerator=15000, denominator=30)  # 15,000 / 30
    assert_kpi(june("active_customers"), 218)  # 200 - 10 + 30 - 2
    assert_kpi(june("new_customers"), 30)


# --- refreshing -------------------------------------------------------------------------------------------------


def a_little_of_everything():
    referral = channel("Referral")
    customer = make_customer(at(2025, 6, 3), channel=referral, region="North")
    make_customer(at(2025, 5, 3), at(2025, 7, 9), channel=None)
    make_order(customer, at(2025, 6, 10), "120.00")
    make_deal(created=at(2025, 6, 1), status="won", closed=at(2025, 6, 20), contact=customer)
    make_spend(datetime.date(2025, 6, 5), "300.00", channel=referral)
    ticket = make_ticket(at(2025, 6, 4), first_response=at(2025, 6, 4, 2), resolved=at(2025, 6, 5), contact=customer)
    csat = SurveyFactory(name="Support CSAT", kind="csat", question="How satisfied were you?")
    InvitationFactory(survey=csat, contact=customer, ticket=ticket, sent_at=at(2025, 6, 5), expires_at=None)


def test_refreshing_twice_writes_the_same_snapshots(kpi_api):
    from kpis.models import KpiSnapshot

    a_little_of_everything()
    refresh_kpis(since="2025-06-01")
    first_count = KpiSnapshot.objects.count()
    before = {key: kpi_api.series(key, start="2025-06-01", end="2025-07-31") for key in ("revenue", "churn_rate")}

    refresh_kpis(since="2025-06-01")

    assert first_count > 0
    assert KpiSnapshot.objects.count() == first_count
    for key, items in before.items():
        after = kpi_api.series(key, start="2025-06-01", end="2025-07-31")
        strip = [{k: v for k, v in item.items() if k != "computed_at"} for item in items]
        assert [{k: v for k, v in item.items() if k != "computed_at"} for item in after] == strip


# --- refusals ---------------------------------------------------------------------------------------------------


def test_an_unknown_kpi_is_a_404(kpi_api):
    response = kpi_api.get("happiness", granularity="month", start="2025-01-01", end="2025-03-31")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("key", "params"),
    [
        pytest.param("revenue", {"granularity": "day"}, id="granularity"),
        pytest.param("revenue", {"segment": "colour"}, id="unknown-dimension"),
        pytest.param("churn_rate", {"segment": "survey"}, id="dimension-of-another-kpi"),
        pytest.param("crc", {"segment": "channel"}, id="kpi-without-segments"),
        pytest.param("revenue", {"start": "2025-04-01", "end": "2025-03-01"}, id="start-after-end"),
        pytest.param("revenue", {"start": "2025-13-45"}, id="start-not-a-date"),
        pytest.param("revenue", {"end": "soon"}, id="end-not-a-date"),
    ],
)
def test_a_bad_request_is_a_400(kpi_api, key, params):
    query = {"granularity": "month", "start": "2025-01-01", "end": "2025-03-31", **params}

    response = kpi_api.get(key, **query)

    assert response.status_code == 400, response.content


def test_an_unknown_granularity_of_the_catalogue_is_a_400_listing_the_choices(kpi_api):
    response = kpi_api.client.get("/api/kpis/", {"granularity": "fortnight"})

    assert response.status_code == 400
    assert response.json() == {"granularity": ["Choose one of week, month, quarter, year."]}


def test_a_range_beyond_the_years_of_records_is_a_400_that_says_so(kpi_api):
    response = kpi_api.get("revenue", granularity="year", start="0001-01-01", end="9999-12-31")

    assert response.status_code == 400
    assert response.json() == {
        "start": ["Enter a date between the years 1900 and 2100."],
        "end": ["Enter a date between the years 1900 and 2100."],
    }


@pytest.mark.parametrize("role", ["sales", "support"])
def test_staff_without_the_manager_role_get_a_403(api_client, make_user, role):
    api_client.force_authenticate(make_user(role))

    series = api_client.get("/api/kpis/revenue/", {"granularity": "month", "start": "2025-01-01", "end": "2025-03-31"})
    catalogue = api_client.get("/api/kpis/")

    assert series.status_code == 403
    assert catalogue.status_code == 403


def test_an_anonymous_caller_is_refused(client):
    response = client.get("/api/kpis/revenue/", {"granularity": "month", "start": "2025-01-01", "end": "2025-03-31"})

    assert response.status_code in {401, 403}


def test_admins_read_kpis_too(api_client, admin_role_user):
    api_client.force_authenticate(admin_role_user)
    refresh_kpis("revenue", granularity="month")

    items = KpiApi(api_client).series("revenue", start="2025-01-01", end="2025-03-31")

    assert [item["value"] for item in items] == [0, 0, 0]


def test_a_value_half_way_between_two_cents_is_rounded_up_in_the_api_and_on_the_pages(kpi_api, client, manager_user):
    """22949.925 is 22949.92499... as a binary float: rounded from the stored decimal, half up, as a reader
    checking by hand (or PostgreSQL's round(), or a spreadsheet) does."""
    from kpis.presentation import format_value

    customer = make_customer(since=at(2025, 3, 1, 10))
    make_order(customer, at(2025, 3, 2, 10), "22949.92")
    make_order(customer, at(2025, 3, 3, 10), "22949.93")
    refresh_kpis("average_order_value")

    month = kpi_api.by_period("average_order_value", start="2025-03-01", end="2025-03-01")["2025-03-01"]
    assert_kpi(month, 22949.93, numerator=45899.85, denominator=2)
    assert "22,949.93" in format_value("money", "22949.925")  # the pages, from the stored value
    client.force_login(manager_user)
    export = client.get(
        "/kpis/average_order_value/export.csv", {"granularity": "month", "period": "chosen", "on": "2025-03-01"}
    )
    assert "2025-03-01,2025-04-01,22949.93," in export.content.decode("utf-8-sig")  # and the page's CSV
