"""Helpers for the KPI tests: records at exact instants, a refresh of the snapshots, reads of the API.

The KPI tests are black-box, like an auditor's: they know KPIS.md, the `refresh_kpis` command and
`/api/kpis/<key>/`, never the engine. Every expected number is worked out by hand in the test, from the
definition in KPIS.md, with the arithmetic in sight.
"""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.management import call_command

from contacts.models import Channel, Contact, Interaction
from sales.models import Deal, Order, Pipeline, Spend, Stage, Subscription
from support.models import Ticket
from tests.contacts.factories import ContactFactory, InteractionFactory
from tests.factories import UserFactory
from tests.sales.factories import DealFactory, OrderFactory, SubscriptionFactory, default_pipeline
from tests.support.factories import TicketFactory

SINCE = "2025-01-01"
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
# The two non-UTC zones of the boundary tests: one behind UTC (with summer time), one ahead by a half hour.
ZONES = [pytest.param(NEW_YORK, id="new_york"), pytest.param(KOLKATA, id="kolkata")]
ONE_MICROSECOND = datetime.timedelta(microseconds=1)
UNSET = object()


@pytest.fixture(autouse=True)
def _empty_cache():
    """KPI reads go through the cache; a series cached by an earlier test must not answer for this one."""
    cache.clear()
    yield
    cache.clear()


# --- instants -------------------------------------------------------------------------------------------------


def at(year, month, day, hour=0, minute=0, second=0, microsecond=0, *, tz="UTC") -> datetime.datetime:
    """An aware instant given as the wall-clock time of a zone (UTC unless told)."""
    return datetime.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=ZoneInfo(tz))


def just_before(moment: datetime.datetime) -> datetime.datetime:
    return moment - ONE_MICROSECOND


def hours(n: float) -> datetime.timedelta:
    return datetime.timedelta(hours=n)


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# --- refresh and read -----------------------------------------------------------------------------------------


def refresh_kpis(*keys: str, since: str = SINCE, granularity: str | None = None) -> None:
    """`manage.py refresh_kpis --since ... [--kpi KEY ...] [--granularity G]`, output swallowed."""
    args = ["--since", since]
    for key in keys:
        args += ["--kpi", key]
    if granularity:
        args += ["--granularity", granularity]
    call_command("refresh_kpis", *args, stdout=io.StringIO(), stderr=io.StringIO())


