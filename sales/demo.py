"""Demo data of the sales side: campaigns, spend, leads, deals with their stage history, orders, subscriptions.

`seed_sales` is registered with `contacts.registry.register_demo_seeder` in `SalesConfig.ready()`, so
`manage.py seed_demo` runs it after the contacts seeder, in its own transaction. It keeps the guarantees of
`contacts.demo` (deterministic, idempotent through external ids, a chunk at a time with a few queries per
chunk, nothing in the future), and it agrees with the contacts that seeder made, which it reads back from the
database a chunk at a time:

- every customer has a won "new" deal closed exactly at its `customer_since` (the rule "winning a contact's
  first deal makes it a customer"), opened a sales cycle earlier but never before the contact was created;
  it is the customer's earliest won deal;
- a contact who came in through a lead has one created at or before the contact; it is converted when the
  contact got a deal (`converted_at` = when its first deal opened, `contact` set), otherwise it is still open
  or disqualified; more leads never became contacts;
- orders (revenue) run from `customer_since` to `churned_at` (or now); subscriptions chain from
  `customer_since` by renewals; a churned customer's last subscription ends on the local date of its
  `churned_at` (cancelled or expired), a current customer's last one is active;
- monthly spend by channel is scaled to the number of new customers, so CAC comes out at a few hundred.

Rows that have no external id (stage changes, sales events) are written only with the row they belong to,
when that row is new, so a second run adds nothing.
"""

import calendar
import math
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, partial
from itertools import accumulate, islice

from django.db import connection
from django.db.models import Count, Model, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from contacts.demo import (
    BRAND_WORDS,
    DEMO_HISTORY_DAYS,
    FREE_MAIL_DOMAINS,
    INDUSTRIES,
    DemoContext,
    DemoRow,
    bulk_path,
    copy_rows,
    demo_rows,
    external_id,
    ids_by_external_id,
    indexes_built_after,
    insert_new,
    reserve_ids,
)
from contacts.models import Channel, Contact

from .models import Campaign, Deal, DealStageChange, Lead, Order, Pipeline, SalesEvent, Spend, Stage, Subscription

DAY = timedelta(days=1)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ChannelProfile:
    lead_share: float  # share of the channel's contacts who came in as a lead first
    extra_leads: float  # leads that never became contacts, per contact of the channel
    cac: int  # acquisition spend per new customer
    cycle_days: int  # typical days from opening a deal to closing it


CHANNEL_PROFILES = {
    "Organic search": ChannelProfile(lead_share=0.95, extra_leads=2.4, cac=380, cycle_days=28),
    "Paid ads": ChannelProfile(lead_share=0.97, extra_leads=3.2, cac=720, cycle_days=24),
    "Referral": ChannelProfile(lead_share=0.45, extra_leads=0.3, cac=200, cycle_days=18),
    "Events": ChannelProfile(lead_share=0.9, extra_leads=1.8, cac=900, cycle_days=45),
    "Outbound": ChannelProfile(lead_share=0.6, extra_leads=1.2, cac=800, cycle_days=55),
    "Partner": ChannelProfile(lead_share=0.5, extra_leads=0.6, cac=480, cycle_days=35),
    "Web form": ChannelProfile(lead_share=1.0, extra_leads=2.2, cac=320, cycle_days=16),
}
OTHER_CHANNEL = ChannelProfile(lead_share=0.8, extra_leads=1.5, cac=450, cycle_days=30)

# company size band -> (annual contract value, sales cycle factor, plan tier)
SIZE_BANDS = {
    "1-10": (180, 0.6, "Starter"),
    "11-50": (360, 0.8, "Team"),
    "51-200": (660, 1.0, "Business"),
    "201-1000": (1080, 1.4, "Business"),
    "1000+": (1800, 2.0, "Enterprise"),
    "": (150, 0.6, "Starter"),  # no company
}
# months of a subscription term -> (share of customers, name)
TERMS = {12: (65, "yearly"), 3: (15, "quarterly"), 1: (20, "monthly")}

LOST_REASONS = (
    "Chose a competitor", "No budget this year", "Went quiet", "Price too high", "Missing a feature they need",
    "Not a priority now", "Built it in-house", "Decision maker left",
)  # fmt: skip
UPSELL_LOST_REASONS = ("No budget this year", "Not needed now", "Price too high", "Postponed to next year")
RENEWAL_LOST_REASONS = ("Chose a competitor", "Budget cut", "Company restructured", "Not using it enough")
DISQUALIFIED_REASONS = (
    "No budget", "Too small for us", "Student or job seeker", "Spam", "Duplicate", "Competitor",
    "No answer after five attempts", "Outside our regions", "Wrong contact, no referral",
)  # fmt: skip
WEB_FORM_MESSAGES = (
    "We'd like a demo for our sales team.", "What does it cost for 15 users?", "Can we import from spreadsheets?",
    "Do you integrate with our e-mail?", "Looking for a CRM with good reporting.", "Please call me back.",
)  # fmt: skip
ADD_ONS = (
    "Extra user seats", "Onboarding package", "Training day", "Data migration", "API add-on", "Premium support",
    "Reporting add-on", "Consulting hours",
)  # fmt: skip
UPSELL_PRODUCTS = {"upsell": ("more seats", "plan upgrade", "premium support"), "cross_sell": ("analytics add-on",)}

# theme, channel, months after the history's start, length in months, spend category
CAMPAIGNS = (
    ("Search ads: CRM for small teams", "Paid ads", 2, 3, "acquisition"),
    ("Partner launch: integrators", "Partner", 3, 3, "acquisition"),
    ("SEO content hub: sales KPIs", "Organic search", 4, 6, "acquisition"),
    ("Trade fair: Sales Summit", "Events", 5, 1, "acquisition"),
    ("Referral programme: a month free", "Referral", 6, 12, "acquisition"),
    ("Outbound sprint: logistics", "Outbound", 7, 2, "acquisition"),
    ("LinkedIn ads: sales managers", "Paid ads", 9, 2, "acquisition"),
    ("Free trial landing page", "Web form", 10, 4, "acquisition"),
    ("Webinar series: pipeline hygiene", "Organic search", 12, 3, "acquisition"),
    ("Roadshow: Europe", "Events", 14, 2, "acquisition"),
    ("Search ads: switch from spreadsheets", "Paid ads", 15, 3, "acquisition"),
    ("Partner co-marketing: accountants", "Partner", 16, 3, "acquisition"),
    ("Outbound sprint: healthcare", "Outbound", 17, 2, "acquisition"),
    ("Newsletter: product release", "Web form", 19, 2, "acquisition"),
    ("Retargeting: pricing page visitors", "Paid ads", 20, 4, "acquisition"),
    ("Customer conference", "Events", 21, 1, "retention"),
)


