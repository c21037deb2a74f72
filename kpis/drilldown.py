"""Drill-downs: from a KPI number to the ordinary filtered list of the records that make it.

One function per KPI maps (period, segment dimension and label) to links: the records of its numerator,
of its denominator, and of its sample (the records behind a median, a mean or a lifetime value). Each link
opens the list page of those records with the filters of KPIS.md's definition (dates in local time, as the
periods), so its count is the number clicked; the list's "Export CSV" gives the same rows as a file.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from kpis.periods import Period
from kpis.sql import ALL


@dataclass(frozen=True)
class Link:
    label: str  # what the list shows: "customers lost in the period"
    url: str

    @property
    def csv_url(self) -> str:
        return f"{self.url}&export=csv"


@dataclass
class DrillDown:
    numerator: Link | None = None
    denominator: Link | None = None
    sample: Link | None = None  # the records the value is computed from, when neither part counts them
    extra: list[Link] = field(default_factory=list)

    @property
    def value(self) -> Link | None:
        """Where the value itself leads: the records it counts or is computed from."""
        return self.sample or self.numerator or self.denominator


def _link(label: str, name: str, **params) -> Link:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return Link(label, f"{reverse(name)}?{query}")


def _day(day: datetime.date) -> str:
    return day.isoformat()


@dataclass(frozen=True)
class Scope:
    """A period and a segment, as list filters."""

    period: Period
    dimension: str = ALL
    segment: str = ALL

    @property
    def first(self) -> str:
        return _day(self.period.start)

    @property
    def last(self) -> str:
        """The period's last day (list date filters include their bounds)."""
        return _day(self.period.end - datetime.timedelta(days=1))

    @property
    def end(self) -> str:
        return _day(self.period.end)

    @property
    def window_first(self) -> str:
        return _day(self.period.window_start)

    def segment_params(self, names: dict[str, str]) -> dict[str, str]:
        """The list filter that selects this segment ({dimension: filter name} of the list)."""
        if self.dimension == ALL or self.dimension not in names:
            return {}
        return {names[self.dimension]: self.segment}


CONTACT_LIST = "contacts:contact_list"
ORDER_LIST = "sales:order_list"
DEAL_LIST = "sales:deal_list"
LEAD_LIST = "sales:lead_list"
SPEND_LIST = "sales:spend_list"
SUBSCRIPTION_LIST = "sales:subscription_list"
TICKET_LIST = "support:ticket_list"
RESPONSE_LIST = "surveys:response_list"

CONTACT_SEGMENTS = {dimension: f"segment_{dimension}" for dimension in ("channel", "region", "industry", "owner")}
CONTACT_OF_RECORD = {dimension: f"contact_{dimension}" for dimension in ("channel", "region", "industry", "owner")}
DEAL_SEGMENTS = {dimension: f"segment_{dimension}" for dimension in ("channel", "owner", "pipeline", "kind")}
LEAD_SEGMENTS = {dimension: f"segment_{dimension}" for dimension in ("channel", "campaign", "owner")}
TICKET_SEGMENTS = {dimension: f"segment_{dimension}" for dimension in ("channel", "priority", "assignee")}
CSAT_SEGMENTS = {
    "channel": "ticket_channel",
    "assignee": "ticket_assignee",
    "region": "contact_region",
    "industry": "contact_industry",
}
NPS_SEGMENTS = {"channel": "contact_channel", "region": "contact_region", "industry": "contact_industry"}
CAMPAIGN_SEGMENTS = {"campaign": "segment_campaign", "channel": "campaign_channel"}
# Lists that show the user's own records by default: an empty owner means everyone's.
EVERYONE = {"owner": ""}
ALL_TICKETS = {"queue": "all"}


# --- the lists behind the numbers, by what they select ------------------------------------------------------


def contacts(scope: Scope, label: str, **params) -> Link:
    return _link(label, CONTACT_LIST, **params, **scope.segment_params(CONTACT_SEGMENTS))


def new_customers(scope: Scope, first: str | None = None) -> Link:
    return contacts(scope, "new customers", customer_since_after=first or scope.first, customer_since_before=scope.last)


def customers_at_start(scope: Scope) -> Link:
    return contacts(scope, "customers at the start", customer_on=scope.first)


def customers_lost(scope: Scope, first: str | None = None) -> Link:
    first = first or scope.first
    return contacts(scope, "customers lost", customer_on=first, churned_after=first, churned_before=scope.last)


def customers_retained(scope: Scope) -> Link:
    return contacts(scope, "customers retained", customer_on=scope.first, not_churned_before=scope.end)


def orders(scope: Scope, label: str = "orders", first: str | None = None, **params) -> Link:
    return _link(
        label,
        ORDER_LIST,
        ordered_after=first or scope.first,
        ordered_before=scope.last,
        **params,
        **scope.segment_params(CONTACT_OF_RECORD),
    )


