"""Deterministic demo data: the demo users, the contacts seeder, and the context every seeder receives.

`manage.py seed_demo` builds one `DemoContext`, runs `seed_contacts`, then every seeder that a higher app
registered with `contacts.registry.register_demo_seeder`, each in its own transaction.

What every seeder guarantees, and what a new one must keep:
- deterministic: the same seed (on the same day) gives the same rows; randomness comes from
  `context.rng_for(...)`, one generator per chunk, so a chunk's rows do not depend on the others;
- idempotent: every row has an external id `demo-<kind>-<number>` and is inserted with
  `insert_new` (ON CONFLICT DO NOTHING), so a second run adds nothing (and skips the chunks that
  are all there);
- fast with flat memory: rows are generated and inserted a chunk at a time (`context.chunks`), a few
  queries per chunk, never one per row;
- bulk on a first run: on PostgreSQL, a kind with no demo rows yet (`bulk_path`) is written as plain
  tuples by COPY (`copy_rows`), with ids reserved from the sequence in one query (`reserve_ids`) so
  that nothing is read back, into tables whose secondary indexes and foreign keys are built once at
  the end (`indexes_built_after`); the rows are the same as the insert path's;
- volumes per size (`DemoSize`): a size that names a volume scales the seeder's rates to reach it;
- nothing in the future: every time is at or before `context.now`.
"""

import logging
import random
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from itertools import accumulate

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, reset_queries
from django.utils import timezone
from django.utils.text import slugify
from faker import Faker, Generator

from .models import Channel, Company, Contact, Interaction

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "crm-demo"  # as README.md says
DEMO_HISTORY_DAYS = 730
CHUNK_SIZE = 2000


class MissingRolesError(RuntimeError):
    """The role groups are missing: the migrations have not run."""


@dataclass(frozen=True)
class DemoSize:
    """How much of each kind a size makes. A volume left as None comes out of the seeders' own rates (about
    three interactions, three leads and half a ticket per contact); a number scales those rates to reach it.

    Deals have no volume of their own: every customer won one (a third of the contacts), and about a third of
    the deals closed are won, so they follow the contacts (about 1.4 a contact)."""

    contacts: int
    companies: int
    leads: int | None = None
    orders: int | None = None
    interactions: int | None = None
    tickets: int | None = None
    invitations: int | None = None


DEMO_SIZES: dict[str, DemoSize] = {
    "small": DemoSize(contacts=300, companies=60),
    "medium": DemoSize(
        contacts=100_000,
        companies=5_000,
        leads=100_000,
        orders=500_000,
        interactions=200_000,
        tickets=100_000,
        invitations=50_000,
    ),
    "large": DemoSize(
        contacts=1_000_000,
        companies=50_000,
        leads=1_000_000,
        orders=5_000_000,
        interactions=2_000_000,
        tickets=1_000_000,
        invitations=500_000,
    ),
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    last_name: str


DEMO_USERS = (
    DemoUser("sales", "sales", "Sam", "Carter"),
    DemoUser("sales2", "sales", "Priya", "Nair"),
    DemoUser("sales3", "sales", "Lukas", "Becker"),
    DemoUser("support", "support", "Sue", "Martin"),
    DemoUser("manager", "manager", "Max", "Okafor"),
    DemoUser("admin", "admin", "Ada", "Lindqvist"),
)


def external_id(kind: str, number: int) -> str:
    """The demo row's external id, e.g. external_id("contact", 123) == "demo-contact-0000123"."""
    return f"demo-{kind}-{number:07d}"


def demo_rows(model: type[models.Model], kind: str) -> models.QuerySet:
    """The rows of `model` that the demo seeders made (by their external id)."""
    return model._default_manager.filter(external_id__startswith=f"demo-{kind}-")


def insert_new(model: type[models.Model], rows: Iterable[models.Model], batch_size: int = CHUNK_SIZE) -> None:
    """Insert the rows whose unique keys are new; those that exist stay as they are (ON CONFLICT DO NOTHING)."""
    model._default_manager.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)


