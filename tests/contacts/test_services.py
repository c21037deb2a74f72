"""Every write to contacts' records goes through a service: validated, atomic."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts import services
from contacts.models import Company, Contact, Interaction
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db


# contact_create


def test_contact_create_stores_the_contact_with_its_email_normalised():
    contact = services.contact_create(data={"first_name": "Ada", "last_name": "Lovelace", "email": " Ada@Example.COM "})

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.full_name, stored.email) == ("Ada Lovelace", "ada@example.com")


def test_contact_create_makes_the_creator_the_owner(make_user):
    creator = make_user("sales")

    contact = services.contact_create(data={"first_name": "Ada"}, created_by=creator)

    assert contact.owner == creator


def test_contact_create_keeps_the_owner_it_is_given(make_user):
    creator, colleague = make_user("sales"), make_user("sales")

    contact = services.contact_create(data={"first_name": "Ada", "owner": colleague}, created_by=creator)

    assert contact.owner == colleague


def test_contact_create_links_company_and_channel():
    company, channel = CompanyFactory(), ChannelFactory(name="Referral")

    contact = services.contact_create(data={"first_name": "Ada", "company": company, "channel": channel})

    contact.refresh_from_db()
    assert (contact.company, contact.channel) == (company, channel)


def test_contact_create_refuses_an_email_taken_in_another_case_and_stores_nothing():
    ContactFactory(email="ada@example.com")

    with pytest.raises(ValidationError) as raised:
        services.contact_create(data={"first_name": "Ada", "email": "ADA@example.com"})

    assert "email" in raised.value.message_dict
    assert Contact.objects.count() == 1


def test_contact_create_refuses_a_contact_without_name_or_email_and_stores_nothing():
    with pytest.raises(ValidationError):
        services.contact_create(data={"first_name": "", "last_name": "", "email": "", "phone": "+1 555 0100"})

    assert not Contact.objects.exists()


def test_contact_create_refuses_an_invalid_email_and_stores_nothing():
    with pytest.raises(ValidationError) as raised:
        services.contact_create(data={"first_name": "Ada", "email": "not-an-email"})

    assert "email" in raised.value.message_dict
    assert not Contact.objects.exists()


def test_contact_create_does_not_let_customer_state_be_typed_in():
    with pytest.raises(TypeError):
        services.contact_create(data={"first_name": "Ada", "customer_since": timezone.now()})

    assert not Contact.objects.exists()


# contact_update


def test_contact_update_saves_the_changes():
    contact = ContactFactory(job_title="Analyst")

    services.contact_update(contact=contact, data={"job_title": "Head of Data"})

    contact.refresh_from_db()
    assert contact.job_title == "Head of Data"


def test_contact_update_may_change_the_case_of_its_own_email():
    contact = ContactFactory(email="ada@example.com")

    services.contact_update(contact=contact, data={"email": "ADA@example.com"})

    contact.refresh_from_db()
    assert contact.email == "ada@example.com"


def test_contact_update_refuses_an_email_taken_by_another_contact_and_keeps_the_stored_row():
    ContactFactory(email="ada@example.com")
    contact = ContactFactory(email="grace@example.com")

    with pytest.raises(ValidationError):
        services.contact_update(contact=contact, data={"email": "Ada@Example.com"})

    contact.refresh_from_db()
    assert contact.email == "grace@example.com"


def test_contact_update_refuses_removing_both_name_and_email():
    contact = ContactFactory(first_name="Ada", last_name="", email="ada@example.com")

    with pytest.raises(ValidationError):
        services.contact_update(contact=contact, data={"first_name": "", "email": ""})

    contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Ada", "ada@example.com")


# contact_delete


def test_contact_delete_removes_the_contact_and_its_interactions():
    interaction = InteractionFactory()
    contact = interaction.contact

    services.contact_delete(contact=contact)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Interaction.objects.filter(pk=interaction.pk).exists()


# companies


def test_company_create_stores_the_company_with_its_domain_normalised():
    company = services.company_create(data={"name": "Initech", "domain": " Initech.COM "})

    stored = Company.objects.get(pk=company.pk)
    assert (stored.name, stored.domain) == ("Initech", "initech.com")


def test_company_create_refuses_a_company_without_a_name_and_stores_nothing():
    with pytest.raises(ValidationError) as raised:
        services.company_create(data={"name": "", "domain": "initech.com"})

    assert "name" in raised.value.message_dict
    assert not Company.objects.exists()


def test_company_update_saves_the_changes():
    company = CompanyFactory(industry="Software")

    services.company_update(company=company, data={"industry": "Logistics"})

    company.refresh_from_db()
    assert company.industry == "Logistics"


def test_company_delete_keeps_its_contacts():
    company = CompanyFactory()
    contacts = ContactFactory.create_batch(2, company=company)

    services.company_delete(company=company)

    assert not Company.objects.filter(pk=company.pk).exists()
    assert set(Contact.objects.filter(company=None)) == set(contacts)


# interactions


def test_interaction_log_defaults_occurred_at_to_now(make_user):
    contact, user = ContactFactory(), make_user("sales")
    before = timezone.now()

    interaction = services.interaction_log(contact=contact, kind=Interaction.Kind.CALL, user=user)

    assert before <= interaction.occurred_at <= timezone.now()


def test_interaction_log_keeps_a_planned_time_in_the_future(make_user):
    contact, user = ContactFactory(), make_user("sales")
    next_week = timezone.now() + timedelta(days=7)

    interaction = services.interaction_log(
        contact=contact, kind=Interaction.Kind.MEETING, user=user, occurred_at=next_week
    )

    interaction.refresh_from_db()
    assert interaction.occurred_at == next_week


def test_interaction_log_records_who_and_what(make_user):
    contact, user = ContactFactory(), make_user("sales")

    services.interaction_log(
        contact=contact,
        kind=Interaction.Kind.EMAIL,
        user=user,
        direction=Interaction.Direction.INBOUND,
        summary="Asked for a quote.",
    )

    stored = contact.interactions.get()
    assert (stored.user, stored.kind, stored.direction, stored.summary) == (
        user,
        Interaction.Kind.EMAIL,
        Interaction.Direction.INBOUND,
        "Asked for a quote.",
    )


def test_interaction_log_refuses_an_unknown_kind_and_stores_nothing(make_user):
    contact = ContactFactory()

    with pytest.raises(ValidationError) as raised:
        services.interaction_log(contact=contact, kind="carrier-pigeon", user=make_user("sales"))

    assert "kind" in raised.value.message_dict
    assert not Interaction.objects.exists()


def test_interaction_delete_removes_only_that_interaction():
    kept = InteractionFactory()
    removed = InteractionFactory(contact=kept.contact)

    services.interaction_delete(interaction=removed)

    assert list(Interaction.objects.all()) == [kept]
