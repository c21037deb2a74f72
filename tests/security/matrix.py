"""How the permission matrix asks: the table beside it, a URL filled with real records, one request per method."""

from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from .routes import METHODS, Route
from .world import KPI_KEY, ROLES, SURVEY_TOKEN, World, content_type_id

TABLE = Path(__file__).with_name("permission_matrix.txt")

# The segment before a record's id in a URL -> the model of that record (pages and API alike).
RESOURCES = {
    "contacts": "contacts.contact",
    "companies": "contacts.company",
    "imports": "contacts.importjob",
    "channels": "contacts.channel",
    "interactions": "contacts.interaction",
    "customers": "contacts.contact",
    "leads": "sales.lead",
    "campaigns": "sales.campaign",
    "spend": "sales.spend",
    "deals": "sales.deal",
    "orders": "sales.order",
    "subscriptions": "sales.subscription",
    "pipelines": "sales.pipeline",
    "tickets": "support.ticket",
    "sla-policies": "support.slapolicy",
    "surveys": "surveys.survey",
    "invitations": "surveys.invitation",
    "responses": "surveys.response",
    "targets": "kpis.kpitarget",
    "users": "auth.user",
    "deleted": "audit.auditentry",
}
RECORD_PARAMETERS = {"pk", "contact_pk", "object_id", "id"}
# What anonymous visitors may see or send: logging in, the health probe, and the customer-facing pages.
PUBLIC = {
    "login",
    "health",
    "api_token",
    "sales:public_lead_form",
    "sales:public_lead_thanks",
    "surveys:answer",
    "surveys:unsubscribe",
    "admin:login",
}
LOGIN_PAGES = ("/accounts/login/?next=", "/admin/login/?next=")
ADMIN_INDEX = "/admin/"  # where the admin's logout sends a visitor who was not logged in: its login, in turn
WRITES = ("INSERT", "UPDATE", "DELETE")


def read_table(path: Path = TABLE) -> dict[str, dict[str, dict[str, int]]]:
    """{key: {method: {role: status}}} from the text table (one line per URL and method)."""
    table: dict[str, dict[str, dict[str, int]]] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, method, *codes = line.split()
        if method not in METHODS or len(codes) != len(ROLES):
            raise ValueError(f"{path.name}:{number}: expected `key METHOD` and {len(ROLES)} statuses: {line!r}")
        if method in table.get(key, {}):
            raise ValueError(f"{path.name}:{number}: {key} {method} is listed twice")
        table.setdefault(key, {})[method] = dict(zip(ROLES, map(int, codes), strict=True))
    return table


def parameter_values(route: Route, world: World) -> dict[str, str]:
    """Real values for the route's parameters: records owned by someone else, a live survey link, a KPI key."""
    placeholders = {name: f"@@{name}@@" for name in route.parameters}
    segments = route.url(placeholders).strip("/").split("/")
    values = {}
    for name in route.parameters:
        if name == "format":
            values[name] = "json"
        elif name == "token":
            values[name] = SURVEY_TOKEN
        elif name == "key":
            values[name] = KPI_KEY
        elif name == "kind":
            values[name] = "contacts"  # an import's kind
        elif name == "app_label":
            values[name] = "contacts"
        elif name == "url":
            values[name] = "no-such-page/"
        elif name == "content_type_id":
            values[name] = str(content_type_id("contacts.contact"))
        elif name in RECORD_PARAMETERS:
            position = next(i for i, segment in enumerate(segments) if f"@@{name}@@" in segment)
            if route.is_admin and "content_type_id" in route.parameters:
                label = "contacts.contact"
            elif route.is_admin:
                label = f"{segments[position - 2]}.{segments[position - 1]}"
            else:
                label = RESOURCES.get(segments[position - 1], "")
            if label not in world.records:
                raise LookupError(f"{route.route}: teach tests/security/matrix.py which record fills <{name}>")
            values[name] = str(world.records[label].pk)
        else:
            raise LookupError(f"{route.route}: teach tests/security/matrix.py how to fill <{name}>")
    return values


def client_for(world: World, role: str, route: Route) -> tuple[Client, dict]:
    """A browser session for pages and the admin; the API is called with the role's token, as integrations do."""
    client = Client()
    headers = {}
    user = world.users[role]
    if user is not None:
        if route.is_api:
            headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[role]}"
        else:
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client, headers


def ask(client: Client, url: str, method: str, *, api: bool, headers: dict):
    """One request with no input: it shows who gets in, not what input does (other tests do that)."""
    if method == "GET":
        return client.get(url, **headers)
    content_type = "application/json" if api else "application/x-www-form-urlencoded"
    body = "{}" if api else ""
    return client.generic(method, url, body, content_type=content_type, **headers)


def request_writes(client: Client, url: str, method: str, *, api: bool, headers: dict):
    """The response, and the SQL statements that changed data while it was answered."""
    connection.queries_log.clear()  # the log keeps 9,000 queries: a full one would capture nothing
    with CaptureQueriesContext(connection) as queries:
        response = ask(client, url, method, api=api, headers=headers)
    writes = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)]
    return response, writes