class DemoRow(dict):
    """A row to insert, as light as a dict, read and written like a model instance (row.created_at)."""

    __slots__ = ()
    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


def bulk_path(context: "DemoContext", model: type[models.Model], kind: str) -> bool:
    """Whether to write `kind` by COPY with ids reserved up front: on PostgreSQL, when no demo row of it exists
    yet (a first run). Otherwise rows go through `insert_new`, which skips those an earlier run made; both
    paths write the same rows."""
    return context.bulk and connection.vendor == "postgresql" and not demo_rows(model, kind).exists()


@contextmanager
def indexes_built_after(*model_list: type[models.Model]) -> Iterator[None]:
    """Load the models' tables without their secondary indexes and foreign keys, then build them again.

    On PostgreSQL, COPY into a table updates every index row by row and queues a foreign-key check per row
    for the commit; building an index afterwards sorts once, and adding a foreign key checks every row with
    one join, several times faster for millions of rows. Indexes behind constraints (primary keys, unique
    constraints) stay. It all happens in the caller's transaction: a failure leaves the tables as they were.
    The tables are analysed at the end.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in model_list]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
            [tables],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) "
            "AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = pg_index.indexrelid) ORDER BY indexrelid",
            [tables],
        )
        indexes = cursor.fetchall()
        # Pending (deferred) checks of rows written earlier in the transaction would forbid the ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for index, _ in indexes:
            cursor.execute(f"DROP INDEX {index}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        # Statistics for the seeders that read these tables next: without them PostgreSQL takes a table of
        # millions of fresh rows for an empty one (the CSAT seeder's reads of tickets took seconds each).
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys of `model` from its sequence, in one query (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY plain tuples (values in `columns` order, ids included) into the model's table, on Django's
    connection and so in its transaction (PostgreSQL)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    connection.ensure_connection()
    table = quote(model._meta.db_table)
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def demo_range(model: type[models.Model], kind: str, numbers: range) -> models.QuerySet:
    """The demo rows of `model` made for the given numbers: `demo-<kind>-<n>`, maybe followed by `-<more>`.

    A range of external ids (with the `external_id <> ''` of the partial unique index spelled out) is an index
    scan on PostgreSQL, where `external_id IN (...)` with thousands of ids scans the whole table."""
    return model._default_manager.filter(
        external_id__gte=external_id(kind, numbers[0]), external_id__lt=external_id(kind, numbers[-1] + 1)
    ).exclude(external_id="")


def ids_by_external_id(model: type[models.Model], external_ids: list[str], *fields: str) -> dict[str, tuple]:
    """external_id -> (id, *fields) for the rows that exist, in one query (call it with a chunk's ids)."""
    rows = (
        model._default_manager.filter(external_id__in=external_ids).order_by().values_list("external_id", "id", *fields)
    )
    return {row[0]: row[1:] for row in rows}


@dataclass
class DemoContext:
    """What `seed_demo` hands to every seeder."""

    size: str
    seed: int
    users: dict[str, AbstractBaseUser]  # username -> user, see DEMO_USERS
    log: Callable[[str], None] = logger.info
    # The demo's "now": the start of today (UTC), so one day's runs agree and nothing lies in the future.
    now: datetime = field(default_factory=lambda: timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    chunk_size: int = CHUNK_SIZE
    bulk: bool = True  # a first run on PostgreSQL copies its rows (see `bulk_path`); False: insert them
    created: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> (new, total)
    rng: random.Random = field(init=False)
    faker: Faker = field(init=False)

    def __post_init__(self):
        self.rng = self.rng_for("context")
        self.faker = Faker("en_US")
        self.faker.seed_instance(self.seed)

    @property
    def dimensions(self) -> DemoSize:
        return DEMO_SIZES[self.size]

    @property
    def start(self) -> datetime:
        """The beginning of the demo history, two years before `now`."""
        return self.now - timedelta(days=DEMO_HISTORY_DAYS)

    def users_in_role(self, role: str) -> list:
        return [self.users[spec.username] for spec in DEMO_USERS if spec.role == role]

    @property
    def sales_reps(self) -> list:
        return self.users_in_role("sales")

    def rng_for(self, *parts) -> random.Random:
        """An independent generator for one part of the data (e.g. rng_for("deals", chunk_index))."""
        return random.Random(":".join(str(part) for part in (self.seed, *parts)))

    def chunks(self, label: str, total: int) -> Iterator[tuple[int, range]]:
        """(chunk index, numbers 1..total of this chunk), logging progress as it goes."""
        chunk_count = (total + self.chunk_size - 1) // self.chunk_size
        every = max(1, chunk_count // 10)
        for index in range(chunk_count):
            start = index * self.chunk_size + 1
            yield index, range(start, min(start + self.chunk_size, total + 1))
            # With DEBUG on, Django keeps every query's SQL: drop it, or memory grows with the data.
            reset_queries()
            if (index + 1) % every == 0 or index + 1 == chunk_count:
                self.log(f"  {label}: {min((index + 1) * self.chunk_size, total):,} / {total:,}")

    def record(self, label: str, *, new: int, total: int) -> None:
        """Note what a seeder created, for the summary printed at the end."""
        self.created[label] = (new, total)


def ensure_demo_users(password: str = DEMO_PASSWORD) -> dict[str, AbstractBaseUser]:
    """Create the demo users, or bring them back to their role and the demo password; username -> user."""
    groups = {group.name: group for group in Group.objects.filter(name__in={spec.role for spec in DEMO_USERS})}
    missing = {spec.role for spec in DEMO_USERS} - set(groups)
    if missing:
        raise MissingRolesError(f"Missing role groups {', '.join(sorted(missing))}: run `manage.py migrate` first.")
    # One hash for all six: hashing is deliberately slow, and this password is printed on screen anyway.
    password_hash = make_password(password)
    user_model = get_user_model()
    users = {}
    for spec in DEMO_USERS:
        is_admin = spec.role == "admin"
        user, _ = user_model.objects.update_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@example.com",
                "password": password_hash,
                "is_active": True,
                "is_staff": is_admin,
                "is_superuser": is_admin,
            },
        )
        user.groups.set([groups[spec.role]])
        users[spec.username] = user
    return users


# --- the contacts seeder -------------------------------------------------------------------------------

# channel -> (share of contacts, share of them who become customers)
CHANNELS = {
    "Organic search": (25, 0.30),
    "Paid ads": (20, 0.22),
    "Referral": (10, 0.55),
    "Events": (10, 0.38),
    "Outbound": (15, 0.28),
    "Partner": (8, 0.48),
    "Web form": (12, 0.36),
}

# industry -> words that company names of the industry end with
INDUSTRIES = {
    "Software": ("Software", "Systems", "Labs", "Technologies", "Cloud", "Analytics"),
    "Retail": ("Retail", "Stores", "Market", "Goods", "Outfitters"),
    "Manufacturing": ("Manufacturing", "Industries", "Components", "Works", "Machinery"),
    "Healthcare": ("Health", "Medical", "Clinics", "Care", "Diagnostics"),
    "Finance": ("Capital", "Finance", "Partners", "Advisors", "Insurance"),
    "Education": ("Learning", "Academy", "Education", "Institute"),
    "Logistics": ("Logistics", "Freight", "Transport", "Shipping"),
    "Media": ("Media", "Studios", "Publishing", "Creative"),
}
INDUSTRY_WEIGHTS = (24, 14, 16, 12, 12, 8, 8, 6)
BRAND_WORDS = (
    "Nova", "Apex", "Northwind", "Summit", "Helix", "Crescent", "Orbit", "Vertex", "Lumen", "Harbor",
    "Pioneer", "Evergreen", "Atlas", "Quantum", "Cedar", "Silverline", "Brightwater", "Ironwood", "Redstone",
    "Bluebird", "Keystone", "Meridian", "Falcon", "Granite", "Horizon", "Juniper", "Polaris", "Sequoia",
)  # fmt: skip

# region -> (share of companies, {locale: (phone country code, legal suffixes)})
REGIONS = {
    "Europe": (
        40,
        {
            "de_DE": ("49", ("GmbH", "AG", "KG")),
            "fr_FR": ("33", ("SA", "SAS", "SARL")),
            "en_GB": ("44", ("Ltd", "PLC", "LLP")),
            "es_ES": ("34", ("S.L.", "S.A.")),
            "it_IT": ("39", ("S.p.A.", "S.r.l.")),
            "nl_NL": ("31", ("B.V.", "N.V.")),
            "pl_PL": ("48", ("sp. z o.o.", "S.A.")),
            "sv_SE": ("46", ("AB",)),
        },
    ),
    "North America": (35, {"en_US": ("1", ("Inc.", "LLC", "Corp.", "Group")), "en_CA": ("1", ("Inc.", "Ltd."))}),
    "Asia-Pacific": (
        15,
        {
            "en_AU": ("61", ("Pty Ltd",)),
            "en_IN": ("91", ("Pvt Ltd", "Ltd")),
            "ja_JP": ("81", ("K.K.", "Co., Ltd.")),
            "en_NZ": ("64", ("Ltd",)),
        },
    ),
    "Latin America": (
        10,
        {"es_MX": ("52", ("S.A. de C.V.",)), "pt_BR": ("55", ("Ltda.", "S.A.")), "es_CO": ("57", ("S.A.S.",))},
    ),
}
LOCALE_REGION = {locale: region for region, (_, locales) in REGIONS.items() for locale in locales}

SIZE_BANDS = tuple(Company.SizeBand.values)
SIZE_BAND_SHARES = (25, 30, 22, 15, 8)
SIZE_BAND_CONTACT_WEIGHTS = (1, 2, 4, 7, 12)  # bigger companies have more contacts

JOB_TITLES = (
    "CEO", "CTO", "CFO", "COO", "Founder", "Head of Sales", "VP Marketing", "Marketing Manager", "IT Manager",
    "Procurement Manager", "Operations Manager", "Office Manager", "Software Engineer", "Account Manager",
    "HR Director", "Product Manager", "Customer Success Manager", "Purchasing Lead", "Data Analyst",
    "Finance Manager", "Head of Operations", "Project Manager", "Sales Representative", "Consultant",
)  # fmt: skip
FREE_MAIL_DOMAINS = ("mail.example.net", "post.example.org", "inbox.example.net")

TOPICS = (
    "pricing", "the annual plan", "the API", "data import", "reporting", "extra user seats", "onboarding",
    "integrations", "the security review", "the renewal", "single sign-on", "the mobile app",
)  # fmt: skip
SUMMARIES = {
    ("call", "outbound"): ("Intro call about {topic}", "Follow-up call on {topic}", "Left a voicemail about {topic}"),
    ("call", "inbound"): ("Called in with a question about {topic}", "Asked for help with {topic}"),
    ("email", "outbound"): ("Sent the pricing overview", "Sent a case study on {topic}", "Followed up on {topic}"),
    ("email", "inbound"): ("Replied: interested in {topic}", "Asked about {topic}", "Requested a quote"),
    ("meeting", ""): ("Product demo", "Kick-off meeting", "Quarterly business review", "Workshop on {topic}"),
    ("note", ""): ("Decision expected next quarter", "Budget approved for {topic}", "Prefers e-mail to calls"),
    ("web_visit", "inbound"): ("Visited the pricing page", "Read the blog post on {topic}", "Downloaded a guide"),
    ("app_session", "inbound"): (
        "Used reporting for {minutes} minutes",
        "Connected an integration",
        "Invited colleagues",
    ),
}
# kind -> (weight before becoming a customer, weight as a customer)
INTERACTION_KINDS = {
    "email": (32, 24),
    "call": (22, 14),
    "meeting": (10, 6),
    "note": (12, 10),
    "web_visit": (24, 16),
    "app_session": (0, 30),
}
_KINDS = tuple(INTERACTION_KINDS)
_KIND_CUM_WEIGHTS = tuple(
    list(accumulate(weights[state] for weights in INTERACTION_KINDS.values())) for state in (0, 1)
)
_ASCII = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "Ae", "đ": "d", "ı": "i"})


