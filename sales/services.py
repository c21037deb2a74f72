"""Every write of the sales side. Each service is one transaction; a refused action changes nothing.

Timestamps that KPIs measure (`converted_at`, `closed_at`, `customer_since`,
`churned_at`) are set here from what happened, never typed in.
"""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit import recording as audit
from contacts.models import Company, Contact, normalize_email
from crm_project.services import apply_and_save, refuse
from crm_project.templatetags.crm import display_name
from crm_project.validators import plausible_date

from .models import (
    Campaign,
    Deal,
    DealStageChange,
    Lead,
    Order,
    Pipeline,
    SalesEvent,
    Spend,
    Stage,
    Subscription,
)

User = AbstractBaseUser
CAMPAIGN_FIELDS = ("name", "channel", "starts_on", "ends_on", "budget")
SPEND_FIELDS = ("spent_on", "amount", "category", "channel", "campaign", "description")
LEAD_FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "message", "channel", "campaign", "owner")
DEAL_FIELDS = ("title", "contact", "company", "owner", "channel", "kind", "amount", "expected_close_date")
ORDER_FIELDS = ("contact", "deal", "ordered_at", "amount", "description")


def _event(verb: str, *, actor=None, at=None, note: str = "", **targets) -> SalesEvent:
    return SalesEvent.objects.create(verb=verb, actor=actor, at=at or timezone.now(), note=note[:500], **targets)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a calendar day in the business's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Campaigns and spend ---------------------------------------------------------------------------


@transaction.atomic
def campaign_create(*, data: dict) -> Campaign:
    return apply_and_save(Campaign(), CAMPAIGN_FIELDS, data)


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict) -> Campaign:
    return apply_and_save(campaign, CAMPAIGN_FIELDS, data)


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a campaign; refused (ProtectedError) while spend or leads refer to it."""
    campaign.delete()


@transaction.atomic
def spend_create(*, data: dict) -> Spend:
    return apply_and_save(Spend(), SPEND_FIELDS, data)


@transaction.atomic
def spend_update(*, spend: Spend, data: dict) -> Spend:
    return apply_and_save(spend, SPEND_FIELDS, data)


@transaction.atomic
def spend_delete(*, spend: Spend) -> None:
    spend.delete()


# Leads -----------------------------------------------------------------------------------------


def _check_lead_owner(owner) -> None:
    """A lead goes to someone who works on leads (the sales role, or an administrator): not to an agent of the
    help desk who cannot even open it, nor to someone who has left."""
    if owner is None:
        return
    if not owner.is_active:
        refuse("That user is not active.", "owner")
    if not owner.has_perm("sales.change_lead"):
        refuse(f"{display_name(owner)} does not work on leads: choose someone in sales.", "owner")


@transaction.atomic
def lead_create(*, data: dict, actor: User | None = None) -> Lead:
    """Capture a lead. Staff who capture a lead own it unless an owner is given."""
    _check_lead_owner(data.get("owner"))
    if actor is not None and data.get("owner") is None:
        data = {**data, "owner": actor}
    lead = apply_and_save(Lead(), LEAD_FIELDS, data)
    _event(SalesEvent.Verb.LEAD_CREATED, actor=actor, lead=lead, at=lead.created_at)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, data: dict, actor: User | None = None) -> Lead:
    if lead.status == Lead.Status.CONVERTED:
        refuse("A converted lead cannot be edited; edit its contact and deal instead.")
    if data.get("owner") is not None and data["owner"].pk != lead.owner_id:
        _check_lead_owner(data["owner"])
    return apply_and_save(lead, LEAD_FIELDS, data)


@transaction.atomic
def lead_delete(*, lead: Lead) -> None:
    """Delete a lead that was captured by mistake; a converted lead stays as the deal's history."""
    if lead.status == Lead.Status.CONVERTED:
        refuse("A converted lead cannot be deleted: its deal refers to it.")
    lead.delete()


