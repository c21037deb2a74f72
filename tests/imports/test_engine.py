"""What every kind of import does the same way: reading the file, reporting problems, writing in bulk."""

import datetime
import io

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from contacts import registry
from contacts.importing import records_import
from contacts.models import Channel, Company, Contact
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory
from tests.factories import UserFactory
from tests.imports.conftest import csv_bytes, problems, reasons

pytestmark = pytest.mark.django_db

COMPANIES = """
    external_id,name,domain,industry,size,region,owner_email
    co-1,Acme GmbH,ACME.example,Software,11-50,Europe,
    co-2,Globex,globex.example,Retail,1000+,North America,
"""


# Reading the file


def test_a_file_with_a_byte_order_mark_imports_like_one_without(import_csv):
    result = import_csv("companies", csv_bytes(COMPANIES, bom=True))

    assert (result.created, result.problem_count) == (2, 0)
    assert Company.objects.get(external_id="co-1").name == "Acme GmbH"


def test_columns_may_come_in_any_order_and_any_case(import_csv):
    result = import_csv(
        "companies",
        """
        Region,NAME,external_id
        Europe,Acme GmbH,co-1
        """,
    )

    assert result.created == 1
    assert Company.objects.values_list("name", "region").get() == ("Acme GmbH", "Europe")


def test_missing_optional_columns_are_empty(import_csv):
    import_csv("companies", "external_id,name\nco-1,Acme GmbH")

    company = Company.objects.get()
    assert (company.domain, company.industry, company.size_band, company.owner) == ("", "", "", None)


def test_an_unknown_column_stops_the_import_and_says_which(import_csv):
    result = import_csv("companies", "external_id,name,colour\nco-1,Acme,blue")

    assert problems(result) == [(1, "colour")]
    assert "unknown column" in reasons(result)
    assert (result.imported, result.exit_code, Company.objects.count()) == (False, 1, 0)


def test_a_missing_required_column_stops_the_import_and_says_which(import_csv):
    result = import_csv("companies", "external_id,domain\nco-1,acme.example")

    assert problems(result) == [(1, "name")]
    assert "required column missing" in reasons(result)
    assert Company.objects.count() == 0


def test_a_column_given_twice_is_an_error(import_csv):
    result = import_csv("companies", "external_id,name,name\nco-1,Acme,Acme")

    assert problems(result) == [(1, "name")]


def test_an_empty_file_is_an_error(import_csv):
    result = import_csv("companies", b"")

    assert problems(result) == [(1, "")]
    assert "empty" in reasons(result)


def test_a_file_that_is_not_utf8_is_refused_with_the_line(import_csv):
    data = "external_id,name\nco-1,Acme\nco-2,Caf\xe9 Noir\n".encode("latin-1")

    result = import_csv("companies", data, skip_bad_rows=True)

    assert problems(result) == [(3, "")]
    assert "not UTF-8" in reasons(result)
    assert (result.imported, Company.objects.count()) == (False, 0)


def test_a_binary_file_is_refused(import_csv):
    result = import_csv("companies", b"external_id,name\nco-1,Ac\x00me\n")

    assert "binary" in reasons(result)
    assert Company.objects.count() == 0


def test_blank_lines_are_skipped_and_line_numbers_stay_those_of_the_file(import_csv):
    result = import_csv("companies", b'external_id,name\n\nco-1,"Acme\nGmbH"\n,\nco-2,\n')

    assert problems(result) == [(6, "name")]  # the quoted name spans lines 3 and 4


