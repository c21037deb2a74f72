"""Every list page and every list API exports what its filters show: all pages, streamed, as the list's
permission allows, formulas neutralised for people and raw in the import format, in a fixed number of queries."""

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal

import factory
import pytest
from django.urls import reverse
from django.utils import timezone

from crm_project.pagination import ApiPagination
from crm_project.views_mixins import FilteredListView
from sales.models import Pipeline
from surveys.models import Response
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.exports import FORMULA_TRIGGERS, IMPORT_COLUMNS, csv_records, csv_table
from tests.factories import UserFactory
from tests.paging import page_link, walk_api
from tests.sales.factories import (
    CampaignFactory,
    DealFactory,
    LeadFactory,
    OrderFactory,
    SpendFactory,
    SubscriptionFactory,
)
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

PAGE_SIZE = 2  # pages and API pages shrink to this, so three matching rows are more than a page
STAFF = factory.SubFactory(UserFactory)  # a different user on every row: a per-row lookup would show


def made_by(make_one, *, match: dict, other: dict, **always) -> Callable:
    """make(matching=True, **fields): one row that the case's filters select (or not)."""

    def make(matching: bool = True, **fields):
        return make_one(**{**always, **(match if matching else other), **fields})

    return make


def make_response(*, score: int, comment: str = "Fine", external_id: str = "") -> Response:
    """An answered invitation about a ticket, its contact with a company and channel of its own."""
    contact = ContactFactory(channel=ChannelFactory(name=factory.Faker("company")))
    invitation = InvitationFactory(contact=contact, ticket=TicketFactory(contact=contact), external_id=external_id)
    return Response.objects.create(invitation=invitation, kind=invitation.survey.kind, score=score, comment=comment)


def make_pipeline(**fields):
    name = fields.pop("name", None) or f"Pipeline {Pipeline.objects.count()}"
    return Pipeline.objects.create(name=name, **fields)


def make_nothing(**fields):
    """SLA policies: one per priority, made by a migration."""


@dataclasses.dataclass
class ListCase:
    id: str
    url: str
    viewer: str  # a role that sees the list
    outsider: str | None  # a role that does not (None: a user without a role)
    make: Callable
    params: dict  # filters that select the matching rows only
    text: str | None  # a text field of the rows, and its column in the export for people
    header: str | None = None
    kind: str | None = None  # the import kind of the "reimport" export
    always: dict = dataclasses.field(default_factory=dict)  # parameters the list needs to show everyone's rows

    def __str__(self):
        return self.id


OWNER_ANYONE = {"owner": ""}  # lead and deal pages open on the user's own records

