"""Support KPIs of KPIS.md (tickets opened, response and resolution times, FCR, SLA), worked out by hand."""

from decimal import Decimal

import pytest

from support.models import SlaPolicy
from tests.kpis.conftest import (
    NEW_YORK,
    ZONES,
    assert_kpi,
    at,
    hours,
    just_before,
    make_ticket,
    refresh_kpis,
    user,
)

pytestmark = pytest.mark.django_db


# --- new_tickets ------------------------------------------------------------------------------------------------


def ticket_history():
    """Feb: 1 (e-mail, normal). Mar: e-mail normal, e-mail high, chat high (at 23:00 on the 31st). Apr: none."""
    make_ticket(at(2025, 2, 20), channel="email", priority="normal")
    make_ticket(at(2025, 3, 3), channel="email", priority="normal")
    make_ticket(at(2025, 3, 10), channel="email", priority="high")
    make_ticket(at(2025, 3, 31, 23), channel="chat", priority="high")


def test_new_tickets_counts_tickets_created_in_each_month(kpi_api):
    ticket_history()

    refresh_kpis("new_tickets", granularity="month")
    months = kpi_api.by_period("new_tickets", start="2025-02-01", end="2025-04-30")

    assert_kpi(months["2025-02-01"], 1, numerator=1, denominator=None, sample_size=1)
    assert_kpi(months["2025-03-01"], 3, numerator=3, denominator=None, sample_size=3)
    assert_kpi(months["2025-04-01"], 0, numerator=0, denominator=None, sample_size=0)


def test_new_tickets_by_channel_and_priority_are_labelled_by_value(kpi_api):
    ticket_history()

    refresh_kpis("new_tickets", granularity="month")
    channels = kpi_api.by_segment("new_tickets", "channel", start="2025-03-01", end="2025-03-31")
    priorities = kpi_api.by_segment("new_tickets", "priority", start="2025-03-01", end="2025-03-31")

    assert_kpi(channels[("2025-03-01", "email")], 2)
    assert_kpi(channels[("2025-03-01", "chat")], 1)
    assert_kpi(priorities[("2025-03-01", "high")], 2)
    assert_kpi(priorities[("2025-03-01", "normal")], 1)


@pytest.mark.parametrize("tz", ZONES)
def test_new_tickets_at_local_midnight_belong_to_the_new_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    march = at(2025, 3, 1, tz=tz)
    make_ticket(march)
    make_ticket(just_before(march))
    make_ticket(march + hours(5))

    refresh_kpis("new_tickets", granularity="month")
    months = kpi_api.by_period("new_tickets", start="2025-02-01", end="2025-03-31")

    assert_kpi(months["2025-02-01"], 1)
    assert_kpi(months["2025-03-01"], 2)


def test_new_tickets_by_iso_week_across_new_yorks_change_to_summer_time(kpi_api, settings):
    settings.TIME_ZONE = NEW_YORK
    monday = at(2025, 3, 10, tz=NEW_YORK)  # the clocks went forward on Sunday 9 March
    make_ticket(at(2025, 3, 3, tz=NEW_YORK))  # the Monday before
    make_ticket(just_before(monday))
    make_ticket(monday)
    make_ticket(at(2025, 3, 16, 23, tz=NEW_YORK))  # Sunday of the second week

    refresh_kpis("new_tickets", granularity="week")
    weeks = kpi_api.by_period("new_tickets", granularity="week", start="2025-03-05", end="2025-03-12")

    assert list(weeks) == ["2025-03-03", "2025-03-10"]
    assert [item["period_end"] for item in weeks.values()] == ["2025-03-10", "2025-03-17"]
    assert_kpi(weeks["2025-03-03"], 2)
    assert_kpi(weeks["2025-03-10"], 2)


# --- first_response_time ----------------------------------------------------------------------------------------