def _ascii_slug(text: str, separator: str = "-") -> str:
    text = unicodedata.normalize("NFKD", text.translate(_ASCII)).encode("ascii", "ignore").decode()
    return slugify(text).replace("-", separator)


@dataclass
class _Names:
    """Pools of real names per locale, drawn once from Faker: drawing from pools is fast enough for a million."""

    first: dict[str, list[str]]
    last: dict[str, list[str]]

    @classmethod
    def build(cls, seed: int, pool_size: int = 250) -> "_Names":
        first, last = {}, {}
        for locale in LOCALE_REGION:
            faker = _person_faker(locale, seed)
            romanized = locale == "ja_JP"  # e-mail addresses and sorting want Latin letters
            first_name = faker.first_romanized_name if romanized else faker.first_name
            last_name = faker.last_romanized_name if romanized else faker.last_name
            first[locale] = [first_name() for _ in range(pool_size)]
            last[locale] = [name for name in (last_name() for _ in range(pool_size)) if "," not in name]
        return cls(first=first, last=last)


def _person_faker(locale: str, seed: int) -> Generator:
    """Faker's name provider alone: a full Faker per locale takes a tenth of a second to build."""
    try:
        provider = import_module(f"faker.providers.person.{locale}").Provider
    except ModuleNotFoundError:  # e.g. en_CA: Faker itself uses the en_US names
        provider = import_module("faker.providers.person.en_US").Provider
    generator = Generator()
    generator.add_provider(provider)
    generator.seed_instance(seed)
    return generator