PAGE_CASES = [
    ListCase(
        "contacts", reverse("contacts:contact_list"), "sales", None,
        made_by(ContactFactory, match={"region": "Nordics"}, other={"region": "Iberia"}, owner=STAFF),
        {"region": "Nordics"}, "last_name", "Last name", "contacts",
    ),
    ListCase(
        "companies", reverse("contacts:company_list"), "support", None,
        made_by(CompanyFactory, match={"region": "Nordics"}, other={"region": "Iberia"}, owner=STAFF),
        {"region": "Nordics"}, "name", "Name", "companies",
    ),
    ListCase(
        "leads", reverse("sales:lead_list"), "sales", "support",
        made_by(LeadFactory, match={"status": "working"}, other={"status": "new"}, owner=STAFF,
                campaign=factory.SubFactory(CampaignFactory)),
        {"status": "working"}, "last_name", "Last name", "leads", always=OWNER_ANYONE,
    ),
    ListCase(
        "deals", reverse("sales:deal_list"), "sales", "support",
        made_by(DealFactory, match={"kind": "upsell"}, other={"kind": "new"}, owner=STAFF),
        {"kind": "upsell"}, "title", "Title", "deals", always=OWNER_ANYONE,
    ),
    ListCase(
        "orders", reverse("sales:order_list"), "sales", "support",
        made_by(OrderFactory, match={"amount": Decimal("900.00")}, other={"amount": Decimal("100.00")},
                deal=factory.SubFactory(DealFactory), created_by=STAFF),
        {"amount_min": "500"}, "description", "Description", "orders",
    ),
    ListCase(
        "subscriptions", reverse("sales:subscription_list"), "manager", "support",
        made_by(SubscriptionFactory, match={"outcome": "cancelled"}, other={"outcome": "active"},
                renews=factory.SubFactory(SubscriptionFactory, outcome="renewed")),
        {"outcome": "cancelled"}, "plan", "Plan", "subscriptions",
    ),
    ListCase(
        "campaigns", reverse("sales:campaign_list"), "sales", "support",
        made_by(CampaignFactory, match={"name": factory.Sequence(lambda n: f"Spring {n}")},
                other={"name": factory.Sequence(lambda n: f"Autumn {n}")},
                channel=factory.SubFactory(ChannelFactory, name=factory.Sequence(lambda n: f"Ads {n}"))),
        {"q": "spring"}, "name", "Name", "campaigns",
    ),
    ListCase(
        "spend", reverse("sales:spend_list"), "manager", "support",
        made_by(SpendFactory, match={"category": "retention"}, other={"category": "acquisition"},
                campaign=factory.SubFactory(CampaignFactory)),
        {"category": "retention"}, "description", "Description", "spend",
    ),
    ListCase(
        "tickets", reverse("support:ticket_list"), "support", None,
        made_by(TicketFactory, match={"priority": "high"}, other={"priority": "low"}, assignee=STAFF),
        {"priority": "high"}, "subject", "Subject", "tickets", always={"queue": "all"},
    ),
    ListCase(
        "surveys", reverse("surveys:survey_list"), "manager", "sales",
        made_by(SurveyFactory, match={"kind": "csat"}, other={"kind": "nps"}),
        {"kind": "csat"}, "name", "Name",
    ),
    ListCase(
        "survey responses", reverse("surveys:response_list"), "manager", "sales",
        made_by(make_response, match={"score": 10}, other={"score": 2}),
        {"band": "promoter"}, "comment", "Comment", "survey_responses",
    ),
]  # fmt: skip

