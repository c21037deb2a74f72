"""Finding a contact by e-mail: case-insensitive, and through the unique index, not by reading every contact.

At a million contacts, `email__iexact` (UPPER() on both sides) read the whole table: about 300 ms for every
contact saved from a form (the duplicate check) and every lead converted. `Contact.objects.with_email` compares
lower() with the unique index's own condition, so PostgreSQL answers from that index.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from contacts.models import Contact
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_with_email_ignores_case_and_never_matches_an_empty_email():
    ada = ContactFactory(email="Ada.Lovelace@Example.com")
    ContactFactory(email="", first_name="No", last_name="Mail")
    ContactFactory(email="", first_name="Also", last_name="None")

    assert list(Contact.objects.with_email("ada.lovelace@example.COM")) == [ada]
    assert not Contact.objects.with_email("").exists()
    assert not Contact.objects.with_email("ada@example.com").exists()


def test_saving_a_contact_with_another_contacts_email_in_other_case_is_refused_with_the_message_on_the_email():
    ContactFactory(email="grace@example.com")
    duplicate = ContactFactory.build(email="GRACE@example.com")

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert "email" in error.value.message_dict


@pytest.mark.postgres
def test_the_email_lookups_can_use_the_unique_index_on_postgresql():
    """Tables in tests are small, so sequential scans are turned off to see whether the index can serve at
    all: without the repeated condition the plan falls back to reading the table."""
    ContactFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    duplicate_check = Contact.objects.with_email("someone@example.com").exclude(pk=1).explain()

    assert "contact_email_ci_unique" in duplicate_check
    assert "Seq Scan" not in duplicate_check