# What the rates above give per contact (measured on the medium demo: 100,000 contacts, 30,977 customers):
# leads of contacts and leads that never became one, and orders that are not a deal's (repeat purchases)
# against those that are (first purchase, upsells, renewals).
NATURAL_CONTACT_LEADS, NATURAL_EXTRA_LEADS = 0.82, 1.94
NATURAL_DEAL_ORDERS, NATURAL_REPEAT_ORDERS = 0.40, 0.46


@dataclass(frozen=True)
class _Scale:
    """Factors that bring the rates to a size's volumes (1.0: the rates as they are)."""

    extra_leads: float = 1.0
    repeat_orders: float = 1.0

    @classmethod
    def of(cls, context: DemoContext) -> "_Scale":
        size = context.dimensions
        extra_leads = repeat_orders = 1.0
        if size.leads is not None:
            extra_leads = max(0.0, size.leads / size.contacts - NATURAL_CONTACT_LEADS) / NATURAL_EXTRA_LEADS
        if size.orders is not None:
            repeat_orders = max(0.0, size.orders / size.contacts - NATURAL_DEAL_ORDERS) / NATURAL_REPEAT_ORDERS
        return cls(extra_leads=extra_leads, repeat_orders=repeat_orders)


def seed_sales(context: DemoContext) -> None:
    """Campaigns, leads, deals and their stage history, orders, subscriptions, sales events and spend."""
    world = _World.load(context)
    before = {label: _count(label) for label in _COUNTED}
    campaigns = _seed_campaigns(context, world)
    scale = _Scale.of(context)
    bulk = all(
        bulk_path(context, model, kind)
        for model, kind in ((Lead, "lead"), (Deal, "deal"), (Order, "order"), (Subscription, "subscription"))
    )
    loaded = (Lead, Deal, DealStageChange, Order, Subscription, SalesEvent)
    with indexes_built_after(*loaded) if bulk else nullcontext():
        for index, numbers in context.chunks("sales", context.dimensions.contacts):
            _Chunk(context, world, campaigns, index, scale, bulk).seed(numbers)
    _seed_spend(context, world, campaigns)
    for label in _COUNTED:
        total = _count(label)
        context.record(label, new=total - before[label], total=total)


# --- what every part needs -------------------------------------------------------------------------


@dataclass
class _World:
    """The fixed things: pipeline stages, channels, the demo's today in the business's time zone."""

    pipeline_id: int
    open_stages: list[int]
    won_stage: int
    lost_stage: int
    channel_names: dict[int, str]
    today: date
    tz: object

    @classmethod
    def load(cls, context: DemoContext) -> "_World":
        pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
        if pipeline is None:
            raise RuntimeError("There is no sales pipeline: run `manage.py migrate` first.")
        stages = list(pipeline.stages.order_by("position").values_list("id", "kind"))
        open_stages = [pk for pk, kind in stages if kind == Stage.Kind.OPEN]
        won = [pk for pk, kind in stages if kind == Stage.Kind.WON]
        lost = [pk for pk, kind in stages if kind == Stage.Kind.LOST]
        if not (open_stages and won and lost):
            raise RuntimeError(f"The pipeline {pipeline} needs an open, a won and a lost stage.")
        tz = timezone.get_current_timezone()
        return cls(
            pipeline_id=pipeline.pk,
            open_stages=open_stages,
            won_stage=won[0],
            lost_stage=lost[0],
            channel_names=dict(Channel.objects.values_list("id", "name")),
            today=timezone.localtime(context.now, tz).date(),
            tz=tz,
        )

    def profile(self, channel_id: int | None) -> ChannelProfile:
        return CHANNEL_PROFILES.get(self.channel_names.get(channel_id, ""), OTHER_CHANNEL)

    def local_date(self, instant: datetime) -> date:
        return timezone.localtime(instant, self.tz).date()

    def midnight(self, day: date) -> datetime:
        """The start of a calendar day in the business's time zone."""
        return timezone.make_aware(datetime.combine(day, time.min), self.tz)


_COUNTED = ("campaigns", "spend", "leads", "deals", "deal stage changes", "orders", "subscriptions", "sales events")


def _count(label: str) -> int:
    if label == "deal stage changes":
        return DealStageChange.objects.filter(deal__external_id__startswith="demo-deal-").count()
    if label == "sales events":
        return SalesEvent.objects.filter(
            Q(contact__external_id__startswith="demo-contact-") | Q(lead__external_id__startswith="demo-lead-")
        ).count()
    model, kind = {
        "campaigns": (Campaign, "campaign"),
        "spend": (Spend, "spend"),
        "leads": (Lead, "lead"),
        "deals": (Deal, "deal"),
        "orders": (Order, "order"),
        "subscriptions": (Subscription, "subscription"),
    }[label]
    return demo_rows(model, kind).count()


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """An instant in [start, end], to the second."""
    return start + timedelta(seconds=rng.randint(0, max(0, int((end - start).total_seconds()))))


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0):.2f}")


def _round_to(value: float, step: int) -> Decimal:
    return Decimal(max(step, int(round(value / step)) * step)).quantize(CENT)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@cache  # names repeat: the pools are small
def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return ".".join(part for part in re.split(r"[^a-z0-9]+", text) if part) or "info"


def _choose(rng: random.Random, weighted: dict[str, float]) -> str:
    return rng.choices(list(weighted), list(weighted.values()))[0]


_Row = DemoRow


# --- campaigns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CampaignRef:
    id: int
    channel_id: int | None
    starts_on: date
    ends_on: date
    category: str