API_CASES = [
    ListCase(
        "channels", "/api/channels/", "sales", None,
        made_by(ChannelFactory, match={"is_active": False}, other={"is_active": True},
                name=factory.Sequence(lambda n: f"Channel {n}")),
        {"is_active": "false"}, "name",
    ),
    ListCase(
        "companies", "/api/companies/", "sales", None,
        made_by(CompanyFactory, match={"region": "Nordics"}, other={"region": "Iberia"}, owner=STAFF),
        {"region": "Nordics"}, "name", kind="companies",
    ),
    ListCase(
        "contacts", "/api/contacts/", "support", None,
        made_by(ContactFactory, match={"region": "Nordics"}, other={"region": "Iberia"}, owner=STAFF),
        {"region": "Nordics"}, "last_name", kind="contacts",
    ),
    ListCase(
        "interactions", "/api/interactions/", "sales", None,
        made_by(InteractionFactory, match={"kind": "meeting"}, other={"kind": "call"}, user=STAFF),
        {"kind": "meeting"}, "summary", kind="interactions",
    ),
    ListCase(
        "pipelines", "/api/pipelines/", "sales", "support",
        made_by(make_pipeline, match={}, other={}),
        {}, "name",
    ),
    ListCase(
        "campaigns", "/api/campaigns/", "manager", "support",
        made_by(CampaignFactory, match={"name": factory.Sequence(lambda n: f"Spring {n}")},
                other={"name": factory.Sequence(lambda n: f"Autumn {n}")}),
        {"q": "spring"}, "name", kind="campaigns",
    ),
    ListCase(
        "spend", "/api/spend/", "sales", "support",
        made_by(SpendFactory, match={"category": "retention"}, other={"category": "acquisition"},
                campaign=factory.SubFactory(CampaignFactory)),
        {"category": "retention"}, "description", kind="spend",
    ),
    ListCase(
        "leads", "/api/leads/", "sales", "support",
        made_by(LeadFactory, match={"status": "working"}, other={"status": "new"}, owner=STAFF,
                campaign=factory.SubFactory(CampaignFactory)),
        {"status": "working"}, "last_name", kind="leads",
    ),
    ListCase(
        "deals", "/api/deals/", "sales", "support",
        made_by(DealFactory, match={"kind": "upsell"}, other={"kind": "new"}, owner=STAFF),
        {"kind": "upsell"}, "title", kind="deals",
    ),
    ListCase(
        "orders", "/api/orders/", "sales", "support",
        made_by(OrderFactory, match={"amount": Decimal("900.00")}, other={"amount": Decimal("100.00")},
                deal=factory.SubFactory(DealFactory)),
        {"amount_min": "500"}, "description", kind="orders",
    ),
    ListCase(
        "subscriptions", "/api/subscriptions/", "sales", "support",
        made_by(SubscriptionFactory, match={"outcome": "cancelled"}, other={"outcome": "active"},
                renews=factory.SubFactory(SubscriptionFactory, outcome="renewed")),
        {"outcome": "cancelled"}, "plan", kind="subscriptions",
    ),
    ListCase(
        "customers", "/api/customers/", "sales", "support",
        made_by(ContactFactory, match={"customer_since": factory.LazyFunction(timezone.now)},
                other={"customer_since": None}, owner=STAFF),
        {}, "last_name", kind="contacts",
    ),
    ListCase(
        "surveys", "/api/surveys/", "manager", "sales",
        made_by(SurveyFactory, match={"kind": "csat"}, other={"kind": "nps"}),
        {"kind": "csat"}, "name",
    ),
    ListCase(
        "invitations", "/api/invitations/", "manager", "sales",
        made_by(InvitationFactory, match={"sent_at": timezone.now()},
                other={"sent_at": timezone.now() - datetime.timedelta(days=400)},
                ticket=factory.SubFactory(TicketFactory)),
        {"sent_after": (timezone.now() - datetime.timedelta(days=30)).isoformat()}, "send_error",
        kind="survey_responses",
    ),
    ListCase(
        "responses", "/api/responses/", "manager", "sales",
        made_by(make_response, match={"score": 10}, other={"score": 2}),
        {"band": "promoter"}, "comment", kind="survey_responses",
    ),
    ListCase(
        "tickets", "/api/tickets/", "support", None,
        made_by(TicketFactory, match={"priority": "high"}, other={"priority": "low"}, assignee=STAFF),
        {"priority": "high"}, "subject", kind="tickets",
    ),
    ListCase(
        "sla-policies", "/api/sla-policies/", "support", "sales",
        made_by(make_nothing, match={}, other={}),
        {}, None,
    ),
]  # fmt: skip

REIMPORT_PAGE_CASES = [case for case in PAGE_CASES if case.kind]
REIMPORT_API_CASES = [case for case in API_CASES if case.kind]
TEXT_API_CASES = [case for case in API_CASES if case.text]
PAGE_EXPORTS = [(case, "csv") for case in PAGE_CASES] + [(case, "reimport") for case in REIMPORT_PAGE_CASES]
API_EXPORTS = [(case, {"format": "csv"}) for case in API_CASES] + [
    (case, {"export": "reimport"}) for case in REIMPORT_API_CASES
]


def query_id(value) -> str:
    """Test ids: the case's name, and a query as its URL form (format=csv)."""
    return "&".join(f"{name}={setting}" for name, setting in value.items()) if isinstance(value, dict) else str(value)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(FilteredListView, "paginate_by", PAGE_SIZE)
    monkeypatch.setattr(ApiPagination, "page_size", PAGE_SIZE)


@pytest.fixture
def login(client, make_user):
    def log_in(role):
        client.force_login(make_user(role))
        return client

    return log_in


@pytest.fixture
def api_login(api_client, make_user):
    def log_in(role):
        api_client.force_authenticate(make_user(role))
        return api_client

    return log_in


RAW_IDS = [f"{trigger}#{number}" for number, trigger in enumerate(FORMULA_TRIGGERS)]


def made(exported: list[dict], column: str, values: list[str]) -> list[str]:
    """The cells of `column` that hold one of `values`, neutralised or not (other rows are the factories')."""
    return sorted(row[column] for row in exported if row[column].removeprefix("'") in values)