def deals_closed(scope: Scope, label: str, segments: dict[str, str] = DEAL_SEGMENTS, **params) -> Link:
    return _link(
        label,
        DEAL_LIST,
        **EVERYONE,
        closed_from=scope.first,
        closed_until=scope.last,
        **params,
        **scope.segment_params(segments),
    )


def spend(scope: Scope, label: str, segments: dict[str, str], first: str | None = None, **params) -> Link:
    return _link(
        label,
        SPEND_LIST,
        spent_after=first or scope.first,
        spent_before=scope.last,
        **params,
        **scope.segment_params(segments),
    )


def leads(scope: Scope, label: str, **params) -> Link:
    return _link(
        label,
        LEAD_LIST,
        **EVERYONE,
        created_after=scope.first,
        created_before=scope.last,
        **params,
        **scope.segment_params(LEAD_SEGMENTS),
    )


def tickets(scope: Scope, label: str, moment: str = "created", **params) -> Link:
    return _link(
        label,
        TICKET_LIST,
        **ALL_TICKETS,
        **{f"{moment}_after": scope.first, f"{moment}_before": scope.last},
        **params,
        **scope.segment_params(TICKET_SEGMENTS),
    )


def responses(scope: Scope, label: str, kind: str, segments: dict[str, str], **params) -> Link:
    return _link(
        label,
        RESPONSE_LIST,
        kind=kind,
        submitted_after=scope.first,
        submitted_before=scope.last,
        **params,
        **scope.segment_params(segments),
    )


# --- one function per KPI -----------------------------------------------------------------------------------

DRILLDOWNS: dict[str, Callable[[Scope], DrillDown]] = {}


def drilldown(key: str):
    def register(function: Callable[[Scope], DrillDown]):
        DRILLDOWNS[key] = function
        return function

    return register


@drilldown("new_customers")
def _new_customers(scope):
    return DrillDown(numerator=new_customers(scope))


@drilldown("active_customers")
def _active_customers(scope):
    return DrillDown(numerator=contacts(scope, "customers at the end", customer_on=scope.end))


@drilldown("churn_rate")
def _churn_rate(scope):
    return DrillDown(numerator=customers_lost(scope), denominator=customers_at_start(scope))


@drilldown("retention_rate")
def _retention_rate(scope):
    return DrillDown(
        numerator=customers_retained(scope),
        denominator=customers_at_start(scope),
        extra=[customers_lost(scope), new_customers(scope)],
    )


@drilldown("revenue")
def _revenue(scope):
    return DrillDown(numerator=orders(scope), sample=orders(scope))


@drilldown("bookings")
def _bookings(scope):
    won = deals_closed(scope, "deals won", state="won")
    return DrillDown(numerator=won, sample=won)


@drilldown("average_order_value")
def _average_order_value(scope):
    return DrillDown(numerator=orders(scope), denominator=orders(scope))


@drilldown("repeat_purchase_rate")
def _repeat_purchase_rate(scope):
    return DrillDown(
        numerator=orders(
            scope, "repeat buyers (each one's first order)", bought_before=scope.first, first_per_contact="true"
        ),
        denominator=orders(scope, "buyers (each one's first order)", first_per_contact="true"),
        extra=[orders(scope)],
    )


@drilldown("cac")
def _cac(scope):
    return DrillDown(
        numerator=spend(scope, "acquisition spend", {"channel": "segment_channel"}, category="acquisition"),
        denominator=new_customers(scope),
    )


@drilldown("crc")
def _crc(scope):
    return DrillDown(
        numerator=spend(scope, "retention spend", {}, category="retention"), denominator=customers_retained(scope)
    )


@drilldown("clv")
def _clv(scope):
    window = scope.window_first
    return DrillDown(
        sample=orders(
            scope, "buyers in the 12 months (each one's first order)", first=window, first_per_contact="true"
        ),
        extra=[orders(scope, "orders in the 12 months", first=window), customers_lost(scope, first=window)],
    )


@drilldown("clv_cac_ratio")
def _clv_cac_ratio(scope):
    window = scope.window_first
    return DrillDown(
        sample=new_customers(scope, first=window),
        extra=[
            spend(
                scope,
                "acquisition spend in the 12 months",
                {"channel": "segment_channel"},
                first=window,
                category="acquisition",
            )
        ],
    )


@drilldown("upsell_rate")
def _upsell_rate(scope):
    return DrillDown(
        numerator=deals_closed(
            scope,
            "customers upsold (each one's first deal)",
            CONTACT_OF_RECORD,
            state="won",
            kinds="upsell,cross_sell",
            contact_customer_on=scope.first,
            first_per_contact="true",
        ),
        denominator=customers_at_start(scope),
    )