def response_history():
    """Tickets by creation month, hours to the first response:

    Mar: t1 high ana 1.5; t2 normal ben 4; t3 high ben 10; t4 urgent ana none yet; t5 normal ana 6 (created
         at 22:00 on the 31st, answered in April: it counts for March, when it was created)
    Apr: 2, 3, 0.5
    May: one ticket, not answered
    """
    ana, ben = user("ana"), user("ben")
    for created, after, priority, assignee in [
        (at(2025, 3, 3, 9), 1.5, "high", ana),
        (at(2025, 3, 10, 10), 4, "normal", ben),
        (at(2025, 3, 20, 8), 10, "high", ben),
        (at(2025, 3, 25), None, "urgent", ana),
        (at(2025, 3, 31, 22), 6, "normal", ana),
        (at(2025, 4, 2), 2, "normal", ben),
        (at(2025, 4, 5), 3, "normal", ben),
        (at(2025, 4, 8), 0.5, "normal", ben),
        (at(2025, 5, 5), None, "normal", ben),
    ]:
        first_response = created + hours(after) if after is not None else None
        make_ticket(created, first_response=first_response, priority=priority, assignee=assignee)


def test_first_response_time_is_the_median_hours_to_the_first_reply(kpi_api):
    response_history()

    refresh_kpis("first_response_time", granularity="month")
    months = kpi_api.by_period("first_response_time", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, sample_size=0)
    # March, sorted: 1.5, 4, 6, 10 -> the mean of the two middle values.
    assert_kpi(months["2025-03-01"], (4 + 6) / 2, sample_size=4)
    # April, sorted: 0.5, 2, 3 -> the middle value.
    assert_kpi(months["2025-04-01"], 2.00, sample_size=3)
    assert_kpi(months["2025-05-01"], None, sample_size=0)  # a ticket that still waits has no time yet


def test_first_response_time_by_priority(kpi_api):
    response_history()

    refresh_kpis("first_response_time", granularity="month")
    cells = kpi_api.by_segment("first_response_time", "priority", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "high")], (1.5 + 10) / 2, sample_size=2)
    assert_kpi(cells[("2025-03-01", "normal")], (4 + 6) / 2, sample_size=2)


def test_first_response_time_by_assignee(kpi_api):
    response_history()

    refresh_kpis("first_response_time", granularity="month")
    cells = kpi_api.by_segment("first_response_time", "assignee", start="2025-03-01", end="2025-04-30")

    assert_kpi(cells[("2025-03-01", "ana")], (1.5 + 6) / 2, sample_size=2)
    assert_kpi(cells[("2025-03-01", "ben")], (4 + 10) / 2, sample_size=2)
    assert_kpi(cells[("2025-04-01", "ben")], 2.00, sample_size=3)


@pytest.mark.parametrize("tz", ZONES)
def test_first_response_time_goes_by_the_local_creation_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_ticket(april, first_response=april + hours(2))
    make_ticket(just_before(april), first_response=just_before(april) + hours(1))

    refresh_kpis("first_response_time", granularity="month")
    months = kpi_api.by_period("first_response_time", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 1.00, sample_size=1)
    assert_kpi(months["2025-04-01"], 2.00, sample_size=1)


# --- resolution_time --------------------------------------------------------------------------------------------


def resolution_history():
    """Tickets by resolution month, hours from creation to resolution:

    Mar: r1 e-mail ana 72 (created in February); r2 e-mail ben 12; r3 phone ben 24 (since closed)
    Apr: 120 (created in March), 6, 9
    An open ticket created in March is not resolved: left out.
    """
    ana, ben = user("ana"), user("ben")
    make_ticket(at(2025, 2, 27, 12), resolved=at(2025, 3, 2, 12), channel="email", assignee=ana)
    make_ticket(at(2025, 3, 5, 8), resolved=at(2025, 3, 5, 20), channel="email", assignee=ben)
    make_ticket(at(2025, 3, 10), resolved=at(2025, 3, 11), closed=at(2025, 3, 18), channel="phone", assignee=ben)
    make_ticket(at(2025, 3, 20), first_response=at(2025, 3, 20, 1), channel="email", assignee=ana)
    make_ticket(at(2025, 3, 28), resolved=at(2025, 4, 2), channel="chat", assignee=ana)
    make_ticket(at(2025, 4, 3), resolved=at(2025, 4, 3, 6), channel="chat", assignee=ana)
    make_ticket(at(2025, 4, 10), resolved=at(2025, 4, 10, 9), channel="web", assignee=ben)


