"""Support and satisfaction: the third table of KPIS.md."""

import math

from kpis.definitions.base import (
    Z_95,
    Kpi,
    Value,
    count_value,
    merge,
    number,
    rate_value,
    register,
    wilson_interval,
)
from kpis.sql import Query, Segment, contact_segments, survey_segments, ticket_segments

TICKET_DIMENSIONS = ("channel", "priority", "assignee")
LOW_CONFIDENCE_BELOW = 30


def tickets_created(query: Query):
    """Per period of created_at and segment: tickets, those waiting for a first response, and the SLA's counts.
    A target counts once it is met, missed or overdue by now: the part that depends on the refresh's instant
    (targets overdue without a response) reads the few tickets still waiting; the rest is kept by day."""

    def compute():
        segment = query.labels(ticket_segments("t"))
        day = query.local_day("t.created_at")
        created = query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg, COUNT(*),
                SUM(CASE WHEN t.first_response_at IS NULL THEN 1 ELSE 0 END),
                SUM(CASE WHEN t.first_response_due_at IS NOT NULL
                    AND t.first_response_at <= t.first_response_due_at THEN 1 ELSE 0 END),
                SUM(CASE WHEN t.first_response_due_at IS NOT NULL AND t.first_response_at IS NOT NULL
                    THEN 1 ELSE 0 END)
            FROM support_ticket t
            {segment.joins}
            WHERE {query.in_days("t.created_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "tickets",
            "waiting",
            "within_target",
            "answered_with_target",
        )
        overdue = query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg, COUNT(*)
            FROM support_ticket t
            {segment.joins}
            WHERE t.first_response_at IS NULL AND t.first_response_due_at < {query.instant(query.now)}
                AND {query.in_days("t.created_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "overdue",
            keep=False,  # targets fall due as time goes by, with no record changing
        )
        counts = merge(created, overdue)
        for components in counts.values():
            components["with_target_due"] = components.get("answered_with_target", 0) + components.get("overdue", 0)
        return counts

    return query.shared("tickets_created", compute)


def hours_medians(query: Query, name: str, bucket_column: str, end_column: str):
    """Median, mean and count of the hours from created to `end_column` of the tickets whose `bucket_column` is
    in the period."""

    def compute():
        # Every granularity from one read of the tickets.
        segment = query.labels(ticket_segments("t"))
        return query.medians_across(
            bucket_column,
            f"""
            SELECT __G__ AS g, __BUCKET__ AS b, {segment.columns()},
                {query.hours_between("t.created_at", end_column)} AS x
            FROM support_ticket t
            {segment.joins}
            WHERE {end_column} IS NOT NULL AND __IN_RANGE__
            """,
            segment,
        )

    return query.shared(name, compute)


@register
class NewTickets(Kpi):
    key = "new_tickets"
    accumulates = True
    reads = ("auth_user", "support_ticket")
    name = "Tickets opened"
    area = "support"
    unit = "count"
    direction = None
    formula = "Tickets created in the period."
    dimensions = ("channel", "priority")

    def components(self, query):
        return tickets_created(query)

    def value(self, c):
        return count_value(c.get("tickets", 0))


def median_value(c) -> Value:
    n = int(number(c.get("n", 0)))
    if not n:
        return Value(None, None, None, 0)
    mean = number(c.get("mean"))
    return Value(number(c.get("median")), details={"mean": str(mean)}, sample_size=n)


@register
class FirstResponseTime(Kpi):
    key = "first_response_time"
    reads = ("auth_user", "support_ticket")
    name = "First response time"
    area = "support"
    unit = "hours"
    direction = "down"
    formula = "Median hours from created to first_response_at of tickets created in the period that have one."
    note = "The mean, and how many tickets still wait for a first response, are shown beside it."
    dimensions = TICKET_DIMENSIONS

    def components(self, query):
        medians = hours_medians(query, "first_response", "t.created_at", "t.first_response_at")
        return merge(tickets_created(query), medians)

    def value(self, c):
        result = median_value(c)
        result.details["waiting"] = int(number(c.get("waiting", 0)))
        return result


@register
class ResolutionTime(Kpi):
    key = "resolution_time"
    reads = ("auth_user", "support_ticket")
    name = "Resolution time"
    area = "support"
    unit = "hours"
    direction = "down"
    formula = "Median hours from created to resolved_at of tickets whose resolved_at is in the period."
    note = "The mean is shown beside it."
    dimensions = TICKET_DIMENSIONS

    def components(self, query):
        return hours_medians(query, "resolution", "t.resolved_at", "t.resolved_at")

    def value(self, c):
        return median_value(c)


@register
class FirstContactResolution(Kpi):
    key = "first_contact_resolution"
    reads = ("auth_user", "support_ticket")
    name = "First contact resolution"
    area = "support"
    unit = "percent"
    formula = (
        "Tickets resolved in the period with at most one agent reply and never reopened / tickets resolved in the "
        "period x 100."
    )
    dimensions = TICKET_DIMENSIONS

    def components(self, query):
        segment = query.labels(ticket_segments("t"))
        day = query.local_day("t.resolved_at")
        return query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg,
                SUM(CASE WHEN t.agent_replies <= 1 AND t.reopened_count = 0 THEN 1 ELSE 0 END), COUNT(*)
            FROM support_ticket t
            {segment.joins}
            WHERE {query.in_days("t.resolved_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "first_contact",
            "resolved",
        )

    def value(self, c):
        return rate_value(c.get("first_contact", 0), c.get("resolved", 0))


@register
class SlaAttainment(Kpi):
    key = "sla_attainment"
    reads = ("auth_user", "support_ticket")
    name = "SLA attainment"
    area = "support"
    unit = "percent"
    formula = (
        "Tickets created in the period whose first response came within their priority's target / tickets created "
        "in the period that have a target and either a response or an overdue target x 100."
    )
    dimensions = TICKET_DIMENSIONS

    def components(self, query):
        return tickets_created(query)

    def value(self, c):
        return rate_value(c.get("within_target", 0), c.get("with_target_due", 0))


def response_segments(kind: str) -> dict[str, Segment]:
    """CSAT: channel and assignee of the ticket, region and industry of the contact; NPS: all the contact's."""
    contact, ticket = contact_segments("c"), ticket_segments("t")
    if kind == "nps":
        return {dimension: contact[dimension] for dimension in ("channel", "region", "industry")}
    return {
        "channel": ticket["channel"],
        "region": contact["region"],
        "industry": contact["industry"],
        "assignee": ticket["assignee"],
    }


def responses(query: Query, kind: str):
    def compute():
        segment = query.labels(response_segments(kind))
        day = query.local_day("r.submitted_at")
        counts = query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg, r.score, COUNT(*)
            FROM surveys_response r
            JOIN surveys_invitation i ON i.id = r.invitation_id
            JOIN contacts_contact c ON c.id = i.contact_id
            LEFT JOIN support_ticket t ON t.id = i.ticket_id
            {segment.joins}
            WHERE r.kind = '{kind}' AND {query.in_days("r.submitted_at")}
            GROUP BY {segment.group_by(day, "r.score")}
            """,
            "count",
            keys=1,
        )
        scores: dict = {}
        for (period, seg, score), values in counts.items():
            scores.setdefault((period, seg), {})[int(score)] = int(values["count"])
        return {key: {"scores": distribution} for key, distribution in scores.items()}

    return query.shared(f"responses_{kind}", compute)


@register
class Csat(Kpi):
    key = "csat"
    reads = (
        "auth_user",
        "contacts_company",
        "contacts_contact",
        "support_ticket",
        "surveys_invitation",
        "surveys_response",
    )
    name = "Customer satisfaction (CSAT)"
    area = "support"
    unit = "percent"
    formula = (
        "CSAT responses submitted in the period scoring 4 or 5 / CSAT responses submitted in it x 100, "
        "with its sample size and 95 % Wilson interval."
    )
    note = "The mean score is shown beside it."
    dimensions = ("channel", "region", "industry", "assignee")

    def components(self, query):
        return responses(query, "csat")

    def value(self, c):
        scores = c.get("scores", {})
        total = sum(scores.values())
        satisfied = sum(count for score, count in scores.items() if score >= 4)
        result = rate_value(satisfied, total)
        result.ci_low, result.ci_high = wilson_interval(satisfied, total)
        mean = number(sum(score * count for score, count in scores.items())) / total if total else None
        result.details = {
            "mean_score": None if mean is None else str(mean),
            "distribution": {str(score): scores.get(score, 0) for score in range(1, 6)},
        }
        return result


@register
class Nps(Kpi):
    key = "nps"
    reads = (
        "contacts_channel",
        "contacts_company",
        "contacts_contact",
        "support_ticket",
        "surveys_invitation",
        "surveys_response",
    )
    name = "Net Promoter Score"
    area = "support"
    unit = "score"
    formula = (
        "% of NPS responses submitted in the period scoring 9-10 minus % scoring 0-6, from -100 to 100, with its "
        "sample size and 95 % margin of error; fewer than 30 responses is flagged as low confidence."
    )
    dimensions = ("channel", "region", "industry")

    def components(self, query):
        return responses(query, "nps")

    def value(self, c):
        scores = c.get("scores", {})
        n = sum(scores.values())
        promoters = sum(count for score, count in scores.items() if score >= 9)
        detractors = sum(count for score, count in scores.items() if score <= 6)
        details = {
            "promoters": promoters,
            "passives": n - promoters - detractors,
            "detractors": detractors,
            "low_confidence": n < LOW_CONFIDENCE_BELOW,
            "distribution": {str(score): scores.get(score, 0) for score in range(11)},
        }
        if not n:
            return Value(None, number(0), number(0), 0, details=details)
        p, d = promoters / n, detractors / n
        nps = number(promoters - detractors) / n * 100
        margin = number(Z_95 * 100 * math.sqrt(max(p + d - (p - d) ** 2, 0) / n))
        details["margin_of_error"] = str(margin)
        return Value(nps, number(promoters - detractors), number(n), n, nps - margin, nps + margin, details)


@register
class SurveyResponseRate(Kpi):
    key = "survey_response_rate"
    reads = ("surveys_invitation", "surveys_response", "surveys_survey")
    name = "Survey response rate"
    area = "support"
    unit = "percent"
    formula = "Invitations sent in the period that have a response / invitations sent in the period x 100."
    dimensions = ("survey",)

    def components(self, query):
        segment = query.labels(survey_segments("sv"))
        day = query.local_day("i.sent_at")
        return query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg, COUNT(r.id), COUNT(*)
            FROM surveys_invitation i
            JOIN surveys_survey sv ON sv.id = i.survey_id
            LEFT JOIN surveys_response r ON r.invitation_id = i.id
            {segment.joins}
            WHERE {query.in_days("i.sent_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "answered",
            "sent",
            keep=False,  # a day's invitations are answered on later days
        )

    def value(self, c):
        return rate_value(c.get("answered", 0), c.get("sent", 0))