def _locked_lead(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


@transaction.atomic
def lead_change_status(*, lead: Lead, status: str, actor: User | None = None) -> Lead:
    """Move a lead between new, working and qualified (convert and disqualify have their own services)."""
    lead = _locked_lead(lead)
    if status not in {Lead.Status.NEW, Lead.Status.WORKING, Lead.Status.QUALIFIED}:
        refuse("Use convert or disqualify for that.", "status")
    if lead.is_closed:
        refuse(f"This lead is already {lead.get_status_display().lower()}.", "status")
    if lead.status != status:
        old = lead.get_status_display()
        lead.status = status
        lead.save(update_fields=["status"])
        _event(SalesEvent.Verb.LEAD_STATUS, actor=actor, lead=lead, note=f"{old} → {lead.get_status_display()}")
    return lead


@transaction.atomic
def leads_assign(*, leads: list[Lead], owner: User, actor: User | None = None) -> int:
    """Give leads to an owner, all or none; returns how many changed owner.

    Every lead is checked as lead_update checks one: a converted lead among them refuses the whole batch.
    """
    _check_lead_owner(owner)
    locked = list(Lead.objects.select_for_update().filter(pk__in=[lead.pk for lead in leads]).order_by("pk"))
    if len(locked) != len({lead.pk for lead in leads}):
        refuse("Some of these leads no longer exist.")
    converted = [lead for lead in locked if lead.status == Lead.Status.CONVERTED]
    if converted:
        names = ", ".join(str(lead) for lead in converted[:5]) + (" …" if len(converted) > 5 else "")
        refuse(f"Converted leads cannot be reassigned ({names}); nothing was assigned.", "leads")
    changed = [lead for lead in locked if lead.owner_id != owner.pk]
    for lead in changed:
        lead.owner = owner
    audit.bulk_update(changed, ["owner"])
    SalesEvent.objects.bulk_create(
        SalesEvent(verb=SalesEvent.Verb.LEAD_ASSIGNED, actor=actor, lead=lead, note=f"to {owner}") for lead in changed
    )
    return len(changed)


@transaction.atomic
def lead_disqualify(*, lead: Lead, reason: str, actor: User | None = None) -> Lead:
    lead = _locked_lead(lead)
    reason = (reason or "").strip()
    if not reason:
        refuse("Say why the lead is disqualified.", "reason")
    if lead.is_closed:
        refuse(f"This lead is already {lead.get_status_display().lower()}.")
    lead.status = Lead.Status.DISQUALIFIED
    lead.disqualified_reason = reason[:300]
    lead.save(update_fields=["status", "disqualified_reason"])
    _event(SalesEvent.Verb.LEAD_DISQUALIFIED, actor=actor, lead=lead, note=reason)
    return lead


def _contact_for_lead(lead: Lead, owner) -> Contact:
    """The contact with the lead's e-mail, or a new one made from the lead."""
    email = normalize_email(lead.email)
    if email:
        existing = Contact.objects.with_email(email).select_related("company").first()
        if existing is not None:
            return existing
    company = None
    if lead.company_name.strip():
        company = Company.objects.filter(name__iexact=lead.company_name.strip()).first()
        if company is None:
            company = Company(name=lead.company_name.strip(), owner=owner)
            company.full_clean()
            company.save()
    contact = Contact(
        first_name=lead.first_name,
        last_name=lead.last_name or ("" if lead.first_name or email else lead.company_name),
        email=email,
        phone=lead.phone,
        company=company,
        channel=lead.channel,
        owner=owner,
    )
    contact.full_clean()
    try:
        with transaction.atomic():  # a savepoint: another conversion may create the same e-mail first
            contact.save()
    except IntegrityError:
        return Contact.objects.with_email(email).get()
    return contact


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        refuse("There is no sales pipeline yet; an administrator must create one.")
    return pipeline


def first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position").first()
    if stage is None:
        refuse(f"The pipeline {pipeline} has no open stage.")
    return stage


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    actor: User | None = None,
    deal_title: str = "",
    amount: Decimal | None = None,
    pipeline: Pipeline | None = None,
    expected_close_date: datetime.date | None = None,
) -> Deal:
    """Convert a lead: create or link its contact (by e-mail) and company, open a deal in the first stage.

    The lead's channel goes to the new contact and to the deal; the deal keeps the lead
    (and through it the campaign). A lead converts once: a second call, even at the same
    moment from another connection, is refused (row lock).
    """
    lead = _locked_lead(lead)
    if lead.status == Lead.Status.CONVERTED:
        refuse("This lead is already converted.")
    if lead.status == Lead.Status.DISQUALIFIED:
        refuse("A disqualified lead cannot be converted.")
    owner = lead.owner or actor
    contact = _contact_for_lead(lead, owner)
    if contact.channel_id is None and lead.channel_id is not None:
        contact.channel = lead.channel
        contact.save(update_fields=["channel", "updated_at"])
    pipeline = pipeline or default_pipeline()
    now = timezone.now()
    deal = Deal(
        title=(deal_title or "").strip() or f"{lead.company_name or contact.full_name}",
        contact=contact,
        company=contact.company,
        owner=owner,
        channel=lead.channel,
        lead=lead,
        kind=Deal.Kind.UPSELL if contact.is_customer_at(now) else Deal.Kind.NEW,
        amount=amount if amount is not None else Decimal("0.00"),
        pipeline=pipeline,
        stage=first_open_stage(pipeline),
        expected_close_date=expected_close_date,
        created_at=now,
        stage_changed_at=now,
    )
    deal.full_clean()
    deal.save()
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=deal.stage, changed_at=now, changed_by=actor)
    lead.status = Lead.Status.CONVERTED
    lead.converted_at = now
    lead.contact = contact
    lead.save(update_fields=["status", "converted_at", "contact"])
    _event(SalesEvent.Verb.LEAD_CONVERTED, actor=actor, at=now, lead=lead, contact=contact, deal=deal)
    _event(SalesEvent.Verb.DEAL_CREATED, actor=actor, at=now, deal=deal, contact=contact)
    return deal