@dataclass(frozen=True)
class _CompanyRef:
    """What contacts need to know about their company."""

    id: int
    domain: str
    industry: str
    region: str
    locale: str
    size_band: str
    owner_id: int


def seed_contacts(context: DemoContext) -> None:
    """Channels, companies, contacts and their interactions."""
    names = _Names.build(context.seed)
    channels = _seed_channels(context)
    companies = _seed_companies(context, names)
    _seed_contacts_and_interactions(context, names, channels, companies)


def _seed_channels(context: DemoContext) -> dict[str, Channel]:
    before = Channel.objects.count()
    insert_new(Channel, [Channel(name=name) for name in CHANNELS])
    by_name = {channel.name.lower(): channel for channel in Channel.objects.all()}
    context.record("channels", new=Channel.objects.count() - before, total=len(CHANNELS))
    return {name: by_name[name.lower()] for name in CHANNELS}


def _random_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """An instant in [start, end], to the second."""
    span = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, span))


def _created_at(rng: random.Random, context: DemoContext) -> datetime:
    """A working-hours instant over the two years, denser lately (the business grows)."""
    day = int(DEMO_HISTORY_DAYS * rng.random() ** 0.8)
    second = rng.randint(8 * 3600, 18 * 3600) if rng.random() < 0.85 else rng.randint(0, 86399)
    return min(context.start + timedelta(days=day, seconds=second), context.now)