def rows_made(case: ListCase, matching: int, other: int = 1) -> None:
    for _ in range(matching):
        case.make(True)
    for _ in range(other):
        case.make(False)


# The list pages -----------------------------------------------------------------------------------


def page_export(client, case: ListCase, mode: str, **params):
    return client.get(case.url, {**case.always, **params, "export": mode})


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_a_page_exports_every_row_its_filters_select_not_only_the_page_shown(login, small_pages, case):
    rows_made(case, matching=3)
    client = login(case.viewer)

    page = client.get(case.url, {**case.always, **case.params})
    exported = csv_records(page_export(client, case, "csv", **case.params))

    assert (len(page.context["object_list"]), page.context["page_obj"].total) == (PAGE_SIZE, 3)
    assert len(exported) == 3


@pytest.mark.parametrize("case", REIMPORT_PAGE_CASES, ids=str)
def test_a_page_exports_every_row_its_filters_select_for_re_import(login, small_pages, case):
    rows_made(case, matching=3)

    exported = csv_records(page_export(login(case.viewer), case, "reimport", **case.params))

    assert len(exported) == 3


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_a_page_export_follows_the_ordering_chosen_on_the_page(login, small_pages, case):
    rows_made(case, matching=3, other=2)
    client = login(case.viewer)
    first = client.get(case.url, case.always)
    page, second = first.context, client.get(page_link(first)).context

    exported = csv_records(page_export(client, case, "csv"))

    shown = [*page["object_list"], *second["object_list"]]
    assert [row[case.header] for row in exported[:4]] == [str(getattr(item, case.text)) for item in shown]


@pytest.mark.parametrize("mode", ["csv", "reimport"])
@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_who_cannot_see_a_list_page_cannot_export_it(login, case, mode):
    rows_made(case, matching=1)
    client = login(case.outsider)

    assert client.get(case.url).status_code == 403
    assert page_export(client, case, mode).status_code == 403


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_a_page_export_for_people_neutralises_every_formula_trigger(login, case):
    for trigger in FORMULA_TRIGGERS:
        case.make(True, **{case.text: trigger})

    exported = csv_records(page_export(login(case.viewer), case, "csv"))

    assert made(exported, case.header, FORMULA_TRIGGERS) == sorted("'" + trigger for trigger in FORMULA_TRIGGERS)


@pytest.mark.parametrize("case", REIMPORT_PAGE_CASES, ids=str)
def test_a_page_export_for_re_import_keeps_every_cell_raw(login, case):
    for external_id in RAW_IDS:
        case.make(True, external_id=external_id)

    exported = csv_records(page_export(login(case.viewer), case, "reimport"))

    assert made(exported, "external_id", RAW_IDS) == sorted(RAW_IDS)


@pytest.mark.parametrize("case", REIMPORT_PAGE_CASES, ids=str)
def test_a_page_export_for_re_import_has_the_columns_of_the_import(login, case):
    rows_made(case, matching=1)

    header, _ = csv_table(page_export(login(case.viewer), case, "reimport"))

    assert header == IMPORT_COLUMNS[case.kind]


@pytest.mark.parametrize(("case", "mode"), PAGE_EXPORTS, ids=str)
def test_a_page_export_costs_the_same_queries_for_3_or_15_rows(login, django_assert_max_num_queries, case, mode):
    rows_made(case, matching=3, other=0)
    client = login(case.viewer)
    with django_assert_max_num_queries(8) as with_three:
        assert len(csv_records(page_export(client, case, mode, **case.params))) == 3
    rows_made(case, matching=12, other=0)
    with django_assert_max_num_queries(len(with_three)):
        assert len(csv_records(page_export(client, case, mode, **case.params))) == 15


@pytest.mark.parametrize("case", PAGE_CASES, ids=str)
def test_a_page_offers_its_exports_with_the_filters_in_force(login, case):
    rows_made(case, matching=1)

    html = login(case.viewer).get(case.url, {**case.always, **case.params, "page": 1}).content.decode()

    assert "Export CSV" in html
    assert ("Export for re-import" in html) == bool(case.kind)
    links = [link for link in html.split('href="')[1:] if "export=" in link.split('"')[0]]
    assert links
    for link in links:
        query = link.split('"')[0]
        assert all(f"{name}=" in query for name in case.params)
        assert "page=" not in query
        assert "cursor=" not in query