# Deals -----------------------------------------------------------------------------------------


def _check_stage_in_pipeline(stage: Stage, pipeline: Pipeline) -> None:
    if stage.pipeline_id != pipeline.pk:
        refuse(f"The stage {stage.name} belongs to another pipeline.", "stage")


@transaction.atomic
def deal_create(*, data: dict, actor: User | None = None, pipeline: Pipeline | None = None, stage=None) -> Deal:
    """Open a deal in an open stage of its pipeline (the first one unless given)."""
    pipeline = pipeline or (stage.pipeline if stage else default_pipeline())
    stage = stage or first_open_stage(pipeline)
    _check_stage_in_pipeline(stage, pipeline)
    if stage.kind != Stage.Kind.OPEN:
        refuse("A new deal starts in an open stage; win or lose it afterwards.", "stage")
    if data.get("owner") is None and actor is not None:
        data = {**data, "owner": actor}
    if data.get("company") is None and data.get("contact") is not None:
        data = {**data, "company": data["contact"].company}
    deal = Deal(pipeline=pipeline, stage=stage)
    apply_and_save(deal, DEAL_FIELDS, data)
    DealStageChange.objects.create(deal=deal, to_stage=stage, changed_at=deal.created_at, changed_by=actor)
    _event(SalesEvent.Verb.DEAL_CREATED, actor=actor, deal=deal, contact=deal.contact)
    return deal


@transaction.atomic
def deal_update(*, deal: Deal, data: dict, actor: User | None = None) -> Deal:
    """Edit a deal's details (stage and state change through their own services). A won deal keeps its contact:
    winning it made that contact a customer, and its orders are theirs. A new contact brings its company, as
    on creation, unless a company is given."""
    if "contact" in data and data["contact"] != deal.contact:
        if deal.status == Deal.Status.WON:
            refuse(
                "A won deal keeps its contact: it made them a customer and its orders are theirs. "
                "Record a new deal for the other contact instead.",
                "contact",
            )
        if "company" not in data and data["contact"] is not None:
            data = {**data, "company": data["contact"].company}
    return apply_and_save(deal, DEAL_FIELDS, data)


@transaction.atomic
def deal_delete(*, deal: Deal) -> None:
    """Delete an open deal entered by mistake; closed deals are history that KPIs count."""
    if deal.status != Deal.Status.OPEN:
        refuse("A won or lost deal cannot be deleted; reopen it first if it was a mistake.")
    deal.delete()


def _locked_deal(deal: Deal) -> Deal:
    return Deal.objects.select_for_update(of=("self",)).select_related("stage", "pipeline", "contact").get(pk=deal.pk)


def _set_stage(deal: Deal, stage: Stage, actor, at) -> None:
    DealStageChange.objects.create(deal=deal, from_stage=deal.stage, to_stage=stage, changed_at=at, changed_by=actor)
    deal.stage = stage
    deal.stage_changed_at = at


@transaction.atomic
def deal_move_stage(*, deal: Deal, stage: Stage, actor: User | None = None, lost_reason: str = "") -> Deal:
    """Move an open deal to another stage of its pipeline; the won or lost stage closes it."""
    deal = _locked_deal(deal)
    _check_stage_in_pipeline(stage, deal.pipeline)
    if deal.status != Deal.Status.OPEN:
        refuse(f"This deal is {deal.get_status_display().lower()}; reopen it before moving it.")
    if stage.kind == Stage.Kind.WON:
        return deal_mark_won(deal=deal, actor=actor)
    if stage.kind == Stage.Kind.LOST:
        return deal_mark_lost(deal=deal, reason=lost_reason, actor=actor)
    if stage.pk != deal.stage_id:
        _set_stage(deal, stage, actor, timezone.now())
        deal.save(update_fields=["stage", "stage_changed_at"])
    return deal