def _seed_companies(context: DemoContext, names: _Names) -> list[_CompanyRef]:
    """Insert the companies a chunk at a time; return what contacts need to know about each."""
    region_names = list(REGIONS)
    region_weights = [share for share, _ in REGIONS.values()]
    industry_names = list(INDUSTRIES)
    reps = context.sales_reps
    before = demo_rows(Company, "company").count()
    refs: list[_CompanyRef] = []
    total = context.dimensions.companies
    for index, numbers in context.chunks("companies", total):
        rng = context.rng_for("companies", index)
        rows, locales = [], {}
        for number in numbers:
            region = rng.choices(region_names, region_weights)[0]
            locale = rng.choice(list(REGIONS[region][1]))
            industry = rng.choices(industry_names, INDUSTRY_WEIGHTS)[0]
            base_name = _company_base_name(rng, names, locale, industry)
            suffix = rng.choice(REGIONS[region][1][locale][1])
            domain = f"{_ascii_slug(base_name)}.example.com"
            company = Company(
                name=f"{base_name} {suffix}",
                domain=domain,
                industry=industry,
                size_band=rng.choices(SIZE_BANDS, SIZE_BAND_SHARES)[0],
                region=region,
                owner=rng.choices(reps, (5, 3, 2))[0],
                external_id=external_id("company", number),
                created_at=context.start + timedelta(days=int(DEMO_HISTORY_DAYS * rng.random() ** 1.5)),
            )
            rows.append(company)
            locales[company.external_id] = locale
        insert_new(Company, rows)
        existing = ids_by_external_id(Company, list(locales))
        refs.extend(
            _CompanyRef(
                id=existing[company.external_id][0],
                domain=company.domain,
                industry=company.industry,
                region=company.region,
                locale=locales[company.external_id],
                size_band=company.size_band,
                owner_id=company.owner_id,
            )
            for company in rows
            if company.external_id in existing
        )
    context.record("companies", new=demo_rows(Company, "company").count() - before, total=len(refs))
    return refs