def _seed_campaigns(context: DemoContext, world: _World) -> list[_CampaignRef]:
    channel_ids = {name.lower(): pk for pk, name in world.channel_names.items()}
    first_month = world.local_date(context.start).replace(day=1)
    rows, categories = [], {}
    for number, (theme, channel, offset, months, category) in enumerate(CAMPAIGNS, start=1):
        starts_on = max(_add_months(first_month, offset), world.local_date(context.start))
        if starts_on > world.today:
            continue
        ends_on = _add_months(_add_months(first_month, offset), months) - DAY
        key = external_id("campaign", number)
        categories[key] = category
        rows.append(
            Campaign(
                name=f"{theme}, {starts_on:%b %Y}",
                channel_id=channel_ids.get(channel.lower()),
                starts_on=starts_on,
                ends_on=ends_on,
                budget=None,  # set below from the spend it gets
                external_id=key,
                created_at=min(world.midnight(starts_on) - 14 * DAY, context.now),
            )
        )
    insert_new(Campaign, rows)
    existing = ids_by_external_id(Campaign, list(categories), "channel_id", "starts_on", "ends_on")
    return [
        _CampaignRef(id=pk, channel_id=channel_id, starts_on=starts_on, ends_on=ends_on, category=categories[key])
        for key, (pk, channel_id, starts_on, ends_on) in sorted(existing.items())
        if starts_on is not None and ends_on is not None
    ]


def _campaign_for(rng: random.Random, campaigns: list[_CampaignRef], channel_id: int | None, day: date) -> int | None:
    """Most leads that come in while a campaign of their channel runs came from it."""
    running = [
        campaign.id
        for campaign in campaigns
        if campaign.channel_id == channel_id
        and campaign.category == Spend.Category.ACQUISITION
        and campaign.starts_on <= day <= campaign.ends_on
    ]
    if running and rng.random() < 0.65:
        return rng.choice(running)
    return None


# --- leads, deals, orders, subscriptions, a chunk of contacts at a time -------------------------------


@dataclass
class _ContactRow:
    id: int
    key: str
    created_at: datetime
    customer_since: datetime | None
    churned_at: datetime | None
    channel_id: int | None
    owner_id: int | None
    company_id: int | None
    first_name: str
    last_name: str
    email: str
    company_name: str | None
    size_band: str | None

    @property
    def number(self) -> str:
        return self.key.rsplit("-", 1)[-1]

    @property
    def display_name(self) -> str:
        return self.company_name or f"{self.first_name} {self.last_name}".strip() or self.email


CONTACT_FIELDS = (
    "id", "external_id", "created_at", "customer_since", "churned_at", "channel_id", "owner_id", "company_id",
    "first_name", "last_name", "email", "company__name", "company__size_band",
)  # fmt: skip


@dataclass
class _DealPlan:
    deal: _Row
    path: list[tuple[int, datetime]]  # (stage id, when), from the opening to the current stage
    lead_key: str | None = None


@dataclass
class _EventPlan:
    """A sales event, written with the row it belongs to (`anchor`) when that row is new."""

    anchor: tuple[str, str]  # ("lead" | "deal" | "subscription", external id)
    verb: str
    at: datetime
    contact_id: int | None
    actor_id: int | None = None
    lead_key: str | None = None
    deal_key: str | None = None
    subscription_key: str | None = None
    note: str = ""


