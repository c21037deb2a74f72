"""The backup procedure of the README, for real: pg_dump -Fc of the database, pg_restore into a new empty
database, and the same records are there (and `migrate` finds nothing to do)."""

import os
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from contacts.models import Company, Contact, Interaction
from sales import services as sales_services
from sales.models import Deal, DealStageChange, Lead, Order, Subscription
from support import services as support_services
from support.models import Ticket, TicketMessage
from surveys.models import Invitation, Response
from tests.contacts.factories import CompanyFactory, ContactFactory, InteractionFactory
from tests.sales.factories import LeadFactory, SubscriptionFactory
from tests.surveys.factories import InvitationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# What is compared, per model: a few fields that matter, row by row (ordered by id).
COMPARED = {
    Company: ("name", "domain", "created_at"),
    Contact: ("email", "company_id", "customer_since", "owner_id"),
    Interaction: ("contact_id", "kind", "summary", "occurred_at"),
    Lead: ("email", "status", "converted_at", "contact_id"),
    Deal: ("title", "amount", "status", "stage_id", "closed_at"),
    DealStageChange: ("deal_id", "from_stage_id", "to_stage_id"),
    Order: ("contact_id", "deal_id", "amount", "ordered_at"),
    Subscription: ("contact_id", "plan", "amount", "starts_on", "ends_on", "outcome"),
    Ticket: ("subject", "status", "first_response_at", "agent_replies"),
    TicketMessage: ("ticket_id", "author_kind", "body"),
    Invitation: ("contact_id", "token_hash", "sent_at"),
    Response: ("invitation_id", "score", "comment"),
}


def connection_options(dbname: str) -> dict:
    """psycopg's connection options for a database of the server Django uses (empty settings left out)."""
    db = connection.settings_dict
    options = {"dbname": dbname, "host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return {key: str(value) for key, value in options.items() if value}


def client_environment() -> dict:
    """pg_dump's and pg_restore's connection, from Django's settings (PGHOST, PGPORT, PGUSER, PGPASSWORD)."""
    db = connection.settings_dict
    given = {"PGHOST": db["HOST"], "PGPORT": db["PORT"], "PGUSER": db["USER"], "PGPASSWORD": db["PASSWORD"]}
    return {**os.environ, **{key: str(value) for key, value in given.items() if value}}


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (the PostgreSQL client programs, e.g. apt-get install postgresql-client)")
    return path


@pytest.fixture
def empty_database():
    """A new, empty database on the same server, dropped at the end."""
    name = f"crm_restore_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**connection_options("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield name
    finally:
        with psycopg.connect(**connection_options("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def records(make_user):
    """Some of everything, committed, through the services where they keep times and counters."""
    rep, agent = make_user("sales", username="rep"), make_user("support", username="agent")
    acme = CompanyFactory(name="Acme Robotics", domain="acme.example")
    ada = ContactFactory(email="ada@acme.example", company=acme, owner=rep)
    InteractionFactory.create_batch(3, contact=ada, summary="Demo of the fleet module, ünïcödé")
    lead = LeadFactory(email="grace@navy.example", owner=rep)
    deal = sales_services.lead_convert(lead=lead, actor=rep, amount=Decimal("12500.50"))
    deal = sales_services.deal_mark_won(deal=deal, actor=rep)
    sales_services.order_create(data={"deal": deal, "description": "First year"}, actor=rep)
    SubscriptionFactory(contact=ada, plan="Fleet", amount=Decimal("9900.00"))
    ticket = support_services.ticket_create(contact=ada, subject="Export fails", body="The CSV is empty.")
    support_services.ticket_reply(ticket=ticket, author=agent, body="Fixed; please try again.")
    invitation = InvitationFactory(contact=ada)
    Response.objects.create(invitation=invitation, kind=invitation.survey.kind, score=9, comment="Great support")
    return ada


def rows_here(model, fields) -> list[tuple]:
    return list(model.objects.order_by("pk").values_list("pk", *fields))


def rows_there(restored, model, fields) -> list[tuple]:
    columns = ", ".join(f'"{model._meta.get_field(name).column}"' for name in ("id", *fields))
    return restored.execute(f'SELECT {columns} FROM "{model._meta.db_table}" ORDER BY "id"').fetchall()


def test_a_dump_restored_into_an_empty_database_has_the_same_records(records, empty_database, tmp_path):
    dump = tmp_path / "crm.dump"
    environment = client_environment()

    subprocess.run(
        [program("pg_dump"), "--format=custom", "--file", str(dump), connection.settings_dict["NAME"]],
        env=environment,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [program("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", empty_database, str(dump)],
        env=environment,
        check=True,
        capture_output=True,
    )

    with psycopg.connect(**connection_options(empty_database)) as restored:
        for model, fields in COMPARED.items():
            here = rows_here(model, fields)
            assert here, f"the test made no {model._meta.verbose_name_plural}"
            assert rows_there(restored, model, fields) == here, model._meta.label
        (entries,) = restored.execute("SELECT count(*) FROM audit_auditentry").fetchone()
        assert entries > 10  # the audit trail comes along
    # The restored database is at the code's migrations: `migrate` (run after a restore) has nothing to do.
    database_url = f"postgres:///{empty_database}"
    check = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "migrate", "--check"],
        env={**environment, "DATABASE_URL": database_url, "SECRET_KEY": "backup-test"},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