def _company_base_name(rng: random.Random, names: _Names, locale: str, industry: str) -> str:
    last = names.last[locale]
    style = rng.random()
    if style < 0.35:
        return rng.choice(last)
    if style < 0.55:
        return f"{rng.choice(last)} & {rng.choice(last)}"
    if style < 0.65:
        return f"{rng.choice(last)}-{rng.choice(last)}"
    return f"{rng.choice(BRAND_WORDS)} {rng.choice(INDUSTRIES[industry])}"


CONTACT_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "company_id", "job_title", "region", "industry",
    "channel_id", "owner_id", "customer_since", "churned_at", "email_opt_out", "external_id", "created_at",
    "updated_at",
)  # fmt: skip
INTERACTION_COLUMNS = (
    "contact_id", "kind", "direction", "occurred_at", "user_id", "summary", "external_id", "created_at",
)  # fmt: skip
# Interactions a contact gets on average at the seeders' own rates (measured: 290,467 for 100,000 contacts).
NATURAL_INTERACTIONS_PER_CONTACT = 2.9


def _seed_contacts_and_interactions(
    context: DemoContext, names: _Names, channels: dict[str, Channel], companies: list[_CompanyRef]
) -> None:
    dimensions = context.dimensions
    interaction_scale = (
        None
        if dimensions.interactions is None
        else dimensions.interactions / dimensions.contacts / NATURAL_INTERACTIONS_PER_CONTACT
    )
    contacts_before = demo_rows(Contact, "contact").count()
    interactions_before = demo_rows(Interaction, "interaction").count()
    bulk = bulk_path(context, Contact, "contact") and bulk_path(context, Interaction, "interaction")
    with indexes_built_after(Contact, Interaction) if bulk else nullcontext():
        contacts_total = _write_contacts_and_interactions(context, names, channels, companies, bulk, interaction_scale)
    context.record("contacts", new=demo_rows(Contact, "contact").count() - contacts_before, total=contacts_total)
    interactions_now = demo_rows(Interaction, "interaction").count()
    context.record("interactions", new=interactions_now - interactions_before, total=interactions_now)


