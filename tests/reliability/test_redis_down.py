"""Redis stopped, hung and started again, for real: the app's own redis-server is stopped under it.

Staff pages, login and the public survey pages still answer, quickly; the KPI pages serve the snapshots from
the database with the time of the last refresh; sessions live in the database.
"""

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from kpis.services import kpis_refresh
from surveys.models import Response
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.factories import UserFactory
from tests.sales.factories import DealFactory, LeadFactory, OrderFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PASSWORD = "correct-horse-battery"
TOKEN = "Redis-down-token-0123456789abcdefgh"
# A request with Redis gone may wait for one short socket timeout (0.5 s here) before the cache is skipped;
# never seconds. Generous for a shared 2-core machine, far below what a blocking client would take.
SLOW = 1.5


@pytest.fixture
def records():
    company = CompanyFactory(name="Acme")
    contact = ContactFactory(company=company, first_name="Ada")
    OrderFactory(contact=contact)
    kpis_refresh(keys=["revenue", "bookings"], granularities=["month"], scope="test")
    return {
        "company": company,
        "contact": contact,
        "lead": LeadFactory(),
        "deal": DealFactory(contact=contact),
        "ticket": TicketFactory(contact=contact),
        "invitation": InvitationFactory(token=TOKEN, contact=contact),
    }


@pytest.fixture
def admin(records):
    return UserFactory(username="ada.admin", role="admin", is_staff=True)


def staff_pages(records) -> list[str]:
    return [
        "/",
        "/contacts/",
        f"/contacts/{records['contact'].pk}/",
        "/contacts/new/",
        "/companies/",
        f"/companies/{records['company'].pk}/",
        "/leads/",
        f"/leads/{records['lead'].pk}/",
        "/leads/new/",
        "/deals/",
        "/deals/board/",
        f"/deals/{records['deal'].pk}/",
        "/orders/",
        "/orders/new/",
        "/tickets/",
        f"/tickets/{records['ticket'].pk}/",
        "/tickets/new/",
        "/surveys/",
        "/kpis/",
        "/kpis/revenue/",
    ]


def timed_get(client: Client, url: str) -> tuple[int, float]:
    started = time.monotonic()
    response = client.get(url)
    return response.status_code, time.monotonic() - started


def log_in(admin) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 302, "the login form refused the user"
    return client


def test_sessions_are_kept_in_the_database_not_in_redis():
    assert settings.SESSION_ENGINE in {
        "crm_project.sessions",
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    }
    assert settings.SESSION_ENGINE != "django.contrib.sessions.backends.cache"


def test_with_redis_stopped_staff_pages_login_and_survey_pages_answer_at_once(app_on_redis, records, admin):
    warm = log_in(admin)
    assert warm.get("/kpis/").status_code == 200  # the KPI reads are cached in Redis now
    assert app_on_redis.client().keys("crm:*")

    app_on_redis.stop()
    client = log_in(admin)  # a new login: the session is written to the database
    answers = {url: timed_get(client, url) for url in staff_pages(records)}
    public = Client()
    survey_page = timed_get(public, f"/s/{TOKEN}/")
    answered = public.post(f"/s/{TOKEN}/", {"score": "9"})
    login_page = timed_get(Client(), "/accounts/login/")
    lead_form = timed_get(Client(), "/lead-form/")

    assert {url: status for url, (status, _) in answers.items()} == dict.fromkeys(answers, 200)
    assert survey_page[0] == login_page[0] == lead_form[0] == 200
    assert answered.status_code == 302
    assert Response.objects.get().score == 9
    logged_out = client.post("/accounts/logout/")
    assert logged_out.status_code == 302
    assert client.get("/contacts/").status_code == 302  # back to the login page: the session is gone
    timings = {**{url: seconds for url, (_, seconds) in answers.items()}, "/s/": survey_page[1]}
    timings.update({"/accounts/login/": login_page[1], "/lead-form/": lead_form[1]})
    slowest = max(timings.values())
    worst = sorted(timings.items(), key=lambda item: -item[1])[:3]
    print(f"\nRedis stopped: {len(timings)} pages, mean {sum(timings.values()) / len(timings):.3f} s, slowest", end=" ")
    print(", ".join(f"{url} {seconds:.3f} s" for url, seconds in worst))
    assert slowest < SLOW


def test_with_redis_stopped_kpi_pages_show_the_snapshots_and_when_they_were_computed(app_on_redis, records, admin):
    client = log_in(admin)
    with_redis = client.get("/kpis/revenue/").content.decode()

    app_on_redis.stop()
    without = client.get("/kpis/revenue/").content.decode()

    assert "Computed from the records at" in without
    assert _value_cells(without) == _value_cells(with_redis)  # the same numbers, read from the snapshots


def _value_cells(page: str) -> list[str]:
    start = page.index("<table")
    return [cell.split("<", 1)[0].strip() for cell in page[start:].split("<td")[1:40]]


def test_a_hung_redis_costs_one_short_timeout_then_pages_skip_it(app_on_redis, records, admin):
    client = log_in(admin)
    client.get("/kpis/")

    app_on_redis.hang()  # accepts connections, never answers: the worst case for a client without timeouts
    try:
        times = [timed_get(client, url) for url in ["/kpis/", "/kpis/revenue/", f"/s/{TOKEN}/", "/kpis/"] * 3]
    finally:
        app_on_redis.unhang()

    assert [status for status, _ in times] == [200] * len(times)
    seconds = [round(elapsed, 3) for _, elapsed in times]
    print(f"\nRedis hung: per request {seconds}")
    assert max(seconds) < SLOW
    assert sum(seconds) < 2 * SLOW  # one request pays the timeout, the next ones skip the cache


def test_when_redis_comes_back_the_cache_is_used_again(app_on_redis, records, admin):
    client = log_in(admin)
    app_on_redis.stop()
    assert client.get("/kpis/").status_code == 200

    app_on_redis.start()
    time.sleep(1.1)  # the cache skips Redis for down_retry_seconds (1 s in these tests) after a failure
    again = client.get("/kpis/")

    assert again.status_code == 200
    assert app_on_redis.client().keys("crm:*")  # the KPI reads went to the cache again
    cache.set("probe", "back", 10)
    assert cache.get("probe") == "back"
