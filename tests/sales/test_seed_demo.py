"""seed_demo's sales data: consistent with the contacts, believable KPIs, idempotent and deterministic.

The small demo is seeded once for the module (most tests only read it); each test still runs in its own
transaction, so the tests that seed again or delete rows leave the module's data as it was.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from io import StringIO
from itertools import pairwise
from statistics import median

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from contacts.models import Channel, Company, Contact, Interaction
from kpis.models import KpiStaleMark
from sales.models import Campaign, Deal, DealStageChange, Lead, Order, SalesEvent, Spend, Subscription

pytestmark = pytest.mark.django_db

SEEDED_MODELS = (
    SalesEvent, DealStageChange, Order, Subscription, Deal, Lead, Spend, Campaign, Interaction, Contact, Company,
    Channel,
)  # fmt: skip


def seed(**options) -> str:
    out = StringIO()
    with override_settings(DEBUG=True):  # seed_demo refuses to run with DEBUG off unless forced
        call_command("seed_demo", size="small", stdout=out, **options)
    return out.getvalue()


def delete_seeded_rows() -> None:
    for model in SEEDED_MODELS:
        model.objects.all().delete()
    # Deleting records marks their KPI periods stale and writes their audit trail's "Deleted" entries, and
    # outside a test's transaction those stay for the tests after these (the audit tests count entries).
    KpiStaleMark.objects.all().delete()
    AuditEntry.objects.all().delete()


@pytest.fixture(scope="module", autouse=True)
def only_the_sales_seeder():
    """These tests seed sales on the contacts alone (other apps' seeders would hold on to the contacts)."""
    from contacts import registry

    registered = registry._demo_seeders
    registry._demo_seeders = {name: fn for name, fn in registered.items() if name == "sales"}
    yield
    registry._demo_seeders = registered


@pytest.fixture(scope="module", autouse=True)
def small_demo(only_the_sales_seeder, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed()
        yield
        delete_seeded_rows()
        get_user_model().objects.all().delete()
        # A user deleted relabels history: its marks too must not outlive these tests (tests/kpis counts marks).
        KpiStaleMark.objects.all().delete()
        AuditEntry.objects.all().delete()


def local_date(instant: datetime) -> date:
    return timezone.localtime(instant).date()


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED_MODELS}


# Deals and customers


def test_every_customer_became_one_by_winning_its_first_deal_at_customer_since():
    customers = dict(Contact.objects.filter(customer_since__isnull=False).values_list("id", "customer_since"))
    won = defaultdict(list)
    for contact_id, closed_at, kind in Deal.objects.filter(status="won").values_list("contact_id", "closed_at", "kind"):
        won[contact_id].append((closed_at, kind))

    assert len(customers) >= 50
    assert set(won) == set(customers), "only customers have won deals, and every customer has one"
    for contact_id, since in customers.items():
        wins = sorted(won[contact_id])
        assert [closed for closed, _ in wins].count(since) == 1
        assert wins[0] == (since, "new"), "the deal that made the customer is its earliest win"


def test_deals_open_after_their_contact_was_created_and_close_after_they_open():
    assert not Deal.objects.filter(created_at__lt=F("contact__created_at")).exists()
    assert not Deal.objects.filter(closed_at__lt=F("created_at")).exists()
    assert not Deal.objects.filter(contact__isnull=True).exists()


def test_upsells_and_renewals_are_won_while_a_customer():
    later = Deal.objects.filter(status="won").exclude(kind="new")

    assert later.filter(kind__in=["upsell", "cross_sell"]).exists()
    assert later.filter(kind="renewal").exists()
    assert not later.filter(closed_at__lte=F("contact__customer_since")).exists()
    assert not later.filter(closed_at__gte=F("contact__churned_at")).exists()
    assert Deal.objects.filter(kind__in=["upsell", "cross_sell", "renewal"], status="lost").exists()


def test_status_mirrors_the_stage_and_closed_deals_say_why_they_were_lost():
    assert not Deal.objects.exclude(status=F("stage__kind")).exists()
    assert not Deal.objects.filter(status="lost", lost_reason="").exists()
    assert not Deal.objects.filter(status="won").exclude(lost_reason="").exists()


def test_stage_histories_are_ordered_in_time_and_end_at_the_deals_stage():
    history = defaultdict(list)
    for change in DealStageChange.objects.order_by("changed_at", "id").values_list(
        "deal_id", "from_stage_id", "to_stage_id", "changed_at"
    ):
        history[change[0]].append(change[1:])

    deals = list(Deal.objects.values_list("id", "stage_id", "created_at", "closed_at", "stage_changed_at"))
    assert set(history) == {deal[0] for deal in deals}
    for deal_id, stage_id, created_at, closed_at, stage_changed_at in deals:
        changes = history[deal_id]
        assert changes[0][0] is None and changes[0][2] == created_at, "the first change opens the deal"
        assert all(after[0] == before[1] for before, after in pairwise(changes)), (
            "each move starts where the last ended"
        )
        assert changes[-1][1] == stage_id
        assert changes[-1][2] == stage_changed_at
        if closed_at is not None:
            assert changes[-1][2] == closed_at


def test_open_deals_are_spread_over_the_open_stages_and_expected_to_close_from_today():
    open_deals = Deal.objects.filter(status="open")

    assert open_deals.values("stage").distinct().count() >= 3
    assert not open_deals.filter(Q(expected_close_date__isnull=True) | Q(expected_close_date__lt=date.today())).exists()
    assert open_deals.filter(created_at__gte=timezone.now() - timedelta(days=90)).count() >= open_deals.count() / 2


def test_win_rate_and_sales_cycle_are_believable():
    won, lost = Deal.objects.filter(status="won").count(), Deal.objects.filter(status="lost").count()
    cycles = [
        (closed - created).total_seconds() / 86400
        for created, closed in Deal.objects.filter(status="won", kind="new").values_list("created_at", "closed_at")
    ]

    assert 0.2 <= won / (won + lost) <= 0.38
    assert 7 <= sum(cycles) / len(cycles) <= 60
    assert max(cycles) >= 60


# Leads


def test_converted_leads_have_a_contact_and_a_deal_opened_when_they_converted():
    converted = Lead.objects.filter(status="converted")

    assert converted.exists()
    assert not converted.filter(Q(contact__isnull=True) | Q(converted_at__lt=F("created_at"))).exists()
    assert not converted.filter(created_at__gt=F("contact__created_at")).exists()
    assert (
        not Lead.objects.exclude(status="converted")
        .filter(Q(converted_at__isnull=False) | Q(contact__isnull=False))
        .exists()
    )
    opened = dict(Deal.objects.filter(lead__isnull=False).values_list("lead_id", "created_at"))
    assert opened == dict(converted.values_list("id", "converted_at"))


def test_every_customer_that_came_in_as_a_lead_has_its_lead_converted():
    # A contact's own lead has the contact's number: demo-lead-0000042 came before demo-contact-0000042.
    leads = {
        key.removeprefix("demo-lead-"): (status, contact_id)
        for key, status, contact_id in Lead.objects.filter(external_id__regex=r"^demo-lead-[0-9]+$").values_list(
            "external_id", "status", "contact_id"
        )
    }
    customers = Contact.objects.filter(customer_since__isnull=False).values_list("external_id", "id")

    customers_with_lead = 0
    for key, contact_id in customers:
        lead = leads.get(key.removeprefix("demo-contact-"))
        if lead is not None:
            customers_with_lead += 1
            assert lead == ("converted", contact_id)
    assert customers_with_lead >= len(customers) / 2


def test_lead_conversion_is_believable_and_differs_by_channel():
    leads = Lead.objects.count()
    converted = Lead.objects.filter(status="converted").count()
    by_channel = {
        name: converted / total
        for name, total, converted in Lead.objects.values_list("channel__name")
        .annotate(total=Count("id"), converted=Count("id", filter=Q(status="converted")))
        .values_list("channel__name", "total", "converted")
    }

    assert leads >= 2 * Contact.objects.count()
    assert 0.15 <= converted / leads <= 0.4
    assert by_channel["Referral"] > by_channel["Paid ads"]


def test_leads_that_never_converted_are_open_lately_and_mostly_disqualified_long_ago():
    recent = Lead.objects.filter(created_at__gte=timezone.now() - timedelta(days=30)).exclude(status="converted")
    old = Lead.objects.filter(created_at__lt=timezone.now() - timedelta(days=180)).exclude(status="converted")

    assert recent.filter(status__in=["new", "working", "qualified"]).count() > recent.count() / 2
    assert old.filter(status="disqualified").count() > old.count() / 2
    assert not Lead.objects.filter(status="disqualified", disqualified_reason="").exists()


def test_campaign_leads_and_spend_belong_to_the_campaigns_channel():
    assert Lead.objects.filter(campaign__isnull=False).count() >= 50
    assert not Lead.objects.filter(campaign__isnull=False).exclude(campaign__channel=F("channel")).exists()
    assert not Spend.objects.filter(campaign__isnull=False).exclude(campaign__channel=F("channel")).exists()
    assert Deal.objects.filter(status="won", lead__campaign__isnull=False).exists()
    assert Campaign.objects.count() >= 10
    assert Campaign.objects.values("channel").distinct().count() == Channel.objects.count()


# Orders and subscriptions


def test_orders_fall_while_their_contact_is_a_customer_and_the_first_one_comes_from_the_winning_deal():
    assert Order.objects.count() >= Contact.objects.filter(customer_since__isnull=False).count()
    assert not Order.objects.filter(
        Q(contact__customer_since__isnull=True)
        | Q(ordered_at__lt=F("contact__customer_since"))
        | Q(ordered_at__gte=F("contact__churned_at"))
    ).exists()
    first_orders = Order.objects.filter(ordered_at=F("contact__customer_since"), deal__kind="new")
    assert first_orders.count() == Contact.objects.filter(customer_since__isnull=False).count()
    assert not first_orders.exclude(amount=F("deal__amount")).exists()
    assert not Order.objects.filter(deal__isnull=False).exclude(deal__status="won").exists()


def test_a_few_customers_order_a_lot():
    per_customer = sorted(Order.objects.values("contact").annotate(n=Count("id")).values_list("n", flat=True))

    assert per_customer[-1] >= 3 * median(per_customer)


def test_subscription_chains_are_contiguous_and_end_as_the_customer_did():
    today = local_date(timezone.now())
    chains = defaultdict(list)
    for subscription in Subscription.objects.order_by("starts_on", "id"):
        chains[subscription.contact_id].append(subscription)
    customers = Contact.objects.filter(customer_since__isnull=False)

    assert set(chains) == set(customers.values_list("id", flat=True))
    for contact in customers:
        chain = chains[contact.pk]
        assert chain[0].starts_on == local_date(contact.customer_since)
        assert chain[0].renews_id is None
        for previous, successor in pairwise(chain):
            assert previous.outcome == "renewed"
            assert (successor.renews_id, successor.starts_on) == (previous.pk, previous.ends_on)
        last = chain[-1]
        if contact.churned_at is None:
            assert last.outcome == "active"
            assert last.ends_on > today
        else:
            # The churn rule puts churned_at at the local midnight of the end date: the seeder keeps the
            # contact's own instant, within that same day.
            assert last.outcome in {"cancelled", "expired"}
            assert last.ends_on == local_date(contact.churned_at)
            assert local_midnight(last.ends_on) <= contact.churned_at < local_midnight(last.ends_on + timedelta(days=1))
    assert Subscription.objects.filter(outcome="cancelled").exists()
    assert Subscription.objects.filter(outcome="expired").exists()
    assert not Subscription.objects.filter(outcome="cancelled", cancelled_at__isnull=True).exists()


def test_churned_customers_have_their_churn_on_the_timeline():
    churned = Contact.objects.filter(churned_at__isnull=False)

    assert churned.exists()
    assert SalesEvent.objects.filter(verb="customer_churned").count() == churned.count()
    assert not SalesEvent.objects.filter(verb="customer_churned").exclude(at=F("contact__churned_at")).exists()
    assert (
        SalesEvent.objects.filter(verb="customer_started").count()
        == Contact.objects.filter(customer_since__isnull=False).count()
    )


# Spend


def test_every_channel_has_acquisition_spend_in_each_of_the_last_24_months():
    today = local_date(timezone.now())
    months = set()
    for back in range(24):
        index = today.year * 12 + today.month - 1 - back
        months.add(date(index // 12, index % 12 + 1, 1))
    spent = {
        (channel_id, day.replace(day=1))
        for channel_id, day in Spend.objects.filter(category="acquisition").values_list("channel_id", "spent_on")
    }

    for channel_id in Channel.objects.values_list("id", flat=True):
        assert {month for month in months if (channel_id, month) in spent} == months


def test_spend_is_mostly_acquisition_and_acquisition_cost_is_a_few_hundred_per_customer():
    acquisition = sum(Spend.objects.filter(category="acquisition").values_list("amount", flat=True))
    retention = sum(Spend.objects.filter(category="retention").values_list("amount", flat=True))
    new_customers = Contact.objects.filter(customer_since__isnull=False).count()

    assert 0 < retention < acquisition / 2
    assert 200 <= acquisition / new_customers <= 1500
    assert Spend.objects.filter(campaign__isnull=False).exists()


# Time


def test_nothing_happens_in_the_future():
    now, today = timezone.now(), local_date(timezone.now())

    assert not Lead.objects.filter(Q(created_at__gt=now) | Q(converted_at__gt=now)).exists()
    assert not Deal.objects.filter(Q(created_at__gt=now) | Q(closed_at__gt=now) | Q(stage_changed_at__gt=now)).exists()
    assert not DealStageChange.objects.filter(changed_at__gt=now).exists()
    assert not Order.objects.filter(ordered_at__gt=now).exists()
    assert not Subscription.objects.filter(
        Q(created_at__gt=now) | Q(cancelled_at__gt=now) | Q(starts_on__gt=today)
    ).exists()
    assert not Subscription.objects.exclude(outcome="active").filter(ends_on__gt=today).exists()
    assert not SalesEvent.objects.filter(at__gt=now).exists()
    assert not Spend.objects.filter(spent_on__gt=today).exists()
    assert not Campaign.objects.filter(starts_on__gt=today).exists()


# Idempotent and deterministic


def test_every_row_has_a_demo_external_id():
    for model, kind in ((Campaign, "campaign"), (Spend, "spend"), (Lead, "lead"), (Deal, "deal")):
        assert not model.objects.exclude(external_id__startswith=f"demo-{kind}-").exists()
    for model, kind in ((Order, "order"), (Subscription, "subscription")):
        assert not model.objects.exclude(external_id__startswith=f"demo-{kind}-").exists()


def test_running_again_adds_nothing():
    before = counts()

    output = seed()

    assert counts() == before
    assert any(line.split() == ["deals", "0", f"{before['Deal']:,}"] for line in output.splitlines())


def snapshot() -> list[tuple]:
    return [
        *Lead.objects.order_by("external_id").values_list(
            "external_id", "email", "status", "created_at", "converted_at", "campaign__name"
        ),
        *Deal.objects.order_by("external_id").values_list(
            "external_id", "title", "amount", "stage__name", "created_at", "closed_at", "lead__external_id"
        ),
        *DealStageChange.objects.order_by("deal__external_id", "changed_at", "id").values_list(
            "deal__external_id", "to_stage__name", "changed_at"
        ),
        *Order.objects.order_by("external_id").values_list("external_id", "ordered_at", "amount", "deal__external_id"),
        *Subscription.objects.order_by("external_id").values_list(
            "external_id", "starts_on", "ends_on", "outcome", "amount", "renews__external_id"
        ),
        *Spend.objects.order_by("external_id").values_list("external_id", "spent_on", "amount", "campaign__name"),
    ]


def test_the_same_seed_gives_the_same_data():
    first = snapshot()
    delete_seeded_rows()

    seed()

    assert snapshot() == first