@dataclass
class _Chunk:
    context: DemoContext
    world: _World
    campaigns: list[_CampaignRef]
    index: int
    scale: _Scale
    bulk: bool  # a first run on PostgreSQL: ids reserved up front, rows copied, nothing read back
    leads: list[_Row] = field(default_factory=list)
    deals: list[_DealPlan] = field(default_factory=list)
    orders: list[tuple[_Row, str | None]] = field(default_factory=list)  # (order, key of its deal)
    subscriptions: list[list[tuple[_Row, str | None]]] = field(default_factory=list)  # by generation
    events: list[_EventPlan] = field(default_factory=list)

    def seed(self, numbers: range) -> None:
        rows = [
            _ContactRow(*row)
            for row in _KeyRange(numbers).rows(Contact, "contact").order_by("external_id").values_list(*CONTACT_FIELDS)
        ]
        rng = self.context.rng_for("sales", self.index)
        first_names = [row.first_name for row in rows if row.first_name] or ["Alex"]
        last_names = [row.last_name for row in rows if row.last_name] or ["Miller"]
        for row in rows:
            self._plan_contact(rng, row)
            self._plan_extra_leads(rng, row, first_names, last_names)
        self._write(numbers)

    # Planning (no queries) ---------------------------------------------------------------------------

    def _plan_contact(self, rng: random.Random, row: _ContactRow) -> None:
        now = self.context.now
        profile = self.world.profile(row.channel_id)
        acv, cycle_factor, tier = SIZE_BANDS.get(row.size_band or "", SIZE_BANDS[""])
        acv *= rng.lognormvariate(0, 0.45)
        lead = None
        if rng.random() < profile.lead_share:
            lag = 0 if rng.random() < 0.3 else min(60.0, rng.expovariate(1 / 6))
            created_at = max(row.created_at - timedelta(days=lag), min(self.context.start, row.created_at))
            lead = self._lead(rng, f"demo-lead-{row.number}", row, created_at)
            lead.first_name, lead.last_name, lead.email = row.first_name, row.last_name, row.email
            lead.company_name = row.company_name or ""
            lead.owner_id = row.owner_id

        deals: list[_DealPlan] = []
        sequence = iter(range(1, 1000))

        def deal_key() -> str:
            return f"demo-deal-{row.number}-{next(sequence):02d}"

        if row.customer_since is None:
            self._plan_prospect_deals(rng, row, profile, acv, cycle_factor, deals, deal_key)
        else:
            self._plan_customer(rng, row, profile, acv, cycle_factor, tier, deals, deal_key)

        if lead is not None:
            if deals:
                first = min(deals, key=lambda plan: (plan.deal.created_at, plan.deal.external_id))
                first.lead_key = lead.external_id
                lead.status, lead.converted_at, lead.contact_id = Lead.Status.CONVERTED, first.deal.created_at, row.id
                self.events.append(
                    _EventPlan(
                        ("lead", lead.external_id),
                        SalesEvent.Verb.LEAD_CONVERTED,
                        first.deal.created_at,
                        row.id,
                        actor_id=row.owner_id,
                        lead_key=lead.external_id,
                        deal_key=first.deal.external_id,
                    )
                )
            else:
                age = (now - lead.created_at).days
                weights = (
                    {"new": 10, "working": 50, "qualified": 40}
                    if age < 60
                    else {"working": 15, "qualified": 25, "disqualified": 60}
                )
                self._set_open_status(rng, lead, _choose(rng, weights))
            self.leads.append(lead)
        self.deals.extend(deals)

    def _plan_prospect_deals(self, rng, row, profile, acv, cycle_factor, deals, deal_key) -> None:
        """Deals of a contact who is not a customer: lost ones, and an open one if the last is still running."""
        now = self.context.now
        if rng.random() >= 0.85:
            return
        opened = row.created_at + timedelta(days=min(60.0, rng.expovariate(1 / 5)), hours=rng.uniform(1, 8))
        attempt = 0
        while opened <= now:
            cycle = self._cycle_days(rng, profile, cycle_factor)
            closes = opened + timedelta(days=cycle)
            amount = _round_to(acv * rng.uniform(0.8, 1.3), 10)
            title = f"{row.display_name} – {('new business', 'second try', 'third try', 'fourth try')[attempt]}"
            if closes > now:
                deals.append(self._open_deal(rng, deal_key(), row, Deal.Kind.NEW, title, amount, opened, cycle))
                return
            deals.append(self._lost_deal(rng, deal_key(), row, Deal.Kind.NEW, title, amount, opened, closes))
            if rng.random() >= 0.5 - 0.2 * attempt:
                return
            attempt += 1
            opened = closes + timedelta(days=rng.uniform(45, 300))

    def _plan_customer(self, rng, row, profile, acv, cycle_factor, tier, deals, deal_key) -> None:
        now, since, churned = self.context.now, row.customer_since, row.churned_at
        end = churned or now
        # Sometimes a first attempt was lost before the deal that made the contact a customer.
        if rng.random() < 0.35 and since - row.created_at > 4 * DAY:
            opened = _between(rng, row.created_at, since - 3 * DAY)
            closes = _between(rng, opened + DAY, since - DAY)
            amount = _round_to(acv * rng.uniform(1.0, 1.6), 10)
            deals.append(
                self._lost_deal(
                    rng, deal_key(), row, Deal.Kind.NEW, f"{row.display_name} – first offer", amount, opened, closes
                )
            )
        # The won deal that made the contact a customer: closed exactly at customer_since.
        cycle = self._cycle_days(rng, profile, cycle_factor)
        opened = max(row.created_at, since - timedelta(days=cycle))
        amount = _round_to(acv, 10)
        term = rng.choices(list(TERMS), [share for share, _ in TERMS.values()])[0]
        plan = f"{tier} {TERMS[term][1]}"
        won = self._closed_deal(
            rng, deal_key(), row, Deal.Kind.NEW, f"{row.display_name} – {plan}", amount, opened, since, won=True
        )
        deals.append(won)
        self.events.append(
            _EventPlan(
                ("deal", won.deal.external_id),
                SalesEvent.Verb.CUSTOMER_STARTED,
                since,
                row.id,
                actor_id=row.owner_id,
                deal_key=won.deal.external_id,
            )
        )
        order_keys = iter(range(1, 10_000))

        def order(at: datetime, amount: Decimal, description: str, deal: str | None = None) -> None:
            self.orders.append(
                (
                    _Row(
                        contact_id=row.id,
                        ordered_at=at,
                        amount=amount,
                        description=description,
                        created_by_id=row.owner_id,
                        external_id=f"demo-order-{row.number}-{next(order_keys):03d}",
                    ),
                    deal,
                )
            )

        order(since, amount, f"{plan} plan, first year" if term == 12 else f"{plan} plan", won.deal.external_id)
        self._plan_subscriptions(rng, row, plan, term, amount, deals, deal_key, order)

        # Upsells and cross-sells while a customer: about one attempt every 20 months, half of them won.
        for _ in range(_poisson(rng, 0.6 * (end - since).days / 365)):
            if end - since < 40 * DAY:
                break
            opened = _between(rng, since + 30 * DAY, end - 5 * DAY)
            closes = opened + timedelta(days=rng.uniform(7, 50) * cycle_factor)
            kind = Deal.Kind.UPSELL if rng.random() < 0.65 else Deal.Kind.CROSS_SELL
            title = f"{row.display_name} – {rng.choice(UPSELL_PRODUCTS[kind])}"
            upsell_amount = _round_to(acv * rng.uniform(0.15, 0.5), 10)
            if churned is not None and closes >= churned:
                lost_at = opened + (churned - opened) * rng.uniform(0.2, 0.9)
                deal = self._lost_deal(rng, deal_key(), row, kind, title, upsell_amount, opened, lost_at)
                deal.deal.lost_reason = "The customer was leaving"
            elif closes > now:
                deal = self._open_deal(rng, deal_key(), row, kind, title, upsell_amount, opened, (closes - opened).days)
            elif rng.random() < 0.5:
                deal = self._closed_deal(rng, deal_key(), row, kind, title, upsell_amount, opened, closes, won=True)
                order(closes, upsell_amount, title, deal.deal.external_id)
            else:
                deal = self._lost_deal(rng, deal_key(), row, kind, title, upsell_amount, opened, closes)
                deal.deal.lost_reason = rng.choice(UPSELL_LOST_REASONS)
            deals.append(deal)

        # Repeat purchases (add-ons, services): a few customers buy a lot (Pareto), none after churning.
        per_year = min(24.0, 0.8 * rng.paretovariate(1.5)) * self.scale.repeat_orders
        for _ in range(_poisson(rng, per_year * (end - since).days / 365)):
            at = _between(rng, since + timedelta(hours=1), end - timedelta(hours=1))
            if since < at < end:
                order(at, _round_to(acv * 0.15 * rng.lognormvariate(0, 0.6), 5), rng.choice(ADD_ONS))

    def _plan_subscriptions(self, rng, row, plan, term, amount, deals, deal_key, order) -> None:
        """A chain of subscriptions from customer_since, each renewal starting where the previous one ends.

        A churned customer's last subscription ends on the local date of `churned_at` (cancelled or expired):
        the churn rule of the services would put `churned_at` at the local midnight of that date, up to a day
        before the contact's own `churned_at`; we keep the contact's instant, so that both fall on the same day.
        """
        world = self.world
        since_day = world.local_date(row.customer_since)
        churn_day = world.local_date(row.churned_at) if row.churned_at else None
        price = float(amount) * term / 12
        chain: list[_Row] = []
        generation = 0
        while True:
            starts_on = _add_months(since_day, term * generation)
            ends_on = _add_months(since_day, term * (generation + 1))
            if generation == 0:
                created_at = row.customer_since
            else:
                # Renewed a few days before the previous one ended.
                created_at = max(world.midnight(starts_on) - timedelta(days=rng.uniform(0, 10)), chain[-1].created_at)
            subscription = _Row(
                contact_id=row.id,
                plan=plan,
                amount=_money(price),
                starts_on=starts_on,
                ends_on=ends_on,
                outcome=Subscription.Outcome.ACTIVE,
                created_at=created_at,
                external_id=f"demo-subscription-{row.number}-{generation + 1:02d}",
            )
            chain.append(subscription)
            if churn_day is not None and ends_on >= churn_day:
                subscription.ends_on = churn_day
                break
            if churn_day is None and ends_on > world.today:
                break
            subscription.outcome = Subscription.Outcome.RENEWED
            generation += 1
            price *= rng.uniform(1.0, 1.08) if term == 12 else 1.0

        for previous, successor in zip(chain, chain[1:], strict=False):
            self.events.append(
                _EventPlan(
                    ("subscription", successor.external_id),
                    SalesEvent.Verb.SUBSCRIPTION_RENEWED,
                    successor.created_at,
                    row.id,
                    subscription_key=previous.external_id,
                    note=f"until {successor.ends_on}",
                )
            )
            if term == 12 and rng.random() < 0.5:
                # A yearly renewal that sales negotiated: a won renewal deal, invoiced when won.
                closes = successor.created_at
                opened = max(closes - timedelta(days=rng.uniform(14, 45)), previous.created_at)
                title = f"{row.display_name} – renewal {successor.starts_on.year}"
                deal = self._closed_deal(
                    rng, deal_key(), row, Deal.Kind.RENEWAL, title, successor.amount, opened, closes, won=True
                )
                deals.append(deal)
                order(closes, successor.amount, title, deal.deal.external_id)

        last = chain[-1]
        if churn_day is not None:
            churned = row.churned_at
            if rng.random() < 0.65:
                last.outcome = Subscription.Outcome.CANCELLED
                last.cancelled_at = _between(
                    rng, max(last.created_at, world.midnight(last.ends_on) - 90 * DAY), churned
                )
                self.events.append(
                    _EventPlan(
                        ("subscription", last.external_id),
                        SalesEvent.Verb.SUBSCRIPTION_CANCELLED,
                        last.cancelled_at,
                        row.id,
                        subscription_key=last.external_id,
                    )
                )
                if term == 12 and rng.random() < 0.6:
                    opened = max(last.cancelled_at - timedelta(days=rng.uniform(14, 45)), last.created_at)
                    title = f"{row.display_name} – renewal {last.ends_on.year}"
                    deal = self._lost_deal(
                        rng, deal_key(), row, Deal.Kind.RENEWAL, title, last.amount, opened, last.cancelled_at
                    )
                    deal.deal.lost_reason = rng.choice(RENEWAL_LOST_REASONS)
                    deals.append(deal)
            else:
                last.outcome = Subscription.Outcome.EXPIRED
                self.events.append(
                    _EventPlan(
                        ("subscription", last.external_id),
                        SalesEvent.Verb.SUBSCRIPTION_EXPIRED,
                        max(world.midnight(last.ends_on), last.created_at),
                        row.id,
                        subscription_key=last.external_id,
                    )
                )
            self.events.append(
                _EventPlan(
                    ("subscription", last.external_id),
                    SalesEvent.Verb.CUSTOMER_CHURNED,
                    churned,
                    row.id,
                    subscription_key=last.external_id,
                    note=f"{last.plan} ended without renewal",
                )
            )
        for generation, subscription in enumerate(chain):
            while len(self.subscriptions) <= generation:
                self.subscriptions.append([])
            previous = chain[generation - 1].external_id if generation else None
            self.subscriptions[generation].append((subscription, previous))

    def _plan_extra_leads(self, rng, row, first_names, last_names) -> None:
        """Leads that never became contacts: disqualified, or still open (recent ones more often)."""
        profile = self.world.profile(row.channel_id)
        extra_leads = profile.extra_leads * self.scale.extra_leads
        count = int(extra_leads) + (rng.random() < extra_leads % 1)
        for sequence in range(1, count + 1):
            day = int(DEMO_HISTORY_DAYS * rng.random() ** 0.8)
            second = rng.randint(8 * 3600, 18 * 3600) if rng.random() < 0.85 else rng.randint(0, 86399)
            created_at = min(self.context.start + timedelta(days=day, seconds=second), self.context.now)
            lead = self._lead(rng, f"demo-lead-{row.number}-{sequence}", row, created_at)
            lead.first_name, lead.last_name = rng.choice(first_names), rng.choice(last_names)
            if rng.random() < 0.7:
                industry = rng.choice(list(INDUSTRIES))
                lead.company_name = f"{rng.choice(BRAND_WORDS)} {rng.choice(INDUSTRIES[industry])}"
                domain = f"{_slug(lead.company_name).replace('.', '-')}.example.com"
            else:
                domain = rng.choice(FREE_MAIL_DOMAINS)
            lead.email = f"{_slug(lead.first_name)}.{_slug(lead.last_name)}.{row.number}{sequence}@{domain}"
            lead.owner_id = row.owner_id if rng.random() < 0.8 else None
            age = (self.context.now - created_at).days
            if age < 21:
                weights = {"new": 50, "working": 30, "qualified": 10, "disqualified": 10}
            elif age < 90:
                weights = {"new": 10, "working": 30, "qualified": 20, "disqualified": 40}
            else:
                weights = {"new": 4, "working": 6, "qualified": 5, "disqualified": 85}
            self._set_open_status(rng, lead, _choose(rng, weights))
            self.leads.append(lead)

    def _lead(self, rng, key: str, row: _ContactRow, created_at: datetime) -> _Row:
        channel_name = self.world.channel_names.get(row.channel_id, "")
        message = rng.choice(WEB_FORM_MESSAGES) if channel_name == "Web form" else ""
        return _Row(
            channel_id=row.channel_id,
            campaign_id=_campaign_for(rng, self.campaigns, row.channel_id, self.world.local_date(created_at)),
            message=message,
            status=Lead.Status.NEW,
            created_at=created_at,
            external_id=key,
        )

    def _set_open_status(self, rng, lead: _Row, status: str) -> None:
        lead.status = status
        if status == Lead.Status.DISQUALIFIED:
            lead.disqualified_reason = rng.choice(DISQUALIFIED_REASONS)

    def _cycle_days(self, rng, profile: ChannelProfile, cycle_factor: float) -> float:
        return min(180.0, max(2.0, profile.cycle_days * cycle_factor * rng.lognormvariate(0, 0.5)))

    def _deal(self, key: str, row: _ContactRow, kind: str, title: str, amount: Decimal, opened: datetime) -> _Row:
        return _Row(
            title=title[:200],
            contact_id=row.id,
            company_id=row.company_id,
            owner_id=row.owner_id,
            channel_id=row.channel_id,
            kind=kind,
            amount=amount,
            pipeline_id=self.world.pipeline_id,
            created_at=opened,
            external_id=key,
        )

    def _closed_deal(self, rng, key, row, kind, title, amount, opened, closes, *, won: bool) -> _DealPlan:
        open_stages = self.world.open_stages
        if won:
            # Through every open stage, though small deals may skip a middle one.
            reached = [stage for position, stage in enumerate(open_stages) if position == 0 or rng.random() < 0.88]
            final = self.world.won_stage
        else:
            # Most deals are lost early.
            weights = [max(1, len(open_stages) - position) ** 1.5 for position in range(len(open_stages))]
            last = rng.choices(range(len(open_stages)), weights)[0]
            reached = [
                stage
                for position, stage in enumerate(open_stages[: last + 1])
                if position in (0, last) or rng.random() < 0.9
            ]
            final = self.world.lost_stage
        moves = sorted(_between(rng, opened, closes) for _ in reached[1:])
        path = [(reached[0], opened), *zip(reached[1:], moves, strict=True), (final, closes)]
        deal = self._deal(key, row, kind, title, amount, opened)
        deal.stage_id, deal.status, deal.closed_at, deal.stage_changed_at = (
            final,
            Deal.Status.WON if won else Deal.Status.LOST,
            closes,
            closes,
        )
        deal.expected_close_date = min(
            max(self.world.local_date(closes + timedelta(days=rng.uniform(-10, 20))), self.world.local_date(opened)),
            self.world.today,
        )
        return _DealPlan(deal, path)

    def _lost_deal(self, rng, key, row, kind, title, amount, opened, closes) -> _DealPlan:
        plan = self._closed_deal(rng, key, row, kind, title, amount, opened, closes, won=False)
        plan.deal.lost_reason = rng.choice(LOST_REASONS)
        return plan

    def _open_deal(self, rng, key, row, kind, title, amount, opened, cycle_days: float) -> _DealPlan:
        """A deal still in the pipeline: further along the longer it has been open."""
        now, open_stages = self.context.now, self.world.open_stages
        progress = min(0.999, (now - opened) / timedelta(days=max(cycle_days, 1)))
        last = min(len(open_stages) - 1, int(progress * len(open_stages) * rng.uniform(0.6, 1.2)))
        reached = open_stages[: last + 1]
        moves = sorted(_between(rng, opened, now) for _ in reached[1:])
        path = [(reached[0], opened), *zip(reached[1:], moves, strict=True)]
        deal = self._deal(key, row, kind, title, amount, opened)
        deal.stage_id, deal.status, deal.stage_changed_at = path[-1][0], Deal.Status.OPEN, path[-1][1]
        expected = self.world.local_date(opened + timedelta(days=cycle_days))
        if expected <= self.world.today:
            expected = self.world.today + timedelta(days=rng.randint(7, 45))  # it slipped
        deal.expected_close_date = expected
        return _DealPlan(deal, path)

    # Writing (a few queries per chunk) ---------------------------------------------------------------

    def _copy(self) -> None:
        """The bulk path: every row is new, ids come from the sequences, rows go by COPY straight to the tables."""
        lead_ids = _reserve(Lead, self.leads)
        for plan in self.deals:
            plan.deal.lead_id = lead_ids.get(plan.lead_key) if plan.lead_key else None
        deal_ids = _reserve(Deal, [plan.deal for plan in self.deals])
        subscriptions = [pair for generation in self.subscriptions for pair in generation]
        subscription_ids = _reserve(Subscription, [subscription for subscription, _ in subscriptions])
        for subscription, previous in subscriptions:
            subscription.renews_id = subscription_ids[previous] if previous else None
        for order, deal_key in self.orders:
            order.deal_id = deal_ids.get(deal_key) if deal_key else None
        _reserve(Order, [order for order, _ in self.orders])
        # Foreign keys are checked at commit (deferred), so the order of the tables does not matter.
        _insert(Lead, self.leads, with_ids=True)
        _insert(Deal, [plan.deal for plan in self.deals], with_ids=True)
        _insert(DealStageChange, self._stage_changes(deal_ids, new=None), new=True)
        _insert(Order, [order for order, _ in self.orders], with_ids=True)
        _insert(Subscription, [subscription for subscription, _ in subscriptions], with_ids=True)
        new = {"lead": set(lead_ids), "deal": set(deal_ids), "subscription": set(subscription_ids)}
        self._write_events(new, lead_ids, deal_ids, subscription_ids)

    def _stage_changes(self, deal_ids: dict[str, int], new: set[str] | None) -> Iterable[_Row]:
        """Every move of the deals (of the `new` ones only, unless None) through the stages."""
        return (
            _Row(
                deal_id=deal_ids[plan.deal.external_id],
                from_stage_id=path_from,
                to_stage_id=stage,
                changed_at=at,
                changed_by_id=plan.deal.owner_id,
            )
            for plan in self.deals
            if (new is None or plan.deal.external_id in new) and plan.deal.external_id in deal_ids
            for path_from, (stage, at) in zip([None, *(s for s, _ in plan.path)], plan.path, strict=False)
        )

    def _write(self, numbers: range) -> None:
        if self.bulk:
            self._copy()
            return
        new: dict[str, set[str]] = {}
        keys = _KeyRange(numbers)
        new["lead"] = keys.insert_missing(Lead, "lead", self.leads)
        lead_ids = keys.ids(Lead, "lead")
        for plan in self.deals:
            plan.deal.lead_id = lead_ids.get(plan.lead_key) if plan.lead_key else None
        new["deal"] = keys.insert_missing(Deal, "deal", [plan.deal for plan in self.deals])
        deal_ids = keys.ids(Deal, "deal")
        _insert(DealStageChange, self._stage_changes(deal_ids, new["deal"]))
        for order, deal_key in self.orders:
            order.deal_id = deal_ids.get(deal_key) if deal_key else None
        keys.insert_missing(Order, "order", [order for order, _ in self.orders])

        # Subscriptions a generation at a time: a renewal points to the one it renews, which must exist first.
        existing = keys.ids(Subscription, "subscription")
        subscription_ids: dict[str, int] = dict(existing)
        new["subscription"] = set()
        for number, generation in enumerate(self.subscriptions, start=1):
            missing = []
            for subscription, previous in generation:
                if subscription.external_id not in existing:
                    subscription.renews_id = subscription_ids.get(previous) if previous else None
                    missing.append(subscription)
            if missing:
                _insert(Subscription, missing)
                new["subscription"] |= {subscription.external_id for subscription in missing}
                subscription_ids.update(keys.ids(Subscription, "subscription", suffix=f"-{number:02d}"))

        self._write_events(new, lead_ids, deal_ids, subscription_ids)

    def _write_events(self, new, lead_ids, deal_ids, subscription_ids) -> None:
        _insert(
            SalesEvent,
            (
                _Row(
                    verb=event.verb,
                    at=event.at,
                    actor_id=event.actor_id,
                    contact_id=event.contact_id,
                    lead_id=lead_ids.get(event.lead_key),
                    deal_id=deal_ids.get(event.deal_key),
                    subscription_id=subscription_ids.get(event.subscription_key),
                    note=event.note[:500],
                )
                for event in self.events
                if event.anchor[1] in new[event.anchor[0]]
            ),
            new=self.bulk,
        )