def _close(deal: Deal, status: str, actor, at) -> None:
    stage = deal.pipeline.stages.get(kind=status)
    _set_stage(deal, stage, actor, at)
    deal.status = status
    deal.closed_at = at


@transaction.atomic
def deal_mark_won(*, deal: Deal, actor: User | None = None) -> Deal:
    """Win a deal: closed now. Winning a contact's first deal makes it a customer from that instant."""
    deal = _locked_deal(deal)
    if deal.status != Deal.Status.OPEN:
        refuse(f"This deal is already {deal.get_status_display().lower()}.")
    now = timezone.now()
    _close(deal, Deal.Status.WON, actor, now)
    deal.lost_reason = ""
    deal.save(update_fields=["stage", "stage_changed_at", "status", "closed_at", "lost_reason"])
    _event(SalesEvent.Verb.DEAL_WON, actor=actor, at=now, deal=deal, contact=deal.contact)
    contact = deal.contact
    if contact is not None:
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact.customer_since is None:
            contact.customer_since = now
            contact.save(update_fields=["customer_since", "updated_at"])
            _event(SalesEvent.Verb.CUSTOMER_STARTED, actor=actor, at=now, contact=contact, deal=deal)
        else:
            _cancel_scheduled_churn(contact, actor, f"won {deal.title}")
    return deal


@transaction.atomic
def deal_mark_lost(*, deal: Deal, reason: str, actor: User | None = None) -> Deal:
    deal = _locked_deal(deal)
    reason = (reason or "").strip()
    if not reason:
        refuse("Say why the deal was lost.", "lost_reason")
    if deal.status != Deal.Status.OPEN:
        refuse(f"This deal is already {deal.get_status_display().lower()}.")
    now = timezone.now()
    _close(deal, Deal.Status.LOST, actor, now)
    deal.lost_reason = reason[:300]
    deal.save(update_fields=["stage", "stage_changed_at", "status", "closed_at", "lost_reason"])
    _event(SalesEvent.Verb.DEAL_LOST, actor=actor, at=now, deal=deal, contact=deal.contact, note=reason)
    return deal


@transaction.atomic
def deal_reopen(*, deal: Deal, actor: User | None = None, stage: Stage | None = None) -> Deal:
    """Reopen a won or lost deal into an open stage: the one it was last in unless given (by its stage history;
    the pipeline's last open stage for a deal never in one, as an import can leave it).

    If winning this deal is what made its contact a customer, and no other won deal
    does, the contact is no longer a customer. A won deal with orders cannot be reopened.
    """
    deal = _locked_deal(deal)
    if deal.status == Deal.Status.OPEN:
        refuse("This deal is already open.")
    orders = deal.orders.count() if deal.status == Deal.Status.WON else 0
    if orders:
        # An order comes from a won deal (order_create holds it); reopening would leave revenue on an open deal
        # and, for the deal that made the customer, a customer's revenue before they became one.
        refuse(
            f"This deal has {orders} order{'s' if orders != 1 else ''}: a deal with orders stays won. "
            "Delete its orders first if the win was a mistake."
        )
    if stage is None:
        last = (
            deal.stage_changes.filter(to_stage__kind=Stage.Kind.OPEN, to_stage__pipeline=deal.pipeline)
            .order_by("-changed_at", "-id")
            .select_related("to_stage")
            .first()
        )
        stage = (
            last.to_stage if last else deal.pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("-position").first()
        )
        if stage is None:
            refuse(f"The pipeline {deal.pipeline} has no open stage.")
    _check_stage_in_pipeline(stage, deal.pipeline)
    if stage.kind != Stage.Kind.OPEN:
        refuse("Reopen into an open stage.", "stage")
    was_won_at = deal.closed_at if deal.status == Deal.Status.WON else None
    now = timezone.now()
    _set_stage(deal, stage, actor, now)
    deal.status = Deal.Status.OPEN
    deal.closed_at = None
    deal.lost_reason = ""
    deal.save(update_fields=["stage", "stage_changed_at", "status", "closed_at", "lost_reason"])
    _event(SalesEvent.Verb.DEAL_REOPENED, actor=actor, at=now, deal=deal, contact=deal.contact)
    if was_won_at is not None and deal.contact_id is not None:
        contact = Contact.objects.select_for_update().get(pk=deal.contact_id)
        other_wins = contact.deals.filter(status=Deal.Status.WON).exclude(pk=deal.pk).exists()
        if contact.customer_since == was_won_at and contact.churned_at is None and not other_wins:
            contact.customer_since = None
            contact.save(update_fields=["customer_since", "updated_at"])
    return deal


