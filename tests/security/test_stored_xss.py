"""Stored XSS: a script or `javascript:` payload in every free-text field, and every page that shows them opened in
Chromium, the admin included; no payload may run, and each must be shown as the text it is.

The fields are found by walking the models (CharField, TextField, EmailField, URLField, JSONField that a user, an
import or a public form can set), so that a new text field is covered the day it is added; the few left out are
listed in EXCLUDED with the reason. The pages are found by walking the URL configuration (every page that answers
GET), plus each KPI's page with its breakdowns, the records behind a KPI number, the search, the admin's lists and
forms of every registered model, and the survey e-mail.

A payload "ran" when, on any page:
- it called `xss(n)` or `alert(n)` (window.__xss, the dialog handler); or
- an element it carries (`data-xss`) is in the DOM: parsed as markup, whatever a Content-Security-Policy would then
  have stopped; or
- a link, image or form points at `javascript:`.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from contacts.models import Company, Contact, ImportJob, Interaction
from kpis.definitions.base import registry
from kpis.models import KpiTarget
from sales.models import Campaign, Deal, Lead, Order, SalesEvent, Spend, Stage, Subscription
from support.models import Ticket, TicketEvent, TicketMessage
from surveys.models import Invitation, Response, Survey, SurveyKind, hash_token
from surveys.services import invitations_send
from tests.browser.conftest import browser, log_in, page, page_watcher  # noqa: F401  (the browser fixtures)
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.factories import UserFactory
from tests.kpis.conftest import refresh_kpis
from tests.sales.factories import (
    CampaignFactory,
    DealFactory,
    LeadFactory,
    OrderFactory,
    SpendFactory,
    SubscriptionFactory,
    default_pipeline,
)
from tests.support.factories import TicketFactory
from tests.surveys.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.browser

APPS = ("contacts", "sales", "support", "surveys", "kpis", "auth")
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)  # EmailField, URLField, SlugField included

# Left out of the walk, and why. The test fails if one of these stops existing, so the list cannot rot.
EXCLUDED = {
    "auth.User.username": "letters, digits and @.+-_ only (Django's validator)",
    "auth.User.password": "a hash, never shown",
    "auth.Permission.name": "written by migrations",
    "auth.Permission.codename": "written by migrations",
    "contacts.ImportJob.kind": "one of the import's kinds, checked by the form",
    "contacts.ImportJob.summary": "written by the import from counts",
    "kpis.KpiSnapshot.kpi": "a key of the KPI registry",
    "kpis.KpiSnapshot.dimension": "a dimension of the KPI registry",
    "kpis.KpiSnapshot.segment": "computed from records: the payloads in regions, industries, channels and names",
    "kpis.KpiSnapshot.details": "computed by the KPI engine",
    "kpis.KpiCohortCell.dimension": "a dimension of the KPI registry",
    "kpis.KpiCohortCell.segment": "computed from records, as for snapshots",
    "kpis.KpiRefresh.scope": "written by the refresh",
    "kpis.KpiRefresh.error": "an exception's text, shown to no page",
    "kpis.KpiStaleMark.reason": "written by the signal that marks periods stale",
    "kpis.KpiStaleMark.table": "the name of a table, written by the signal that marks periods stale",
    "kpis.KpiDailyPart.part": "a hash written by the refresh, shown to no page",
    "kpis.KpiDailyPart.days": "per-day sums of the refresh (labels as in snapshots), shown to no page",
    "kpis.KpiTarget.kpi": "a key of the KPI registry, checked by the form",
    "surveys.Invitation.token_hash": "a hash, never shown",
}
# Walked and given a payload, but shown on no page (exports and the API only): not required to be seen.
NOT_ON_A_PAGE = {
    "contacts.Company.external_id": "exports and the API",
    "contacts.Contact.external_id": "exports and the API",
    "contacts.Interaction.external_id": "exports and the API",
    "sales.Campaign.external_id": "exports and the API",
    "sales.Spend.external_id": "exports and the API",
    "sales.Lead.external_id": "exports and the API",
    "sales.Deal.external_id": "exports and the API",
    "sales.Order.external_id": "exports and the API",
    "sales.Subscription.external_id": "exports and the API",
    "support.Ticket.external_id": "exports and the API",
    "surveys.Invitation.external_id": "exports and the API",
    "surveys.Invitation.send_error": "the API",
}

# {n} is the field's number: each payload says which field it came from.
PAYLOADS = [
    '<script data-xss="{n}">xss({n})</script>',
    "<img src=x data-xss={n} onerror=xss({n})>",
    '<svg data-xss="{n}" onload=alert({n})>',
    '"><script data-xss="{n}">xss({n})</script>',
    "'><img src=x data-xss={n} onerror=xss({n})>",
    'javascript:xss({n})//<b data-xss="{n}">',
    '{{{{7*7}}}}{{% now "Y" %}}<i data-xss="{n}">',  # template injection: must show as typed
    '</script><svg data-xss="{n}" onload=xss({n})>',  # in a JSON block (json_script)
]
URL_PAYLOAD = PAYLOADS[5]  # where a field holds an address (a website, a domain), the javascript: one comes first
URL_LIKE = {"domain", "website", "url", "link"}
EMAIL_PAYLOAD = '"<svg/data-xss={n}/onload=xss({n})>"@example.com'  # a valid address (quoted local part)

# What a page may not contain: a payload that ran, an element it carries, a javascript: address.
PROBE = """() => ({
    calls: window.__xss || [],
    elements: [...document.querySelectorAll('[data-xss]')].map(e => e.outerHTML.slice(0, 120)),
    scripts: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
        .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action')
                  || e.getAttribute('formaction') || '')
        .filter(value => /^\\s*javascript:/i.test(value)),
    text: document.body ? document.body.innerText : '',
    values: [...document.querySelectorAll('input, textarea, select option')].map(e => e.value || e.textContent),
})"""
MARKER_SCRIPT = "window.__xss = []; window.xss = n => window.__xss.push(n);"


def label(model, field_name: str) -> str:
    return f"{model._meta.label}.{field_name}"


def walk_free_text_fields() -> list[tuple[type[models.Model], models.Field]]:
    """Every concrete, editable text field of our models (and of users and groups) that takes free text."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, TEXT_FIELDS) and not model_field.choices:
                found.append((model, model_field))
    return found


