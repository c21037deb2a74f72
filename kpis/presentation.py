"""How KPI values read on a page: units, changes with their direction, sparklines. No queries here."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.html import format_html, format_html_join

from kpis.definitions.base import Kpi
from kpis.periods import Period, local_today

EMPTY = "—"
LOW_CONFIDENCE_BELOW = 30
# KPIs whose sample size and interval a reader needs beside the value.
SURVEY_KPIS = ("nps", "csat")
DIMENSION_LABELS = {
    "all": "Whole business",
    "channel": "Channel",
    "region": "Region",
    "industry": "Industry",
    "owner": "Owner",
    "pipeline": "Pipeline",
    "kind": "Deal kind",
    "campaign": "Campaign",
    "priority": "Priority",
    "assignee": "Assignee",
    "survey": "Survey",
}
AREAS = (
    ("customers", "Customers and revenue"),
    ("sales", "Leads and deals"),
    ("support", "Support and satisfaction"),
)
GRANULARITY_NOUNS = {"week": "weeks", "month": "months", "quarter": "quarters", "year": "years"}


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def rounded(value, places: int = 2) -> Decimal:
    """A value to `places` decimals, a half rounded up as people and spreadsheets do (22949.925 -> 22949.93),
    from the stored decimal rather than a binary float, which holds 22949.925 as 22949.92499..."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _grouped(value: Decimal, places: int = 2) -> str:
    return f"{rounded(value, places):,.{places}f}"


def format_value(unit: str, value) -> str:
    """A KPI value with its unit, as KPIS.md says: two decimals, money in the base currency."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    currency = settings.CRM_CURRENCY
    if unit == "count":
        return _grouped(number, 0)
    if unit == "percent":
        return f"{_grouped(number)} %"
    if unit == "money":
        return f"{_grouped(number)} {currency}"
    if unit == "money_per_day":
        return f"{_grouped(number)} {currency}/day"
    if unit == "hours":
        return f"{_grouped(number)} h"
    if unit == "days":
        return f"{_grouped(number)} days"
    if unit == "ratio":
        return f"{_grouped(number)} : 1"
    if unit == "per_customer":
        return f"{_grouped(number)} per customer"
    return _grouped(number)


def format_number(value, places: int = 2) -> str:
    """A numerator or denominator: whole numbers without decimals, others with two."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    if number == number.to_integral_value():
        return _grouped(number, 0)
    return _grouped(number, places)


def change_unit(unit: str) -> str:
    """What a difference of two values is measured in (percentage points for rates)."""
    return {"percent": " pp", "score": " points", "count": ""}.get(unit, "")


def format_change(unit: str, change: Decimal) -> str:
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    magnitude = abs(change)
    if unit == "count":
        return f"{sign}{_grouped(magnitude, 0)}"
    if unit in ("percent", "score"):
        return f"{sign}{_grouped(magnitude)}{change_unit(unit)}"
    return f"{sign}{format_value(unit, magnitude)}"


@dataclass(frozen=True)
class Change:
    """The move from the previous period: arrow, words and whether it is good for this KPI."""

    text: str  # "+1.20 pp"
    arrow: str  # ▲ ▼ ▶
    verdict: str  # "better", "worse", "no change", "up", "down"
    tone: str  # good, bad, neutral (the colour; the verdict says the same in words)
    previous_label: str

    @property
    def sentence(self) -> str:
        return f"{self.text} vs {self.previous_label} ({self.verdict})"


def change_between(kpi: Kpi, current, previous, previous_label: str, *, under_way: bool = False) -> Change | None:
    """The change from the previous period; for a KPI that accumulates, in a period `under_way`, without a
    verdict: a month's revenue so far against a whole month's is no sign of worse."""
    current, previous = _decimal(current), _decimal(previous)
    if current is None or previous is None:
        return None
    change = current - previous
    if change == 0:
        return Change(format_change(kpi.unit, change), "▶", "no change", "neutral", previous_label)
    rising = change > 0
    arrow = "▲" if rising else "▼"
    if under_way and kpi.accumulates:
        return Change(format_change(kpi.unit, change), arrow, "so far", "neutral", previous_label)
    if kpi.direction is None:
        return Change(format_change(kpi.unit, change), arrow, "up" if rising else "down", "neutral", previous_label)
    good = rising == (kpi.direction == "up")
    return Change(
        format_change(kpi.unit, change), arrow, "better" if good else "worse", "good" if good else "bad", previous_label
    )


@dataclass(frozen=True)
class TargetStatus:
    value: Decimal
    text: str  # "Target 5.00 %"
    on_target: bool | None  # None when the KPI has no good direction or no value yet

    so_far: str = ""  # a KPI that builds up, in a period under way: "not reached yet" rather than a verdict

    @property
    def verdict(self) -> str:
        if self.so_far:
            return self.so_far
        if self.on_target is None:
            return "no value yet"
        return "on target" if self.on_target else "off target"


