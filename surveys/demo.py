"""Demo surveys: an NPS survey asked of customers a few times a year, and a CSAT survey after resolved tickets.

Registered as the "surveys" demo seeder (apps.py); it keeps the promises of `contacts.demo`:
- deterministic: one generator per chunk (`context.rng_for`), so the same seed on the same day gives the same rows;
- idempotent: invitations carry external ids (`demo-invitation-<contact number>-<nn>` for NPS,
  `demo-invitation-ticket-<ticket number>` for CSAT) and are inserted with ON CONFLICT DO NOTHING. Responses
  have no external id, so they are made only for the invitations this run inserted;
- chunked: five queries a chunk, never one per row;
- consistent times: sent <= opened <= submitted < expires, and nothing after `context.now`. Demo invitations
  have no token (token_hash stays empty): nobody follows their links.

Answers differ by segment as they do in life: referral and partner customers promote more, paid-ads ones less;
North America answers more often; customers who churn soon after were detractors more often; tickets that
took long or were reopened leave fewer customers satisfied.
"""

import random
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings

from contacts.demo import (
    DemoContext,
    DemoRow,
    bulk_path,
    copy_rows,
    demo_range,
    indexes_built_after,
    insert_new,
    reserve_ids,
)
from contacts.models import Contact
from support.models import Ticket

from .models import DEFAULT_QUESTIONS, Invitation, Response, Survey, SurveyKind

NPS_SURVEY = "Customer NPS"
NPS_QUESTION = DEFAULT_QUESTIONS[SurveyKind.NPS]
CSAT_SURVEY = "Support satisfaction"
CSAT_QUESTION = DEFAULT_QUESTIONS[SurveyKind.CSAT]

# Days between two NPS invitations of the same customer (about three a year), and before the first.
NPS_INTERVAL_DAYS = (100, 150)
NPS_FIRST_AFTER_DAYS = (30, 90)
NPS_SAMPLED = 0.85  # the share of due customers each wave reaches
CSAT_SAMPLED = 0.9  # the share of resolved tickets that get the survey

# Response rates (20-40 %): by region, shifted by channel.
RESPONSE_RATE_BY_REGION = {"Europe": 0.29, "North America": 0.34, "Asia-Pacific": 0.23, "Latin America": 0.26}
RESPONSE_RATE_SHIFT_BY_CHANNEL = {"Referral": 0.05, "Partner": 0.03, "Paid ads": -0.04, "Outbound": -0.02}
DEFAULT_RESPONSE_RATE = 0.27

# NPS bands (promoter, passive, detractor) shifted by channel and region.
NPS_BANDS = (0.42, 0.33, 0.25)
NPS_SHIFT_BY_CHANNEL = {
    "Referral": (0.16, -0.04, -0.12),
    "Partner": (0.10, -0.02, -0.08),
    "Events": (0.04, 0.0, -0.04),
    "Paid ads": (-0.12, 0.02, 0.10),
    "Outbound": (-0.06, 0.0, 0.06),
}
NPS_SHIFT_BY_REGION = {
    "North America": (0.05, -0.02, -0.03),
    "Asia-Pacific": (-0.04, 0.06, -0.02),
    "Latin America": (0.03, -0.03, 0.0),
}
CHURNING_SOON_SHIFT = (-0.20, 0.0, 0.20)  # asked within half a year before churning
NPS_SCORES = {
    "promoter": ((9, 10), (55, 45)),
    "passive": ((7, 8), (45, 55)),
    "detractor": (range(7), (1, 1, 2, 3, 4, 6, 8)),
}

# Invitations the shares above give (measured on the medium demo: 52,886 NPS for 100,000 contacts, 41,891 CSAT
# for 50,000 tickets); a size that says how many invitations scales both shares to reach it.
NATURAL_NPS_PER_CONTACT, NATURAL_CSAT_PER_TICKET = 0.53, 0.84
INVITATION_COLUMNS = (
    "id", "survey_id", "contact_id", "ticket_id", "created_at", "sent_at", "expires_at", "opened_at", "send_error",
    "external_id",
)  # fmt: skip
RESPONSE_COLUMNS = ("invitation_id", "kind", "score", "comment", "submitted_at")

CSAT_SATISFIED = 0.82
CSAT_SCORES = {"satisfied": ((4, 5), (40, 60)), "unsatisfied": ((1, 2, 3), (25, 25, 50))}