@dataclass(frozen=True)
class _KeyRange:
    """The demo rows that belong to a chunk of contacts, found by a range of external ids.

    Every row made for contact number n has an external id `demo-<kind>-<n, 7 digits>`, maybe followed by
    `-<sequence>`, so a chunk's rows lie between `demo-<kind>-<first>` and `demo-<kind>-<last + 1>`. A range
    (with the `external_id <> ''` of the partial unique index spelled out) is an index scan on PostgreSQL,
    where `external_id IN (...)` with thousands of ids makes it scan the whole table, chunk after chunk.
    """

    numbers: range

    def rows(self, model: type[Model], kind: str, suffix: str = "") -> QuerySet:
        rows = model._default_manager.filter(
            external_id__gte=f"demo-{kind}-{self.numbers[0]:07d}",
            external_id__lt=f"demo-{kind}-{self.numbers[-1] + 1:07d}",
        ).exclude(external_id="")
        return rows.filter(external_id__endswith=suffix) if suffix else rows

    def ids(self, model: type[Model], kind: str, suffix: str = "") -> dict[str, int]:
        return dict(self.rows(model, kind, suffix).order_by().values_list("external_id", "id"))

    def insert_missing(self, model: type[Model], kind: str, rows: list[Model]) -> set[str]:
        """Insert the rows whose external id is not there yet; return those external ids."""
        existing = set(self.rows(model, kind).values_list("external_id", flat=True))
        missing = [row for row in rows if row.external_id not in existing]
        _insert(model, missing)
        return {row.external_id for row in missing}