def target_status(kpi: Kpi, value, target, *, under_way: bool = False) -> TargetStatus | None:
    """Whether the value meets the target; for a KPI that builds up over the period (`Kpi.accumulates`), in a
    period `under_way`, where it stands so far, without a verdict (neither colour nor on or off target)."""
    target = _decimal(target)
    if target is None:
        return None
    current = _decimal(value)
    on_target = None
    if current is not None and kpi.direction is not None:
        on_target = current >= target if kpi.direction == "up" else current <= target
    text = f"Target {format_value(kpi.unit, target)}"
    if under_way and kpi.accumulates and on_target is not None:
        if kpi.direction == "up":
            return TargetStatus(target, text, None, so_far="reached so far" if on_target else "not reached yet")
        return TargetStatus(target, text, None, so_far="within so far" if on_target else "over so far")
    return TargetStatus(target, text, on_target)


def sparkline(values: list, labels: list[str], unit: str, *, width: int = 120, height: int = 32) -> str:
    """An inline SVG line of the values (gaps where a value is empty), drawn on the server (CSP-safe)."""
    numbers = [_decimal(value) for value in values]
    present = [number for number in numbers if number is not None]
    summary = f"{len(values)} periods, {labels[0]} to {labels[-1]}" if labels else ""
    if not present:
        return format_html(
            '<svg class="kpi-sparkline" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title></svg>',
            width,
            height,
            f"No values over {summary}",
            f"No values over {summary}",
        )
    low, high = min(present), max(present)
    span = (high - low) or Decimal(1)
    step = width / max(len(numbers) - 1, 1)
    pad = 3

    def point(index: int, number: Decimal) -> tuple[float, float]:
        y = height - pad - float((number - low) / span) * (height - 2 * pad)
        if high == low:
            y = height / 2
        return round(index * step, 1), round(y, 1)

    lines, current = [], []
    for index, number in enumerate(numbers):
        if number is None:
            if current:
                lines.append(current)
            current = []
            continue
        current.append(point(index, number))
    if current:
        lines.append(current)
    last_index = max(index for index, number in enumerate(numbers) if number is not None)
    last_x, last_y = point(last_index, numbers[last_index])
    first_value = next(number for number in numbers if number is not None)
    description = (
        f"Trend over {summary}: from {format_value(unit, first_value)} to {format_value(unit, numbers[last_index])}, "
        f"lowest {format_value(unit, low)}, highest {format_value(unit, high)}"
    )
    paths = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5" '
        'vector-effect="non-scaling-stroke"></polyline>',
        ((" ".join(f"{x},{y}" for x, y in line),) for line in lines),
    )
    return format_html(
        '<svg class="kpi-sparkline" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{}">'
        '<title>{}</title>{}<polyline class="kpi-sparkline-last" points="{},{} {},{}" stroke="currentColor" '
        'stroke-width="5" stroke-linecap="round" vector-effect="non-scaling-stroke"></polyline></svg>',
        width,
        height,
        description,
        description,
        paths,
        last_x,
        last_y,
        last_x,
        last_y,
    )


def survey_facts(kpi: Kpi, row: dict) -> dict | None:
    """Sample size, interval and low-confidence flag of NPS and CSAT."""
    if kpi.key not in SURVEY_KPIS:
        return None
    details = row.get("details") or {}
    n = row.get("sample_size") or 0
    facts = {"n": n, "low_confidence": n < LOW_CONFIDENCE_BELOW, "interval": None, "margin": None}
    if row.get("ci_low") is not None and row.get("ci_high") is not None:
        # The normal approximation of NPS can pass its scale's ends; the scale is what a reader can act on.
        bottom, top = (Decimal(0), Decimal(100)) if kpi.unit == "percent" else (Decimal(-100), Decimal(100))
        low, high = max(bottom, _decimal(row["ci_low"])), min(top, _decimal(row["ci_high"]))
        if kpi.unit == "percent":
            facts["interval"] = f"{_grouped(low)}–{_grouped(high)} %"
        else:
            facts["interval"] = f"{_grouped(low)} to {_grouped(high)}"
    if details.get("margin_of_error") is not None:
        facts["margin"] = f"± {_grouped(_decimal(details['margin_of_error']))}"
    return facts