COMMENT_SHARE = 0.35
COMMENTS = {
    "promoter": (
        "Great product, and the team is always quick to help.",
        "We use it every day. Reporting saves us hours each week.",
        "Onboarding was smooth and support knows their stuff.",
        "Already recommended you to two partners.",
    ),
    "passive": (
        "Does the job. The mobile app could be better.",
        "Good overall, but pricing for extra seats is steep.",
        "Fine, though some reports are slow to load.",
    ),
    "detractor": (
        "Too many outages last month.",
        "The import keeps failing on large files and nobody follows up.",
        "Hard to find things; the interface feels dated.",
        "Price went up and we did not get more for it.",
    ),
    "satisfied": (
        "Quick and friendly, thank you!",
        "Solved on the first reply.",
        "Clear explanation, problem gone.",
    ),
    "unsatisfied": (
        "Took far too long to get an answer.",
        "I had to explain the problem three times.",
        "The issue came back the next day.",
    ),
}


def seed_surveys(context: DemoContext) -> None:
    """The two demo surveys, NPS invitations to customers, and CSAT invitations after resolved demo tickets."""
    nps, csat = _ensure_surveys(context)
    counts = {"invitations": 0, "responses": 0}
    sampled = _sampled_share(context)
    bulk = bulk_path(context, Invitation, "invitation")
    with indexes_built_after(Invitation, Response) if bulk else nullcontext():
        _seed_nps(context, nps, counts, sampled, bulk)
        if Ticket.objects.filter(external_id__startswith="demo-ticket-", resolved_at__isnull=False).exists():
            _seed_csat(context, csat, counts, sampled, bulk)
        else:
            context.log("  no resolved demo tickets (is the support seeder registered?): no CSAT answers")
    total_invitations = Invitation.objects.filter(external_id__startswith="demo-invitation-").count()
    total_responses = Response.objects.filter(invitation__external_id__startswith="demo-invitation-").count()
    context.record("survey invitations", new=counts["invitations"], total=total_invitations)
    context.record("survey responses", new=counts["responses"], total=total_responses)


def _sampled_share(context: DemoContext) -> float:
    """What NPS_SAMPLED and CSAT_SAMPLED are multiplied by to give the size's invitations (1.0 unless it says)."""
    size = context.dimensions
    if size.invitations is None:
        return 1.0
    tickets = size.tickets or size.contacts / 2
    natural = NATURAL_NPS_PER_CONTACT * size.contacts + NATURAL_CSAT_PER_TICKET * tickets
    return min(size.invitations / natural, 1 / max(NPS_SAMPLED, CSAT_SAMPLED))


def _ensure_surveys(context: DemoContext) -> tuple[Survey, Survey]:
    nps, _ = Survey.objects.get_or_create(
        name=NPS_SURVEY, defaults={"kind": SurveyKind.NPS, "question": NPS_QUESTION, "created_at": context.start}
    )
    csat, _ = Survey.objects.get_or_create(
        name=CSAT_SURVEY,
        defaults={
            "kind": SurveyKind.CSAT,
            "question": CSAT_QUESTION,
            "send_on_ticket_resolved": True,
            "created_at": context.start,
        },
    )
    return nps, csat


# Times ------------------------------------------------------------------------------------------------------------


def _working_hours(rng: random.Random, day: datetime) -> datetime:
    """An instant on that day between 09:00 and 16:00 UTC (surveys go out in office hours)."""
    return day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=rng.randint(9 * 3600, 16 * 3600))


def _answer_times(rng, context, sent_at, expires_at, rate) -> tuple[datetime | None, datetime | None]:
    """(opened_at, submitted_at): most answers come the same day, a tail over the next week; None when not."""
    if rng.random() < rate:
        hours = rng.expovariate(1 / 5) if rng.random() < 0.65 else rng.uniform(12, 24 * 9)
        submitted_at = sent_at + timedelta(seconds=max(60, int(hours * 3600)))
        if submitted_at < expires_at and submitted_at <= context.now:
            opened_at = submitted_at - timedelta(seconds=rng.randint(20, 240))
            return max(opened_at, sent_at), submitted_at
    if rng.random() < 0.25:  # opened, not answered
        opened_at = sent_at + timedelta(seconds=int(rng.expovariate(1 / 20) * 3600))
        if opened_at <= context.now and opened_at < expires_at:
            return opened_at, None
    return None, None


