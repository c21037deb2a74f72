"""One small CRM for the access tests: a user per role, and one record of every kind owned by OTHER users."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token, TokenProxy

from audit.models import AuditEntry
from contacts.models import Contact, ImportJob
from kpis.models import KpiTarget
from sales.models import Pipeline
from support import services as support_services
from support.models import SlaPolicy
from surveys.models import Response
from tests.contacts.factories import ChannelFactory, CompanyFactory, ContactFactory, InteractionFactory
from tests.factories import UserFactory
from tests.sales.factories import (
    CampaignFactory,
    DealFactory,
    LeadFactory,
    OrderFactory,
    SpendFactory,
    SubscriptionFactory,
)
from tests.surveys.factories import InvitationFactory, SurveyFactory

# The columns of the permission table: who is asking. "nobody" is a staff login that has no role (yet).
ROLES = ("anonymous", "sales", "support", "manager", "admin", "nobody")
SURVEY_TOKEN = "matrix-token-0001-abcdefghijklmnop"
KPI_KEY = "revenue"


@dataclass
class World:
    users: dict = field(default_factory=dict)  # role -> user (anonymous: None)
    tokens: dict = field(default_factory=dict)  # role -> API token key
    sessions: dict = field(default_factory=dict)  # role -> session key of a browser logged in as that user
    records: dict = field(default_factory=dict)  # "app_label.model" -> one record of that model
    owners: dict = field(default_factory=dict)  # who owns the records: none of the users above


def build_world() -> World:
    world = World()
    for role in ROLES[1:]:
        user = UserFactory(username=f"matrix.{role}", role=None if role == "nobody" else role, is_staff=role == "admin")
        world.users[role] = user
        world.tokens[role] = Token.objects.create(user=user).key
        browser = Client()
        browser.force_login(user)
        world.sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    world.users["anonymous"] = None

    # Records belong to a colleague of the same role, never to the user asking: reachable by id or not,
    # the table says so.
    seller = UserFactory(username="matrix.other-seller", role="sales")
    agent = UserFactory(username="matrix.other-agent", role="support")
    world.owners = {"sales": seller, "support": agent}

    channel = ChannelFactory(name="Referral")
    company = CompanyFactory(owner=seller)
    contact = ContactFactory(company=company, channel=channel, owner=seller)
    Contact.objects.filter(pk=contact.pk).update(customer_since=timezone.now() - datetime.timedelta(days=100))
    contact.refresh_from_db()
    campaign = CampaignFactory()
    survey = SurveyFactory()
    answered = InvitationFactory(survey=survey, contact=contact)
    ticket = support_services.ticket_create(
        contact=contact, subject="Cannot log in", body="It says my password is wrong.", assignee=agent
    )
    records = {
        "contacts.channel": channel,
        "contacts.company": company,
        "contacts.contact": contact,
        "contacts.interaction": InteractionFactory(contact=contact, user=seller),
        "contacts.importjob": ImportJob.objects.create(
            kind="contacts",
            file_name="contacts.csv",
            content=b"first_name,last_name,email\nAda,Lovelace,ada@example.com\n",
            status=ImportJob.Status.CHECKED,
            rows_total=1,
            created_by=seller,
        ),
        "sales.campaign": campaign,
        "sales.spend": SpendFactory(campaign=campaign, amount=Decimal("300.00")),
        "sales.lead": LeadFactory(owner=seller, campaign=campaign),
        "sales.deal": DealFactory(contact=contact, owner=seller),
        "sales.order": OrderFactory(contact=contact),
        "sales.subscription": SubscriptionFactory(contact=contact),
        "sales.pipeline": Pipeline.objects.get(is_default=True),
        "support.ticket": ticket,
        "support.slapolicy": SlaPolicy.objects.order_by("pk").first(),
        "surveys.survey": survey,
        "surveys.invitation": InvitationFactory(survey=survey, contact=contact, token=SURVEY_TOKEN),
        "surveys.response": Response.objects.create(invitation=answered, kind=survey.kind, score=9, comment="Great"),
        "kpis.kpitarget": KpiTarget.objects.create(kpi=KPI_KEY, granularity="month", value=Decimal("1000")),
        "auth.group": Group.objects.get(name="sales"),
        "auth.user": seller,
        "authtoken.tokenproxy": TokenProxy.objects.get(pk=Token.objects.create(user=seller).pk),
        # Failed logins as django-axes records them (an admin may read and lift them).
        "axes.accessattempt": AccessAttempt.objects.create(
            username=seller.username, ip_address="203.0.113.7", user_agent="", failures_since_start=5
        ),
        "axes.accesslog": AccessLog.objects.create(username=seller.username, ip_address="203.0.113.7", user_agent=""),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username=seller.username, ip_address="203.0.113.7", user_agent="", locked_out=True
        ),
    }
    # A deleted record, as the audit trail keeps it for an administrator to restore.
    gone = CompanyFactory(owner=seller)
    gone_pk = gone.pk
    gone.delete()
    records["audit.auditentry"] = AuditEntry.objects.get(
        model="contacts.company", object_id=gone_pk, action=AuditEntry.Action.DELETE
    )
    world.records = records
    return world


def content_type_id(model_label: str) -> int:
    app_label, model = model_label.split(".")
    return ContentType.objects.get(app_label=app_label, model=model).pk