def test_a_row_with_too_many_or_too_few_values_is_an_error(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,Acme,extra\nco-2")

    assert problems(result) == [(2, ""), (3, "")]


# Values


@override_settings(TIME_ZONE="Europe/Berlin")
def test_a_time_without_offset_is_read_in_the_business_time_zone(import_csv):
    import_csv(
        "contacts",
        """
        external_id,first_name,created_at,customer_since,churned_at
        c-1,Ada,2024-01-15T10:00:00,2024-07-01T08:30:00Z,2024-07-02T10:00:00+05:00
        """,
    )

    contact = Contact.objects.get()
    utc = datetime.UTC
    assert contact.created_at == datetime.datetime(2024, 1, 15, 9, 0, tzinfo=utc)  # CET is UTC+1 in January
    assert contact.customer_since == datetime.datetime(2024, 7, 1, 8, 30, tzinfo=utc)
    assert contact.churned_at == datetime.datetime(2024, 7, 2, 5, 0, tzinfo=utc)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-02-30T10:00:00Z", "not a valid time"),
        ("15/01/2024 10:00", "not an ISO 8601 time"),
        ("2024-01-15", "not an ISO 8601 time"),
        ("9999-01-01T10:00:00Z", "not a year from 1900 to 2100: '9999-01-01T10:00:00Z'"),
        ("1800-01-01T10:00:00+01:00", "not a year from 1900 to 2100"),
        # 1899 in UTC, as the database keeps it (and as the forms and the API check it)
        ("1900-01-01T00:00:00+05:00", "not a year from 1900 to 2100: '1900-01-01T00:00:00+05:00'"),
        ("2100-12-31T23:00:00-05:00", "not a year from 1900 to 2100"),
    ],
)
def test_a_wrong_time_is_reported_with_line_and_column(import_csv, value, reason):
    result = import_csv("contacts", f"external_id,first_name,created_at\nc-1,Ada,{value}")

    assert problems(result) == [(2, "created_at")]
    assert reason in reasons(result)
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-5.00", "negative"),
        ("1,50", "dot"),
        ("12.345", "two decimals"),
        ("ten", "not an amount"),
        ("99999999999999.99", "too large: at most 12 digits before the dot"),
        ("١٢٣", "not an amount"),  # Arabic-Indic digits: Decimal() would take them as 123
    ],
)
def test_a_wrong_amount_is_reported(import_csv, value, reason):
    result = import_csv("spend", f'external_id,spent_on,amount,category\nsp-1,2024-01-31,"{value}",acquisition')

    assert problems(result) == [(2, "amount")]
    assert reason in reasons(result)


TICKET_HEADER = "external_id,subject,channel,priority,status,created_at,agent_replies,reopened_count"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("99999999999999999999", "must be 0 to 2147483647: 99999999999999999999"),
        ("2147483648", "must be 0 to 2147483647: 2147483648"),
        ("٣", "not a whole number: '٣'"),
        ("-1", "must be 0 to 2147483647: -1"),
        ("1" * 5000, "must be 0 to 2147483647: 11111111111111111111..."),
    ],
)
def test_a_whole_number_a_database_column_cannot_hold_is_reported(import_csv, value, reason):
    result = import_csv("tickets", f"{TICKET_HEADER}\nt-1,Huge,email,low,open,2025-06-01T00:00:00Z,0,{value}")

    assert problems(result) == [(2, "reopened_count")]
    assert reason in reasons(result)


def test_skipping_the_row_with_a_huge_number_imports_the_good_one(import_csv):
    from support.models import Ticket

    result = import_csv(
        "tickets",
        f"{TICKET_HEADER}\nt-1,Ok,email,low,open,2025-06-01T00:00:00Z,0,0\n"
        f"t-2,Huge,email,low,open,2025-06-01T00:00:00Z,0,99999999999999999999",
        skip_bad_rows=True,
    )

    assert problems(result) == [(3, "reopened_count")]
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["t-1"]


def test_a_date_with_a_year_typed_wrong_is_reported(import_csv):
    result = import_csv("spend", "external_id,spent_on,amount,category\nsp-1,0001-01-31,5.00,acquisition")

    assert problems(result) == [(2, "spent_on")]
    assert "not a year from 1900 to 2100: '0001-01-31'" in reasons(result)


def test_a_wrong_date_choice_email_or_flag_is_reported_with_its_column(import_csv):
    result = import_csv(
        "contacts",
        """
        external_id,first_name,email,created_at,opted_out
        c-1,Ada,ada@,2024-01-15T10:00:00Z,perhaps
        """,
    )

    assert problems(result) == [(2, "email"), (2, "opted_out")]


def test_a_text_too_long_for_its_field_is_reported(import_csv):
    result = import_csv("companies", f"external_id,name\nco-1,{'x' * 201}")

    assert problems(result) == [(2, "name")]
    assert "too long" in reasons(result)