def payload_for(model_field: models.Field, n: int):
    """The first payload the field accepts as valid input (length, validators), as the value to store."""
    if isinstance(model_field, models.EmailField):
        candidates = [EMAIL_PAYLOAD.format(n=n)]
    elif isinstance(model_field, models.URLField) or model_field.name in URL_LIKE:
        candidates = [URL_PAYLOAD.format(n=n), *(template.format(n=n) for template in PAYLOADS)]
    else:
        candidates = [template.format(n=n) for template in PAYLOADS[n % len(PAYLOADS) :] + PAYLOADS]
    for candidate in candidates:
        if model_field.max_length and len(candidate) > model_field.max_length:
            continue
        try:
            model_field.run_validators(candidate)
        except ValidationError:
            continue
        return candidate
    raise AssertionError(f"No payload fits {model_field}; add one that does")


# JSON fields hold structures; the payload goes where the page shows text.
JSON_SHAPES = {
    "contacts.ImportJob.problems": lambda text: [{"line": 2, "column": text, "reason": text}],
    "contacts.ImportJob.notes": lambda text: [text],
    "contacts.ImportJob.preview": lambda text: {"header": [text], "rows": [{"line": 2, "cells": [text]}]},
}


@dataclass
class World:
    """The records that carry the payloads, and what each field holds."""

    viewer: object
    carriers: dict = field(default_factory=dict)  # model -> [instances]
    payloads: dict = field(default_factory=dict)  # "app.Model.field" -> payload text
    survey_token: str = "xss-survey-token-0001-abcdefghijklmnop"
    answered_token: str = "xss-survey-token-0002-abcdefghijklmnop"


