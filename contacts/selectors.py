"""Reads shared by pages and the API: filters applied, related rows joined, counts annotated."""

from urllib.parse import urlencode

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.urls import reverse

from crm_project.templatetags.crm import display_name

from . import registry
from .models import Company, Contact, Interaction
from .registry import SearchGroup, TimelineEntry


def contact_list() -> QuerySet[Contact]:
    last_touch = Interaction.objects.filter(contact=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    return Contact.objects.select_related("company", "channel", "owner").annotate(
        last_interaction_at=Subquery(last_touch)
    )


def company_list() -> QuerySet[Company]:
    contact_count = (
        Contact.objects.filter(company=OuterRef("pk")).order_by().values("company").annotate(n=Count("pk")).values("n")
    )
    return Company.objects.select_related("owner").annotate(contact_count=Subquery(contact_count))


def interaction_list() -> QuerySet[Interaction]:
    return Interaction.objects.select_related("contact", "user")


def contact_timeline(*, contact: Contact, user, limit: int = 50) -> list[TimelineEntry]:
    """One timeline, newest first: the contact's interactions and what other apps register.

    Only what `user` may read elsewhere shows (deals for sales, tickets for support ...); `user=None`
    shows everything, for code that no person reads.
    """
    may_see_interactions = user is None or user.has_perm("contacts.view_interaction")
    entries = [
        TimelineEntry(
            when=interaction.occurred_at,
            kind=interaction.kind,
            title=interaction.get_kind_display(),
            body=interaction.summary,
            actor=display_name(interaction.user),
            direction=interaction.get_direction_display() if interaction.direction else "",
        )
        for interaction in (contact.interactions.select_related("user")[:limit] if may_see_interactions else [])
    ]
    for source in registry.timeline_sources(user):
        entries.extend(source(contact, limit))
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]


def _search_contacts(query: str, user, limit: int) -> SearchGroup | None:
    if not user.has_perm("contacts.view_contact"):
        return None
    from .filters import ContactFilter

    matches = ContactFilter({"q": query}, queryset=Contact.objects.select_related("company")).qs[:limit]
    return SearchGroup(
        label="Contacts",
        results=[
            (
                c.full_name,
                c.email or (c.company.name if c.company else ""),
                c.get_absolute_url(),
            )
            for c in matches
        ],
        more_url=f"{reverse('contacts:contact_list')}?{urlencode({'q': query})}",
    )


def _search_companies(query: str, user, limit: int) -> SearchGroup | None:
    if not user.has_perm("contacts.view_company"):
        return None
    from .filters import CompanyFilter

    matches = CompanyFilter({"q": query}, queryset=Company.objects.all()).qs[:limit]
    return SearchGroup(
        label="Companies",
        results=[(c.name, c.domain, c.get_absolute_url()) for c in matches],
        more_url=f"{reverse('contacts:company_list')}?{urlencode({'q': query})}",
    )


def global_search(*, query: str, user, limit: int = 5) -> list[SearchGroup]:
    """Search every kind of record the user may see; one group per kind, empty groups dropped."""
    query = query.strip()
    if len(query) < 2:
        return []
    groups = []
    for provider in (_search_contacts, _search_companies, *registry.search_providers()):
        group = provider(query, user, limit)
        if group is not None and group.results:
            groups.append(group)
    return groups


def active_users():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True).order_by("username")


def import_job_list():
    """The import page's jobs, newest first, without their files."""
    from .models import ImportJob

    return ImportJob.objects.defer("content").select_related("created_by")


def import_job_context(job) -> dict:
    """What the import page shows of a job: its progress, and the problems by line."""
    from .import_jobs import import_job_progress

    done = import_job_progress(job)
    total = max(job.rows_total, done)
    return {
        "job": job,
        "rows_done": done,
        "rows_total": total,
        "percent": round(100 * done / total) if total else (0 if job.is_working else 100),
        "can_import_good_rows": (
            job.status == job.Status.CHECKED and not job.skip_bad_rows and job.problem_count and job.good_rows
        ),
    }