def _reserve(model: type[Model], rows: list[_Row]) -> dict[str, int]:
    """Give each row an id from the model's sequence (one query); external id -> id."""
    for row, pk in zip(rows, reserve_ids(model, len(rows)) if rows else (), strict=True):
        row.id = pk
    return {row.external_id: row.id for row in rows}


def _insert(model: type[Model], rows: Iterable[_Row], *, with_ids: bool = False, new: bool = False) -> None:
    """Insert the rows, skipping those whose unique keys exist (ON CONFLICT DO NOTHING), a batch at a time.

    `bulk_create` builds a model instance per row, prepares every value through its field, and psycopg's
    client-side binding (Django's default) parses every multi-row statement again: for the million-odd rows
    of the medium demo that took most of the time. Here rows are plain dicts; only dates, times, amounts and
    text go through adapters; columns a row leaves out get the field's default. PostgreSQL gets them by COPY
    (into a temporary table first when the model has external ids, then INSERT ... SELECT ... ON CONFLICT DO
    NOTHING), on Django's connection and so in its transaction; other databases by `executemany`. Rows
    that are `new` (the bulk path: nothing there yet), ids included if reserved (`with_ids`), are copied
    straight into the table as plain tuples.
    """
    columns = [("id", "id", None, None), *_columns(model)] if with_ids else _columns(model)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for _, column, _, _ in columns)
    rows = iter(rows)
    if new or with_ids:
        # psycopg dumps dates, times, amounts and choices itself: no adapter needed.
        defaults = [(attname, default) for attname, _, default, _ in columns]
        copy_rows(
            model,
            tuple(column for _, column, _, _ in columns),
            (tuple([row.get(attname, default) for attname, default in defaults]) for row in rows),
        )
        return
    while batch := list(islice(rows, 10_000)):
        params = [
            [
                adapt(value) if adapt is not None and value is not None else value
                for attname, _, default, adapt in columns
                for value in (row.get(attname, default),)
            ]
            for row in batch
        ]
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING",
                    params,
                )
            continue
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            if not any(attname == "external_id" for attname, *_ in columns):
                # Stage changes and events: written only with a new deal, lead or subscription.
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for values in params:
                        copy.write_row(values)
                continue
            staging = quote(f"demo_staging_{model._meta.db_table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS SELECT {names} FROM {table} "
                "WITH NO DATA"
            )
            with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for values in params:
                    copy.write_row(values)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT DO NOTHING")
            cursor.execute(f"TRUNCATE {staging}")


