"""bench/peers.py: the peers' way (one ORM query per month, Python loops) gives KPIS.md's numbers, extrapolated."""

import datetime

import pytest

from bench.peers import run_peers
from tests.kpis.conftest import at, days, hours, just_before, make_customer, make_deal, make_order, make_ticket
from tests.kpis.test_survey_kpis import answer
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db

FIRST, STOP = datetime.date(2025, 1, 1), datetime.date(2025, 7, 1)
MARCH = "2025-03-01"


def march_history():
    """March 2025 (UTC), worked out by hand in the test below."""
    lost = make_customer(at(2024, 6, 1), churned=at(2025, 3, 10))
    kept = make_customer(at(2024, 1, 1))
    new = make_customer(at(2025, 3, 5))
    make_customer(at(2025, 2, 1), churned=at(2025, 2, 20))  # not a customer at March's start
    make_order(kept, at(2025, 3, 3), "100.00")
    make_order(new, just_before(at(2025, 4, 1)), "50.00")
    make_order(lost, at(2025, 4, 1), "30.00")  # April's
    make_deal(created=at(2025, 3, 1), status="won", closed=at(2025, 3, 3), amount="1000.00")
    make_deal(created=at(2025, 2, 20), status="won", closed=at(2025, 3, 11), amount="2000.00")
    make_deal(created=at(2025, 2, 1), status="lost", closed=at(2025, 3, 15))
    make_ticket(at(2025, 3, 2), first_response=at(2025, 3, 2) + hours(1), resolved=at(2025, 3, 2) + hours(3))
    make_ticket(at(2025, 3, 3), first_response=at(2025, 3, 3) + hours(4), resolved=at(2025, 3, 3) + hours(10))
    make_ticket(at(2025, 3, 4))
    csat, nps, prospect = SurveyFactory(kind="csat"), SurveyFactory(kind="nps"), make_customer(None)
    for score in (5, 4, 2):
        answer(csat, score, at(2025, 3, 20), contact=prospect)
    for score in (10, 9, 7, 3):
        answer(nps, score, at(2025, 3, 21), contact=prospect)
    answer(nps, 0, at(2025, 4, 1) + days(1), contact=prospect)  # April's


def test_peers_compute_the_months_of_the_sample_as_kpis_md_defines_them():
    march_history()

    result = run_peers(first=FIRST, stop=STOP, sample_months=3)
    march = {key: figures["values"][MARCH] for key, figures in result["kpis"].items()}

    assert march["revenue"] == "150.00"  # 100 + 50 (the last microsecond of March counts, April 1 does not)
    assert march["average_order_value"] == "75.00"  # 150 / 2 orders
    assert march["new_customers"] == "1.00"
    assert march["active_customers"] == "2.00"  # kept and new at April 1
    assert march["churn_rate"] == "50.00"  # S = {lost, kept}, L = {lost}: 1 / 2
    assert march["win_rate"] == "66.67"  # 2 won / 3 won or lost
    assert march["average_deal_size"] == "1500.00"  # (1000 + 2000) / 2
    assert march["sales_cycle_length"] == "10.50"  # (2 + 19) / 2 days
    assert march["new_tickets"] == "3.00"
    assert march["first_response_time"] == "2.50"  # median of 1 h and 4 h (the third still waits)
    assert march["resolution_time"] == "6.50"  # median of 3 h and 10 h
    assert march["csat"] == "66.67"  # 5 and 4 of 5, 4, 2
    assert march["nps"] == "25.00"  # (2 promoters - 1 detractor) / 4
    assert march["survey_response_rate"] == "100.00"  # every invitation sent in March was answered


def test_peers_extrapolate_the_sampled_months_to_the_whole_span():
    result = run_peers(first=FIRST, stop=STOP, sample_months=3)

    assert result["months"] == 6
    assert result["sample"] == ["2025-01-01", "2025-03-01", "2025-06-01"]
    for figures in result["kpis"].values():
        assert figures["seconds_per_month"] == pytest.approx(figures["sampled_seconds"] / 3)
        assert figures["seconds"] == pytest.approx(figures["seconds_per_month"] * 6)
        assert figures["queries"] >= 3  # at least one query per sampled month
    assert result["total_seconds"] == pytest.approx(sum(figures["seconds"] for figures in result["kpis"].values()))
