"""The example files of docs/import-examples/: a tiny company's history, imported in order without errors."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from contacts import registry
from contacts.models import Channel, Company, Contact, Interaction
from sales.models import Campaign, Deal, Lead, Order, Spend, Subscription
from support.models import Ticket
from surveys.models import Invitation, Response, Survey

pytestmark = pytest.mark.django_db
EXAMPLES = Path(settings.BASE_DIR) / "docs" / "import-examples"
UTC = datetime.UTC
COUNTS = {
    Company: 3,
    Contact: 4,
    Interaction: 5,
    Campaign: 2,
    Spend: 5,
    Lead: 4,
    Deal: 4,
    Order: 4,
    Subscription: 4,
    Ticket: 3,
    Invitation: 4,
    Response: 3,
}


def import_examples(capsys) -> str:
    for kind in registry.importers():
        call_command("import_records", kind, str(EXAMPLES / f"{kind}.csv"))
    return capsys.readouterr().out


def test_there_is_an_example_file_for_every_kind():
    assert sorted(path.stem for path in EXAMPLES.glob("*.csv")) == sorted(registry.importers())


def test_the_example_history_imports_in_order(staff, capsys):
    output = import_examples(capsys)

    assert "problem" not in output
    assert {model.__name__: model.objects.count() for model in COUNTS} == {
        model.__name__: count for model, count in COUNTS.items()
    }
    assert sorted(Channel.objects.values_list("name", flat=True)) == [
        "Events",
        "Organic search",
        "Paid ads",
        "Referral",
    ]
    assert sorted(Survey.objects.values_list("name", "kind")) == [
        ("Customer NPS 2025", "nps"),
        ("Support CSAT", "csat"),
    ]


def test_the_example_history_keeps_its_exact_values(staff, capsys):
    import_examples(capsys)

    bob = Contact.objects.select_related("company", "owner").get(external_id="c-bob")
    assert (bob.company.name, bob.owner, bob.region) == ("Globex Retail Inc.", staff["sales"], "North America")
    assert bob.customer_since == datetime.datetime(2025, 3, 20, 20, 30, tzinfo=UTC)
    assert bob.churned_at == datetime.datetime(2025, 11, 30, 5, 0, tzinfo=UTC)
    deal = Deal.objects.select_related("stage", "lead").get(external_id="d-globex-new")
    assert (deal.status, deal.stage.name, deal.amount, deal.lead.external_id) == (
        "won",
        "Won",
        Decimal("36000.00"),
        "l-bob",
    )
    assert Subscription.objects.get(external_id="s-globex-2").renews.external_id == "s-globex-1"
    ticket = Ticket.objects.get(external_id="t-2")
    assert (ticket.status, ticket.agent_replies, ticket.reopened_count, ticket.assignee) == (
        "resolved",
        3,
        1,
        staff["support"],
    )
    assert ticket.resolved_at == datetime.datetime(2025, 5, 15, 14, 0, tzinfo=UTC)
    assert Response.objects.get(invitation__external_id="sr-1").comment == "Reliable, and the team answers fast."
    assert Interaction.objects.get(external_id="i-3").summary == 'Asked for pricing of the "per store" plan.'


def test_importing_the_example_history_again_changes_nothing(staff, capsys):
    import_examples(capsys)

    output = import_examples(capsys)

    assert output.count("created 0, updated 0") == len(registry.importers())
    assert {model: model.objects.count() for model in COUNTS} == COUNTS


def test_the_format_reference_lists_the_columns_of_every_kind():
    text = (Path(settings.BASE_DIR) / "docs" / "import-format.md").read_text()

    for kind, spec in registry.importers().items():
        section = text.split(f"### `{kind}`", 1)[1].split("###", 1)[0]
        listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert listed == list(spec.column_names), kind


def test_each_kind_names_every_table_it_writes_that_a_kpi_reads(staff, capsys):
    """After an import, the KPIs that read the tables it names are recomputed from its earliest time
    (`ImportSpec.history_tables`): a table the import writes and does not name would leave those KPIs stale.
    Labels it creates (a new channel, pipeline or survey) label only the records it writes."""
    from django.apps import apps

    from kpis.definitions.base import registry as kpis

    read = {table for kpi in kpis().values() for table in kpi.reads}
    new_labels = {"contacts_channel", "sales_pipeline", "sales_stage", "surveys_survey", "auth_user"}
    models = {model._meta.db_table: model for model in apps.get_models()}

    def counts() -> dict[str, int]:
        return {table: models[table].objects.count() for table in read if table in models}

    for kind, spec in registry.importers().items():
        before = counts()
        call_command("import_records", kind, str(EXAMPLES / f"{kind}.csv"))
        written = {table for table, count in counts().items() if count != before[table]}
        assert written, kind
        assert written - new_labels <= set(spec.history_tables), kind