@cache
def _columns(model: type[Model]) -> list[tuple[str, str, object, Callable | None]]:
    """(attribute name, column, default, adapter or None) of every concrete field but the primary key."""
    columns = []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        if model_field.has_default() and not callable(model_field.default):
            default = model_field.default
        elif not model_field.null and model_field.empty_strings_allowed:
            default = ""  # a blank text field
        else:
            default = None  # nullable, or a value every row gives (a time with timezone.now as default)
        kind = model_field.get_internal_type()
        if kind == "DateTimeField":
            adapt = connection.ops.adapt_datetimefield_value
        elif kind == "DateField":
            adapt = connection.ops.adapt_datefield_value
        elif kind == "DecimalField":
            adapt = partial(
                connection.ops.adapt_decimalfield_value,
                max_digits=model_field.max_digits,
                decimal_places=model_field.decimal_places,
            )
        elif kind in ("CharField", "TextField", "EmailField"):
            adapt = str  # choices are enum members: str() gives their value
        else:
            adapt = None
        columns.append((model_field.attname, model_field.column, default, adapt))
    return columns


# --- spend ---------------------------------------------------------------------------------------------


def _month_counts(field_name: str, by_channel: bool) -> dict:
    """(channel id, first day of month) or first day of month -> how many contacts have `field_name` in it."""
    fields = ("channel_id", "month") if by_channel else ("month",)
    rows = (
        Contact.objects.filter(**{f"{field_name}__isnull": False})
        .annotate(month=TruncMonth(field_name))
        .order_by()
        .values_list(*fields)
        .annotate(n=Count("id"))
    )
    counts: dict = defaultdict(int)
    for *key, n in rows:
        month = key[-1].date() if isinstance(key[-1], datetime) else key[-1]
        counts[(key[0], month) if by_channel else month] += n
    return counts


