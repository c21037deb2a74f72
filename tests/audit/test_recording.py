"""Who is recorded for changes made outside the pages' forms: the admin, bulk actions, periodic tasks, the
CSV import (page and command line); what is not recorded; and what a record's History costs."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.context import acting
from audit.models import AuditEntry
from contacts.models import Company, Contact
from support import services as support_services
from support.models import Ticket
from support.tasks import close_resolved_tickets
from tests.audit.conftest import entries_of, history_section, name
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.sales.factories import LeadFactory

pytestmark = pytest.mark.django_db

COMPANIES = b"external_id,name,industry\nco-1,Acme GmbH,Software\nco-2,Globex,Retail\n"
COMPANIES_CHANGED = b"external_id,name,industry\nco-1,Acme GmbH,Robotics\nco-2,Globex,Retail\n"


def newest_entry(client, record) -> str:
    return entries_of(history_section(client.get(record.get_absolute_url())))[0]


def test_a_change_in_the_admin_site_is_recorded_with_the_administrator(admin_client, admin_role_user):
    company = CompanyFactory(name="Initech", domain="initech.com", industry="Software", region="Europe")
    form = {"name": "Initrode", "domain": "initech.com", "industry": "Software", "size_band": "", "region": "Europe"}
    form |= {"owner": "", "external_id": "", "created_at_0": "2026-01-05", "created_at_1": "09:00:00"}

    response = admin_client.post(reverse("admin:contacts_company_change", args=[company.pk]), form)

    assert response.status_code == 302
    newest = newest_entry(admin_client, company)
    assert newest.startswith("Changed") and f"{name(admin_role_user)} · admin" in newest
    assert "Name Initech Initrode" in newest


def test_bulk_assign_records_the_new_owner_of_each_lead(sales_client, sales_user, make_user):
    colleague = make_user("sales", first_name="Rita", last_name="Rep")
    leads = LeadFactory.create_batch(2, owner=sales_user)

    sales_client.post(reverse("sales:lead_assign"), {"leads": [lead.pk for lead in leads], "owner": colleague.pk})

    for lead in leads:
        newest = newest_entry(sales_client, lead)
        assert f"{name(sales_user)} · page" in newest
        assert f"Owner {name(sales_user)} Rita Rep" in newest


def test_what_a_task_changes_is_the_system_s_even_when_it_runs_within_a_request(client, support_user):
    ticket = support_services.ticket_create(contact=ContactFactory(), subject="Old", body="Hello")
    support_services.ticket_resolve(ticket=ticket, actor=support_user)
    month_ago = timezone.now() - datetime.timedelta(days=30)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=month_ago, resolved_at=month_ago)
    client.force_login(support_user)

    with acting(user=support_user):  # as when a page runs a task in-process (no broker)
        close_resolved_tickets.delay()

    newest = newest_entry(client, ticket)
    assert newest.startswith("Changed") and "system · system" in newest
    assert "Status Resolved Closed" in newest


def test_an_import_records_its_records_as_made_by_the_user_who_ran_it(
    client, manager_user, django_capture_on_commit_callbacks
):
    client.force_login(manager_user)

    for content in (COMPANIES, COMPANIES_CHANGED):
        with django_capture_on_commit_callbacks(execute=True):
            upload = {"kind": "companies", "file": SimpleUploadedFile("companies.csv", content)}
            job = client.post(reverse("contacts:import_list"), upload)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"{job.url}confirm/", {"skip_bad_rows": "0"})

    entries = entries_of(history_section(client.get(Company.objects.get(external_id="co-1").get_absolute_url())))
    assert len(entries) == 2
    changed, created = entries
    assert changed.startswith("Changed") and f"{name(manager_user)} · import · Import " in changed
    assert ": companies.csv" in changed and "Industry Software Robotics" in changed
    assert created.startswith("Created") and f"{name(manager_user)} · import" in created
    globex = Company.objects.get(external_id="co-2")
    assert AuditEntry.objects.filter(model="contacts.company", object_id=globex.pk).count() == 1  # unchanged


def test_the_command_line_import_is_recorded_as_the_system_s(tmp_path, admin_client):
    path = tmp_path / "companies.csv"
    path.write_bytes(COMPANIES)

    call_command("import_records", "companies", str(path))

    newest = newest_entry(admin_client, Company.objects.get(external_id="co-1"))
    assert newest.startswith("Created") and "system · import · import_records companies companies.csv" in newest


def test_a_dry_run_records_nothing(tmp_path):
    path = tmp_path / "companies.csv"
    path.write_bytes(COMPANIES)

    call_command("import_records", "companies", str(path), "--dry-run")

    assert not AuditEntry.objects.exists()


def test_a_change_that_is_rolled_back_leaves_no_entry():
    contact = ContactFactory(phone="")
    before = AuditEntry.objects.count()

    def save_then_fail():
        with transaction.atomic():
            contact.phone = "+1 555 0100"
            contact.save()
            raise RuntimeError("the database failed after the save")

    with pytest.raises(RuntimeError):
        save_then_fail()

    assert AuditEntry.objects.count() == before


def test_saving_a_record_unchanged_records_nothing():
    contact = ContactFactory()
    before = AuditEntry.objects.count()

    Contact.objects.get(pk=contact.pk).save()

    assert AuditEntry.objects.count() == before


def test_the_record_page_costs_the_same_queries_however_long_its_history(
    sales_client, make_user, django_assert_max_num_queries
):
    owners = [make_user("sales") for _ in range(4)]
    few, many = LeadFactory(), LeadFactory()
    few.owner = owners[0]
    few.save()
    for number, owner in enumerate(owners * 10):
        many.owner, many.phone = owner, f"+1 555 01{number:02d}"
        many.save()
    owners[0].delete()  # an owner who is gone: named "(deleted)", one more query for both pages

    with django_assert_max_num_queries(30) as with_two_entries:
        sales_client.get(few.get_absolute_url())
    with django_assert_max_num_queries(len(with_two_entries)):
        response = sales_client.get(many.get_absolute_url())

    assert len(entries_of(history_section(response))) == 41
    assert "Owner" in history_section(response) and "(deleted)" in history_section(response)


def test_deleting_a_user_shows_on_the_records_they_owned(admin_client, make_user):
    leaver = make_user("sales", username="leaver")
    contact = ContactFactory(owner=leaver)

    with acting(user=None):
        leaver.delete()

    newest = newest_entry(admin_client, contact)
    assert newest.startswith("Changed") and "system · system · user “leaver” was deleted" in newest
    assert f"Owner #{contact.owner_id} (deleted) —" in newest