def test_a_page_export_with_an_unreadable_filter_says_what_is_wrong(sales_client):
    response = sales_client.get(reverse("contacts:contact_list"), {"created_after": "soon", "export": "csv"})

    assert response.status_code == 400
    assert "created_after" in response.content.decode()


def test_a_page_without_an_import_format_refuses_the_re_import_export(client, manager_user):
    client.force_login(manager_user)

    response = client.get(reverse("surveys:survey_list"), {"export": "reimport"})

    assert response.status_code == 400


def test_a_page_export_is_named_after_the_list_and_the_day(sales_client):
    today = timezone.localdate().isoformat()

    csv_file = sales_client.get(reverse("contacts:contact_list"), {"export": "csv"})
    import_file = sales_client.get(reverse("contacts:contact_list"), {"export": "reimport"})

    assert csv_file["Content-Disposition"] == f'attachment; filename="contacts-{today}.csv"'
    assert import_file["Content-Disposition"] == f'attachment; filename="contacts-reimport-{today}.csv"'


def test_a_page_export_for_people_starts_with_a_byte_order_mark_and_the_import_format_does_not(sales_client):
    ContactFactory()
    url = reverse("contacts:contact_list")

    for_people = b"".join(sales_client.get(url, {"export": "csv"}).streaming_content)
    for_import = b"".join(sales_client.get(url, {"export": "reimport"}).streaming_content)

    assert for_people.startswith("\ufeffFirst name,".encode())
    assert for_import.startswith(b"external_id,")


def test_the_ticket_queue_exports_the_queue_shown(client, make_user):
    agent = make_user("support")
    mine = TicketFactory(assignee=agent, subject="Mine")
    TicketFactory(subject="Someone else's")
    client.force_login(agent)

    exported = csv_records(client.get(reverse("support:ticket_list"), {"export": "csv"}))

    assert [row["Subject"] for row in exported] == [mine.subject]


def test_the_lead_list_exports_the_user_s_own_leads_unless_told_otherwise(client, make_user):
    rep = make_user("sales")
    LeadFactory(owner=rep, last_name="Mine")
    LeadFactory(last_name="Theirs")
    client.force_login(rep)

    exported = csv_records(client.get(reverse("sales:lead_list"), {"export": "csv"}))
    everyone = csv_records(client.get(reverse("sales:lead_list"), {"export": "csv", "owner": ""}))

    assert [row["Last name"] for row in exported] == ["Mine"]
    assert sorted(row["Last name"] for row in everyone) == ["Mine", "Theirs"]


# The list API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_an_api_list_answers_csv_with_every_row_its_filters_select(api_login, small_pages, case):
    rows_made(case, matching=3)
    api = api_login(case.viewer)

    pages = walk_api(api, case.url, case.params)
    exported = csv_records(api.get(case.url, {**case.params, "format": "csv"}))

    listed = [str(item["id"]) for page in pages for item in page["results"]]
    assert len(pages[0]["results"]) == PAGE_SIZE < len(listed)
    assert [row["id"] for row in exported] == listed


@pytest.mark.parametrize("case", REIMPORT_API_CASES, ids=str)
def test_an_api_list_answers_every_row_its_filters_select_for_re_import(api_login, small_pages, case):
    rows_made(case, matching=3)
    api = api_login(case.viewer)

    count = sum(len(page["results"]) for page in walk_api(api, case.url, case.params))
    exported = csv_records(api.get(case.url, {**case.params, "export": "reimport"}))

    assert len(exported) == count == 3


@pytest.mark.parametrize("query", [{"format": "csv"}, {"export": "csv"}, {"export": "reimport"}], ids=query_id)
@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_an_anonymous_api_csv_request_is_401(api_client, case, query):
    response = api_client.get(case.url, query)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("case", API_CASES, ids=str)
