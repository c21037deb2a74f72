"""Every write to contacts' records. Each service is one transaction and validates first."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from crm_project.services import apply_and_save

from .models import Company, Contact, Interaction

COMPANY_FIELDS = ("name", "domain", "industry", "size_band", "region", "owner")
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "region",
    "industry",
    "channel",
    "owner",
    "email_opt_out",
)


@transaction.atomic
def company_create(*, data: dict) -> Company:
    return apply_and_save(Company(), COMPANY_FIELDS, data)


@transaction.atomic
def company_update(*, company: Company, data: dict) -> Company:
    return apply_and_save(company, COMPANY_FIELDS, data)


@transaction.atomic
def company_delete(*, company: Company) -> None:
    """Delete a company; its contacts stay, without a company."""
    company.delete()


@transaction.atomic
def contact_create(*, data: dict, created_by: AbstractBaseUser | None = None) -> Contact:
    """Create a contact. The creator owns it unless an owner is given."""
    contact = Contact()
    if created_by is not None and data.get("owner") is None:
        data = {**data, "owner": created_by}
    return apply_and_save(contact, CONTACT_FIELDS, data)


@transaction.atomic
def contact_update(*, contact: Contact, data: dict) -> Contact:
    return apply_and_save(contact, CONTACT_FIELDS, data)


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    """Delete a contact with its interactions."""
    contact.delete()


@transaction.atomic
def interaction_log(
    *,
    contact: Contact,
    kind: str,
    user: AbstractBaseUser | None,
    summary: str = "",
    direction: str = "",
    occurred_at=None,
) -> Interaction:
    """Log a touch with a contact; `occurred_at` defaults to now (a planned meeting may be later)."""
    interaction = Interaction(
        contact=contact,
        kind=kind,
        user=user,
        summary=summary,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
    )
    interaction.full_clean()
    interaction.save()
    return interaction


@transaction.atomic
def interaction_delete(*, interaction: Interaction) -> None:
    interaction.delete()