# Orders ----------------------------------------------------------------------------------------


def _check_order_deal(data: dict, *, new_deal: bool = True) -> None:
    deal = data.get("deal")
    if deal is None:
        return
    if new_deal and deal.status != Deal.Status.WON:
        refuse("An order can only come from a won deal.", "deal")
    if data.get("contact") is not None and deal.contact_id not in (None, data["contact"].pk):
        if new_deal:
            refuse("That deal belongs to another contact.", "deal")
        refuse(
            f"This order comes from the deal {deal.title!r} of another contact: change or clear its deal too.",
            "contact",
        )


@transaction.atomic
def order_create(*, data: dict, actor: User | None = None) -> Order:
    """Record a purchase (revenue). From a won deal, the contact and amount default to the deal's."""
    deal = data.get("deal")
    if deal is not None:
        data = {"contact": deal.contact, "amount": deal.amount, **{k: v for k, v in data.items() if v is not None}}
    _check_order_deal(data)
    order = Order(created_by=actor)
    return apply_and_save(order, ORDER_FIELDS, data)


@transaction.atomic
def order_update(*, order: Order, data: dict) -> Order:
    """Edit an order; its contact and deal stay the deal's (as on creation), whichever of them changes."""
    _check_order_deal({"deal": order.deal, "contact": order.contact, **data}, new_deal="deal" in data)
    return apply_and_save(order, ORDER_FIELDS, data)


@transaction.atomic
def order_delete(*, order: Order) -> None:
    order.delete()


# Subscriptions and churn -----------------------------------------------------------------------


@transaction.atomic
def subscription_create(
    *,
    contact: Contact,
    plan: str,
    amount: Decimal,
    starts_on: datetime.date,
    ends_on: datetime.date,
    actor: User | None = None,
) -> Subscription:
    subscription = Subscription(contact=contact, plan=plan, amount=amount, starts_on=starts_on, ends_on=ends_on)
    subscription.full_clean()
    subscription.save()
    _cancel_scheduled_churn(contact, actor, f"new subscription {plan}")
    return subscription


