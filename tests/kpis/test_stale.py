"""Stale marks: a change to an old record, once committed, brings its periods into the next periodic refresh."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from contacts import registry as contacts_registry
from contacts.models import Contact
from kpis import services
from kpis.definitions.base import registry
from kpis.models import KpiSnapshot, KpiStaleMark
from kpis.periods import GRANULARITIES, open_periods
from kpis.services import kpis_refresh, kpis_refresh_open
from sales.models import Order
from tests.contacts.factories import ContactFactory
from tests.sales.factories import OrderFactory

pytestmark = pytest.mark.django_db

A_YEAR_AGO = timezone.now().replace(microsecond=0) - datetime.timedelta(days=365)
# Out of the open months (this one and the last), and a shorter refresh than a year's.
THREE_MONTHS_AGO = timezone.now().replace(microsecond=0) - datetime.timedelta(days=92)


@pytest.fixture
def customer():
    return ContactFactory()


def month_of(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date().replace(day=1)


def revenue_of_month(moment: datetime.datetime) -> Decimal:
    return KpiSnapshot.objects.get(
        kpi="revenue", granularity="month", dimension="all", segment="all", period_start=month_of(moment)
    ).value


def refreshed_revenue(customer, moment: datetime.datetime) -> None:
    """One order of 100 at `moment`, its month refreshed (and every month since)."""
    OrderFactory(contact=customer, ordered_at=moment, amount=Decimal("100.00"))
    kpis_refresh(keys=["revenue"], granularities=["month"], since=month_of(moment))
    assert revenue_of_month(moment) == 100


def marks() -> list[tuple[datetime.datetime, str]]:
    return list(KpiStaleMark.objects.values_list("since", "reason"))


def test_saving_an_order_dated_a_year_back_marks_its_period_stale_once_committed(
    customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        OrderFactory(contact=customer, ordered_at=A_YEAR_AGO)
        assert marks() == []  # nothing before the commit

    assert len(callbacks) == 1
    assert marks() == [(A_YEAR_AGO, "sales.Order")]


def test_a_change_rolled_back_marks_nothing(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        OrderFactory(contact=customer, ordered_at=A_YEAR_AGO)
        transaction.set_rollback(True)

    assert marks() == []


def test_moving_an_order_out_of_an_old_month_marks_the_old_month(customer, django_capture_on_commit_callbacks):
    order = OrderFactory(contact=customer, ordered_at=A_YEAR_AGO)
    order.refresh_from_db()  # as a page or the API loads it

    with django_capture_on_commit_callbacks(execute=True):
        order.ordered_at = timezone.now()
        order.save()

    assert marks() == [(A_YEAR_AGO, "sales.Order")]


def test_deleting_an_old_order_marks_its_period(customer, django_capture_on_commit_callbacks):
    order = OrderFactory(contact=customer, ordered_at=A_YEAR_AGO)

    with django_capture_on_commit_callbacks(execute=True):
        order.delete()

    assert marks() == [(A_YEAR_AGO, "sales.Order")]


def test_an_import_refreshes_the_history_it_touched_at_once(customer):
    refreshed_revenue(customer, A_YEAR_AGO)
    OrderFactory(contact=customer, ordered_at=A_YEAR_AGO, amount=Decimal("50"))  # bulk-loaded: no signal, no mark

    for listener in contacts_registry.history_listeners():
        listener(A_YEAR_AGO, ("sales_order",))

    assert revenue_of_month(A_YEAR_AGO) == 150
    assert marks() == []


def test_an_import_leaves_a_mark_when_the_refresh_cannot_run_now(customer):
    imported_from = A_YEAR_AGO - datetime.timedelta(days=30)
    lock = services._acquire("open")  # a periodic refresh is running

    for listener in contacts_registry.history_listeners():
        listener(imported_from, ("sales_order", "contacts_contact"))

    assert marks() == [(imported_from, "import"), (imported_from, "import")]
    assert sorted(KpiStaleMark.objects.values_list("table", flat=True)) == ["contacts_contact", "sales_order"]
    services._release("open", lock)


def test_the_periodic_refresh_recomputes_a_stale_old_month_and_removes_the_marks(
    customer, django_capture_on_commit_callbacks
):
    refreshed_revenue(customer, A_YEAR_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(contact=customer, ordered_at=A_YEAR_AGO, amount=Decimal("50"))

    summary = kpis_refresh_open()

    assert revenue_of_month(A_YEAR_AGO) == 150
    assert summary.periods > 2 * 4  # more than the open periods
    assert marks() == []


def test_without_a_mark_the_periodic_refresh_leaves_old_months_alone(customer):
    refreshed_revenue(customer, THREE_MONTHS_AGO)
    OrderFactory(contact=customer, ordered_at=THREE_MONTHS_AGO, amount=Decimal("50"))  # never committed: no mark

    summary = kpis_refresh_open()

    assert revenue_of_month(THREE_MONTHS_AGO) == 100
    # the current week, month, quarter and year (and the previous one on the first day after it)
    assert summary.periods == sum(len(open_periods(granularity)) for granularity in GRANULARITIES)


def test_marks_stay_when_the_periodic_refresh_fails_and_are_honoured_next_time(
    customer, django_capture_on_commit_callbacks, monkeypatch
):
    refreshed_revenue(customer, THREE_MONTHS_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        OrderFactory(contact=customer, ordered_at=THREE_MONTHS_AGO, amount=Decimal("50"))

    def broken(query):
        raise RuntimeError("cut short")

    monkeypatch.setattr(registry()["survey_response_rate"], "components", broken)
    with pytest.raises(RuntimeError):
        kpis_refresh_open()
    assert len(marks()) == 1

    monkeypatch.undo()
    kpis_refresh_open()

    assert revenue_of_month(THREE_MONTHS_AGO) == 150
    assert marks() == []


def test_a_mark_made_while_the_periodic_refresh_runs_is_kept_for_the_next_one():
    def imported(since):  # a committed change to a record
        services.kpis_mark_stale(since=since, reason="sales.Order")

    imported(THREE_MONTHS_AGO)
    seen_at_start = KpiStaleMark.objects.get()
    made_meanwhile = []

    def meanwhile(step, done, total):
        if done == 1:
            imported(THREE_MONTHS_AGO)
            made_meanwhile.append(KpiStaleMark.objects.latest("pk").pk)

    kpis_refresh_open(progress=meanwhile)

    assert made_meanwhile[0] != seen_at_start.pk
    assert list(KpiStaleMark.objects.values_list("pk", flat=True)) == made_meanwhile


def test_records_loaded_with_deferred_fields_cost_no_extra_query(customer, django_assert_num_queries):
    OrderFactory.create_batch(3, contact=customer)
    ContactFactory.create_batch(2)

    with django_assert_num_queries(1):
        amounts = [order.amount for order in Order.objects.only("amount")]
    with django_assert_num_queries(1):
        names = [contact.first_name for contact in Contact.objects.only("first_name")]
    with django_assert_num_queries(1):
        customer.refresh_from_db(fields=["email"])

    assert (len(amounts), len(names)) == (3, 3)


def test_a_date_changed_on_a_record_loaded_with_deferred_fields_still_marks(
    customer, django_capture_on_commit_callbacks
):
    OrderFactory(contact=customer)
    order = Order.objects.only("id").get()

    with django_capture_on_commit_callbacks(execute=True):
        order.ordered_at = A_YEAR_AGO
        order.save(update_fields=["ordered_at"])

    assert marks() == [(A_YEAR_AGO, "sales.Order")]


def test_leads_reassigned_in_bulk_move_to_their_new_owner_in_old_months_at_the_next_periodic_refresh(
    django_capture_on_commit_callbacks,
):
    """A bulk update sends no signals: `audit.bulk_update` marks the periods itself."""
    from sales.services import leads_assign
    from tests.factories import UserFactory
    from tests.sales.factories import LeadFactory

    ann, bob = UserFactory(username="ann", role="sales"), UserFactory(username="bob", role="sales")
    leads = LeadFactory.create_batch(2, owner=ann, created_at=THREE_MONTHS_AGO)
    kpis_refresh(keys=["new_leads"], granularities=["month"], since=month_of(THREE_MONTHS_AGO))

    def leads_of(owner: str):
        return KpiSnapshot.objects.filter(
            kpi="new_leads",
            granularity="month",
            dimension="owner",
            segment=owner,
            period_start=month_of(THREE_MONTHS_AGO),
        ).values_list("value", flat=True)

    assert list(leads_of("ann")) == [2]
    with django_capture_on_commit_callbacks(execute=True):
        leads_assign(leads=leads, owner=bob)

    assert marks() == [(THREE_MONTHS_AGO, "sales.Lead (bulk)")]
    kpis_refresh_open()
    assert list(leads_of("bob")) == [2]
    assert list(leads_of("ann")) == []


def test_closing_old_resolved_tickets_marks_nothing_and_expiring_subscriptions_marks_their_end(
    django_capture_on_commit_callbacks,
):
    """No KPI reads a ticket's status or closing time: the daily closing of resolved tickets must not send the
    periodic refresh back to when the oldest of them was opened. An expired subscription changes the renewal
    rate of the period it ended in."""
    from sales.services import subscriptions_expire_due
    from support.services import tickets_close_resolved
    from tests.kpis.conftest import make_subscription, make_ticket

    make_ticket(A_YEAR_AGO, first_response=A_YEAR_AGO, resolved=THREE_MONTHS_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        assert tickets_close_resolved(older_than_days=7) == 1
    assert marks() == []

    ended = timezone.localdate(THREE_MONTHS_AGO)
    make_subscription(ContactFactory(), ended, "active")
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions_expire_due()
    assert [reason for _, reason in marks()] == ["sales.Subscription (bulk)"]
    assert timezone.localtime(marks()[0][0]).date() <= ended


def test_what_labels_other_records_marks_all_history_when_it_changes_and_only_then(
    customer, django_capture_on_commit_callbacks
):
    """A user's name labels the contacts, deals, leads and tickets they own, of any date; logging in (which
    saves the user) relabels nothing."""
    from django.contrib.auth.models import User

    from kpis.stale import ALL_HISTORY

    user = User.objects.create_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        user = User.objects.get(pk=user.pk)
        user.last_login = timezone.now()
        user.save()
        customer.first_name = "Ada"
        customer.save()  # its own dates mark; its name labels nothing
    assert [reason for _, reason in marks()] == ["contacts.Contact"]

    KpiStaleMark.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        user.username = "ann.smith"
        user.save()
    assert marks() == [(ALL_HISTORY, "auth.User labels")]


def test_contacts_given_another_owner_in_bulk_mark_from_their_earliest_record(
    customer, django_capture_on_commit_callbacks
):
    """Their orders, subscriptions and answers of any date are counted under their owner: history changes from
    the earliest of them, here an order older than the contact itself."""
    from audit import recording as audit
    from tests.factories import UserFactory

    OrderFactory(contact=customer, ordered_at=A_YEAR_AGO)
    OrderFactory(contact=ContactFactory(), ordered_at=A_YEAR_AGO - datetime.timedelta(days=30))  # another's
    KpiStaleMark.objects.all().delete()
    customer.owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        audit.bulk_update([customer], ["owner"])

    assert marks() == [(A_YEAR_AGO, "contacts.Contact labels (bulk)")]


def test_a_contact_moved_to_another_region_marks_from_its_earliest_record(customer, django_capture_on_commit_callbacks):
    from tests.sales.factories import SubscriptionFactory

    OrderFactory(contact=customer, ordered_at=THREE_MONTHS_AGO)
    SubscriptionFactory(contact=customer, starts_on=timezone.localdate(A_YEAR_AGO))
    KpiStaleMark.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        customer.region = "Elsewhere"
        customer.save()

    reasons = {reason: since for since, reason in marks()}
    assert timezone.localtime(reasons["contacts.Contact labels"]).date() == timezone.localdate(A_YEAR_AGO)