def test_who_cannot_see_an_api_list_cannot_export_it(api_login, case):
    api = api_login(case.outsider)

    assert api.get(case.url).status_code == 403
    assert api.get(case.url, {"format": "csv"}).status_code == 403
    assert api.get(case.url, {"export": "reimport"}).status_code == 403


@pytest.mark.parametrize("case", TEXT_API_CASES, ids=str)
def test_an_api_csv_neutralises_every_formula_trigger(api_login, case):
    for trigger in FORMULA_TRIGGERS:
        case.make(True, **{case.text: trigger})
    api = api_login(case.viewer)

    exported = csv_records(api.get(case.url, {"format": "csv"}))

    assert made(exported, case.text, FORMULA_TRIGGERS) == sorted("'" + trigger for trigger in FORMULA_TRIGGERS)


@pytest.mark.parametrize("case", REIMPORT_API_CASES, ids=str)
def test_an_api_export_for_re_import_keeps_every_cell_raw(api_login, case):
    for external_id in RAW_IDS:
        case.make(True, external_id=external_id)

    exported = csv_records(api_login(case.viewer).get(case.url, {**case.params, "export": "reimport"}))

    assert made(exported, "external_id", RAW_IDS) == sorted(RAW_IDS)


@pytest.mark.parametrize("case", REIMPORT_API_CASES, ids=str)
def test_an_api_export_for_re_import_has_the_columns_of_the_import(api_login, case):
    rows_made(case, matching=1)

    header, _ = csv_table(api_login(case.viewer).get(case.url, {"export": "reimport"}))

    assert header == IMPORT_COLUMNS[case.kind]


@pytest.mark.parametrize(("case", "query"), API_EXPORTS, ids=query_id)
def test_an_api_csv_costs_the_same_queries_for_3_or_15_rows(api_login, django_assert_max_num_queries, case, query):
    rows_made(case, matching=3, other=0)
    api = api_login(case.viewer)
    with django_assert_max_num_queries(8) as with_few:
        few = len(csv_records(api.get(case.url, {**case.params, **query})))
    rows_made(case, matching=12, other=0)
    with django_assert_max_num_queries(len(with_few)):
        many = len(csv_records(api.get(case.url, {**case.params, **query})))
    assert many == len(api.get(case.url, {**case.params, "page_size": 500}).json()["results"]) >= few


def test_an_api_list_answers_csv_when_the_client_accepts_it(sales_api):
    ContactFactory(last_name="Hopper")

    response = sales_api.get("/api/contacts/", HTTP_ACCEPT="text/csv")

    assert [row["last_name"] for row in csv_records(response)] == ["Hopper"]


def test_an_api_csv_with_an_unreadable_filter_answers_400_in_json(sales_api):
    response = sales_api.get("/api/contacts/", {"format": "csv", "created_after": "soon"})

    assert response.status_code == 400
    assert response.json() == {"created_after": ["Enter a valid date."]}


def test_an_api_list_without_an_import_format_refuses_the_re_import_export(sales_api):
    response = sales_api.get("/api/channels/", {"export": "reimport"})

    assert response.status_code == 400
    assert response.json() == {"export": ["Choose one of: csv."]}


def test_an_api_record_is_not_offered_as_csv(sales_api):
    contact = ContactFactory()

    assert sales_api.get(f"/api/contacts/{contact.pk}/", {"format": "csv"}).status_code == 404


def test_an_api_csv_writes_values_as_the_json_does(sales_api):
    ContactFactory(last_name="Hopper", email_opt_out=True, company=None, channel=None)

    (row,) = csv_records(sales_api.get("/api/contacts/", {"format": "csv"}))
    (item,) = sales_api.get("/api/contacts/").json()["results"]

    assert row["email_opt_out"] == "true"
    assert row["company"] == row["customer_since"] == ""
    assert row["created_at"] == item["created_at"]
    assert list(row) == list(item)


def test_an_api_csv_is_named_after_the_list_and_the_day(api_login):
    today = timezone.localdate().isoformat()

    response = api_login("support").get("/api/sla-policies/", {"format": "csv"})

    assert response["Content-Disposition"] == f'attachment; filename="sla-policies-{today}.csv"'