def build_world() -> World:
    """One record of every kind with a text field, related as in real use, then a payload in each text field."""
    now = timezone.now()
    viewer = UserFactory(role="admin", username="ada.admin", is_staff=True, is_superuser=True)
    owner = UserFactory(role="sales", username="olga.owner")
    group = Group.objects.create(name="Night shift")
    channel = ChannelFactory(name="Paid ads")
    company = CompanyFactory(owner=owner)
    contact = ContactFactory(company=company, channel=channel, owner=owner, customer_since=now - datetime.timedelta(40))
    interaction = InteractionFactory(contact=contact, user=owner, kind=Interaction.Kind.NOTE)
    campaign = CampaignFactory(channel=channel, starts_on=now.date() - datetime.timedelta(60), ends_on=None)
    spend = SpendFactory(channel=channel, campaign=campaign, spent_on=now.date() - datetime.timedelta(20))
    pipeline = default_pipeline()
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position").first()
    lead = LeadFactory(channel=channel, campaign=campaign, owner=owner, status=Lead.Status.DISQUALIFIED)
    open_deal = DealFactory(contact=contact, owner=owner, channel=channel, lead=lead)
    lost_deal = DealFactory(
        contact=contact,
        owner=owner,
        channel=channel,
        status=Deal.Status.LOST,
        stage=pipeline.stages.get(kind=Stage.Kind.LOST),
        created_at=now - datetime.timedelta(30),
        closed_at=now - datetime.timedelta(5),
    )
    order = OrderFactory(contact=contact, deal=open_deal, ordered_at=now - datetime.timedelta(10), amount=Decimal(90))
    subscription = SubscriptionFactory(contact=contact, starts_on=now.date() - datetime.timedelta(30))
    sales_event = SalesEvent.objects.create(verb=SalesEvent.Verb.CUSTOMER_STARTED, actor=owner, contact=contact)
    ticket = TicketFactory(contact=contact, assignee=owner, created_at=now - datetime.timedelta(3))
    reply = TicketMessage.objects.create(ticket=ticket, author_kind=TicketMessage.Author.AGENT, author=owner, body=".")
    note = TicketMessage.objects.create(
        ticket=ticket, author_kind=TicketMessage.Author.AGENT, author=owner, body=".", is_public=False
    )
    ticket_event = TicketEvent.objects.create(ticket=ticket, verb=TicketEvent.Verb.ASSIGNED, actor=owner)
    survey = SurveyFactory(kind=SurveyKind.CSAT)
    world = World(viewer=viewer)
    invitation = InvitationFactory(survey=survey, contact=contact, ticket=ticket, token=world.survey_token)
    answered = InvitationFactory(survey=survey, contact=contact, token=world.answered_token)
    response = Response.objects.create(invitation=answered, kind=survey.kind, score=2, submitted_at=now)
    target = KpiTarget.objects.create(kpi="new_customers", value=Decimal(5), note=".")
    import_job = ImportJob.objects.create(
        kind="contacts", file_name="contacts.csv", status=ImportJob.Status.CHECKED, created_by=viewer, content=b""
    )
    assert invitation.token_hash == hash_token(world.survey_token)

    for record in [
        viewer,
        owner,
        group,
        channel,
        company,
        contact,
        interaction,
        campaign,
        spend,
        pipeline,
        stage,
        lead,
        open_deal,
        lost_deal,
        order,
        subscription,
        sales_event,
        ticket,
        reply,
        note,
        ticket_event,
        survey,
        invitation,
        answered,
        response,
        target,
        import_job,
    ]:
        world.carriers.setdefault(type(record), []).append(record)

    for number, (model, model_field) in enumerate(walk_free_text_fields(), start=1):
        name = label(model, model_field.name)
        if name in EXCLUDED:
            continue
        assert model in world.carriers, f"Give {model._meta.label} a record in build_world: {name} is free text"
        if isinstance(model_field, models.JSONField):
            assert name in JSON_SHAPES, f"Say in JSON_SHAPES where {name} holds text a page shows"
            text = PAYLOADS[number % len(PAYLOADS)].format(n=number)[:40]  # previews show 40 characters
            value = JSON_SHAPES[name](text)
        else:
            text = value = payload_for(model_field, number)
        world.payloads[name] = text
        first, *others = world.carriers[model]
        model.objects.filter(pk=first.pk).update(**{model_field.attname: value})
        for record in others:
            try:
                with transaction.atomic():
                    model.objects.filter(pk=record.pk).update(**{model_field.attname: value})
            except IntegrityError:
                pass  # a unique field (an external id): the first record carries the payload

    viewer.refresh_from_db()
    # The admin's "Recent actions" show what was changed, by name.
    LogEntry.objects.log_actions(
        user_id=viewer.pk, queryset=Contact.objects.filter(pk=contact.pk), action_flag=CHANGE, change_message="[]"
    )
    refresh_kpis(since=(now - datetime.timedelta(120)).date().isoformat())
    return world


