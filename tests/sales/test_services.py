"""Sales services, told as stories: given records, when one service runs, then what a user sees."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from contacts.models import Company, Contact
from sales import services
from sales.models import Deal, DealStageChange, Lead, Pipeline, SalesEvent, Stage, Subscription
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory
from tests.sales.factories import (
    CampaignFactory,
    DealFactory,
    LeadFactory,
    SubscriptionFactory,
    stage,
)

pytestmark = pytest.mark.django_db


# Leads -----------------------------------------------------------------------------------------


def test_converting_a_lead_creates_contact_company_and_deal_in_first_stage(sales_user):
    campaign = CampaignFactory()
    lead = LeadFactory(email="Ana@Shop.example", company_name="Shop Ltd", campaign=campaign, owner=sales_user)

    deal = services.lead_convert(lead=lead, actor=sales_user, amount=Decimal("900.00"))

    lead.refresh_from_db()
    contact = Contact.objects.get(email="ana@shop.example")
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_at is not None
    assert lead.contact == contact
    assert contact.company.name == "Shop Ltd"
    assert contact.channel == lead.channel
    assert deal.contact == contact and deal.company == contact.company
    assert deal.stage == stage("Qualification") and deal.status == Deal.Status.OPEN
    assert deal.channel == lead.channel and deal.lead.campaign == campaign
    assert deal.amount == Decimal("900.00") and deal.owner == sales_user
    assert DealStageChange.objects.filter(deal=deal, from_stage=None, to_stage=deal.stage).count() == 1


def test_converting_a_lead_links_the_existing_contact_with_that_email(sales_user):
    existing = ContactFactory(email="bo@corp.example")
    lead = LeadFactory(email="BO@corp.example ")

    deal = services.lead_convert(lead=lead, actor=sales_user)

    assert deal.contact == existing
    assert Contact.objects.filter(email="bo@corp.example").count() == 1


def test_converting_a_lead_reuses_a_company_of_the_same_name(sales_user):
    company = CompanyFactory(name="Acme Corp")
    lead = LeadFactory(company_name="ACME corp")

    deal = services.lead_convert(lead=lead, actor=sales_user)

    assert deal.company == company
    assert Company.objects.filter(name__iexact="acme corp").count() == 1


def test_a_converted_lead_cannot_be_converted_again(sales_user):
    lead = LeadFactory()
    services.lead_convert(lead=lead, actor=sales_user)

    with pytest.raises(ValidationError, match="already converted"):
        services.lead_convert(lead=lead, actor=sales_user)

    assert Deal.objects.count() == 1


def test_a_disqualified_lead_cannot_be_converted(sales_user):
    lead = LeadFactory()
    services.lead_disqualify(lead=lead, reason="No budget", actor=sales_user)

    with pytest.raises(ValidationError):
        services.lead_convert(lead=lead, actor=sales_user)

    assert not Deal.objects.exists() and Lead.objects.get().converted_at is None


def test_disqualifying_needs_a_reason_and_records_it(sales_user):
    lead = LeadFactory()

    with pytest.raises(ValidationError, match="why"):
        services.lead_disqualify(lead=lead, reason="  ", actor=sales_user)
    services.lead_disqualify(lead=lead, reason="Student project", actor=sales_user)

    lead.refresh_from_db()
    assert lead.status == Lead.Status.DISQUALIFIED and lead.disqualified_reason == "Student project"
    assert SalesEvent.objects.filter(lead=lead, verb=SalesEvent.Verb.LEAD_DISQUALIFIED).exists()


def test_status_changes_are_recorded_and_closed_leads_stay_closed(sales_user):
    lead = LeadFactory()

    services.lead_change_status(lead=lead, status=Lead.Status.WORKING, actor=sales_user)
    services.lead_convert(lead=lead, actor=sales_user)

    with pytest.raises(ValidationError):
        services.lead_change_status(lead=lead, status=Lead.Status.NEW, actor=sales_user)
    assert SalesEvent.objects.filter(lead=lead, verb=SalesEvent.Verb.LEAD_STATUS).count() == 1


def test_status_cannot_be_set_to_converted_directly(sales_user):
    lead = LeadFactory()

    with pytest.raises(ValidationError):
        services.lead_change_status(lead=lead, status=Lead.Status.CONVERTED, actor=sales_user)

    assert Lead.objects.get().status == Lead.Status.NEW


def test_bulk_assign_gives_every_lead_to_the_owner(sales_user, make_user):
    rep = make_user("sales")
    leads = LeadFactory.create_batch(3, owner=sales_user)

    changed = services.leads_assign(leads=leads, owner=rep, actor=sales_user)

    assert changed == 3
    assert set(Lead.objects.values_list("owner", flat=True)) == {rep.pk}


# Deals -----------------------------------------------------------------------------------------


def test_moving_a_deal_records_the_stage_change(sales_user):
    deal = DealFactory()

    services.deal_move_stage(deal=deal, stage=stage("Proposal"), actor=sales_user)

    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    change = DealStageChange.objects.get(deal=deal)
    assert (change.from_stage.name, change.to_stage.name, change.changed_by) == (
        "Qualification",
        "Proposal",
        sales_user,
    )


def test_a_deal_cannot_move_to_a_stage_of_another_pipeline(sales_user):
    other = Pipeline.objects.create(name="Partners")
    foreign = Stage.objects.create(pipeline=other, name="Intro", position=1, probability=10)
    deal = DealFactory()

    with pytest.raises(ValidationError, match="another pipeline"):
        services.deal_move_stage(deal=deal, stage=foreign, actor=sales_user)

    deal.refresh_from_db()
    assert deal.stage.name == "Qualification" and not DealStageChange.objects.exists()


def test_winning_the_first_deal_makes_the_contact_a_customer(sales_user):
    contact = ContactFactory()
    deal = DealFactory(contact=contact)

    services.deal_mark_won(deal=deal, actor=sales_user)

    deal.refresh_from_db()
    contact.refresh_from_db()
    assert deal.status == Deal.Status.WON and deal.stage.kind == Stage.Kind.WON
    assert deal.closed_at is not None
    assert contact.customer_since == deal.closed_at


def test_winning_another_deal_keeps_the_customer_since_date(sales_user):
    since = timezone.now() - datetime.timedelta(days=100)
    contact = ContactFactory(customer_since=since)
    deal = DealFactory(contact=contact, kind=Deal.Kind.UPSELL)

    services.deal_mark_won(deal=deal, actor=sales_user)

    contact.refresh_from_db()
    assert contact.customer_since == since


def test_a_won_deal_cannot_be_won_again(sales_user):
    deal = DealFactory()
    services.deal_mark_won(deal=deal, actor=sales_user)
    closed_at = Deal.objects.get().closed_at

    with pytest.raises(ValidationError, match="already won"):
        services.deal_mark_won(deal=deal, actor=sales_user)

    assert Deal.objects.get().closed_at == closed_at


def test_losing_needs_a_reason(sales_user):
    deal = DealFactory()

    with pytest.raises(ValidationError, match="why"):
        services.deal_mark_lost(deal=deal, reason="", actor=sales_user)
    services.deal_mark_lost(deal=deal, reason="Went with a competitor", actor=sales_user)

    deal.refresh_from_db()
    assert deal.status == Deal.Status.LOST and deal.lost_reason == "Went with a competitor"
    assert deal.closed_at is not None


def test_moving_to_the_won_stage_wins_the_deal(sales_user):
    deal = DealFactory()

    services.deal_move_stage(deal=deal, stage=stage("Won"), actor=sales_user)

    assert Deal.objects.get().status == Deal.Status.WON


def test_reopening_clears_the_close_and_is_recorded(sales_user):
    deal = DealFactory()
    services.deal_mark_lost(deal=deal, reason="Timing", actor=sales_user)

    services.deal_reopen(deal=deal, actor=sales_user)

    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN and deal.closed_at is None and deal.lost_reason == ""
    assert deal.stage.kind == Stage.Kind.OPEN
    assert SalesEvent.objects.filter(deal=deal, verb=SalesEvent.Verb.DEAL_REOPENED).exists()


def test_reopening_goes_back_to_the_stage_the_deal_was_last_in(sales_user):
    won = DealFactory()
    services.deal_move_stage(deal=won, stage=stage("Proposal"), actor=sales_user)
    services.deal_mark_won(deal=won, actor=sales_user)
    lost = DealFactory()
    services.deal_move_stage(deal=lost, stage=stage("Needs analysis"), actor=sales_user)
    services.deal_mark_lost(deal=lost, reason="Timing", actor=sales_user)

    services.deal_reopen(deal=won, actor=sales_user)
    services.deal_reopen(deal=lost, actor=sales_user)

    won.refresh_from_db()
    lost.refresh_from_db()
    assert (won.stage.name, lost.stage.name) == ("Proposal", "Needs analysis")


def test_reopening_the_deal_that_made_a_customer_undoes_it(sales_user):
    contact = ContactFactory()
    deal = DealFactory(contact=contact)
    services.deal_mark_won(deal=deal, actor=sales_user)

    services.deal_reopen(deal=deal, actor=sales_user)

    contact.refresh_from_db()
    assert contact.customer_since is None


def test_a_won_deal_with_orders_stays_won_and_its_customer_keeps_the_date(sales_user):
    contact = ContactFactory()
    deal = services.deal_mark_won(deal=DealFactory(contact=contact), actor=sales_user)
    became = Contact.objects.get(pk=contact.pk).customer_since
    services.order_create(data={"deal": deal}, actor=sales_user)

    with pytest.raises(ValidationError, match="This deal has 1 order: a deal with orders stays won."):
        services.deal_reopen(deal=deal, actor=sales_user)

    deal.refresh_from_db()
    assert deal.status == "won"
    assert Contact.objects.get(pk=contact.pk).customer_since == became


def test_negative_amounts_are_refused(sales_user):
    contact = ContactFactory()

    with pytest.raises(ValidationError):
        services.deal_create(data={"title": "Bad", "contact": contact, "amount": Decimal("-1")}, actor=sales_user)
    with pytest.raises(ValidationError):
        services.order_create(data={"contact": contact, "amount": Decimal("-5")}, actor=sales_user)

    assert not Deal.objects.exists()


def test_an_order_from_a_won_deal_takes_its_contact_and_amount(sales_user):
    deal = DealFactory(amount=Decimal("1234.50"))
    deal = services.deal_mark_won(deal=deal, actor=sales_user)

    order = services.order_create(data={"deal": deal}, actor=sales_user)

    assert order.contact == deal.contact and order.amount == Decimal("1234.50")


def test_an_order_cannot_come_from_an_open_deal(sales_user):
    deal = DealFactory()

    with pytest.raises(ValidationError, match="won deal"):
        services.order_create(data={"deal": deal}, actor=sales_user)


# Subscriptions and churn -----------------------------------------------------------------------


def test_renewing_closes_the_subscription_and_starts_its_successor(sales_user):
    subscription = SubscriptionFactory(starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2027, 1, 1))

    successor = services.subscription_renew(subscription=subscription, actor=sales_user)

    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.RENEWED
    assert successor.renews == subscription and successor.outcome == Subscription.Outcome.ACTIVE
    assert (successor.starts_on, successor.ends_on) == (datetime.date(2027, 1, 1), datetime.date(2028, 1, 1))


def test_a_cancelled_subscription_cannot_be_renewed(sales_user):
    subscription = SubscriptionFactory()
    services.subscription_cancel(subscription=subscription, actor=sales_user)

    with pytest.raises(ValidationError, match="active"):
        services.subscription_renew(subscription=subscription, actor=sales_user)

    assert Subscription.objects.count() == 1


def test_cancelling_the_last_subscription_churns_the_customer_at_its_end(sales_user, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=400))
    subscription = SubscriptionFactory(contact=contact, ends_on=datetime.date(2027, 1, 1))

    services.subscription_cancel(subscription=subscription, actor=sales_user)

    contact.refresh_from_db()
    assert contact.churned_at == datetime.datetime(2026, 12, 31, 23, 0, tzinfo=datetime.UTC)


def test_cancelling_one_of_two_running_subscriptions_does_not_churn(sales_user):
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=400))
    first = SubscriptionFactory(contact=contact)
    SubscriptionFactory(contact=contact, plan="Add-on")

    services.subscription_cancel(subscription=first, actor=sales_user)

    contact.refresh_from_db()
    assert contact.churned_at is None


def test_the_daily_expiry_marks_due_subscriptions_and_churns_their_customers():
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=800))
    due = SubscriptionFactory(contact=contact, starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 1, 1))
    later = SubscriptionFactory(starts_on=datetime.date(2026, 1, 1), ends_on=datetime.date(2026, 6, 1))

    expired = services.subscriptions_expire_due(today=datetime.date(2026, 1, 1))

    assert expired == 1
    due.refresh_from_db()
    later.refresh_from_db()
    contact.refresh_from_db()
    assert due.outcome == Subscription.Outcome.EXPIRED and later.outcome == Subscription.Outcome.ACTIVE
    assert timezone.localtime(contact.churned_at).date() == datetime.date(2026, 1, 1)


def test_staff_can_mark_a_customer_churned_and_reactivate_it(sales_user):
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=10))

    services.customer_mark_churned(contact=contact, reason="Closed the business", actor=sales_user)
    contact.refresh_from_db()
    assert contact.customer_status == "churned"

    services.customer_reactivate(contact=contact, actor=sales_user)
    contact.refresh_from_db()
    assert contact.customer_status == "customer"
    verbs = set(SalesEvent.objects.filter(contact=contact).values_list("verb", flat=True))
    assert {SalesEvent.Verb.CUSTOMER_CHURNED, SalesEvent.Verb.CUSTOMER_REACTIVATED} <= verbs


def test_a_prospect_cannot_churn(sales_user):
    contact = ContactFactory()

    with pytest.raises(ValidationError, match="current customer"):
        services.customer_mark_churned(contact=contact, reason="x", actor=sales_user)


# Concurrency -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_users_converting_the_same_lead_at_once_make_one_contact_and_one_deal(make_user):
    lead = LeadFactory(email="race@example.com", channel=ChannelFactory(name="Events"))
    users = [make_user("sales"), make_user("sales")]
    barrier = threading.Barrier(2)
    outcomes = []

    def convert(user):
        try:
            barrier.wait(timeout=5)
            services.lead_convert(lead=Lead.objects.get(pk=lead.pk), actor=user)
            outcomes.append("converted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=convert, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(outcomes) == ["converted", "refused"]
    assert Contact.objects.filter(email="race@example.com").count() == 1
    assert Deal.objects.count() == 1


def test_a_yearly_renewal_stays_a_year_across_a_leap_year(sales_user):
    subscription = SubscriptionFactory(starts_on=datetime.date(2026, 11, 23), ends_on=datetime.date(2027, 11, 23))

    successor = services.subscription_renew(subscription=subscription, actor=sales_user)

    assert successor.ends_on == datetime.date(2028, 11, 23)


def test_buying_again_before_a_scheduled_churn_keeps_the_customer(sales_user):
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=400))
    running = SubscriptionFactory(
        contact=contact, starts_on=timezone.localdate(), ends_on=timezone.localdate() + datetime.timedelta(days=30)
    )
    services.subscription_cancel(subscription=running, actor=sales_user)
    contact.refresh_from_db()
    assert contact.churned_at is not None  # scheduled for the end of the term

    services.subscription_create(
        contact=contact,
        plan="Pro",
        amount=Decimal("99.00"),
        starts_on=running.ends_on,
        ends_on=running.ends_on + datetime.timedelta(days=365),
        actor=sales_user,
    )

    contact.refresh_from_db()
    assert contact.churned_at is None


# Editing keeps an order, its deal and its contact together ------------------------------------------------------


def test_an_orders_contact_cannot_move_away_from_its_deals(sales_user):
    deal = services.deal_mark_won(deal=DealFactory(title="Pilot"), actor=sales_user)
    order = services.order_create(data={"deal": deal}, actor=sales_user)
    other = ContactFactory()

    with pytest.raises(ValidationError, match="This order comes from the deal 'Pilot' of another contact"):
        services.order_update(order=order, data={"contact": other})

    order.refresh_from_db()
    assert order.contact_id == deal.contact_id
    moved = services.order_update(order=order, data={"contact": other, "deal": None})
    assert (moved.contact_id, moved.deal_id) == (other.pk, None)


def test_a_won_deal_keeps_its_contact_and_an_open_one_takes_the_new_contacts_company(sales_user):
    won = services.deal_mark_won(deal=DealFactory(), actor=sales_user)
    newcomer = ContactFactory(company=CompanyFactory(name="Vertex"))

    with pytest.raises(ValidationError, match="A won deal keeps its contact"):
        services.deal_update(deal=won, data={"contact": newcomer}, actor=sales_user)
    open_deal = services.deal_update(deal=DealFactory(), data={"contact": newcomer}, actor=sales_user)

    assert open_deal.company.name == "Vertex"


# Who may own a lead, and when a churn may be dated --------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "manager"])
def test_leads_go_only_to_people_who_work_on_leads(sales_user, make_user, role):
    lead = LeadFactory(owner=sales_user)
    outsider = make_user(role, first_name="Ola", last_name="Nord")

    with pytest.raises(ValidationError, match="Ola Nord does not work on leads: choose someone in sales."):
        services.leads_assign(leads=[lead], owner=outsider, actor=sales_user)
    with pytest.raises(ValidationError, match="does not work on leads"):
        services.lead_update(lead=lead, data={"owner": outsider}, actor=sales_user)
    with pytest.raises(ValidationError, match="does not work on leads"):
        services.lead_create(data={"first_name": "Bo", "owner": outsider}, actor=sales_user)

    lead.refresh_from_db()
    assert lead.owner == sales_user


def test_a_churn_cannot_be_dated_in_the_future_nor_in_a_year_typed_wrong(sales_user):
    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=100))

    with pytest.raises(ValidationError, match="A churn is dated now or earlier"):
        services.customer_mark_churned(
            contact=contact, reason="Moved", actor=sales_user, at=timezone.now() + datetime.timedelta(days=30)
        )
    with pytest.raises(ValidationError, match="Enter a date between the years 1900 and 2100."):
        services.customer_mark_churned(
            contact=contact, reason="Moved", actor=sales_user, at=datetime.datetime(1850, 1, 1, tzinfo=datetime.UTC)
        )

    contact.refresh_from_db()
    assert contact.churned_at is None


def test_a_churn_still_to_come_says_so_and_goes_when_the_customer_buys_again(sales_client, sales_user):
    from sales.timeline import contact_timeline

    contact = ContactFactory(customer_since=timezone.now() - datetime.timedelta(days=400))
    ends = timezone.localdate() + datetime.timedelta(days=60)
    subscription = SubscriptionFactory(contact=contact, ends_on=ends)
    services.subscription_cancel(subscription=subscription, actor=sales_user)

    page = sales_client.get(contact.get_absolute_url()).content.decode()
    assert f"<dt>Churn scheduled</dt><dd>{ends:%Y-%m-%d}</dd>" in page
    assert "Customer churn scheduled" in [entry.title for entry in contact_timeline(contact, 20)]

    services.deal_mark_won(deal=DealFactory(contact=contact), actor=sales_user)

    titles = [entry.title for entry in contact_timeline(contact, 20)]
    assert "Customer churn scheduled" not in titles and "Customer churned" not in titles
    assert "Customer reactivated" in titles
    page = sales_client.get(contact.get_absolute_url()).content.decode()
    assert "<dt>Churn scheduled</dt>" not in page and "<dt>Churned</dt>" not in page
