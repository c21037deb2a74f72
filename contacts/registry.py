"""Extension points that let higher apps show their records in contacts' pages.

`contacts` must not import `sales`, `support` or `surveys`; instead, each of them
registers providers here from its AppConfig.ready():

- a timeline source: `fn(contact, limit) -> list[TimelineEntry]`, one or two queries
  however many entries (the contact page shows one merged timeline), with the permission a
  user needs to see its entries (a support agent sees no deals there, as nowhere else);
- a search provider: `fn(query, user, limit) -> SearchGroup | None`, for the global
  search; it returns None when the user may not see that kind of record;
- a demo seeder: `fn(context) -> None`, given a `contacts.demo.DemoContext`, or its dotted path (so that
  the demo's generators and Faker load only when `seed_demo` runs); `seed_demo` runs the contacts seeder
  first, then these in registration order, each in its own transaction;
- an importer: a `contacts.importing.ImportSpec` for one kind of CSV file (`import_records`);
- a history listener: `fn(since, tables) -> None`, told after an import commits how far back history changed,
  in which tables.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str  # short machine label, e.g. "call", "deal", "ticket"
    title: str
    body: str = ""
    url: str = ""
    actor: str = ""
    direction: str = ""


@dataclass
class SearchGroup:
    label: str
    results: list[tuple[str, str, str]] = field(default_factory=list)  # (title, detail, url)
    more_url: str = ""


TimelineSource = Callable[..., list[TimelineEntry]]
SearchProvider = Callable[..., SearchGroup | None]
DemoSeeder = Callable[..., None]

_timeline_sources: dict[TimelineSource, str | None] = {}  # source -> the permission its entries need
_search_providers: list[SearchProvider] = []
_demo_seeders: dict[str, DemoSeeder | str] = {}


def register_timeline_source(source: TimelineSource, *, permission: str | None = None) -> TimelineSource:
    """`permission`: what a user needs to see the source's entries (None: whoever may see the contact)."""
    _timeline_sources.setdefault(source, permission)
    return source


def register_search_provider(provider: SearchProvider) -> SearchProvider:
    if provider not in _search_providers:
        _search_providers.append(provider)
    return provider


def timeline_sources(user=None) -> tuple[TimelineSource, ...]:
    """The sources whose entries `user` may see (every source when no user is given)."""
    return tuple(
        source
        for source, permission in _timeline_sources.items()
        if user is None or permission is None or user.has_perm(permission)
    )


def search_providers() -> tuple[SearchProvider, ...]:
    return tuple(_search_providers)


# Contact page panels: `fn(request, contact) -> str | None`, HTML rendered by the higher app
# (render_to_string), shown beside the contact's facts; None when the user may not see it.
ContactPanel = Callable[..., str | None]
_contact_panels: list[ContactPanel] = []


def register_contact_panel(panel: ContactPanel) -> ContactPanel:
    if panel not in _contact_panels:
        _contact_panels.append(panel)
    return panel


def contact_panels() -> tuple[ContactPanel, ...]:
    return tuple(_contact_panels)


def register_demo_seeder(name: str, seeder: DemoSeeder | str) -> DemoSeeder | str:
    """Add a step to `seed_demo`, named in its progress and summary (e.g. "sales")."""
    if name == "contacts":
        raise ValueError('"contacts" is the seeder that always runs first; choose another name.')
    registered = _demo_seeders.get(name)
    if registered is not None and registered != seeder:  # the same function, or the same dotted path, again
        raise ValueError(f"Another demo seeder is already registered as {name!r}.")
    _demo_seeders[name] = seeder
    return seeder


def demo_seeders() -> tuple[tuple[str, DemoSeeder], ...]:
    """(name, seeder) in registration order, a seeder given by its dotted path imported now."""
    return tuple(
        (name, import_string(seeder) if isinstance(seeder, str) else seeder) for name, seeder in _demo_seeders.items()
    )


# CSV import (manage.py import_records, the import page): each app registers an importer per kind of
# record it owns (a `contacts.importing.ImportSpec`), in the order files should be imported.
_importers: dict[str, object] = {}


def register_importer(spec):
    registered = _importers.get(spec.kind)
    if registered is not None and type(registered) is not type(spec):
        raise ValueError(f"Another importer is already registered for {spec.kind!r}.")
    _importers[spec.kind] = spec
    return spec


def importers() -> dict[str, object]:
    """kind -> ImportSpec, in registration order (the order in which a history is imported)."""
    return dict(_importers)


# History listeners: `fn(since: datetime, tables: tuple[str, ...]) -> None`, called after an import commits,
# with the earliest instant the imported rows touch (any of their times or dates, old or new) and the tables
# it wrote, so that whatever is computed from history (the KPI snapshots) can be refreshed from there on,
# where it reads those tables.
HistoryListener = Callable[[datetime, tuple[str, ...]], None]
# The instant that means "all history, from the first record": what a change that relabels records of any
# date (a contact moved to another region) tells the listeners, and the KPI stale marks keep.
ALL_HISTORY = datetime(1970, 1, 1, tzinfo=UTC)
_history_listeners: list[HistoryListener] = []


def register_history_listener(listener: HistoryListener) -> HistoryListener:
    if listener not in _history_listeners:
        _history_listeners.append(listener)
    return listener


def unregister_history_listener(listener: HistoryListener) -> None:
    if listener in _history_listeners:
        _history_listeners.remove(listener)


def history_listeners() -> tuple[HistoryListener, ...]:
    return tuple(_history_listeners)