def _response_rate(region: str, channel: str) -> float:
    rate = RESPONSE_RATE_BY_REGION.get(region, DEFAULT_RESPONSE_RATE) + RESPONSE_RATE_SHIFT_BY_CHANNEL.get(channel, 0)
    return min(max(rate, 0.2), 0.4)


def _pick(rng: random.Random, choices: dict, band: str) -> int:
    scores, weights = choices[band]
    return rng.choices(list(scores), weights)[0]


def _comment(rng: random.Random, band: str) -> str:
    return rng.choice(COMMENTS[band]) if rng.random() < COMMENT_SHARE else ""


# NPS --------------------------------------------------------------------------------------------------------------


def _nps_band(rng, channel: str, region: str, churns_soon: bool) -> str:
    shares = list(NPS_BANDS)
    for shift in (
        NPS_SHIFT_BY_CHANNEL.get(channel),
        NPS_SHIFT_BY_REGION.get(region),
        CHURNING_SOON_SHIFT if churns_soon else None,
    ):
        if shift:
            shares = [share + change for share, change in zip(shares, shift, strict=True)]
    return rng.choices(("promoter", "passive", "detractor"), [max(share, 0.02) for share in shares])[0]


def _nps_plan(context, rng, contact, sampled: float = 1.0) -> list[tuple[int, datetime]]:
    """(sequence, sent_at) of the NPS invitations of one customer, while a customer and within the demo's span."""
    customer_since, churned_at = contact["customer_since"], contact["churned_at"]
    end = min(churned_at or context.now, context.now - timedelta(hours=1))
    day = customer_since + timedelta(days=rng.randint(*NPS_FIRST_AFTER_DAYS))
    plan, sequence = [], 0
    while day < end:
        sequence += 1
        sent_at = _working_hours(rng, day)
        if context.start <= sent_at <= end and rng.random() < NPS_SAMPLED * sampled:
            plan.append((sequence, sent_at))
        day += timedelta(days=rng.randint(*NPS_INTERVAL_DAYS))
    return plan


def _seed_nps(context: DemoContext, survey: Survey, counts: dict, sampled: float, bulk: bool) -> None:
    link_days = timedelta(days=settings.SURVEY_LINK_DAYS)
    for index, numbers in context.chunks("NPS invitations", context.dimensions.contacts):
        contacts = list(
            demo_range(Contact, "contact", numbers)
            .filter(customer_since__isnull=False, email_opt_out=False, email__gt="")
            .order_by("external_id")
            .values("id", "external_id", "customer_since", "churned_at", "region", "channel__name")
        )
        rng = context.rng_for("survey-nps", index)
        planned = []  # (invitation, (submitted_at, score, comment) or None)
        for contact in contacts:
            contact["number"] = contact["external_id"].rsplit("-", 1)[-1]
            for sequence, sent_at in _nps_plan(context, rng, contact, sampled):
                expires_at = sent_at + link_days
                channel, region = contact["channel__name"] or "", contact["region"]
                opened_at, submitted_at = _answer_times(
                    rng, context, sent_at, expires_at, _response_rate(region, channel)
                )
                churned_at = contact["churned_at"]
                churns_soon = churned_at is not None and timedelta(0) < churned_at - sent_at < timedelta(days=180)
                answer = None
                if submitted_at is not None:
                    band = _nps_band(rng, channel, region, churns_soon)
                    answer = (submitted_at, _pick(rng, NPS_SCORES, band), _comment(rng, band))
                invitation = DemoRow(
                    id=None,
                    survey_id=survey.pk,
                    contact_id=contact["id"],
                    ticket_id=None,
                    created_at=sent_at,
                    sent_at=sent_at,
                    expires_at=expires_at,
                    opened_at=opened_at,
                    send_error="",
                    external_id=f"demo-invitation-{contact['number']}-{sequence:02d}",
                )
                planned.append((invitation, answer))
        _insert(planned, SurveyKind.NPS, counts, bulk)


# CSAT -------------------------------------------------------------------------------------------------------------


def _csat_band(rng, ticket: dict) -> str:
    satisfied = CSAT_SATISFIED
    hours = (ticket["resolved_at"] - ticket["created_at"]).total_seconds() / 3600
    if hours > 120:
        satisfied -= 0.30
    elif hours > 48:
        satisfied -= 0.15
    elif hours < 4:
        satisfied += 0.08
    satisfied -= 0.25 * min(ticket["reopened_count"], 2)
    satisfied += {"chat": 0.05, "phone": 0.02, "web": -0.03}.get(ticket["channel"], 0)
    satisfied += {"North America": 0.03, "Asia-Pacific": -0.04}.get(ticket["contact__region"], 0)
    return "satisfied" if rng.random() < min(max(satisfied, 0.1), 0.97) else "unsatisfied"