def test_resolution_time_is_the_median_hours_to_resolution(kpi_api):
    resolution_history()

    refresh_kpis("resolution_time", granularity="month")
    months = kpi_api.by_period("resolution_time", start="2025-02-01", end="2025-05-31")

    assert_kpi(months["2025-02-01"], None, sample_size=0)  # r1 was created in February, resolved in March
    assert_kpi(months["2025-03-01"], 24.00, sample_size=3)  # 12, 24, 72
    assert_kpi(months["2025-04-01"], 9.00, sample_size=3)  # 6, 9, 120
    assert_kpi(months["2025-05-01"], None, sample_size=0)
    assert months["2025-03-01"]["details"]["mean"] == pytest.approx((12 + 24 + 72) / 3)  # a JSON number: 36.0
    assert months["2025-04-01"]["details"]["mean"] == pytest.approx((6 + 9 + 120) / 3)


def test_resolution_time_by_channel(kpi_api):
    resolution_history()

    refresh_kpis("resolution_time", granularity="month")
    cells = kpi_api.by_segment("resolution_time", "channel", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "email")], (72 + 12) / 2, sample_size=2)
    assert_kpi(cells[("2025-03-01", "phone")], 24.00, sample_size=1)


@pytest.mark.parametrize("tz", ZONES)
def test_resolution_time_goes_by_the_local_resolution_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_ticket(april - hours(3), resolved=april)
    make_ticket(april - hours(5), resolved=just_before(april))  # 5 hours less a microsecond

    refresh_kpis("resolution_time", granularity="month")
    months = kpi_api.by_period("resolution_time", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 5.00, sample_size=1)
    assert_kpi(months["2025-04-01"], 3.00, sample_size=1)


# --- first_contact_resolution -----------------------------------------------------------------------------------


def fcr_history():
    """Tickets resolved in March: ana 1 reply (FCR), ben no reply (FCR), ana 2 replies, ben 1 reply but reopened,
    ben 1 reply (FCR) -> 3 of 5. April: 3 replies, 1 reply (FCR), 1 reply but reopened twice -> 1 of 3.
    An unresolved ticket with no reply is not counted."""
    ana, ben = user("ana"), user("ben")
    for created, replies, reopened, assignee in [
        (at(2025, 3, 2), 1, 0, ana),
        (at(2025, 3, 4), 0, 0, ben),
        (at(2025, 3, 6), 2, 0, ana),
        (at(2025, 3, 8), 1, 1, ben),
        (at(2025, 3, 10), 1, 0, ben),
        (at(2025, 4, 2), 3, 0, ana),
        (at(2025, 4, 4), 1, 0, ana),
        (at(2025, 4, 6), 1, 2, ben),
    ]:
        make_ticket(
            created,
            first_response=created + hours(1) if replies else None,
            resolved=created + hours(8),
            agent_replies=replies,
            reopened_count=reopened,
            assignee=assignee,
        )
    make_ticket(at(2025, 3, 12), agent_replies=0, assignee=ana)


def test_first_contact_resolution_share_of_resolved_tickets(kpi_api):
    fcr_history()

    refresh_kpis("first_contact_resolution", granularity="month")
    months = kpi_api.by_period("first_contact_resolution", start="2025-02-01", end="2025-04-30")

    assert_kpi(months["2025-02-01"], None, denominator=0, sample_size=0)
    assert_kpi(months["2025-03-01"], 3 / 5 * 100, numerator=3, denominator=5, sample_size=5)
    assert_kpi(months["2025-04-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)


def test_first_contact_resolution_by_assignee(kpi_api):
    fcr_history()

    refresh_kpis("first_contact_resolution", granularity="month")
    cells = kpi_api.by_segment("first_contact_resolution", "assignee", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "ana")], 1 / 2 * 100, numerator=1, denominator=2)
    assert_kpi(cells[("2025-03-01", "ben")], round(2 / 3 * 100, 2), numerator=2, denominator=3)