def test_an_empty_required_cell_is_reported(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,\n,Acme")

    assert problems(result) == [(2, "name"), (3, "external_id")]


def test_e_mails_and_domains_are_stored_lower_case(import_csv):
    import_csv("companies", "external_id,name,domain\nco-1,Acme,ACME.Example")
    import_csv("contacts", "external_id,email,created_at\nc-1,Ada@Example.COM,2024-01-15T10:00:00Z")

    assert Company.objects.get().domain == "acme.example"
    assert Contact.objects.get().email == "ada@example.com"


# References


def test_users_are_found_by_e_mail_in_any_case(import_csv, make_user):
    owner = make_user("sales", email="Sam@Example.com")

    import_csv("companies", "external_id,name,owner_email\nco-1,Acme,sam@example.COM")

    assert Company.objects.get().owner == owner


def test_an_unknown_user_is_an_error_not_created(import_csv):
    result = import_csv("companies", "external_id,name,owner_email\nco-1,Acme,nobody@example.com")

    assert problems(result) == [(2, "owner_email")]
    assert "no user" in reasons(result)


def test_channels_are_found_by_name_in_any_case_and_created_when_missing(import_csv):
    Channel.objects.create(name="Referral")

    result = import_csv(
        "contacts",
        """
        external_id,first_name,channel,created_at
        c-1,Ada,referral,2024-01-15T10:00:00Z
        c-2,Bob,Webinars,2024-01-15T10:00:00Z
        """,
    )

    assert sorted(Channel.objects.values_list("name", flat=True)) == ["Referral", "Webinars"]
    assert Contact.objects.get(external_id="c-1").channel.name == "Referral"
    assert result.notes == ["new channel: Webinars"]


@pytest.mark.parametrize("rows", [range(12), reversed(range(12))])
def test_a_new_channel_spelled_two_ways_is_created_as_the_file_first_spells_it(import_csv, rows):
    spellings = ["Paid ads", "paid ADS", "PAID ADS", "Paid Ads"]
    lines = [f"c-{n},Ada,{spellings[n % 4]},2024-01-15T10:00:00Z" for n in rows]

    import_csv("contacts", "external_id,first_name,channel,created_at\n" + "\n".join(lines))

    first = spellings[int(lines[0].split(",")[0][2:]) % 4]
    assert list(Channel.objects.values_list("name", flat=True)) == [first]
    assert Contact.objects.filter(channel__name=first).count() == 12


def test_a_reference_to_a_record_not_imported_is_an_error_for_that_row(import_csv):
    result = import_csv(
        "contacts",
        """
        external_id,first_name,company,created_at
        c-1,Ada,co-404,2024-01-15T10:00:00Z
        """,
    )

    assert problems(result) == [(2, "company")]
    assert "no record of companies has external_id 'co-404'" in reasons(result)


# Writing


def test_by_default_a_file_with_a_bad_row_imports_nothing(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,Acme\nco-2,")

    assert (result.imported, result.exit_code, result.bad_rows) == (False, 1, 1)
    assert Company.objects.count() == 0


def test_with_skip_bad_rows_the_good_rows_go_in_and_the_bad_ones_are_listed(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,Acme\nco-2,\nco-3,Globex", skip_bad_rows=True)

    assert (result.imported, result.exit_code, result.created, result.bad_rows) == (True, 0, 2, 1)
    assert problems(result) == [(3, "name")]
    assert sorted(Company.objects.values_list("external_id", flat=True)) == ["co-1", "co-3"]


def test_skip_bad_rows_with_no_good_row_imports_nothing_and_fails(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,", skip_bad_rows=True)

    assert (result.imported, result.exit_code) == (False, 1)


def test_a_dry_run_writes_nothing_but_counts_and_reports(import_csv):
    result = import_csv(
        "contacts", "external_id,first_name,channel,created_at\nc-1,Ada,Webinars,2024-01-15T10:00Z", dry_run=True
    )

    assert (result.created, result.imported, result.exit_code) == (1, False, 0)
    assert result.notes == ["new channel: Webinars"]
    assert (Contact.objects.count(), Channel.objects.count()) == (0, 0)


def test_importing_the_same_file_again_updates_the_same_records(import_csv):
    import_csv("companies", COMPANIES)

    again = import_csv("companies", COMPANIES.replace("Acme GmbH", "Acme Robotics GmbH"))

    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert Company.objects.count() == 2
    assert Company.objects.get(external_id="co-1").name == "Acme Robotics GmbH"


def test_a_record_given_again_as_it_is_is_left_untouched(import_csv):
    import_csv("companies", COMPANIES)
    before = Company.objects.get(external_id="co-1").updated_at

    again = import_csv("companies", COMPANIES)

    assert (again.created, again.updated, again.unchanged, again.imported) == (0, 0, 2, True)
    assert Company.objects.get(external_id="co-1").updated_at == before


def test_a_duplicate_external_id_in_the_file_is_an_error(import_csv):
    result = import_csv("companies", "external_id,name\nco-1,Acme\nco-2,Globex\nco-1,Acme again")

    assert problems(result) == [(4, "external_id")]
    assert "already on line 2" in reasons(result)


def test_records_without_external_id_are_left_alone(import_csv):
    by_hand = CompanyFactory(name="Typed in", external_id="")

    import_csv("companies", COMPANIES)

    by_hand.refresh_from_db()
    assert (by_hand.name, Company.objects.count()) == ("Typed in", 3)


def test_problems_are_found_across_batches_and_sorted_by_line(db):
    rows = "".join(f"co-{n},{'' if n in (3, 12) else 'Company'}\n" for n in range(1, 15))

    result = records_import(kind="companies", stream=io.BytesIO(f"external_id,name\n{rows}".encode()), batch_size=5)

    assert problems(result) == [(4, "name"), (13, "name")]
    assert Company.objects.count() == 0


def test_skip_bad_rows_keeps_the_good_rows_of_every_batch(db):
    rows = "".join(f"co-{n},{'' if n in (3, 12) else 'Company'}\n" for n in range(1, 15))

    result = records_import(
        kind="companies", stream=io.BytesIO(f"external_id,name\n{rows}".encode()), batch_size=5, skip_bad_rows=True
    )

    assert (result.created, Company.objects.count()) == (12, 12)


def test_progress_is_reported_after_every_batch(db):
    seen = []
    rows = "".join(f"co-{n},Company\n" for n in range(12))

    records_import(
        kind="companies", stream=io.BytesIO(f"external_id,name\n{rows}".encode()), batch_size=5, progress=seen.append
    )

    assert seen == [5, 10, 12]


def _contacts_file(count: int) -> bytes:
    lines = ["external_id,first_name,email,company,channel,owner_email,created_at,customer_since"]
    lines += [
        f"c-{n},Person {n},p{n}@example.com,co-{n % 3},Referral,sam@example.com,2024-01-15T10:00Z,2024-02-01T00:00Z"
        for n in range(count)
    ]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("count", [10, 200])
def test_the_queries_do_not_grow_with_the_number_of_rows(db, make_user, django_assert_max_num_queries, count):
    make_user("sales", email="sam@example.com")
    for n in range(3):
        CompanyFactory(external_id=f"co-{n}")
    records_import(kind="contacts", stream=io.BytesIO(_contacts_file(count)))  # channel created: now only lookups

    with django_assert_max_num_queries(10):
        result = records_import(
            kind="contacts", stream=io.BytesIO(_contacts_file(count).replace(b"Person", b"Someone"))
        )

    assert result.updated == count


# After an import


@pytest.fixture
def history_heard():
    """The instants the history listeners hear (and, in `history_heard.tables`, the tables with each)."""

    class Heard(list):
        tables: list[tuple[str, ...]]

    heard = Heard()
    heard.tables = []

    def listener(since, tables):
        heard.append(since)
        heard.tables.append(tables)

    registry.register_history_listener(listener)
    yield heard
    registry.unregister_history_listener(listener)


def test_after_an_import_the_history_listeners_hear_from_the_earliest_time_touched(
    import_csv, history_heard, django_capture_on_commit_callbacks
):
    ContactFactory(
        external_id="c-1", created_at=datetime.datetime(2023, 5, 1, tzinfo=datetime.UTC), company=None, channel=None
    )

    with django_capture_on_commit_callbacks(execute=True):
        import_csv(
            "contacts",
            """
            external_id,first_name,created_at,customer_since
            c-1,Ada,2024-03-01T00:00:00Z,2024-02-01T00:00:00Z
            c-2,Bob,2024-01-10T00:00:00Z,
            """,
        )

    # The old created_at of c-1 (2023-05-01) is history that changed too, in the contacts' table.
    assert history_heard == [datetime.datetime(2023, 5, 1, tzinfo=datetime.UTC)]
    assert history_heard.tables == [("contacts_contact",)]


@pytest.mark.parametrize(
    ("header", "cells"),
    [("region", "Asia"), ("channel", "Events"), ("company", ""), ("owner_email", "")],
)
def test_an_import_that_moves_a_contact_to_another_segment_changes_all_history(
    import_csv, history_heard, django_capture_on_commit_callbacks, header, cells
):
    """A contact's orders, tickets and subscriptions of any date are counted under its region, channel, company
    and owner: moving it relabels them all, not only those after its own dates."""
    ChannelFactory(name="Events")
    ChannelFactory(name="Referral")
    owner = UserFactory(email="owner@example.com")
    ContactFactory(
        external_id="c-1",
        created_at=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
        region="Europe",
        channel=Channel.objects.get(name="Referral"),
        owner=owner,
        company=CompanyFactory(external_id="co-1"),
    )
    given = {"region": "Europe", "channel": "Referral", "company": "co-1", "owner_email": "owner@example.com"}
    given[header] = cells

    with django_capture_on_commit_callbacks(execute=True):
        import_csv(
            "contacts",
            f"""
            external_id,first_name,created_at,{",".join(given)}
            c-1,Ada,2024-05-01T00:00:00Z,{",".join(given.values())}
            """,
        )

    assert history_heard == [registry.ALL_HISTORY]


def test_an_import_that_changes_nothing_that_labels_hears_from_the_contacts_own_dates(
    import_csv, history_heard, django_capture_on_commit_callbacks
):
    ContactFactory(
        external_id="c-1",
        first_name="Ada",
        created_at=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
        region="Europe",
        channel=None,
        company=None,
    )

    with django_capture_on_commit_callbacks(execute=True):
        import_csv("contacts", "external_id,first_name,created_at,region\nc-1,Grace,2024-05-01T00:00:00Z,Europe\n")

    assert history_heard == [datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)]


def test_a_dry_run_or_a_failed_import_tells_the_listeners_nothing(
    import_csv, history_heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        import_csv("contacts", "external_id,first_name,created_at\nc-1,Ada,2024-03-01T00:00Z", dry_run=True)
        import_csv("contacts", "external_id,first_name,created_at\nc-1,Ada,yesterday")

    assert history_heard == []


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="Unknown kind"):
        records_import(kind="unicorns", stream=io.BytesIO(b"external_id\n"))


def test_the_kinds_come_in_the_order_a_history_is_imported():
    assert list(registry.importers()) == [
        "companies",
        "contacts",
        "interactions",
        "campaigns",
        "spend",
        "leads",
        "deals",
        "orders",
        "subscriptions",
        "tickets",
        "survey_responses",
    ]


@pytest.mark.postgres
def test_on_postgresql_new_rows_are_copied_and_changed_ones_updated_from_a_staging_table(import_csv):
    import_csv("companies", COMPANIES)

    with CaptureQueriesContext(connection) as queries:
        result = import_csv("companies", COMPANIES.replace("Globex", "Globex Corp") + "co-3,Initech,,,,,\n")

    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "CREATE TEMPORARY TABLE" in statements and 'UPDATE "contacts_company"' in statements
    assert 'INSERT INTO "contacts_company"' not in statements  # the new row came by COPY (the audit's by INSERT)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert Company.objects.get(external_id="co-2").name == "Globex Corp"


def test_every_importer_of_records_that_label_others_names_the_fields_that_do():
    """A file renaming a campaign or moving a contact to another region relabels history of any date (see
    kpis.stale.RELABELS): the importer must say which of the fields it writes do, or the import marks only
    the records' own dates."""
    from kpis.stale import RELABELS

    checked = []
    for kind, spec in registry.importers().items():
        labelling = set(RELABELS.get(spec.model._meta.label, ())) & set(spec.write_fields)
        if labelling:
            checked.append(kind)
            assert labelling <= set(spec.relabels), kind
    assert {"contacts", "companies", "campaigns"} <= set(checked)
