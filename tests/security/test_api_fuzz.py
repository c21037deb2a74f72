"""The API fuzzed from its own OpenAPI schema with schemathesis, as a manager with a token.

Every operation of the schema is one test: positive cases (valid by the schema) and negative ones (invalid by
it), from the schema's examples, its boundaries (the coverage phase) and Hypothesis, sent in process to the WSGI
application on the test database. Each answer must:

- not be a server error (`not_a_server_error`);
- have a documented status code, content type and headers, and a body that matches the schema
  (`status_code_conformance`, `content_type_conformance`, `response_headers_conformance`,
  `response_schema_conformance`);
- refuse invalid input with a 4xx (`negative_data_rejection`), and answer 401 without the token or with a wrong
  one (`ignored_auth`);
- accept valid filters: a valid list request answers 400 only for a record that does not exist
  (`filters_accept_valid_values`, below; schemathesis's own `positive_data_acceptance` is off because the schema
  cannot say which ids exist, and a service rightly refuses some valid-looking writes).

Bounded for CI: a few examples per operation, no shrinking, a fixed seed (a failure reproduces), no example
database written to disk.
"""

import json

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.authtoken.models import Token
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.specs.openapi.checks import negative_data_rejection

from crm_project.api_input import OFFSET_OUT_OF_RANGE
from crm_project.keyset import BROKEN_CURSOR, OTHER_ORDERING_CURSOR
from tests.contacts.factories import ContactFactory, InteractionFactory
from tests.sales.factories import DealFactory, LeadFactory, OrderFactory, SpendFactory, SubscriptionFactory
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory

MANAGER_TOKEN = "f0220000000000000000000000000000manager0"  # the manager's DRF token (40 characters)
EXAMPLES_PER_OPERATION = 6
SCALARS = str | int | float | bool
# What a request valid by the schema may still be refused for, which the schema cannot say: an id that is not a
# record, and a NUL character (Django's fields refuse it; PostgreSQL cannot store it).
# What a schema cannot say: which cursors the server made, which offsets PostgreSQL holds (RFC 3339 allows 23:59).
EXPECTED_REFUSALS = {
    "Select a valid choice. That choice is not one of the available choices.",
    "Null characters are not allowed.",
    BROKEN_CURSOR,
    OTHER_ORDERING_CURSOR,
    OFFSET_OUT_OF_RANGE,
}

pytestmark = pytest.mark.postgres  # PostgreSQL's own refusals (NUL bytes, out-of-range numbers) are part of it


def load_schema() -> schemathesis.BaseSchema:
    """The schema /api/schema/ serves, as schemathesis sees it, bound to the WSGI application."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    config = schemathesis.Config.from_dict(
        {
            "seed": 20260309,
            "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {MANAGER_TOKEN}"}}},
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES_PER_OPERATION,
                "no-shrink": True,
                "with-security-parameters": False,
            },
            # The coverage phase sends each parameter's boundaries and wrong types: the invalid ones only (the valid
            # ones are the fuzzing phase's), which keeps the run to a few minutes.
            "phases": {"stateful": {"enabled": False}, "coverage": {"generation": {"mode": "negative"}}},
            "checks": {"positive_data_acceptance": {"enabled": False}},
        }
    )
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = WSGIHandler()
    return loaded


schema = load_schema()
cases_sent: dict[tuple[str, str], int] = {}


@pytest.fixture(scope="module", autouse=True)
def report_cases(request):
    yield
    if cases_sent:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        operations = {operation for operation, _ in cases_sent}
        phases = {}
        for (_, phase), count in cases_sent.items():
            phases[phase] = phases.get(phase, 0) + count
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"API fuzz: {sum(cases_sent.values())} cases ({phases}) over {len(operations)} operations "
                f"(of {len(list(schema.get_all_operations()))} in the schema)"
            )


@pytest.fixture
def as_manager(db, manager_user):
    """A manager's token, a few records of every kind to find, and requests served on the test's transaction.

    Django's own test client does the same: a request does not close the connection that holds the test's
    transaction.
    """
    Token.objects.create(user=manager_user, key=MANAGER_TOKEN)
    InteractionFactory(contact=ContactFactory(owner=manager_user))
    DealFactory()
    LeadFactory()
    OrderFactory()
    SpendFactory()
    SubscriptionFactory()
    TicketFactory()
    InvitationFactory()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def filters_accept_valid_values(ctx, response, case) -> bool | None:
    """A list request valid by the schema is answered, or refused only for what the schema cannot say."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or case.method != "GET" or response.status_code != 400:
        return None
    answer = response.json()
    messages = [message for value in answer.values() for message in (value if isinstance(value, list) else [value])]
    unexpected = [message for message in messages if message not in EXPECTED_REFUSALS]
    assert not unexpected, f"A request valid by the schema was refused: {answer}"
    return None


def only_a_scalar_drf_reads_as_another(case) -> bool:
    """A negative case whose only faults are JSON scalars of another type in the body (`0` for false, `12` for
    "12"): DRF's fields read those by design, as an HTML form would send them, so it is not held to
    negative_data_rejection. Everything else about it is still checked."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    data = meta.phase.data
    if isinstance(data, CoveragePhaseData):  # one property of the body, of another type: "/properties/NAME/type"
        path = (data.location or "").split("/")
        return (
            data.scenario == CoverageScenario.INCORRECT_TYPE
            and data.parameter_location == ParameterLocation.BODY
            and len(path) == 4
            and isinstance(case.body, dict)
            and isinstance(case.body.get(path[2]), SCALARS)
        )
    return bool(data.mutations) and all(
        mutation.parameter_location == ParameterLocation.BODY
        and mutation.operator == OperatorKind.CHANGE_TYPE
        and isinstance(mutation.new_value, SCALARS)
        for mutation in data.mutations
    )


@hypothesis.settings(deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck))
@schema.parametrize()
def test_api_answers_every_generated_request_as_its_schema_says(case, as_manager):
    key = (case.operation.label, case.meta.phase.name.value if case.meta else "explicit")
    cases_sent[key] = cases_sent.get(key, 0) + 1
    excluded = [negative_data_rejection] if only_a_scalar_drf_reads_as_another(case) else []
    case.call_and_validate(additional_checks=[filters_accept_valid_values], excluded_checks=excluded)
