"""Leads and deals: the second table of KPIS.md."""

from kpis.definitions.base import (
    Kpi,
    Value,
    count_value,
    mean_value,
    merge,
    number,
    rate_value,
    register,
)
from kpis.definitions.customers import CustomerCounts, won_deals
from kpis.sql import Query, campaign_segments, deal_segments, lead_segments

LEAD_DIMENSIONS = ("channel", "campaign", "owner")


def leads_created(query: Query):
    def compute():
        segment = query.labels(lead_segments("l"))
        day = query.local_day("l.created_at")
        return query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg, COUNT(*),
                SUM(CASE WHEN l.converted_at IS NOT NULL THEN 1 ELSE 0 END)
            FROM sales_lead l
            {segment.joins}
            WHERE {query.in_days("l.created_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "leads",
            "converted",
        )

    return query.shared("leads_created", compute)


@register
class NewLeads(Kpi):
    key = "new_leads"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "sales_campaign", "sales_lead")
    name = "New leads"
    area = "sales"
    unit = "count"
    formula = "Leads created in the period."
    dimensions = LEAD_DIMENSIONS

    def components(self, query):
        return leads_created(query)

    def value(self, c):
        return count_value(c.get("leads", 0))


@register
class LeadConversionRate(Kpi):
    key = "lead_conversion_rate"
    reads = ("auth_user", "contacts_channel", "sales_campaign", "sales_lead")
    name = "Lead conversion rate"
    area = "sales"
    unit = "percent"
    formula = "Leads created in the period that are converted (at any time so far) / leads created in it x 100."
    note = "Recent periods rise as their leads mature."
    dimensions = LEAD_DIMENSIONS

    def components(self, query):
        return leads_created(query)

    def value(self, c):
        return rate_value(c.get("converted", 0), c.get("leads", 0))


@register
class WinRate(Kpi):
    key = "win_rate"
    reads = ("auth_user", "contacts_channel", "sales_deal", "sales_pipeline")
    name = "Close rate"
    area = "sales"
    unit = "percent"
    formula = "Deals won with closed_at in the period / deals won or lost with closed_at in it x 100."
    dimensions = ("channel", "owner", "pipeline", "kind")

    def components(self, query):
        return won_deals(query)

    def value(self, c):
        won = number(c.get("won", 0))
        return rate_value(won, won + number(c.get("lost", 0)))


@register
class AverageDealSize(Kpi):
    key = "average_deal_size"
    reads = ("auth_user", "contacts_channel", "sales_deal", "sales_pipeline")
    name = "Average deal size"
    area = "sales"
    unit = "money"
    formula = "Mean amount of deals won in the period."
    dimensions = ("channel", "owner", "pipeline", "kind")

    def components(self, query):
        return won_deals(query)

    def value(self, c):
        return mean_value(c.get("won_amount", 0), c.get("won", 0))


def cycle_medians(query: Query):
    def compute():
        # Every granularity from one read of the deals.
        segment = query.labels(deal_segments("d"))
        medians = query.medians_across(
            "d.closed_at",
            f"""
            SELECT __G__ AS g, __BUCKET__ AS b, {segment.columns()},
                {query.days_between("d.created_at", "d.closed_at")} AS x
            FROM sales_deal d
            {segment.joins}
            WHERE d.status = 'won' AND __IN_RANGE__
            """,
            segment,
        )
        return {key: {"median_days": values["median"]} for key, values in medians.items()}

    return query.shared("cycle_medians", compute)


@register
class SalesCycleLength(Kpi):
    key = "sales_cycle_length"
    reads = ("auth_user", "contacts_channel", "sales_deal", "sales_pipeline")
    name = "Sales cycle length"
    area = "sales"
    unit = "days"
    direction = "down"
    formula = "Mean days from created to closed_at of deals won in the period."
    note = "The median is shown beside it."
    dimensions = ("channel", "owner", "pipeline")

    def components(self, query):
        return merge(won_deals(query), cycle_medians(query))

    def value(self, c):
        result = mean_value(c.get("won_days", 0), c.get("won", 0))
        median = c.get("median_days")
        result.details = {"median": None if median is None else str(number(median))}
        return result


