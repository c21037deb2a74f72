"""What the contact, company and interaction exports write, cell by cell: for people, and for re-import."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.exports import csv_records

pytestmark = pytest.mark.django_db

CONTACT_LIST = reverse("contacts:contact_list")
COMPANY_LIST = reverse("contacts:company_list")
CREATED = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
WON = datetime(2025, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)
CHURNED = datetime(2026, 1, 31, 17, 45, tzinfo=UTC)


def exported(client, url, **params) -> list[dict]:
    return csv_records(client.get(url, params))


@pytest.fixture
def ada(make_user):
    owner = make_user("sales", username="owen", email="owen.owner@example.com", first_name="Owen", last_name="Ng")
    company = CompanyFactory(name="Acme", external_id="ACME-1", owner=owner, size_band="11-50", industry="Robotics")
    return ContactFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@acme.example",
        phone="+44 20 7946 0000",
        company=company,
        job_title="CTO",
        region="Europe",
        industry="",
        channel=ChannelFactory(name="Referral"),
        owner=owner,
        created_at=CREATED,
        customer_since=WON,
        churned_at=CHURNED,
        email_opt_out=True,
        external_id="OLD-42",
    )


def test_contacts_for_re_import_are_written_in_the_import_format(sales_client, ada):
    (row,) = exported(sales_client, CONTACT_LIST, export="reimport")

    assert row == {
        "external_id": "OLD-42",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@acme.example",
        "phone": "+44 20 7946 0000",
        "company": "ACME-1",
        "region": "Europe",
        "industry": "",
        "channel": "Referral",
        "owner_email": "owen.owner@example.com",
        "created_at": "2025-03-04T09:30:00+00:00",
        "customer_since": "2025-06-01T12:00:00.250000+00:00",
        "churned_at": "2026-01-31T17:45:00+00:00",
        "opted_out": "true",
    }


def test_contacts_for_people_are_written_readably(sales_client, ada):
    (row,) = exported(sales_client, CONTACT_LIST, export="csv")

    assert row == {
        "First name": "Ada",
        "Last name": "Lovelace",
        "E-mail": "ada@acme.example",
        "Phone": "'+44 20 7946 0000",
        "Company": "Acme",
        "Job title": "CTO",
        "Region": "Europe",
        "Industry": "Robotics",
        "Channel": "Referral",
        "Owner": "Owen Ng",
        "Status": "churned",
        "Customer since": "2025-06-01T12:00:00+00:00",
        "Churned at": "2026-01-31T17:45:00+00:00",
        "Opted out of e-mail": "yes",
        "Last touch": "",
        "Created": "2025-03-04T09:30:00+00:00",
        "External id": "OLD-42",
    }


def test_times_are_written_with_the_offset_of_the_business_time_zone(sales_client, ada, settings):
    settings.TIME_ZONE = "Europe/Paris"

    (for_import,) = exported(sales_client, CONTACT_LIST, export="reimport")
    (for_people,) = exported(sales_client, CONTACT_LIST, export="csv")

    assert for_import["created_at"] == "2025-03-04T10:30:00+01:00"
    assert for_import["customer_since"] == "2025-06-01T14:00:00.250000+02:00"
    assert for_people["Created"] == "2025-03-04T10:30:00+01:00"


def test_records_without_an_external_id_get_one_that_every_reference_uses(sales_client):
    company = CompanyFactory(name="Nameless")
    contact = ContactFactory(company=company, external_id="")

    (contact_row,) = exported(sales_client, CONTACT_LIST, export="reimport")
    (company_row,) = exported(sales_client, COMPANY_LIST, export="reimport")

    assert contact_row["external_id"] == f"crm-contact-{contact.pk}"
    assert contact_row["company"] == company_row["external_id"] == f"crm-company-{company.pk}"


def test_a_contact_without_company_channel_or_owner_leaves_those_cells_empty(sales_client):
    ContactFactory(company=None, channel=None, owner=None, customer_since=None, email_opt_out=False)

    (row,) = exported(sales_client, CONTACT_LIST, export="reimport")

    assert (row["company"], row["channel"], row["owner_email"], row["customer_since"]) == ("", "", "", "")
    assert row["opted_out"] == "false"


def test_companies_for_re_import_are_written_in_the_import_format(sales_client, ada):
    (row,) = exported(sales_client, COMPANY_LIST, export="reimport")

    assert row == {
        "external_id": "ACME-1",
        "name": "Acme",
        "domain": ada.company.domain,
        "industry": "Robotics",
        "size": "11-50",
        "region": "Europe",
        "owner_email": "owen.owner@example.com",
    }


def test_companies_for_people_show_their_contact_count(sales_client, ada):
    ContactFactory(company=ada.company)

    (row,) = exported(sales_client, COMPANY_LIST, export="csv")

    assert (row["Name"], row["Size"], row["Owner"], row["Contacts"]) == ("Acme", "11-50", "Owen Ng", "2")


def test_interactions_for_re_import_are_written_in_the_import_format(sales_api, ada, sales_user):
    InteractionFactory(
        contact=ada,
        kind="meeting",
        direction="inbound",
        occurred_at=CREATED,
        user=sales_user,
        summary="Demo, then questions about pricing",
        external_id="INT-1",
    )

    (row,) = csv_records(sales_api.get("/api/interactions/", {"export": "reimport"}))

    assert row == {
        "external_id": "INT-1",
        "contact": "OLD-42",
        "kind": "meeting",
        "direction": "inbound",
        "occurred_at": "2025-03-04T09:30:00+00:00",
        "user_email": sales_user.email,
        "summary": "Demo, then questions about pricing",
    }


def test_the_contacts_api_and_page_write_the_same_import_rows(sales_client, sales_api, ada):
    ContactFactory(company=None)

    from_page = exported(sales_client, CONTACT_LIST, export="reimport", ordering="email")
    from_api = csv_records(sales_api.get("/api/contacts/", {"export": "reimport", "ordering": "email"}))

    assert from_page == from_api