def _seed_csat(context: DemoContext, survey: Survey, counts: dict, sampled: float, bulk: bool) -> None:
    link_days = timedelta(days=settings.SURVEY_LINK_DAYS)
    resolved = (
        Ticket.objects.filter(
            external_id__startswith="demo-ticket-",
            resolved_at__isnull=False,
            resolved_at__lte=context.now,
            contact__isnull=False,
            contact__email_opt_out=False,
            contact__email__gt="",
        )
        .order_by("pk")
        .values(
            "id",
            "external_id",
            "contact_id",
            "created_at",
            "resolved_at",
            "channel",
            "reopened_count",
            "contact__region",
            "contact__channel__name",
        )
    )
    total = resolved.count()
    last_pk = 0
    for index, _numbers in context.chunks("CSAT invitations", total):
        tickets = list(resolved.filter(pk__gt=last_pk)[: context.chunk_size])
        if not tickets:
            break
        last_pk = tickets[-1]["id"]
        rng = context.rng_for("survey-csat", index)
        planned = []
        for ticket in tickets:
            if rng.random() >= CSAT_SAMPLED * sampled:
                continue
            sent_at = ticket["resolved_at"] + timedelta(seconds=rng.randint(120, 3600))
            if sent_at > context.now:
                continue
            expires_at = sent_at + link_days
            rate = _response_rate(ticket["contact__region"], ticket["contact__channel__name"] or "") + 0.05
            opened_at, submitted_at = _answer_times(rng, context, sent_at, expires_at, min(rate, 0.4))
            answer = None
            if submitted_at is not None:
                band = _csat_band(rng, ticket)
                answer = (submitted_at, _pick(rng, CSAT_SCORES, band), _comment(rng, band))
            number = ticket["external_id"].removeprefix("demo-ticket-")
            invitation = DemoRow(
                id=None,
                survey_id=survey.pk,
                contact_id=ticket["contact_id"],
                ticket_id=ticket["id"],
                created_at=sent_at,
                sent_at=sent_at,
                expires_at=expires_at,
                opened_at=opened_at,
                send_error="",
                external_id=f"demo-invitation-ticket-{number}",
            )
            planned.append((invitation, answer))
        _insert(planned, SurveyKind.CSAT, counts, bulk)


# Writing ----------------------------------------------------------------------------------------------------------


def _insert(planned: list[tuple[DemoRow, tuple | None]], kind: str, counts: dict, bulk: bool) -> None:
    """Insert the chunk's new invitations, then the answers of those this run inserted (four queries; on the
    bulk path, a first run on PostgreSQL, one for the ids and two COPYs)."""
    if not planned:
        return
    if bulk:
        for (invitation, _), pk in zip(planned, reserve_ids(Invitation, len(planned)), strict=True):
            invitation.id = pk
        copy_rows(Invitation, INVITATION_COLUMNS, (tuple(row[c] for c in INVITATION_COLUMNS) for row, _ in planned))
        new, ids = planned, {invitation.external_id: invitation.id for invitation, _ in planned}
    else:
        keys = [invitation.external_id for invitation, _ in planned]
        existing = set(Invitation.objects.filter(external_id__in=keys).values_list("external_id", flat=True))
        new = [(invitation, answer) for invitation, answer in planned if invitation.external_id not in existing]
        if not new:
            return
        insert_new(Invitation, [Invitation(**{k: v for k, v in row.items() if k != "id"}) for row, _ in new])
        ids = dict(
            Invitation.objects.filter(external_id__in=[invitation.external_id for invitation, _ in new]).values_list(
                "external_id", "id"
            )
        )
    responses = [
        (ids[invitation.external_id], kind, score, comment, at)
        for invitation, answer in new
        if answer is not None and invitation.external_id in ids
        for at, score, comment in (answer,)
    ]
    if bulk:
        copy_rows(Response, RESPONSE_COLUMNS, responses)
    else:
        Response.objects.bulk_create(
            [Response(**dict(zip(RESPONSE_COLUMNS, values, strict=True))) for values in responses], batch_size=2000
        )
    counts["invitations"] += len(ids)
    counts["responses"] += len(responses)