def _cancel_scheduled_churn(contact: Contact, actor, why: str) -> None:
    """A churn dated in the future (a cancelled subscription still running) is off when the customer buys again."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.churned_at is not None and contact.churned_at > timezone.now():
        # The churn will not happen: its entry (dated then) goes from the timeline and the subscription's history.
        SalesEvent.objects.filter(
            contact=contact, verb=SalesEvent.Verb.CUSTOMER_CHURNED, at=contact.churned_at
        ).delete()
        contact.churned_at = None
        contact.save(update_fields=["churned_at", "updated_at"])
        _event(
            SalesEvent.Verb.CUSTOMER_REACTIVATED,
            actor=actor,
            contact=contact,
            note=f"scheduled churn called off: {why}",
        )


def _locked_subscription(subscription: Subscription) -> Subscription:
    return Subscription.objects.select_for_update(of=("self",)).select_related("contact").get(pk=subscription.pk)


@transaction.atomic
def subscription_renew(
    *,
    subscription: Subscription,
    actor: User | None = None,
    ends_on: datetime.date | None = None,
    amount: Decimal | None = None,
    plan: str = "",
) -> Subscription:
    """Close an active subscription as renewed and start its successor where it ends."""
    subscription = _locked_subscription(subscription)
    if subscription.outcome != Subscription.Outcome.ACTIVE:
        refuse(f"Only an active subscription can be renewed; this one is {subscription.get_outcome_display().lower()}.")
    # The same calendar term again: a year stays a year across leap years, a month a month.
    term = relativedelta(subscription.ends_on, subscription.starts_on)
    successor = Subscription(
        contact=subscription.contact,
        plan=plan.strip() or subscription.plan,
        amount=amount if amount is not None else subscription.amount,
        starts_on=subscription.ends_on,
        ends_on=ends_on or subscription.ends_on + term,
        renews=subscription,
    )
    successor.full_clean(exclude=["renews"])
    subscription.outcome = Subscription.Outcome.RENEWED
    subscription.save(update_fields=["outcome"])
    successor.save()
    _event(
        SalesEvent.Verb.SUBSCRIPTION_RENEWED,
        actor=actor,
        subscription=subscription,
        contact=subscription.contact,
        note=f"until {successor.ends_on}",
    )
    return successor


def _churn_if_nothing_left(contact: Contact, ended: Subscription, actor) -> None:
    """A customer whose last subscription ends without renewal churns on its end date."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    still_running = (
        contact.subscriptions.filter(outcome=Subscription.Outcome.ACTIVE).exclude(pk=ended.pk).exists()
        or contact.subscriptions.filter(
            Q(outcome__in=[Subscription.Outcome.CANCELLED, Subscription.Outcome.EXPIRED]), ends_on__gt=ended.ends_on
        ).exists()
    )
    if still_running or contact.customer_since is None or contact.churned_at is not None:
        return
    churned_at = max(_local_midnight(ended.ends_on), contact.customer_since)
    contact.churned_at = churned_at
    contact.save(update_fields=["churned_at", "updated_at"])
    _event(
        SalesEvent.Verb.CUSTOMER_CHURNED,
        actor=actor,
        at=churned_at,
        contact=contact,
        subscription=ended,
        note=f"{ended.plan} ended without renewal",
    )


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor: User | None = None) -> Subscription:
    """Cancel an active subscription: it runs to its end date, and then the customer churns if nothing else runs."""
    subscription = _locked_subscription(subscription)
    if subscription.outcome != Subscription.Outcome.ACTIVE:
        refuse(
            f"Only an active subscription can be cancelled; this one is {subscription.get_outcome_display().lower()}."
        )
    subscription.outcome = Subscription.Outcome.CANCELLED
    subscription.cancelled_at = timezone.now()
    subscription.save(update_fields=["outcome", "cancelled_at"])
    _event(SalesEvent.Verb.SUBSCRIPTION_CANCELLED, actor=actor, subscription=subscription, contact=subscription.contact)
    _churn_if_nothing_left(subscription.contact, subscription, actor)
    return subscription


@transaction.atomic
def subscriptions_expire_due(*, today: datetime.date | None = None) -> int:
    """Mark active subscriptions whose end date has come as expired; churn customers left with none."""
    today = today or timezone.localdate()
    due = list(
        Subscription.objects.select_for_update(of=("self",))
        .select_related("contact")
        .filter(outcome=Subscription.Outcome.ACTIVE, ends_on__lte=today)
        .order_by("ends_on", "pk")
    )
    for subscription in due:
        subscription.outcome = Subscription.Outcome.EXPIRED
    audit.bulk_update(due, ["outcome"])
    for subscription in due:
        _event(SalesEvent.Verb.SUBSCRIPTION_EXPIRED, subscription=subscription, contact=subscription.contact)
        _churn_if_nothing_left(subscription.contact, subscription, None)
    return len(due)


@transaction.atomic
def customer_mark_churned(
    *, contact: Contact, reason: str, actor: User | None = None, at: datetime.datetime | None = None
) -> Contact:
    """Staff mark a customer as lost, now or at a given earlier instant (never a later one)."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    reason = (reason or "").strip()
    now = timezone.now()
    at = at or now
    if not reason:
        refuse("Say why the customer churned.", "reason")
    if at > now:
        refuse("A churn is dated now or earlier: a customer who will leave is still a customer today.", "at")
    try:
        plausible_date(at)
    except ValidationError as error:
        refuse(error.messages[0], "at")
    if not contact.is_customer_at(at):
        refuse("Only a current customer can churn.")
    contact.churned_at = at
    contact.full_clean()
    contact.save(update_fields=["churned_at", "updated_at"])
    _event(SalesEvent.Verb.CUSTOMER_CHURNED, actor=actor, at=at, contact=contact, note=reason)
    return contact


@transaction.atomic
def customer_reactivate(*, contact: Contact, actor: User | None = None, note: str = "") -> Contact:
    """Undo a churn: the contact is a customer again, counted as never having left."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.churned_at is None:
        refuse("This contact has not churned.")
    contact.churned_at = None
    contact.save(update_fields=["churned_at", "updated_at"])
    _event(SalesEvent.Verb.CUSTOMER_REACTIVATED, actor=actor, contact=contact, note=note)
    return contact