# Pages -----------------------------------------------------------------------------------------------------------

# A page's name says whose record it shows: contacts:contact_detail -> Contact.
RECORD_OF_PAGE = {
    "contact": Contact,
    "company": Company,
    "import": ImportJob,
    "lead": Lead,
    "campaign": Campaign,
    "spend": Spend,
    "deal": Deal,
    "order": Order,
    "subscription": Subscription,
    "customer": Contact,
    "survey": Survey,
    "ticket": Ticket,
    "target": KpiTarget,
}
# Pages that are not HTML about records, or that only log out.
NOT_PAGES = {
    "logout": "POST only; logs the viewer out",
    "health": "JSON about the services",
    "kpis:export": "CSV (its formulas are neutralised; see the export tests)",
    "api_schema": "the OpenAPI schema",
    "api_token": "JSON",
}


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + str(pattern.pattern), f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern


def answers_get(pattern: URLPattern) -> bool:
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "get")
    allowed = getattr(pattern.callback, "http_method_names", None) or ["get"]
    return "get" in allowed


def page_urls(world: World) -> list[str]:
    """Every page of the URL configuration that answers GET, with the payloads' records for its arguments."""
    urls = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(("admin/", "api/")) or name in NOT_PAGES or not answers_get(pattern):
            continue
        arguments = set(pattern.pattern.converters)
        if not arguments:
            urls.append(reverse(name))
        elif arguments == {"token"}:
            urls += [reverse(name, args=[world.survey_token]), reverse(name, args=[world.answered_token])]
        elif arguments == {"key"}:
            urls += kpi_urls(name)
        else:
            (argument,) = arguments
            kind = name.split(":")[-1].split("_")[0]
            assert kind in RECORD_OF_PAGE, f"Which record does {name} show? Add it to RECORD_OF_PAGE"
            for record in world.carriers[RECORD_OF_PAGE[kind]]:
                urls.append(reverse(name, kwargs={argument: record.pk}))
    return urls


def kpi_urls(name: str) -> list[str]:
    """Each KPI's page with its default breakdown, and once more broken down by each of its other dimensions."""
    urls = []
    for kpi in registry().values():
        base = reverse(name, args=[kpi.key])
        urls.append(base)
        urls += [f"{base}?breakdown={dimension}" for dimension in kpi.dimensions[1:]]
    return urls


def drill_down_urls(browser_page, kpi_pages: list[str]) -> list[str]:
    """The records behind a number of each KPI breakdown (a list page filtered by the segment's payload)."""
    urls = set()
    for url in kpi_pages:
        if "/kpis/" in url and "?breakdown=" in url:
            browser_page.goto(url)
            urls.update(
                browser_page.locator("table.kpi-breakdown a[data-part]").evaluate_all("links => links.map(a => a.href)")
            )
    return sorted(urls)


def list_urls_searching(urls: list[str], text: str) -> list[str]:
    """Every list page, searching for a payload (shown back in its filter form)."""
    return [f"{url}?q={quote(text)}" for url in urls if url.endswith("s/") and url.count("/") == 2]


