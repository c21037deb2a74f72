"""Importing companies, contacts and interactions: what each kind writes and the rules it checks."""

import datetime

import pytest

from contacts.models import Company, Contact, Interaction
from tests.contacts.factories import ContactFactory
from tests.imports.conftest import problems, reasons

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def companies(import_csv):
    import_csv("companies", "external_id,name,industry\nco-1,Acme GmbH,Software")


def test_companies_are_imported_with_their_details(import_csv, make_user):
    owner = make_user("sales", email="sam@example.com")

    result = import_csv(
        "companies",
        """
        external_id,name,domain,industry,size,region,owner_email
        co-1,Acme GmbH,acme.example,Software,11-50,Europe,sam@example.com
        """,
    )

    assert (result.created, result.exit_code) == (1, 0)
    company = Company.objects.get(external_id="co-1")
    assert (company.name, company.domain, company.industry, company.size_band, company.region, company.owner) == (
        "Acme GmbH",
        "acme.example",
        "Software",
        "11-50",
        "Europe",
        owner,
    )


def test_a_company_size_outside_the_bands_is_an_error(import_csv):
    result = import_csv("companies", "external_id,name,size\nco-1,Acme,huge")

    assert problems(result) == [(2, "size")]
    assert "1-10, 11-50" in reasons(result)


def test_contacts_are_imported_with_their_customer_dates_as_given(import_csv, companies):
    result = import_csv(
        "contacts",
        """
        external_id,first_name,last_name,email,phone,company,region,industry,channel,created_at,customer_since,churned_at,opted_out
        c-1,Ada,Keller,ada@acme.example,+49,co-1,Europe,,Referral,2024-01-08T10:00Z,2024-02-15T14:00Z,2024-11-30T00:00Z,1
        """,
    )

    assert result.created == 1
    contact = Contact.objects.select_related("company", "channel").get(external_id="c-1")
    assert (contact.full_name, contact.email, contact.company.name, contact.channel.name) == (
        "Ada Keller",
        "ada@acme.example",
        "Acme GmbH",
        "Referral",
    )
    assert contact.created_at == datetime.datetime(2024, 1, 8, 10, 0, tzinfo=UTC)
    assert contact.customer_since == datetime.datetime(2024, 2, 15, 14, 0, tzinfo=UTC)
    assert contact.churned_at == datetime.datetime(2024, 11, 30, tzinfo=UTC)
    assert (contact.email_opt_out, contact.effective_industry) == (True, "Software")


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",,,2024-01-08T10:00Z,,", "first_name", "first name, a last name or an e-mail"),
        ("Ada,,,2024-01-08T10:00Z,,2024-03-01T00:00Z", "churned_at", "customer_since is empty"),
        ("Ada,,,2024-01-08T10:00Z,2024-03-01T00:00Z,2024-02-01T00:00Z", "churned_at", "before customer_since"),
    ],
)
def test_contact_rules(import_csv, row, column, reason):
    result = import_csv(
        "contacts", f"external_id,first_name,last_name,email,created_at,customer_since,churned_at\nc-1,{row}"
    )

    assert problems(result) == [(2, column)]
    assert reason in reasons(result)


def test_an_e_mail_twice_in_the_file_is_an_error_on_the_second(import_csv):
    result = import_csv(
        "contacts",
        """
        external_id,email,created_at
        c-1,ada@example.com,2024-01-08T10:00Z
        c-2,ADA@example.com,2024-01-08T10:00Z
        """,
    )

    assert problems(result) == [(3, "email")]
    assert "already on line 2" in reasons(result)


def test_an_e_mail_of_another_contact_is_an_error(import_csv):
    ContactFactory(email="ada@example.com", external_id="")

    result = import_csv("contacts", "external_id,email,created_at\nc-1,Ada@Example.com,2024-01-08T10:00Z")

    assert problems(result) == [(2, "email")]
    assert "another contact" in reasons(result)


def test_a_contact_keeps_its_own_e_mail_when_imported_again(import_csv):
    import_csv("contacts", "external_id,email,first_name,created_at\nc-1,ada@example.com,Ada,2024-01-08T10:00Z")

    result = import_csv(
        "contacts", "external_id,email,first_name,created_at\nc-1,ada@example.com,Adeline,2024-01-08T10:00Z"
    )

    assert (result.updated, Contact.objects.get().first_name) == (1, "Adeline")


def test_interactions_are_imported_with_their_contact_and_user(import_csv, make_user):
    agent = make_user("sales", email="sam@example.com")
    ContactFactory(external_id="c-1")

    import_csv(
        "interactions",
        """
        external_id,contact,kind,direction,occurred_at,user_email,summary
        i-1,c-1,call,outbound,2024-01-10T11:00:00+01:00,sam@example.com,"Discovery call, 40 robots"
        """,
    )

    interaction = Interaction.objects.get(external_id="i-1")
    assert (interaction.contact.external_id, interaction.kind, interaction.direction, interaction.user) == (
        "c-1",
        "call",
        "outbound",
        agent,
    )
    assert interaction.occurred_at == datetime.datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
    assert interaction.summary == "Discovery call, 40 robots"


def test_an_interaction_needs_a_known_contact_and_kind(import_csv):
    result = import_csv(
        "interactions",
        """
        external_id,contact,kind,occurred_at
        i-1,c-404,call,2024-01-10T11:00Z
        i-2,,fax,2024-01-10T11:00Z
        """,
    )

    assert problems(result) == [(2, "contact"), (3, "contact"), (3, "kind")]