@pytest.mark.parametrize("tz", ZONES)
def test_first_contact_resolution_in_the_local_month(kpi_api, settings, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    make_ticket(april - hours(4), first_response=april - hours(3), resolved=april, agent_replies=1)
    make_ticket(april - hours(4), first_response=april - hours(3), resolved=just_before(april), agent_replies=2)

    refresh_kpis("first_contact_resolution", granularity="month")
    months = kpi_api.by_period("first_contact_resolution", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)


# --- sla_attainment ---------------------------------------------------------------------------------------------


@pytest.fixture
def sla_policies(db):
    """First-response targets: high 4 hours, normal 8 hours; none for low (a ticket's deadline, when it has one,
    is its priority's target, so the policies and the tickets' first_response_due_at agree)."""
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(priority="high", first_response_hours=Decimal(4), resolution_hours=Decimal(24))
    SlaPolicy.objects.create(priority="normal", first_response_hours=Decimal(8), resolution_hours=Decimal(48))
    return {"high": 4, "normal": 8}


def sla_ticket(created, priority, targets, *, answered_after=None, **fields):
    """A ticket whose first-response deadline is its priority's target (calendar hours), if it has one."""
    due = created + hours(targets[priority]) if priority in targets else None
    answered = created + hours(answered_after) if answered_after is not None else None
    return make_ticket(created, first_response=answered, first_response_due_at=due, priority=priority, **fields)


def sla_history(targets):
    """March: met (high, 3 h), met (high, exactly at the 4 h target), missed (normal, 9 h), missed (normal, never
    answered, deadline long past), met (normal, 1 h), no target (low) -> 3 of 5.
    April: met (high), missed (normal, 10 h), missed (normal, never answered) -> 1 of 3. May: low only."""
    ana, ben = user("ana"), user("ben")
    sla_ticket(at(2025, 3, 3, 9), "high", targets, answered_after=3, assignee=ana)
    sla_ticket(at(2025, 3, 4, 9), "high", targets, answered_after=4, assignee=ben)
    sla_ticket(at(2025, 3, 5, 9), "normal", targets, answered_after=9, assignee=ana)
    sla_ticket(at(2025, 3, 6, 9), "normal", targets, assignee=ben)
    sla_ticket(at(2025, 3, 7, 9), "low", targets, answered_after=1, assignee=ana)
    sla_ticket(at(2025, 3, 8, 9), "normal", targets, answered_after=1, assignee=ana)
    sla_ticket(at(2025, 4, 2, 9), "high", targets, answered_after=2, assignee=ana)
    sla_ticket(at(2025, 4, 3, 9), "normal", targets, answered_after=10, assignee=ben)
    sla_ticket(at(2025, 4, 4, 9), "normal", targets, assignee=ben)
    sla_ticket(at(2025, 5, 5, 9), "low", targets, assignee=ben)


def test_sla_attainment_share_of_tickets_answered_within_target(kpi_api, sla_policies):
    sla_history(sla_policies)

    refresh_kpis("sla_attainment", granularity="month")
    months = kpi_api.by_period("sla_attainment", start="2025-03-01", end="2025-05-31")

    assert_kpi(months["2025-03-01"], 3 / 5 * 100, numerator=3, denominator=5, sample_size=5)
    assert_kpi(months["2025-04-01"], round(1 / 3 * 100, 2), numerator=1, denominator=3, sample_size=3)
    assert_kpi(months["2025-05-01"], None, denominator=0, sample_size=0)  # no ticket with a target


def test_sla_attainment_by_priority(kpi_api, sla_policies):
    sla_history(sla_policies)

    refresh_kpis("sla_attainment", granularity="month")
    cells = kpi_api.by_segment("sla_attainment", "priority", start="2025-03-01", end="2025-03-31")

    assert_kpi(cells[("2025-03-01", "high")], 2 / 2 * 100, numerator=2, denominator=2)
    assert_kpi(cells[("2025-03-01", "normal")], round(1 / 3 * 100, 2), numerator=1, denominator=3)


@pytest.mark.parametrize("tz", ZONES)
def test_sla_attainment_goes_by_the_local_creation_month(kpi_api, settings, sla_policies, tz):
    settings.TIME_ZONE = tz
    april = at(2025, 4, 1, tz=tz)
    sla_ticket(april, "high", sla_policies, answered_after=1)
    sla_ticket(just_before(april), "high", sla_policies, answered_after=5)

    refresh_kpis("sla_attainment", granularity="month")
    months = kpi_api.by_period("sla_attainment", start="2025-03-01", end="2025-04-30")

    assert_kpi(months["2025-03-01"], 0 / 1 * 100, numerator=0, denominator=1)
    assert_kpi(months["2025-04-01"], 1 / 1 * 100, numerator=1, denominator=1)