@drilldown("renewal_rate")
def _renewal_rate(scope):
    def subscriptions(label: str, **params) -> Link:
        return _link(
            label,
            SUBSCRIPTION_LIST,
            ends_after=scope.first,
            ends_before=scope.last,
            **params,
            **scope.segment_params(CONTACT_OF_RECORD),
        )

    return DrillDown(
        numerator=subscriptions("subscriptions renewed", outcome="renewed"),
        denominator=subscriptions("subscriptions ended", outcomes="renewed,cancelled,expired"),
    )


@drilldown("engagement")
def _engagement(scope):
    customers = contacts(
        scope, "customers during the period", customer_during_after=scope.first, customer_during_before=scope.last
    )
    return DrillDown(denominator=customers)


@drilldown("new_leads")
def _new_leads(scope):
    return DrillDown(numerator=leads(scope, "leads created"))


@drilldown("lead_conversion_rate")
def _lead_conversion_rate(scope):
    return DrillDown(
        numerator=leads(scope, "leads converted", converted="true"), denominator=leads(scope, "leads created")
    )


@drilldown("win_rate")
def _win_rate(scope):
    return DrillDown(
        numerator=deals_closed(scope, "deals won", state="won"),
        denominator=deals_closed(scope, "deals won or lost", states="won,lost"),
        extra=[deals_closed(scope, "deals lost", state="lost")],
    )


@drilldown("average_deal_size")
def _average_deal_size(scope):
    won = deals_closed(scope, "deals won", state="won")
    return DrillDown(numerator=won, denominator=won)


@drilldown("sales_cycle_length")
def _sales_cycle_length(scope):
    won = deals_closed(scope, "deals won", state="won")
    return DrillDown(numerator=won, denominator=won)


@drilldown("pipeline_velocity")
def _pipeline_velocity(scope):
    open_deals = _link(
        "deals open at the end", DEAL_LIST, **EVERYONE, open_on=scope.end, **scope.segment_params(DEAL_SEGMENTS)
    )
    return DrillDown(sample=deals_closed(scope, "deals won or lost", states="won,lost"), extra=[open_deals])


@drilldown("campaign_roi")
def _campaign_roi(scope):
    won = deals_closed(scope, "deals won from campaigns", CAMPAIGN_SEGMENTS, state="won", from_campaign="true")
    return DrillDown(
        numerator=won,
        denominator=spend(scope, "campaign spend", CAMPAIGN_SEGMENTS, has_campaign="true"),
        sample=won,
    )


@drilldown("new_tickets")
def _new_tickets(scope):
    return DrillDown(numerator=tickets(scope, "tickets opened"))


@drilldown("first_response_time")
def _first_response_time(scope):
    return DrillDown(
        sample=tickets(scope, "tickets answered", responded="true"),
        extra=[tickets(scope, "tickets still waiting", responded="false")],
    )


@drilldown("resolution_time")
def _resolution_time(scope):
    return DrillDown(sample=tickets(scope, "tickets resolved", moment="resolved"))


@drilldown("first_contact_resolution")
def _first_contact_resolution(scope):
    return DrillDown(
        numerator=tickets(scope, "tickets resolved at first contact", moment="resolved", first_contact="true"),
        denominator=tickets(scope, "tickets resolved", moment="resolved"),
    )


@drilldown("sla_attainment")
def _sla_attainment(scope):
    return DrillDown(
        numerator=tickets(scope, "tickets answered within target", sla="met"),
        denominator=tickets(scope, "tickets with a target due", sla="due"),
        extra=[tickets(scope, "tickets that missed their target", sla="missed")],
    )


@drilldown("csat")
def _csat(scope):
    return DrillDown(
        numerator=responses(scope, "satisfied answers (4 or 5)", "csat", CSAT_SEGMENTS, score_min=4),
        denominator=responses(scope, "CSAT answers", "csat", CSAT_SEGMENTS),
        extra=[responses(scope, "unsatisfied answers (1 to 3)", "csat", CSAT_SEGMENTS, score_max=3)],
    )


@drilldown("nps")
def _nps(scope):
    return DrillDown(
        denominator=responses(scope, "NPS answers", "nps", NPS_SEGMENTS),
        extra=[
            responses(scope, "promoters (9-10)", "nps", NPS_SEGMENTS, score_min=9),
            responses(scope, "passives (7-8)", "nps", NPS_SEGMENTS, score_min=7, score_max=8),
            responses(scope, "detractors (0-6)", "nps", NPS_SEGMENTS, score_max=6),
        ],
    )


@drilldown("survey_response_rate")
def _survey_response_rate(scope):
    answered = _link(
        "invitations answered",
        RESPONSE_LIST,
        sent_after=scope.first,
        sent_before=scope.last,
        **scope.segment_params({"survey": "segment_survey"}),
    )
    return DrillDown(numerator=answered)


def drilldown_for(key: str, period: Period, dimension: str = ALL, segment: str = ALL) -> DrillDown:
    """The links behind one KPI number (an empty DrillDown for a KPI without lists)."""
    function = DRILLDOWNS.get(key)
    return function(Scope(period, dimension, segment)) if function else DrillDown()