def _write_contacts_and_interactions(context, names, channels, companies, bulk, interaction_scale) -> int:
    """Generate and write the contacts a chunk at a time, each chunk's interactions with them; how many."""
    channel_names = list(channels)
    channel_weights = [share for share, _ in CHANNELS.values()]
    company_weights = list(accumulate(SIZE_BAND_CONTACT_WEIGHTS[SIZE_BANDS.index(ref.size_band)] for ref in companies))
    reps = context.sales_reps
    contacts_total = 0
    for index, numbers in context.chunks("contacts", context.dimensions.contacts):
        keys = [external_id("contact", number) for number in numbers]
        if not bulk and demo_range(Contact, "contact", numbers).count() == len(keys):
            # An earlier run made them, and their interactions in the same transaction: a re-run is quick.
            contacts_total += len(keys)
            continue
        rng = context.rng_for("contacts", index)
        rows = []
        for number in numbers:
            company = (
                rng.choices(companies, cum_weights=company_weights)[0] if companies and rng.random() < 0.92 else None
            )
            channel_name = rng.choices(channel_names, channel_weights)[0]
            rows.append(_contact(context, rng, names, number, company, channels[channel_name], reps))
        interaction_rng = context.rng_for("interactions", index)
        if bulk:
            # A first run: ids come from the sequence, so interactions need no reading back.
            updated_at = timezone.now()
            for row, contact_id in zip(rows, reserve_ids(Contact, len(rows)), strict=True):
                row["id"], row["updated_at"] = contact_id, updated_at
            copy_rows(Contact, CONTACT_COLUMNS, (tuple(row[column] for column in CONTACT_COLUMNS) for row in rows))
            contacts_total += len(rows)
            copy_rows(
                Interaction,
                INTERACTION_COLUMNS,
                (
                    tuple(interaction)
                    for row in rows
                    for interaction in _interactions(
                        context,
                        interaction_rng,
                        row["external_id"],
                        row["id"],
                        row["created_at"],
                        row["customer_since"],
                        row["churned_at"],
                        row["owner_id"],
                        interaction_scale,
                    )
                ),
            )
            continue
        insert_new(Contact, [Contact(**row) for row in rows])
        # Interactions follow what the database holds, which is what an earlier run made if there was one.
        existing = {
            row[0]: row[1:]
            for row in demo_range(Contact, "contact", numbers)
            .order_by()
            .values_list("external_id", "id", "created_at", "customer_since", "churned_at", "owner_id")
        }
        contacts_total += len(existing)
        interactions = []
        for row in rows:
            if row["external_id"] in existing:
                interactions.extend(
                    Interaction(**dict(zip(INTERACTION_COLUMNS, values, strict=True)))
                    for values in _interactions(
                        context,
                        interaction_rng,
                        row["external_id"],
                        *existing[row["external_id"]],
                        interaction_scale,
                    )
                )
        insert_new(Interaction, interactions)
    return contacts_total