def admin_urls(world: World) -> list[str]:
    """The admin's home, and for every registered model its list and the form of each payload's record."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        for record in world.carriers.get(model, []):
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[record.pk]))
            urls.append(reverse("admin:{}_{}_history".format(*info), args=[record.pk]))
    return urls


@dataclass
class Findings:
    payload_texts: set
    ran: dict = field(default_factory=dict)  # url -> what ran
    shown: set = field(default_factory=set)  # payload texts seen as text or as a form value
    pages: int = 0


def inspect(browser_page, url: str, findings: Findings, dialogs: list) -> None:
    response = browser_page.goto(url)
    assert response is not None and response.status < 500, f"{url} answered {response and response.status}"
    if "text/html" not in response.headers.get("content-type", ""):
        return
    found = browser_page.evaluate(PROBE)
    findings.pages += 1
    ran = {key: found[key] for key in ("calls", "elements", "scripts") if found[key]}
    if dialogs:
        ran["dialogs"] = list(dialogs)
        dialogs.clear()
    if ran:
        findings.ran[url] = ran
    findings.shown.update(text for text in findings.payload_texts if text in found["text"] or text in found["values"])


def test_the_walk_finds_every_free_text_field_and_each_takes_a_payload(db):
    # Given the models as they are
    fields = walk_free_text_fields()
    names = {label(model, model_field.name) for model, model_field in fields}

    # Then it finds the free text users write (and at least as many fields as when this test was written)
    assert len(fields) >= 60, names
    for expected in ["contacts.Contact.first_name", "support.TicketMessage.body", "surveys.Response.comment"]:
        assert expected in names
    # And every exclusion names a field that exists (a renamed field cannot slip out of the walk)
    assert set(EXCLUDED) <= names, set(EXCLUDED) - names
    assert set(NOT_ON_A_PAGE) <= names, set(NOT_ON_A_PAGE) - names
    # And every other field accepts a payload as valid input (the payloads are what a user could really type)
    for number, (model, model_field) in enumerate(fields, start=1):
        if label(model, model_field.name) not in EXCLUDED and not isinstance(model_field, models.JSONField):
            payload_for(model_field, number)


def test_no_stored_payload_runs_on_any_page_and_each_shows_as_text(page, log_in, live_server):  # noqa: F811
    # Given a payload in every free-text field
    world = build_world()
    findings = Findings(payload_texts=set(world.payloads.values()))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(MARKER_SCRIPT)
    log_in(world.viewer)

    # When the viewer opens every page, the records behind KPI numbers, the search, and the admin
    urls = page_urls(world)
    for url in urls:
        inspect(page, url, findings, dialogs)
    for url in drill_down_urls(page, urls):
        inspect(page, url, findings, dialogs)
    some_payload = world.payloads["contacts.Contact.last_name"]
    for url in ["/search/?q=xss", f"/search/?q={quote(some_payload)}", *list_urls_searching(urls, some_payload)]:
        inspect(page, url, findings, dialogs)
    for url in admin_urls(world):
        inspect(page, url, findings, dialogs)

    # Then no payload ran anywhere
    assert findings.ran == {}, f"Payloads ran on {len(findings.ran)} pages: {findings.ran}"
    # And each shows as the text that was typed, somewhere (escaped, not parsed)
    missing = {name for name, text in world.payloads.items() if text not in findings.shown} - set(NOT_ON_A_PAGE)
    assert missing == set(), f"Never shown as text on {findings.pages} pages: {sorted(missing)}"
    print(f"Stored XSS: {len(world.payloads)} fields, {findings.pages} pages")


def test_the_survey_email_shows_payloads_as_text(page, mailoutbox):  # noqa: F811
    # Given a survey and a contact whose words are payloads, and an invitation to send
    survey = SurveyFactory(kind=SurveyKind.CSAT)
    contact = ContactFactory()
    for record, names in [(survey, ["name", "question", "low_label", "high_label"]), (contact, ["first_name"])]:
        for number, name in enumerate(names, start=1):
            setattr(record, name, payload_for(record._meta.get_field(name), number))
        record.save()
    invitation = Invitation.objects.create(survey=survey, contact=contact)

    # When it is sent and the HTML version is opened in a mail client (Chromium)
    invitations_send(invitation_ids=[invitation.pk])
    (message,) = mailoutbox
    (html, _), *_ = message.alternatives
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(MARKER_SCRIPT)
    page.set_content(html)
    found = page.evaluate(PROBE)

    # Then nothing ran, and the question reads as typed in both versions
    assert (found["calls"], found["elements"], found["scripts"], dialogs) == ([], [], [], [])
    assert survey.question in found["text"]
    assert contact.first_name in found["text"]
    assert survey.question in message.body  # plain text: not &lt;script&gt;