def open_deal_counts(query: Query) -> CustomerCounts:
    """Open deals at any local midnight, per segment, from one scan of deals for every granularity.

    A deal is open at t when created_at < t and closed_at is empty or >= t: per local day, +1 on the day
    it was created and -1 on the day it closed (its creation day if it closed earlier: never open)."""

    def compute():
        segment = query.labels(deal_segments("d"))
        outer = segment.outer()
        created, closed = query.local_day("d.created_at"), query.local_day("d.closed_at")
        # The closing event's instant: the later of closed_at and created_at (whose local day the CASE takes).
        closing = "CASE WHEN d.closed_at > d.created_at THEN d.closed_at ELSE d.created_at END"
        rows = query.history_rows(
            f"""
            SELECT d_, {outer.select()} AS seg, SUM(opened), 0, SUM(closed_), 0 FROM (
                SELECT {created} AS d_, {segment.columns()}, 1 AS opened, 0 AS closed_
                FROM sales_deal d {segment.joins}
                WHERE {query.from_first_day("d.created_at")}
                UNION ALL
                SELECT CASE WHEN {closed} > {created} THEN {closed} ELSE {created} END, {segment.columns()}, 0, 1
                FROM sales_deal d {segment.joins}
                WHERE d.closed_at IS NOT NULL AND {query.from_first_day(closing)}
            ) events GROUP BY {outer.group_by("d_")}
            """
        )
        return CustomerCounts(rows)

    key = ("open_deal_counts", query.dimension)
    if key not in query.memo:
        query.memo[key] = compute()
    return query.memo[key]


@register
class PipelineVelocity(Kpi):
    key = "pipeline_velocity"
    reads = ("auth_user", "contacts_channel", "sales_deal", "sales_pipeline")
    name = "Sales pipeline velocity"
    area = "sales"
    unit = "money_per_day"
    formula = (
        "Open deals at the period's end (created before it and not closed before it) x win rate of the period "
        "(as a fraction) x average deal size of the period / sales cycle length of the period, in money per day."
    )
    dimensions = ("owner", "pipeline")

    def components(self, query):
        counts = open_deal_counts(query)
        open_at_end = {}
        for segment in counts.segments:
            for period in query.periods:
                deals = counts.at(segment, period.end)
                if deals:
                    open_at_end[(period.start, segment)] = {"open": deals}
        return merge(won_deals(query), open_at_end)

    def value(self, c):
        won, lost = number(c.get("won", 0)), number(c.get("lost", 0))
        open_deals, amount, days = number(c.get("open", 0)), number(c.get("won_amount", 0)), number(c.get("won_days"))
        details = {"open_deals": int(open_deals)}
        if not won or not days:
            return Value(None, None, None, int(won + lost), details=details)
        win_rate = won / (won + lost)
        average_size = amount / won
        cycle = days / won
        numerator = open_deals * win_rate * average_size
        details.update(win_rate=str(win_rate), average_deal_size=str(average_size), cycle_days=str(cycle))
        return Value(numerator / cycle, numerator, cycle, int(won + lost), details=details)


@register
class CampaignRoi(Kpi):
    key = "campaign_roi"
    reads = ("contacts_channel", "sales_campaign", "sales_deal", "sales_lead", "sales_spend")
    name = "Campaign ROI"
    area = "sales"
    unit = "percent"
    formula = (
        "(Amount of won deals closed in the period whose lead came from the campaign - spend in the period of the "
        "campaign) / spend in the period of the campaign x 100. For all: every campaign together; by channel: the "
        "campaigns of that channel."
    )
    dimensions = ("campaign", "channel")

    def components(self, query):
        segment = query.labels(campaign_segments("cp"))
        closed = query.local_day("d.closed_at")
        won = query.daily(
            f"""
            SELECT {closed}, {segment.select()} AS seg, SUM(d.amount), COUNT(*)
            FROM sales_deal d
            JOIN sales_lead l ON l.id = d.lead_id
            JOIN sales_campaign cp ON cp.id = l.campaign_id
            {segment.joins}
            WHERE d.status = 'won' AND {query.in_days("d.closed_at")}
            GROUP BY {segment.group_by(closed)}
            """,
            "won_amount",
            "won",
        )
        spend = query.daily(
            f"""
            SELECT sp.spent_on, {segment.select()} AS seg, SUM(sp.amount)
            FROM sales_spend sp
            JOIN sales_campaign cp ON cp.id = sp.campaign_id
            {segment.joins}
            WHERE {query.in_dates("sp.spent_on")}
            GROUP BY {segment.group_by("sp.spent_on")}
            """,
            "spend",
        )
        return merge(won, spend)

    def value(self, c):
        spend = number(c.get("spend", 0))
        gain = number(c.get("won_amount", 0)) - spend
        return Value(gain / spend * 100 if spend else None, gain, spend, int(number(c.get("won", 0))))