class KpiApi:
    """Reads `/api/kpis/<key>/` as the client it is given, checking the envelope of every answer."""

    def __init__(self, client):
        self.client = client

    def get(self, key: str, **params):
        return self.client.get(f"/api/kpis/{key}/", params)

    def series(self, key: str, *, start: str, end: str, granularity: str = "month", segment: str | None = None):
        params = {"granularity": granularity, "start": start, "end": end}
        if segment:
            params["segment"] = segment
        response = self.get(key, **params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["key"] == key
        assert body["granularity"] == granularity
        assert body["segment"] == (segment or "all")
        assert body["count"] == len(body["results"])
        return body["results"]

    def by_period(self, key: str, *, start: str, end: str, granularity: str = "month") -> dict[str, dict]:
        """The whole-business series, keyed by period start ("2025-03-01")."""
        items = self.series(key, start=start, end=end, granularity=granularity)
        assert all(item["segment"] == "all" for item in items)
        periods = {item["period_start"]: item for item in items}
        assert len(periods) == len(items), "one item per period"
        return periods

    def by_segment(
        self, key: str, dimension: str, *, start: str, end: str, granularity: str = "month"
    ) -> dict[tuple[str, str], dict]:
        """The series broken down by a dimension, keyed by (period start, segment label)."""
        items = self.series(key, start=start, end=end, granularity=granularity, segment=dimension)
        cells = {(item["period_start"], item["segment"]): item for item in items}
        assert len(cells) == len(items), "one item per period and segment"
        return cells


@pytest.fixture
def kpi_api(api_client, manager_user) -> KpiApi:
    api_client.force_authenticate(manager_user)
    return KpiApi(api_client)


def assert_kpi(item: dict, value, *, numerator=UNSET, denominator=UNSET, sample_size=UNSET) -> None:
    """value (and, where the contract pins them, numerator, denominator, sample size) of one item.

    None means null in the JSON (an empty rate or average); a number must match to the cent.
    """
    where = f"{item.get('period_start')} / {item.get('segment')}: {item}"
    _assert_number(item["value"], value, where)
    if numerator is not UNSET:
        _assert_number(item["numerator"], numerator, where)
    if denominator is not UNSET:
        _assert_number(item["denominator"], denominator, where)
    if sample_size is not UNSET:
        assert item["sample_size"] == sample_size, where


def assert_interval(item: dict, low: float, high: float) -> None:
    """The interval bounds, to the cent (a little slack for z = 1.96 against 1.959964...)."""
    where = f"{item.get('period_start')} / {item.get('segment')}: {item}"
    assert item["ci_low"] == pytest.approx(low, abs=0.011), where
    assert item["ci_high"] == pytest.approx(high, abs=0.011), where


def _assert_number(actual, expected, where: str) -> None:
    if expected is None:
        assert actual is None, where
    else:
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"not a JSON number: {where}"
        assert actual == pytest.approx(float(expected), abs=1e-6), where


# --- records --------------------------------------------------------------------------------------------------


def user(username: str):
    return UserFactory(username=username)


def channel(name: str) -> Channel:
    return Channel.objects.get_or_create(name=name)[0]


def make_customer(since=None, churned=None, **fields) -> Contact:
    """A contact who is a customer from `since` until `churned` (a prospect when `since` is None)."""
    fields.setdefault("channel", None)
    return ContactFactory(customer_since=since, churned_at=churned, **fields)


def make_order(contact: Contact, ordered_at: datetime.datetime, amount: str) -> Order:
    return OrderFactory(contact=contact, ordered_at=ordered_at, amount=Decimal(amount))


def make_spend(
    spent_on: datetime.date, amount: str, *, category: str = "acquisition", channel=None, campaign=None
) -> Spend:
    return Spend.objects.create(
        spent_on=spent_on, amount=Decimal(amount), category=category, channel=channel, campaign=campaign
    )


def make_subscription(contact: Contact, ends_on: datetime.date, outcome: str) -> Subscription:
    return SubscriptionFactory(
        contact=contact, starts_on=ends_on - datetime.timedelta(days=365), ends_on=ends_on, outcome=outcome
    )


def make_interaction(contact: Contact, occurred_at: datetime.datetime) -> Interaction:
    return InteractionFactory(contact=contact, occurred_at=occurred_at)


def make_pipeline(name: str) -> Pipeline:
    """A second pipeline with one open, one won and one lost stage."""
    pipeline = Pipeline.objects.create(name=name)
    for position, (stage_name, probability, kind) in enumerate(
        [("Talking", 20, "open"), ("Signed", 100, "won"), ("Dropped", 0, "lost")], start=1
    ):
        Stage.objects.create(pipeline=pipeline, name=stage_name, position=position, probability=probability, kind=kind)
    return pipeline


def make_deal(
    *, created: datetime.datetime, status: str = "open", closed=None, amount: str = "1000.00", pipeline=None, **fields
) -> Deal:
    """A deal written as history: created at `created`, won or lost at `closed` (open when status is open)."""
    pipeline = pipeline or default_pipeline()
    stages = pipeline.stages.order_by("position")
    stage = stages.filter(kind=status).first()
    fields.setdefault("channel", None)
    return DealFactory(
        pipeline=pipeline,
        stage=stage,
        status=status,
        created_at=created,
        stage_changed_at=closed or created,
        closed_at=closed,
        amount=Decimal(amount),
        **fields,
    )


def make_ticket(created: datetime.datetime, *, first_response=None, resolved=None, closed=None, **fields) -> Ticket:
    """A ticket as history: created, first answered, resolved (and closed) at the given instants."""
    if closed is not None:
        status = Ticket.Status.CLOSED
    elif resolved is not None:
        status = Ticket.Status.RESOLVED
    elif first_response is not None:
        status = Ticket.Status.PENDING
    else:
        status = Ticket.Status.NEW
    return TicketFactory(
        created_at=created,
        first_response_at=first_response,
        resolved_at=resolved,
        closed_at=closed,
        status=status,
        **fields,
    )
