"""The weekly digest, seen before it goes: a page for managers with what it says and who gets it, and a command
that sends it now or lists its recipients."""

import datetime
import re

import pytest
from django.core import mail
from django.core.management import call_command

from kpis.models import KpiTarget
from tests.kpis.test_targets import MONDAY, weeks_of_orders

pytestmark = pytest.mark.django_db

DIGEST = "/kpis/digest/"


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="mia", first_name="Mia", last_name="Berg", email="mia@example.com")


def test_the_page_shows_the_digest_of_the_day_asked_and_who_gets_it(client, manager, make_user):
    make_user("manager", username="mo", email="")  # no address: not a recipient
    weeks_of_orders()
    KpiTarget.objects.create(kpi="revenue", granularity="week", period_start=None, value=1000)
    client.force_login(manager)

    html = client.get(DIGEST, {"on": MONDAY.isoformat()}).content.decode()

    assert "Week 2025-W15" in html
    assert "Change vs 2025-W14" in html
    assert re.search(r"Revenue</a></td>\s*<td[^>]*>400.00 EUR</td>\s*<td[^>]*>▲ \+300\.00 EUR <strong>better", html)
    assert "Revenue</a>, 2025-W15: <strong>400.00 EUR</strong>; target 1,000.00 eur" in html
    assert "Sent every Monday at 07:00 (UTC)" in html
    assert "Mia Berg &lt;mia@example.com&gt;" in html
    assert "mo &lt;" not in html
    assert "Not sent yet." in html


def test_a_day_after_today_says_why_and_shows_the_latest(client, manager):
    client.force_login(manager)
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)

    page = client.get(DIGEST, {"on": tomorrow.isoformat()})

    assert page.status_code == 200
    assert "Choose a day up to today" in page.content.decode()


@pytest.mark.parametrize("managers", [1, 4])
def test_the_page_reads_snapshots_in_as_many_queries_whatever_the_number_of_managers(
    client, manager, make_user, managers, django_assert_max_num_queries
):
    for number in range(1, managers):
        make_user("manager", username=f"manager{number}", email=f"m{number}@example.com")
    weeks_of_orders()
    client.force_login(manager)

    with django_assert_max_num_queries(10):
        assert client.get(DIGEST, {"on": MONDAY.isoformat()}).status_code == 200


def test_staff_who_do_not_read_kpis_cannot_see_it(client, make_user):
    client.force_login(make_user("sales"))

    assert client.get(DIGEST).status_code == 403


def test_the_command_lists_the_recipients_without_sending(manager):
    out = call_command_output("--dry-run")

    assert "would go to:\n  mia <mia@example.com>" in out
    assert mail.outbox == []


def test_the_command_sends_once_a_week_however_often_it_runs(manager):
    first = call_command_output()
    second = call_command_output()

    assert "Sent the digest to 1 of 1 managers." in first
    assert "Sent the digest to 0 of 1 managers; 1 had this week's already." in second
    assert [message.to for message in mail.outbox] == [["mia@example.com"]]
    assert "Last sent" in digest_page_for(manager)


def test_the_command_says_when_nobody_would_get_it(make_user):
    make_user("manager", username="mo", email="")

    assert "goes to nobody" in call_command_output()


def call_command_output(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("send_kpi_digest", *args, stdout=out)
    return out.getvalue()


def digest_page_for(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(DIGEST).content.decode()
