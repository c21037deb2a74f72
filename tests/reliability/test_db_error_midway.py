"""A database error in the middle of a service leaves nothing of it behind.

The error is real: a PostgreSQL trigger, created by the test, refuses one of the service's last writes. The
service runs outside any test transaction (transactional_db), so what it wrote before the error would stay
if it were not one transaction.
"""

import datetime

import pytest
from django.core import mail
from django.db import DatabaseError, connection

from contacts.import_jobs import import_job_run
from contacts.models import Channel, Company, Contact, ImportJob
from kpis.models import KpiStaleMark
from sales import services as sales_services
from sales.models import Deal, DealStageChange, Lead, Order, SalesEvent, Subscription
from support import services as support_services
from support.models import Ticket, TicketEvent
from surveys.models import Invitation, SurveyKind
from tests.contacts.factories import ContactFactory
from tests.factories import UserFactory
from tests.sales.factories import DealFactory, LeadFactory, SubscriptionFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import SurveyFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refuse_writes():
    """refuse_writes(table, when) makes PostgreSQL raise on each insert into `table` whose row matches `when`."""
    triggers = []

    def install(table: str, when: str = "true", event: str = "INSERT") -> None:
        name = f"crm_test_refuse_{len(triggers)}"
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION crm_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'forced failure writing to %', TG_TABLE_NAME; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN ({when}) "
                "EXECUTE FUNCTION crm_test_refuse()"
            )
        triggers.append((name, table))

    yield install
    with connection.cursor() as cursor:
        for name, table in triggers:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS crm_test_refuse()")


def test_converting_a_lead_that_fails_at_its_last_write_creates_no_contact_company_or_deal(refuse_writes):
    lead = LeadFactory(email="ada@newco.example", company_name="Newco", first_name="Ada")
    refuse_writes("sales_salesevent", "NEW.verb = 'deal_created'")  # the very last row it writes

    with pytest.raises(DatabaseError, match="forced failure"):
        sales_services.lead_convert(lead=lead, actor=UserFactory(role="sales"))

    lead.refresh_from_db()
    assert (lead.status, lead.converted_at, lead.contact_id) == (Lead.Status.NEW, None, None)
    assert not Contact.objects.exists() and not Company.objects.exists()
    assert not Deal.objects.exists() and not DealStageChange.objects.exists() and not SalesEvent.objects.exists()


def test_winning_a_deal_that_fails_when_its_contact_becomes_a_customer_leaves_the_deal_open(refuse_writes):
    deal = DealFactory(contact=ContactFactory())
    changes_before = DealStageChange.objects.count()
    refuse_writes("sales_salesevent", "NEW.verb = 'customer_started'")

    with pytest.raises(DatabaseError, match="forced failure"):
        sales_services.deal_mark_won(deal=deal)

    deal.refresh_from_db()
    deal.contact.refresh_from_db()
    assert (deal.status, deal.closed_at, deal.contact.customer_since) == (Deal.Status.OPEN, None, None)
    assert DealStageChange.objects.count() == changes_before
    assert not SalesEvent.objects.exists()


def test_resolving_a_ticket_whose_survey_invitation_fails_leaves_the_ticket_unresolved(refuse_writes):
    SurveyFactory(kind=SurveyKind.CSAT, send_on_ticket_resolved=True)
    ticket = TicketFactory(contact=ContactFactory(), status=Ticket.Status.OPEN)
    refuse_writes("surveys_invitation")

    with pytest.raises(DatabaseError, match="forced failure"):
        support_services.ticket_resolve(ticket=ticket, actor=UserFactory(role="support"))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at) == (Ticket.Status.OPEN, None)
    assert not TicketEvent.objects.filter(verb="resolved").exists()
    assert not Invitation.objects.exists() and mail.outbox == []


def test_renewing_a_subscription_that_fails_at_the_successor_keeps_the_old_one_active(refuse_writes):
    subscription = SubscriptionFactory(starts_on=datetime.date(2025, 1, 1), ends_on=datetime.date(2026, 1, 1))
    refuse_writes("sales_subscription", "NEW.renews_id IS NOT NULL")  # the successor, after the old one's update

    with pytest.raises(DatabaseError, match="forced failure"):
        sales_services.subscription_renew(subscription=subscription)

    subscription.refresh_from_db()
    assert subscription.outcome == Subscription.Outcome.ACTIVE
    assert Subscription.objects.count() == 1 and not SalesEvent.objects.exists()


def test_an_order_the_database_refuses_leaves_no_order_and_no_kpi_mark(refuse_writes):
    contact = ContactFactory()
    marks_before = KpiStaleMark.objects.count()
    refuse_writes("sales_order")

    with pytest.raises(DatabaseError, match="forced failure"):
        sales_services.order_create(
            data={"contact": contact, "amount": 99, "ordered_at": datetime.datetime.now(datetime.UTC)}
        )

    assert not Order.objects.exists()
    assert KpiStaleMark.objects.count() == marks_before  # no KPI period recomputed for an order that is not there


def test_an_import_that_the_database_refuses_at_its_fourth_row_imports_nothing(refuse_writes):
    rows = [f"ct-{n},Person{n},p{n}@example.com,Webinar {n},2025-03-0{n}T10:00:00Z" for n in range(1, 6)]
    content = ("external_id,first_name,email,channel,created_at\n" + "\n".join(rows) + "\n").encode()
    job = ImportJob.objects.create(
        kind="contacts", file_name="contacts.csv", content=content, size=len(content), status=ImportJob.Status.QUEUED
    )
    refuse_writes("contacts_contact", "NEW.email = 'p4@example.com'")

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "refused" in str(job.problems)
    assert not Contact.objects.exists()
    assert not Channel.objects.filter(name__startswith="Webinar").exists()  # the channels it made went too
