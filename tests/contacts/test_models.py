"""The contacts' invariants, held by the models and by the database itself."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Company, Contact, Interaction
from tests.contacts.factories import CompanyFactory, ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_contact_email_is_stored_trimmed_and_lower_cased():
    contact = ContactFactory(email="  Ada.Lovelace@Example.COM ")

    contact.refresh_from_db()
    assert contact.email == "ada.lovelace@example.com"


def test_contact_email_is_normalised_before_validation():
    contact = ContactFactory.build(company=None, channel=None, email="  Ada@Example.com ")

    contact.full_clean()

    assert contact.email == "ada@example.com"


def test_second_contact_with_same_email_in_other_case_is_refused_by_the_database():
    ContactFactory(email="ada@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(first_name="Ada", email="ADA@Example.com")


def test_database_compares_emails_ignoring_case_even_when_the_model_is_bypassed():
    ContactFactory(email="ada@example.com")
    other = ContactFactory(email="someone@example.com")

    # QuerySet.update() skips save(), so the e-mail is not lower-cased on the way in.
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=other.pk).update(email="ADA@EXAMPLE.COM")


def test_duplicate_email_in_other_case_is_reported_on_the_email_field():
    ContactFactory(email="ada@example.com")
    duplicate = Contact(first_name="Ada", email="Ada@Example.com")

    with pytest.raises(ValidationError) as raised:
        duplicate.full_clean()

    assert "email" in raised.value.message_dict


def test_many_contacts_may_have_no_email():
    ContactFactory(email="")

    ContactFactory(email="")

    assert Contact.objects.filter(email="").count() == 2


def test_contact_without_name_or_email_is_invalid():
    contact = Contact(first_name="", last_name="", email="", phone="+44 20 7946 0000")

    with pytest.raises(ValidationError) as raised:
        contact.full_clean()

    assert "Give the contact a name or an e-mail address." in raised.value.messages


def test_contact_without_name_or_email_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(first_name="", last_name="", email="", phone="+44 20 7946 0000")


def test_contact_with_only_an_email_is_named_by_it():
    contact = ContactFactory(first_name="", last_name="", email="ada@example.com")

    assert str(contact) == "ada@example.com"


def test_churn_before_becoming_a_customer_is_invalid():
    now = timezone.now()
    contact = ContactFactory.build(company=None, channel=None, customer_since=now, churned_at=now - timedelta(days=1))

    with pytest.raises(ValidationError) as raised:
        contact.full_clean()

    assert "A contact can only churn after becoming a customer." in raised.value.messages


def test_churn_before_becoming_a_customer_is_refused_by_the_database():
    now = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(first_name="Ada", customer_since=now, churned_at=now - timedelta(days=1))


def test_churn_without_ever_being_a_customer_is_invalid():
    contact = ContactFactory.build(company=None, channel=None, churned_at=timezone.now())

    with pytest.raises(ValidationError):
        contact.full_clean()


def test_contact_industry_falls_back_to_the_company_industry():
    contact = ContactFactory(industry="", company=CompanyFactory(industry="Logistics"))

    assert contact.effective_industry == "Logistics"


def test_contact_own_industry_wins_over_the_company_industry():
    contact = ContactFactory(industry="Healthcare", company=CompanyFactory(industry="Logistics"))

    assert contact.effective_industry == "Healthcare"


def test_contact_without_company_or_industry_has_no_industry():
    contact = ContactFactory(industry="", company=None)

    assert contact.effective_industry == ""


class TestIsCustomerAt:
    """KPIS.md: a customer at t when customer_since <= t and (no churn or churned_at > t)."""

    since = timezone.now() - timedelta(days=100)
    churned = since + timedelta(days=50)
    tick = timedelta(microseconds=1)

    def test_not_yet_a_customer_just_before_customer_since(self):
        contact = Contact(customer_since=self.since)

        assert not contact.is_customer_at(self.since - self.tick)

    def test_a_customer_from_the_instant_of_customer_since(self):
        contact = Contact(customer_since=self.since)

        assert contact.is_customer_at(self.since)

    def test_still_a_customer_just_before_churning(self):
        contact = Contact(customer_since=self.since, churned_at=self.churned)

        assert contact.is_customer_at(self.churned - self.tick)

    def test_no_longer_a_customer_from_the_instant_of_churn(self):
        contact = Contact(customer_since=self.since, churned_at=self.churned)

        assert not contact.is_customer_at(self.churned)

    def test_never_a_customer_without_customer_since(self):
        contact = Contact()

        assert not contact.is_customer_at(timezone.now())


@pytest.mark.parametrize(
    ("since_days_ago", "churned_days_ago", "status"),
    [
        (None, None, "prospect"),
        (-5, None, "prospect"),  # becomes a customer in five days
        (30, None, "customer"),
        (30, 10, "churned"),
        (30, -10, "customer"),  # churn already scheduled, not yet reached
    ],
)
def test_customer_status(since_days_ago, churned_days_ago, status):
    now = timezone.now()
    contact = Contact(
        customer_since=None if since_days_ago is None else now - timedelta(days=since_days_ago),
        churned_at=None if churned_days_ago is None else now - timedelta(days=churned_days_ago),
    )

    assert contact.customer_status == status


def test_deleting_a_company_keeps_its_contacts_without_a_company():
    company = CompanyFactory()
    contact = ContactFactory(company=company)

    company.delete()

    contact.refresh_from_db()
    assert contact.company is None


def test_deleting_a_contact_deletes_its_interactions():
    interaction = InteractionFactory()

    interaction.contact.delete()

    assert not Interaction.objects.filter(pk=interaction.pk).exists()


def test_company_domain_is_stored_trimmed_and_lower_cased():
    company = CompanyFactory(domain="  Example.COM ")

    company.refresh_from_db()
    assert company.domain == "example.com"


def test_two_companies_cannot_share_an_external_id():
    CompanyFactory(external_id="crm-42")

    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(name="Other", external_id="crm-42")


def test_interactions_are_listed_newest_first():
    contact = ContactFactory()
    now = timezone.now()
    older = InteractionFactory(contact=contact, occurred_at=now - timedelta(days=2))
    newest = InteractionFactory(contact=contact, occurred_at=now)
    middle = InteractionFactory(contact=contact, occurred_at=now - timedelta(days=1))

    assert list(contact.interactions.all()) == [newest, middle, older]