def _seed_spend(context: DemoContext, world: _World, campaigns: list[_CampaignRef]) -> None:
    """Monthly spend per channel, scaled to its new customers (so CAC comes out as CHANNEL_PROFILES say),
    part of it on the campaigns running that month; and retention spend scaled to the customers kept."""
    first_day = world.local_date(context.start)
    months = []
    month = first_day.replace(day=1)
    while month <= world.today:
        months.append(month)
        month = _add_months(month, 1)
    new_customers = _month_counts("customer_since", by_channel=True)
    started, churned = _month_counts("customer_since", by_channel=False), _month_counts("churned_at", by_channel=False)
    channels = [
        (pk, CHANNEL_PROFILES[name])
        for pk, name in sorted(world.channel_names.items(), key=lambda item: item[1])
        if name in CHANNEL_PROFILES
    ]
    mean_new = {pk: sum(new_customers[pk, m] for m in months) / len(months) for pk, _ in channels}
    customers_at = dict(
        zip(
            months,
            accumulate(
                [
                    sum(n for m, n in started.items() if m < months[0])
                    - sum(n for m, n in churned.items() if m < months[0]),
                    *(started[m] - churned[m] for m in months[:-1]),
                ]
            ),
            strict=True,
        )
    )
    budgets: dict[int, Decimal] = defaultdict(Decimal)
    rows = []
    for position, month in enumerate(months):
        rng = context.rng_for("spend", f"{month:%Y%m}")
        month_end = _add_months(month, 1) - DAY
        window_start, window_end = max(month, first_day), min(month_end, world.today)
        share_of_month = ((window_end - window_start).days + 1) / ((month_end - month).days + 1)
        lines = []
        for channel_id, profile in channels:
            nearby = [new_customers[channel_id, m] for m in months[max(0, position - 1) : position + 2]]
            customers = max(sum(nearby) / len(nearby), 0.4 * mean_new[channel_id], 0.5)
            amount = profile.cac * customers * rng.uniform(0.85, 1.15) * share_of_month
            running = [
                campaign
                for campaign in campaigns
                if campaign.channel_id == channel_id
                and campaign.category == Spend.Category.ACQUISITION
                and campaign.starts_on <= window_end
                and campaign.ends_on >= window_start
            ]
            on_campaigns = amount * rng.uniform(0.35, 0.6) if running else 0
            name = world.channel_names[channel_id]
            lines.append((amount - on_campaigns, "acquisition", channel_id, None, f"{name}: always-on"))
            for campaign in running:
                lines.append((on_campaigns / len(running), "acquisition", channel_id, campaign.id, f"{name}: campaign"))
        customers_kept = max(customers_at[month], 1)
        lines.append(
            (customers_kept * rng.uniform(9, 14) * share_of_month, "retention", None, None, "Customer success")
        )
        for campaign in campaigns:
            if (
                campaign.category == Spend.Category.RETENTION
                and campaign.starts_on <= window_end
                and campaign.ends_on >= window_start
            ):
                lines.append(
                    (
                        customers_kept * rng.uniform(15, 25),
                        "retention",
                        campaign.channel_id,
                        campaign.id,
                        "Customer event",
                    )
                )
        for line, (amount, category, channel_id, campaign_id, description) in enumerate(lines, start=1):
            spent_on = window_start + timedelta(days=rng.randint(0, (window_end - window_start).days))
            rows.append(
                Spend(
                    spent_on=spent_on,
                    amount=_money(amount),
                    category=category,
                    channel_id=channel_id,
                    campaign_id=campaign_id,
                    description=description,
                    external_id=external_id("spend", int(f"{month:%Y%m}") * 100 + line),
                    created_at=min(world.midnight(spent_on) + timedelta(hours=rng.randint(8, 18)), context.now),
                )
            )
            if campaign_id is not None:
                budgets[campaign_id] += _money(amount)
    insert_new(Spend, rows)
    # A campaign's budget is what it was planned to get: its spend, rounded up to the thousand (only if unset).
    for campaign_id, spent in budgets.items():
        budget = Decimal(math.ceil(spent * Decimal("1.1") / 1000) * 1000)
        Campaign.objects.filter(pk=campaign_id, budget=None).update(budget=budget)
