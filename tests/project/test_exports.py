"""The shared CSV export: how a cell is written for people and for re-import, and how exports are documented."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contacts import exports as contact_exports
from crm_project.exports import human_text, raw_text, record_ref, spreadsheet_safe
from sales import exports as sales_exports
from support import exports as support_exports
from surveys import exports as survey_exports
from tests.exports import FORMULA_TRIGGERS, IMPORT_COLUMNS

IMPORT_FORMATS = {
    "companies": contact_exports.COMPANIES_IMPORT,
    "contacts": contact_exports.CONTACTS_IMPORT,
    "interactions": contact_exports.INTERACTIONS_IMPORT,
    "campaigns": sales_exports.CAMPAIGNS_IMPORT,
    "spend": sales_exports.SPEND_IMPORT,
    "leads": sales_exports.LEADS_IMPORT,
    "deals": sales_exports.DEALS_IMPORT,
    "orders": sales_exports.ORDERS_IMPORT,
    "subscriptions": sales_exports.SUBSCRIPTIONS_IMPORT,
    "tickets": support_exports.TICKETS_IMPORT,
    "survey_responses": survey_exports.SURVEY_RESPONSES_IMPORT,
}


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(trigger):
    assert spreadsheet_safe(trigger) == "'" + trigger
    assert human_text(trigger) == "'" + trigger


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_the_import_format_writes_text_as_it_is(trigger):
    assert raw_text(trigger) == trigger


@pytest.mark.parametrize("text", ["Fine - thanks", "a=b", "", "O'Brien", "1+1"])
def test_ordinary_text_is_left_alone(text):
    assert human_text(text) == text


def test_numbers_are_not_mistaken_for_formulas():
    assert human_text(-5) == "-5"
    assert human_text(Decimal("-12.50")) == "-12.50"
    assert human_text(-33.333) == "-33.33"


def test_text_from_a_related_record_is_neutralised_too():
    class Named:
        def __str__(self):
            return "=cmd|'/C calc'!A0"

    assert human_text(Named()) == "'=cmd|'/C calc'!A0"


def test_money_is_a_plain_number_with_a_dot():
    assert human_text(Decimal("1234567.50")) == raw_text(Decimal("1234567.50")) == "1234567.50"
    assert raw_text(Decimal("1E+3")) == "1000"


def test_dates_are_iso_and_times_carry_their_offset(settings):
    settings.TIME_ZONE = "America/New_York"
    moment = datetime(2025, 7, 1, 16, 0, 0, 123456, tzinfo=UTC)

    assert raw_text(moment) == "2025-07-01T12:00:00.123456-04:00"
    assert human_text(moment) == "2025-07-01T12:00:00-04:00"
    assert human_text(date(2025, 7, 1)) == raw_text(date(2025, 7, 1)) == "2025-07-01"


def test_booleans_and_empty_values():
    assert (raw_text(True), raw_text(False), raw_text(None)) == ("true", "false", "")
    assert (human_text(True), human_text(False), human_text(None)) == ("yes", "no", "")


def test_a_record_is_named_by_its_external_id_else_by_a_stable_generated_one():
    from contacts.models import Company

    assert record_ref(Company(pk=7, external_id="ACME-1")) == "ACME-1"
    assert record_ref(Company(pk=7, external_id="")) == "crm-company-7"
    assert record_ref(None) == ""


@pytest.mark.parametrize("kind", IMPORT_COLUMNS)
def test_each_import_format_has_exactly_the_columns_of_the_import(kind):
    assert IMPORT_FORMATS[kind].headers == IMPORT_COLUMNS[kind]
    assert IMPORT_FORMATS[kind].raw


@pytest.mark.django_db
def test_the_schema_documents_the_csv_answer_of_every_list_and_of_no_single_record(sales_api):
    schema = sales_api.get("/api/schema/", {"format": "json"}).json()

    contacts = schema["paths"]["/api/contacts/"]["get"]
    export = next(parameter for parameter in contacts["parameters"] if parameter["name"] == "export")
    channels = schema["paths"]["/api/channels/"]["get"]
    channel_export = next(parameter for parameter in channels["parameters"] if parameter["name"] == "export")
    assert export["schema"]["enum"] == ["csv", "reimport"]
    assert channel_export["schema"]["enum"] == ["csv"]
    assert contacts["responses"]["200"]["content"]["text/csv"]["schema"] == {"type": "string"}
    assert contacts["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedContactList"
    )
    contact = schema["paths"]["/api/contacts/{id}/"]["get"]
    assert list(contact["responses"]["200"]["content"]) == ["application/json"]
    assert "export" not in [parameter["name"] for parameter in contact["parameters"]]


def test_the_csv_renderer_writes_objects_as_a_table():
    from crm_project.api import CsvRenderer

    renderer = CsvRenderer()

    assert renderer.render({"detail": "=no", "ok": False}) == b"detail,ok\r\n'=no,false\r\n"
    assert renderer.render([{"id": 1, "tags": ["a"]}, {"id": 2}]) == b'id,tags\r\n1,"[""a""]"\r\n2,\r\n'
