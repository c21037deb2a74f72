"""Cohort retention of KPIS.md: cohorts by month of customer_since; cell k = share of the cohort that are
customers at the end of month k after the cohort month (k = 0 its own month); months not ended are empty."""

import pytest

from kpis.cohorts import cohort_table, kpis_cohorts_refresh
from kpis.models import KpiCohortCell
from tests.kpis.conftest import at, channel, make_customer, refresh_kpis

pytestmark = pytest.mark.django_db

NOW = at(2025, 4, 15, 12)


def cohorts():
    """January: a, b, c (3); February: d, e (2); March: f (1); April: g (its month has not ended).

    End of January (1 Feb 00:00): a, b, c are customers; end of February (1 Mar 00:00): b only (a churned on
    10 Feb, c exactly at 1 Mar 00:00, so no longer a customer then); end of March: b.
    February: d churned within it, e stays: 1 of 2 at the end of February and of March.
    March: f churned on 2 April: a customer at the end of March.
    """
    referral, paid = channel("Referral"), channel("Paid ads")
    make_customer(at(2025, 1, 5), at(2025, 2, 10), channel=referral, first_name="a")
    make_customer(at(2025, 1, 20), channel=referral, first_name="b")
    make_customer(at(2025, 1, 25), at(2025, 3, 1), channel=paid, first_name="c")
    make_customer(at(2025, 2, 14), at(2025, 2, 20), channel=referral, first_name="d")
    make_customer(at(2025, 2, 28), channel=paid, first_name="e")
    make_customer(at(2025, 3, 3), at(2025, 4, 2), channel=paid, first_name="f")
    make_customer(at(2025, 4, 10), channel=paid, first_name="g")
    make_customer(None, first_name="prospect")


def cells(dimension="all", segment="all") -> dict:
    rows = KpiCohortCell.objects.filter(dimension=dimension, segment=segment)
    return {(row.cohort.isoformat()[:7], row.offset): (row.retained, row.size) for row in rows}


def test_each_cell_counts_the_cohort_still_customers_at_the_end_of_month_k():
    cohorts()

    kpis_cohorts_refresh(now=NOW)

    assert cells() == {
        ("2025-01", 0): (3, 3),
        ("2025-01", 1): (1, 3),
        ("2025-01", 2): (1, 3),
        ("2025-02", 0): (1, 2),
        ("2025-02", 1): (1, 2),
        ("2025-03", 0): (1, 1),
    }


def test_cohorts_are_segmented_by_the_customer_dimensions():
    cohorts()

    kpis_cohorts_refresh(now=NOW)

    assert cells("channel", "Referral") == {
        ("2025-01", 0): (2, 2),
        ("2025-01", 1): (1, 2),
        ("2025-01", 2): (1, 2),
        ("2025-02", 0): (0, 1),
        ("2025-02", 1): (0, 1),
    }
    assert cells("channel", "Paid ads")[("2025-01", 0)] == (1, 1)
    assert set(KpiCohortCell.objects.values_list("dimension", flat=True)) == {
        "all",
        "channel",
        "region",
        "industry",
        "owner",
    }


def test_a_second_refresh_replaces_the_cells():
    cohorts()
    kpis_cohorts_refresh(now=NOW)
    first = KpiCohortCell.objects.count()

    kpis_cohorts_refresh(now=NOW)

    assert KpiCohortCell.objects.count() == first


def test_the_table_is_a_triangle_of_shares_and_counts(settings):
    cohorts()
    kpis_cohorts_refresh(now=NOW)

    table = cohort_table(months=600)

    assert table["offsets"] == [0, 1, 2]
    january, february, march = table["rows"]
    assert (january["label"], january["size"]) == ("Jan 2025", 3)
    assert [round(cell["share"], 1) for cell in january["cells"]] == [100.0, 33.3, 33.3]
    assert [cell["retained"] for cell in january["cells"]] == [3, 1, 1]
    assert february["cells"][2] is None and march["cells"][1:] == [None, None]


def test_the_refresh_command_computes_the_cohorts():
    cohorts()

    refresh_kpis()

    assert KpiCohortCell.objects.filter(dimension="all").exists()


def test_the_cohort_page_shows_the_heat_map_with_numbers(client, manager_user):
    cohorts()
    kpis_cohorts_refresh(now=NOW)
    client.force_login(manager_user)

    html = client.get("/kpis/cohorts/?dimension=channel&segment=Referral").content.decode()

    assert "Channel: <strong>Referral</strong>" in html
    assert '<span class="kpi-heat-share">50.0 %</span><span class="kpi-heat-count">1</span>' in html
    assert "kpi-heat-10" in html  # 100 %: the darkest step


def test_the_cohort_page_says_when_there_is_nothing_yet(client, manager_user):
    client.force_login(manager_user)

    assert "No cohort has a month that ended yet" in client.get("/kpis/cohorts/").content.decode()