def period_word(period: Period) -> str:
    return {"week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}[period.granularity]


def date_range(period: Period, today: datetime.date | None = None) -> str:
    """ "01 Nov 2026 – 30 Nov 2026", and for a period under way how far it is: "(under way: day 25 of 30)"."""
    last = period.end - datetime.timedelta(days=1)
    text = f"{period.start:%d %b %Y} – {last:%d %b %Y}"
    today = today or local_today()
    if period.under_way(today):
        text += f" (under way: day {(today - period.start).days + 1} of {(period.end - period.start).days})"
    return text


# What the numerator and denominator of each KPI count, as table headings.
PARTS = {
    "new_customers": ("New customers (N)", None),
    "active_customers": ("Customers at the end (E)", None),
    "churn_rate": ("Customers lost (L)", "Customers at the start (S)"),
    "retention_rate": ("E − N′ (retained)", "Customers at the start (S)"),
    "revenue": ("Revenue", None),
    "bookings": ("Bookings", None),
    "average_order_value": ("Revenue", "Orders"),
    "repeat_purchase_rate": ("Repeat buyers", "Buyers"),
    "cac": ("Acquisition spend", "New customers (N)"),
    "crc": ("Retention spend", "Customers retained (R)"),
    "clv": ("Purchase value a year per buyer", "Annual churn (fraction)"),
    "clv_cac_ratio": ("CLV", "CAC over the 12 months"),
    "upsell_rate": ("Customers upsold", "Customers at the start (S)"),
    "renewal_rate": ("Renewed", "Ended"),
    "engagement": ("Interactions", "Customers during the period"),
    "new_leads": ("Leads created", None),
    "lead_conversion_rate": ("Converted", "Leads created"),
    "win_rate": ("Deals won", "Deals won or lost"),
    "average_deal_size": ("Amount won", "Deals won"),
    "sales_cycle_length": ("Days, summed", "Deals won"),
    "pipeline_velocity": ("Open deals × win rate × average size", "Cycle length (days)"),
    "campaign_roi": ("Won amount − spend", "Campaign spend"),
    "new_tickets": ("Tickets opened", None),
    "first_response_time": (None, None),
    "resolution_time": (None, None),
    "first_contact_resolution": ("Resolved at first contact", "Resolved"),
    "sla_attainment": ("Within target", "Target due"),
    "csat": ("Satisfied (4-5)", "Answers"),
    "nps": ("Promoters − detractors", "Answers"),
    "survey_response_rate": ("Answered", "Sent"),
}
# Numerators and denominators that are amounts of money (shown with their two decimals).
MONEY_PARTS = {
    "revenue": (True, False),
    "bookings": (True, False),
    "average_order_value": (True, False),
    "cac": (True, False),
    "crc": (True, False),
    "clv": (True, False),
    "clv_cac_ratio": (True, True),
    "average_deal_size": (True, False),
    "pipeline_velocity": (True, False),
    "campaign_roi": (True, True),
}


def format_part(kpi_key: str, which: int, value) -> str:
    """A numerator (which = 0) or denominator (1) of a KPI, money with two decimals, counts without."""
    number = _decimal(value)
    if number is not None and MONEY_PARTS.get(kpi_key, (False, False))[which]:
        return _grouped(number)
    return format_number(value)


# KPIs whose value is a count or a sum: a segment's share is its share of the total.
ADDITIVE_KPIS = {"new_customers", "active_customers", "revenue", "bookings", "new_leads", "new_tickets"}


# The details a snapshot keeps beside the value, in words: key -> [(detail, heading, unit)].
FACTS = {
    "sales_cycle_length": [("median", "Median", "days")],
    "first_response_time": [("mean", "Mean", "hours"), ("waiting", "Still waiting", "count")],
    "resolution_time": [("mean", "Mean", "hours")],
    "csat": [("mean_score", "Mean score", "number")],
    "nps": [
        ("promoters", "Promoters", "count"),
        ("passives", "Passives", "count"),
        ("detractors", "Detractors", "count"),
    ],
    "engagement": [
        ("engaged", "Customers with an interaction", "count"),
        ("engaged_share", "Share engaged", "percent"),
    ],
    "clv": [
        ("average_purchase_value", "Average purchase value", "money"),
        ("purchase_frequency", "Purchases a year per buyer", "number"),
        ("lifespan_years", "Lifespan (years)", "number"),
    ],
    "pipeline_velocity": [
        ("open_deals", "Open deals at the end", "count"),
        ("win_rate", "Win rate (fraction)", "number"),
        ("average_deal_size", "Average deal size", "money"),
        ("cycle_days", "Cycle length", "days"),
    ],
}


def detail_facts(kpi: Kpi, row: dict) -> list[tuple[str, str]]:
    details = row.get("details") or {}
    facts = []
    for name, heading, unit in FACTS.get(kpi.key, []):
        if details.get(name) is None:
            continue
        facts.append((heading, format_value(unit, details[name])))
    return facts


def axis_suffix(unit: str) -> str:
    """What a chart's value axis labels carry after the number."""
    currency = settings.CRM_CURRENCY
    return {
        "percent": " %",
        "money": f" {currency}",
        "money_per_day": f" {currency}/day",
        "hours": " h",
        "days": " d",
        "ratio": " : 1",
    }.get(unit, "")