def _contact(context, rng, names, number, company, channel, reps) -> dict:
    """The contact's field values (a dict: the bulk path copies them, the other one makes a Contact)."""
    if company is not None:
        locale = company.locale if rng.random() < 0.75 else rng.choice(list(REGIONS[company.region][1]))
        region = company.region if rng.random() < 0.9 else LOCALE_REGION[locale]
        domain = company.domain
        owner_id = company.owner_id if rng.random() < 0.7 else rng.choice(reps).pk
    else:
        locale = rng.choice(list(LOCALE_REGION))
        region = LOCALE_REGION[locale]
        domain = rng.choice(FREE_MAIL_DOMAINS)
        owner_id = rng.choice(reps).pk
    first_name = rng.choice(names.first[locale])
    last_name = rng.choice(names.last[locale])
    # The number keeps e-mails unique (a database constraint) however many namesakes a company has.
    email = f"{_ascii_slug(first_name, '.')}.{_ascii_slug(last_name, '.')}.{number}@{domain}"

    roll = rng.random()
    if company is None:
        industry = rng.choice(list(INDUSTRIES)) if roll < 0.5 else ""
    elif roll < 0.65:
        industry = ""  # falls back to the company's
    elif roll < 0.9:
        industry = company.industry
    else:
        industry = rng.choice(list(INDUSTRIES))

    created_at = _created_at(rng, context)
    customer_since = churned_at = None
    if rng.random() < CHANNELS[channel.name][1]:
        candidate = created_at + timedelta(seconds=int(86400 * (1 + rng.expovariate(1 / 45))))
        if candidate <= context.now:
            customer_since = candidate
            if rng.random() < 0.4:
                churn = customer_since + timedelta(seconds=rng.randint(30 * 86400, 540 * 86400))
                churned_at = churn if churn <= context.now else None

    phone = ""
    if rng.random() < 0.85:
        code = REGIONS[LOCALE_REGION[locale]][1][locale][0]
        if code == "1":
            phone = f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"
        else:
            phone = f"+{code} {rng.randint(20, 99)} {rng.randint(1_000_000, 9_999_999)}"
    return {
        "first_name": first_name,
        "last_name": last_name,
        "email": email.lower(),
        "phone": phone,
        "company_id": company.id if company else None,
        "job_title": rng.choice(JOB_TITLES) if rng.random() < 0.8 else "",
        "region": region,
        "industry": industry,
        "channel_id": channel.pk,
        "owner_id": owner_id,
        "customer_since": customer_since,
        "churned_at": churned_at,
        "email_opt_out": rng.random() < 0.05,
        "external_id": external_id("contact", number),
        "created_at": created_at,
    }


def _interaction_count(rng: random.Random, is_customer: bool, scale: float | None = None) -> int:
    """A few per contact; a long tail of contacts with many (Pareto); `scale` stretches it to a size's volume."""
    count = int(rng.paretovariate(1.6))
    if is_customer:
        count += rng.randint(1, 4)
    if scale is not None:
        count = int(count * scale + rng.random())
    return min(count, 60)


def _interactions(
    context, rng, contact_key, contact_id, created_at, customer_since, churned_at, owner_id, scale=None
) -> list[tuple]:
    """The contact's touches, each between its creation and `now`; customers' later ones are app use and support.

    Rows are tuples in INTERACTION_COLUMNS order."""
    support = context.users["support"].pk
    reps = [user.pk for user in context.sales_reps]
    number = contact_key.rsplit("-", 1)[-1]
    rows = []
    span = max(0, int((context.now - created_at).total_seconds()))
    for sequence in range(1, _interaction_count(rng, customer_since is not None, scale) + 1):
        occurred_at = created_at + timedelta(seconds=rng.randint(0, span))
        as_customer = customer_since is not None and customer_since <= occurred_at < (churned_at or context.now)
        kind = rng.choices(_KINDS, cum_weights=_KIND_CUM_WEIGHTS[as_customer])[0]
        if kind in ("web_visit", "app_session"):
            direction, user_id = "inbound", None
        elif kind in ("meeting", "note"):
            direction, user_id = "", owner_id or rng.choice(reps)
        else:
            direction = "inbound" if rng.random() < (0.6 if as_customer else 0.35) else "outbound"
            if as_customer and direction == "inbound" and rng.random() < 0.6:
                user_id = support
            else:
                user_id = owner_id or rng.choice(reps)
        template = rng.choice(SUMMARIES[(kind, direction)])
        rows.append(
            (
                contact_id,
                kind,
                direction,
                occurred_at,
                user_id,
                template.format(topic=rng.choice(TOPICS), minutes=rng.randint(3, 90)),
                f"demo-interaction-{number}-{sequence:02d}",
                occurred_at,
            )
        )
    return rows
