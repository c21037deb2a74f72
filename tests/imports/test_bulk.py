"""The fast ways of a large import (chunked reading, cached lookups, binary COPY while the next batch is read)
give the same results as the plain ways, problems included."""

import gc
import io

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from contacts.importing import records_import, writer
from contacts.importing.lookups import text_array
from contacts.models import Company, Contact, ImportJob
from tests.contacts.factories import CompanyFactory
from tests.imports.conftest import problems, reasons

pytestmark = pytest.mark.django_db


def _contacts(count: int) -> bytes:
    """A file of `count` contacts of the company co-1."""
    lines = ["external_id,first_name,company,created_at"]
    lines += [f"c-{n},Person {n},co-1,2024-01-15T10:00:00Z" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("row", "replacement", "line", "reason"),
    [("Person 2500,", b"Fran\xe7ois,", 2502, "not UTF-8"), ("Person 2999,", b"Per\x00son,", 3001, "binary")],
)
def test_a_line_that_cannot_be_read_deep_in_a_large_file_is_reported_with_its_line(row, replacement, line, reason):
    CompanyFactory(external_id="co-1")

    result = records_import(kind="contacts", stream=io.BytesIO(_contacts(3000).replace(row.encode(), replacement)))

    assert problems(result) == [(line, "")]
    assert reason in reasons(result)
    assert Contact.objects.count() == 0


def test_keys_with_quotes_commas_braces_and_backslashes_are_found(import_csv):
    import_csv("companies", 'external_id,name\n"co,""1""\\{x}",Acme\nNULL,Null Ltd\n')

    result = import_csv(
        "contacts",
        'external_id,first_name,company,created_at\nc-1,Ada,"co,""1""\\{x}",2024-01-15T10:00:00Z\n'
        "c-2,Bob,NULL,2024-01-15T10:00:00Z\n",
    )

    assert (result.created, result.problem_count) == (2, 0)
    assert dict(Contact.objects.values_list("external_id", "company__name")) == {"c-1": "Acme", "c-2": "Null Ltd"}


def test_the_records_a_file_refers_to_are_looked_up_once_for_all_its_batches():
    CompanyFactory(external_id="co-1")

    with CaptureQueriesContext(connection) as queries:
        result = records_import(kind="contacts", stream=io.BytesIO(_contacts(20)), batch_size=5)

    company_lookups = [query for query in queries.captured_queries if 'FROM "contacts_company"' in query["sql"]]
    assert (result.created, len(company_lookups)) == (20, 1)


def test_contacts_given_again_with_their_times_in_another_offset_are_unchanged(import_csv):
    import_csv(
        "contacts", "external_id,first_name,created_at,customer_since\nc-1,Ada,2024-01-15T10:00:00Z,2024-02-01T00:00Z"
    )

    result = import_csv(
        "contacts",
        "external_id,first_name,created_at,customer_since\nc-1,Ada,2024-01-15T11:00:00+01:00,2024-01-31T19:00-05:00",
    )

    assert (result.updated, result.unchanged) == (0, 1)


def test_the_cycle_collector_runs_again_after_an_import_and_stays_off_when_it_was():
    records_import(kind="companies", stream=io.BytesIO(b"external_id,name\nco-1,Acme\n"))
    assert gc.isenabled()

    gc.disable()
    try:
        records_import(kind="companies", stream=io.BytesIO(b"external_id,name\nco-2,Globex\n"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_list_of_keys_is_one_array_literal():
    assert text_array(["a", 'b"c', "d\\e", "x,y", ""]) == '{"a","b\\"c","d\\\\e","x,y",""}'
    assert text_array([1, 2]) is None  # not strings: psycopg adapts those
    assert text_array(["a\0b"]) is None  # NUL, which stands for the separator meanwhile


@pytest.mark.postgres
def test_postgresql_reads_the_array_literal_back_as_the_keys():
    keys = ["a", 'b"c', "d\\e", "x,y", "", "NULL", "{}", " spaced ", "é"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array(keys)])
        assert cursor.fetchone()[0] == keys


@pytest.mark.postgres
def test_tables_of_plain_columns_are_copied_in_binary_others_as_text():
    fields = [field for field in Contact._meta.concrete_fields if not field.primary_key]

    assert all(isinstance(oid, int) for oid in writer._binary_types(fields))
    assert writer._binary_types([ImportJob._meta.get_field("problems")]) is None  # jsonb


@pytest.mark.postgres
def test_when_the_database_refuses_rows_copied_in_the_background_nothing_is_imported(monkeypatch):
    CompanyFactory(external_id="co-1")
    copy = writer._copy

    def refuse_contacts(cursor, table, *args):
        if "contacts_contact" in table:
            raise DatabaseError("value refused")
        copy(cursor, table, *args)

    monkeypatch.setattr(writer, "_copy", refuse_contacts)

    result = records_import(kind="contacts", stream=io.BytesIO(_contacts(12)), batch_size=5, skip_bad_rows=True)

    assert result.stopped and not result.imported
    assert "the database refused the import (value refused)" in reasons(result)
    assert (Contact.objects.count(), Company.objects.count()) == (0, 1)  # and the connection works again


@pytest.mark.postgres
def test_foreign_keys_of_rows_copied_in_the_background_are_checked_before_the_commit(monkeypatch):
    company = CompanyFactory(external_id="co-1")
    params = writer._Table.params

    def pointing_nowhere(self, records, now):
        return params(self, [{**record, "company_id": company.pk + 1000} for record in records], now)

    monkeypatch.setattr(writer._Table, "params", pointing_nowhere)

    result = records_import(kind="contacts", stream=io.BytesIO(_contacts(3)))

    assert "the database refused the import" in reasons(result) and "foreign key" in reasons(result)
    assert Contact.objects.count() == 0
