"""Customers and revenue: the first table of KPIS.md."""

import array
import bisect
import datetime
import functools
from collections import defaultdict

from django.conf import settings

from kpis.definitions.base import (
    Components,
    Key,
    Kpi,
    Value,
    count_value,
    mean_value,
    merge,
    number,
    rate_value,
    register,
    sum_value,
)
from kpis.periods import CLV_WINDOW, local_midnight
from kpis.sql import NONE_LABEL, SEPARATOR, Query, contact_segments, deal_segments, keyed, label

CUSTOMER_DIMENSIONS = ("channel", "region", "industry", "owner")
ONE_DAY = datetime.timedelta(days=1)


class CustomerCounts:
    """Customers at any local midnight, per segment, from one scan of contacts.

    A contact is a customer at t when customer_since <= t < churned_at. Per local day the scan
    counts who joined and who left, and how many of them exactly at midnight; customers at
    midnight of day D = joined before D - left before D + joined at D's midnight - left at it.
    (churned_at >= customer_since is a database constraint, so whoever left had joined.)
    """

    def __init__(self, rows):
        by_segment: dict[str, list] = defaultdict(list)
        for day, segment, joined, joined_midnight, left, left_midnight in rows:
            by_segment[label(segment)].append(
                (datetime.date.fromisoformat(str(day)[:10]), joined - left, joined_midnight - left_midnight, joined)
            )
        self._days: dict[str, list[datetime.date]] = {}
        self._before: dict[str, list[int]] = {}
        self._joined_before: dict[str, list[int]] = {}
        self._midnight: dict[str, dict[datetime.date, int]] = {}
        for segment, entries in by_segment.items():
            totals: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0, 0])
            for day, net, midnight, joined in entries:
                totals[day][0] += int(net)
                totals[day][1] += int(midnight)
                totals[day][2] += int(joined)
            days = sorted(totals)
            before, joined_before = [0], [0]
            for day in days:
                before.append(before[-1] + totals[day][0])
                joined_before.append(joined_before[-1] + totals[day][2])
            self._days[segment] = days
            self._before[segment] = before
            self._joined_before[segment] = joined_before
            self._midnight[segment] = {day: totals[day][1] for day in days}

    @property
    def segments(self) -> list[str]:
        return list(self._days)

    def at(self, segment: str, day: datetime.date) -> int:
        """Customers of the segment at local midnight starting `day`."""
        days = self._days.get(segment)
        if not days:
            return 0
        index = bisect.bisect_left(days, day)
        return self._before[segment][index] + self._midnight[segment].get(day, 0)

    def joined(self, segment: str, first: datetime.date, end: datetime.date) -> int:
        """Contacts of the segment whose customer_since falls on a local day of [first, end)."""
        days = self._days.get(segment)
        if not days:
            return 0
        joined_before = self._joined_before[segment]
        return joined_before[bisect.bisect_left(days, end)] - joined_before[bisect.bisect_left(days, first)]


def customer_counts(query: Query) -> CustomerCounts:
    def compute():
        segment = query.labels(contact_segments("c"))
        outer = segment.outer()
        rows = query.history_rows(
            f"""
            SELECT d, {outer.select()} AS seg, SUM(joined), SUM(joined_midnight), SUM(left_), SUM(left_midnight)
            FROM (
                SELECT {query.local_day("c.customer_since")} AS d, {segment.columns()}, 1 AS joined,
                    CASE WHEN {query.at_local_midnight("c.customer_since")} THEN 1 ELSE 0 END AS joined_midnight,
                    0 AS left_, 0 AS left_midnight
                FROM contacts_contact c {segment.joins}
                WHERE {query.from_first_day("c.customer_since")}
                UNION ALL
                SELECT {query.local_day("c.churned_at")}, {segment.columns()}, 0, 0, 1,
                    CASE WHEN {query.at_local_midnight("c.churned_at")} THEN 1 ELSE 0 END
                FROM contacts_contact c {segment.joins}
                WHERE {query.from_first_day("c.churned_at")}
            ) events GROUP BY {outer.group_by("d")}
            """
        )
        return CustomerCounts(rows)

    # The same for every granularity: memoised per dimension only.
    key = ("customer_counts", query.dimension)
    if key not in query.memo:
        query.memo[key] = compute()
    return query.memo[key]


def customer_flows(query: Query) -> dict[Key, Components]:
    """Per period and segment: S, E, N, N', L and the customers of some instant of P."""

    def compute():
        segment = query.labels(contact_segments("c"))
        joined = query.aggregate(
            f"""
                    SELECT periods.p, {segment.select()} AS seg, COUNT(*),
                        SUM(CASE WHEN c.churned_at IS NOT NULL AND c.churned_at <= periods.e THEN 1 ELSE 0 END),
                        SUM(CASE WHEN c.customer_since > periods.s
                            AND (c.churned_at IS NULL OR c.churned_at > c.customer_since) THEN 1 ELSE 0 END)
                    FROM contacts_contact c
                    JOIN periods ON periods.p = {query.bucket("c.customer_since")}
                    {segment.joins}
                    WHERE {query.in_range("c.customer_since")}
                    GROUP BY {segment.group_by("periods.p")}
                    """,
            "new",
            "new_gone_by_end",
            "joined_after_start",
        )
        lost = query.aggregate(
            f"""
                    SELECT periods.p, {segment.select()} AS seg,
                        SUM(CASE WHEN c.customer_since <= periods.s AND c.churned_at > periods.s THEN 1 ELSE 0 END)
                    FROM contacts_contact c
                    JOIN periods ON periods.p = {query.bucket("c.churned_at")}
                    {segment.joins}
                    WHERE {query.in_range("c.churned_at")}
                    GROUP BY {segment.group_by("periods.p")}
                    """,
            "lost",
        )
        counts = customer_counts(query)
        state = {}
        for segment_label in counts.segments:
            for period in query.periods:
                start, end = counts.at(segment_label, period.start), counts.at(segment_label, period.end)
                if start or end:
                    state[(period.start, segment_label)] = {"start": start, "end": end}
        return merge(state, joined, lost)

    return query.shared("customer_flows", compute)


@register
class NewCustomers(Kpi):
    key = "new_customers"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact")
    name = "New customers"
    area = "customers"
    unit = "count"
    formula = "N: contacts whose customer_since falls in the period."
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        return customer_flows(query)

    def value(self, c):
        return count_value(c.get("new", 0))


@register
class ActiveCustomers(Kpi):
    key = "active_customers"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact")
    name = "Active customers"
    area = "customers"
    unit = "count"
    formula = "E: customers at the period's end (customer_since <= end and churned_at empty or after the end)."
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        return customer_flows(query)

    def value(self, c):
        return count_value(c.get("end", 0))


@register
class ChurnRate(Kpi):
    key = "churn_rate"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact")
    name = "Customer churn rate"
    area = "customers"
    unit = "percent"
    direction = "down"
    formula = "L / S x 100: customers at the period's start who churned during it, over customers at its start."
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        return customer_flows(query)

    def value(self, c):
        return rate_value(c.get("lost", 0), c.get("start", 0))


@register
class RetentionRate(Kpi):
    key = "retention_rate"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact")
    name = "Customer retention rate"
    area = "customers"
    unit = "percent"
    formula = (
        "(E - N') / S x 100, where N' counts the new customers of the period still customers at its end; "
        "this equals R / S x 100."
    )
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        return customer_flows(query)

    def value(self, c):
        still_new = c.get("new", 0) - c.get("new_gone_by_end", 0)
        return rate_value(c.get("end", 0) - still_new, c.get("start", 0))


def orders_first_day(query: Query) -> datetime.date:
    """The first local day the scan of orders covers: that of the refresh's days, or the start of the earliest
    CLV window of any of its granularities when that is earlier."""
    return min(query.day_range[0], *(periods[0].window_start for periods in query.granularities.values()))


def order_days_sql(query: Query) -> str:
    """Revenue and orders per local day and segment, from `orders_first_day` to the end of the refresh's days:
    one scan serves revenue, the average order value and CLV's windows."""
    segment = query.labels(contact_segments("c"))
    day = query.local_day("o.ordered_at")
    return f"""
        SELECT {day}, {segment.select()} AS seg, SUM(o.amount), COUNT(*)
        FROM sales_order o
        JOIN contacts_contact c ON c.id = o.contact_id
        {segment.joins}
        WHERE {query.in_days("o.ordered_at")}
        GROUP BY {segment.group_by(day)}
        """


def orders_by_period(query: Query) -> dict[Key, Components]:
    return query.shared(
        "orders", lambda: query.daily(order_days_sql(query), "revenue", "orders", first=orders_first_day(query))
    )


@register
class Revenue(Kpi):
    key = "revenue"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_order")
    name = "Revenue"
    area = "customers"
    unit = "money"
    formula = "Sum of order amounts with order time in the period."
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        return orders_by_period(query)

    def value(self, c):
        return sum_value(c.get("revenue", 0), c.get("orders", 0))


@register
class Bookings(Kpi):
    key = "bookings"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "sales_deal", "sales_pipeline")
    name = "Bookings"
    area = "customers"
    unit = "money"
    formula = "Sum of amounts of deals won with closed_at in the period."
    dimensions = ("channel", "owner", "pipeline", "kind")

    def components(self, query):
        return won_deals(query)

    def value(self, c):
        return sum_value(c.get("won_amount", 0), c.get("won", 0))


def won_deals(query: Query) -> dict[Key, Components]:
    """Per period of closed_at and segment: won and lost deals, won amount and won days of cycle."""

    def compute():
        segment = query.labels(deal_segments("d"))
        day = query.local_day("d.closed_at")
        return query.daily(
            f"""
            SELECT {day}, {segment.select()} AS seg,
                SUM(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END),
                SUM(CASE WHEN d.status = 'lost' THEN 1 ELSE 0 END),
                SUM(CASE WHEN d.status = 'won' THEN d.amount ELSE 0 END),
                SUM(CASE WHEN d.status = 'won' THEN {query.days_between("d.created_at", "d.closed_at")} ELSE 0 END)
            FROM sales_deal d
            {segment.joins}
            WHERE d.status IN ('won', 'lost') AND {query.in_days("d.closed_at")}
            GROUP BY {segment.group_by(day)}
            """,
            "won",
            "lost",
            "won_amount",
            "won_days",
        )

    return query.shared("won_deals", compute)


@register
class AverageOrderValue(Kpi):
    key = "average_order_value"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_order")
    name = "Average purchase value"
    area = "customers"
    unit = "money"
    formula = "Revenue / number of orders in the period."
    dimensions = ("channel", "region", "industry")

    def components(self, query):
        return orders_by_period(query)

    def value(self, c):
        return mean_value(c.get("revenue", 0), c.get("orders", 0))


@register
class RepeatPurchaseRate(Kpi):
    key = "repeat_purchase_rate"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_order")
    name = "Repeat purchase rate"
    area = "customers"
    unit = "percent"
    formula = (
        "Contacts with an order in the period who also had an order before its start / "
        "contacts with an order in the period x 100."
    )
    dimensions = ("channel", "region", "industry")

    def components(self, query):
        if counts_periods(query):  # a refresh of a few periods: counted with CLV's windows, one scan for all
            counted = counted_buyers(query)
            return {
                (period.start, segment_label): {
                    "buyers": buyers,
                    "repeat_buyers": counted[("repeat", key)].get(segment_label, 0),
                }
                for period in query.periods
                for key in [(query.granularity, period.start)]
                for segment_label, buyers in counted[("buyers", key)].items()
            }
        # Every granularity from one read of the orders: buyers per contact and period of each granularity.
        segment = query.labels(contact_segments("c"))
        buyers = query.each_granularity(
            "o.ordered_at",
            "SELECT o.contact_id, __G__ AS g, __BUCKET__ AS b FROM sales_order o WHERE __IN_RANGE__ "
            "GROUP BY o.contact_id, __BUCKET__",
        )
        return query.across(
            f"""
                    SELECT periods.g, periods.p, {segment.select()} AS seg, COUNT(*),
                        SUM(CASE WHEN firsts.first_at < periods.s THEN 1 ELSE 0 END)
                    FROM ({buyers}) buyers
                    JOIN periods ON periods.g = buyers.g AND periods.p = buyers.b
                    JOIN (
                        SELECT o.contact_id, MIN(o.ordered_at) AS first_at FROM sales_order o
                        WHERE o.ordered_at < {query.days_end()} GROUP BY o.contact_id
                    ) firsts ON firsts.contact_id = buyers.contact_id
                    JOIN contacts_contact c ON c.id = buyers.contact_id
                    {segment.joins}
                    GROUP BY {segment.group_by("periods.g", "periods.p")}
                    """,
            "buyers",
            "repeat_buyers",
        )

    def value(self, c):
        return rate_value(c.get("repeat_buyers", 0), c.get("buyers", 0))


def spend_by_period(query: Query, category: str, by_channel: bool) -> dict[Key, Components]:
    def compute():
        segment = "sg_ch.name" if by_channel else "'all'"
        joins = "LEFT JOIN contacts_channel sg_ch ON sg_ch.id = sp.channel_id" if by_channel else ""
        rows = keyed(
            query.fetch(
                f"""
                WITH {query.periods_cte()}
                SELECT periods.p, {segment} AS seg, SUM(sp.amount)
                FROM sales_spend sp
                JOIN periods ON periods.p = {query.bucket_date("sp.spent_on")}
                {joins}
                WHERE sp.category = '{category}' AND {query.in_date_range("sp.spent_on")}
                GROUP BY 1, 2
                """
            )
        )
        # Spend with no channel counts only in "all".
        return {key: {"spend": values[0]} for key, values in rows.items() if key[1] != NONE_LABEL}

    return query.shared(f"spend_{category}_{by_channel}", compute)


@register
class CustomerAcquisitionCost(Kpi):
    key = "cac"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_spend")
    name = "Customer acquisition cost"
    area = "customers"
    unit = "money"
    direction = "down"
    formula = (
        "Acquisition spend dated in the period / N. By channel: that channel's acquisition spend / N of that "
        "channel (spend with no channel counts only in all)."
    )
    dimensions = ("channel",)

    def components(self, query):
        spend = spend_by_period(query, "acquisition", by_channel=query.dimension == "channel")
        flows = customer_flows(query)
        new = {key: {"new": c.get("new", 0)} for key, c in flows.items() if key[1] != NONE_LABEL and c.get("new")}
        return merge(spend, new)

    def value(self, c):
        return mean_value(c.get("spend", 0), c.get("new", 0))


@register
class CustomerRetentionCost(Kpi):
    key = "crc"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_spend")
    name = "Customer retention cost"
    area = "customers"
    unit = "money"
    direction = "down"
    formula = "Retention spend dated in the period / R, the customers at its start who did not churn during it."
    dimensions = ()

    def components(self, query):
        return merge(spend_by_period(query, "retention", by_channel=False), customer_flows(query))

    def value(self, c):
        return mean_value(c.get("spend", 0), c.get("start", 0) - c.get("lost", 0))


@functools.cache
def covered_until(day: datetime.date) -> datetime.date:
    """The last window end D whose window [D - 12 months, D) still contains `day`.

    Usually day + 12 months; a day later when relativedelta clamps D - 12 months (D = 29 February: the window
    of 2028-02-29 starts on 2027-02-28, like that of 2028-02-28)."""
    end = day + CLV_WINDOW
    while end + ONE_DAY - CLV_WINDOW <= day:
        end += ONE_DAY
    return end


class WindowOrders:
    """Revenue, orders and buyers of any window of local days [first, end) from `since` on, per segment.

    Revenue and orders are prefix sums over the orders grouped by local day. Buyers come from islands: a
    contact's order days, merged while the next one falls within the windows the previous one counts in. A
    contact buys in the window ending at D iff one of its islands has first day < D <= covered_until(last
    day), so buyers(D) = islands starting before D - islands whose cover ended before D. With `buyers`, the
    buyers of a few windows counted in SQL instead: {(first, end): {segment: buyers}}.
    """

    def __init__(self, since: datetime.date, day_rows, islands: tuple[dict, dict] = ({}, {}), buyers=None):
        self.since = since
        # Buyers counted in SQL for each window asked for (`counted_buyers`), else from the islands: per segment,
        # the sorted first days and cover ends of its islands, as day ordinals (`islands_of_buying_days`).
        self.buyers = buyers
        self._starts, self._ends = islands
        totals: dict[str, dict[datetime.date, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for day, segment, revenue, orders in day_rows:
            entry = totals[label(segment)][_date(day)]
            entry[0] += revenue
            entry[1] += int(orders)
        self._days: dict[str, list[datetime.date]] = {}
        self._revenue: dict[str, list] = {}
        self._orders: dict[str, list[int]] = {}
        for segment, by_day in totals.items():
            days = sorted(by_day)
            revenue, orders = [0], [0]
            for day in days:
                revenue.append(revenue[-1] + by_day[day][0])
                orders.append(orders[-1] + by_day[day][1])
            self._days[segment], self._revenue[segment], self._orders[segment] = days, revenue, orders

    @property
    def segments(self) -> list[str]:
        return list(self._days)

    def window(self, segment: str, first: datetime.date, end: datetime.date) -> tuple:
        """(revenue, orders, buyers) of the local days [first, end); first must not be before `since`."""
        days = self._days.get(segment)
        if not days:
            return 0, 0, 0
        before_end, before_first = bisect.bisect_left(days, end), bisect.bisect_left(days, first)
        revenue = self._revenue[segment][before_end] - self._revenue[segment][before_first]
        orders = self._orders[segment][before_end] - self._orders[segment][before_first]
        if self.buyers is not None:
            return revenue, orders, self.buyers[(first, end)].get(segment, 0)
        day = end.toordinal()
        buyers = bisect.bisect_left(self._starts.get(segment, ()), day) - bisect.bisect_left(
            self._ends.get(segment, ()), day
        )
        return revenue, orders, buyers


def _date(value) -> datetime.date:
    return datetime.date.fromisoformat(str(value)[:10])


def window_orders(query: Query) -> WindowOrders:
    """The orders of every CLV window of the query: the per-day rows revenue reads, and the islands of buying
    days of each contact from the earliest window's start."""

    def compute(since: datetime.date) -> WindowOrders:
        # The per-day rows revenue reads too (the same query, run once).
        day_rows = query.daily_rows(order_days_sql(query), first=since)
        if len(windows) <= COUNTED_WINDOWS:
            counted = counted_buyers(query)
            return WindowOrders(since, day_rows, buyers={window: counted[("window", window)] for window in windows})
        return WindowOrders(since, day_rows, islands_of_buying_days(query, since))

    # The same for every granularity whose windows start on or after `since` (and, counted in SQL, are among
    # those counted): memoised per dimension.
    since = orders_first_day(query)
    windows = clv_windows_of(query)
    key = ("window_orders", query.dimension)
    kept = query.memo.get(key)
    if kept is None or kept.since > since or (kept.buyers is not None and not set(windows) <= set(kept.buyers)):
        query.memo[key] = compute(since)
    return query.memo[key]


def islands_of_buying_days(query: Query, since: datetime.date) -> tuple[dict, dict]:
    """This dimension's islands of buying days from `since` on: {segment: sorted first days}, {segment: sorted
    ends of the days their windows cover}, as arrays of day ordinals. One read of the rows, streamed, for every
    dimension at once (a refresh of history holds a few hundred thousand islands: as Python rows, hundreds of
    megabytes; as ordinals, a few)."""
    segment = query.labels(contact_segments("c"))
    dimensions = list(segment.expressions)
    key = ("islands", since, *dimensions)
    if key not in query.memo:
        starts = {dimension: defaultdict(list) for dimension in dimensions}
        ends = {dimension: defaultdict(list) for dimension in dimensions}

        def add(island) -> None:
            first, cover_end = island[2].toordinal(), covered_until(island[3]).toordinal()
            for dimension, name in zip(dimensions, island[1], strict=True):
                starts[dimension][label(name)].append(first)
                ends[dimension][label(name)].append(cover_end)

        # Rows are islands of days at most 365 days apart, by contact and first day: merge those that the
        # exact 12 months still join (366 days across a 29 February, or a 28 February before one).
        island = None  # [contact, labels, first day, last day]
        for contact, first, last, *labels in query.stream(
            f"""
            WITH days AS (
                SELECT o.contact_id, {query.local_day("o.ordered_at")} AS d FROM sales_order o
                -- Window bounds are local midnights: ordered_at >= midnight of a day <=> its local day >= it.
                WHERE o.ordered_at >= {query.instant(local_midnight(since))} GROUP BY 1, 2
            ), marked AS (
                SELECT contact_id, d, CASE WHEN LAG(d) OVER (PARTITION BY contact_id ORDER BY d)
                    >= {query.days_later("d", -365)} THEN 0 ELSE 1 END AS opens
                FROM days
            ), numbered AS (
                SELECT contact_id, d,
                    SUM(opens) OVER (PARTITION BY contact_id ORDER BY d ROWS UNBOUNDED PRECEDING) AS island
                FROM marked
            ), islands AS (
                SELECT contact_id, MIN(d) AS first_day, MAX(d) AS last_day FROM numbered GROUP BY contact_id, island
            )
            SELECT islands.contact_id, islands.first_day, islands.last_day, {segment.columns()}
            FROM islands
            JOIN contacts_contact c ON c.id = islands.contact_id
            {segment.joins}
            ORDER BY islands.contact_id, islands.first_day
            """
        ):
            first, last = _date(first), _date(last)
            if island and island[0] == contact and first <= covered_until(island[3]):
                island[3] = last
                continue
            if island:
                add(island)
            island = [contact, labels, first, last]
        if island:
            add(island)
        query.memo[key] = {
            dimension: (
                {name: array.array("l", sorted(days)) for name, days in starts[dimension].items()},
                {name: array.array("l", sorted(days)) for name, days in ends[dimension].items()},
            )
            for dimension in dimensions
        }
    return query.memo[key][query.dimension]


# Up to this many CLV windows in a refresh (the open periods: one or two of each granularity), each window's
# buyers are counted in SQL, from one grouping of the orders by contact; more (a refresh of history: a window
# per week, month, quarter and year), and the islands of buying days serve them all from one pass.
COUNTED_WINDOWS = 16
# Likewise, up to this many periods in a refresh (every granularity's), the buyers of each period and those who
# had bought before its start are counted in the same grouping; more, and one grouping of the orders per
# period of every granularity serves them (`RepeatPurchaseRate`).
COUNTED_PERIODS = 16


def clv_windows_of(query: Query) -> list[tuple[datetime.date, datetime.date]]:
    """The CLV windows [first, end) of every period of the refresh, as local days."""
    return sorted({(p.window_start, p.end) for periods in query.granularities.values() for p in periods})


def counts_periods(query: Query) -> bool:
    return sum(len(periods) for periods in query.granularities.values()) <= COUNTED_PERIODS


def counted_buyers(query: Query) -> dict:
    """For this query's dimension, {segment: contacts} with an order in each counted CLV window W, keyed
    ("window", (first, end)), and in each counted period P of every granularity, keyed ("buyers", (granularity,
    P's first day)), with ("repeat", ...) those of them whose first order came before P's start. One grouping
    of the orders by contact, with a flag per window and period, serves them all, for every dimension at once;
    kept for the whole refresh."""
    windows = clv_windows_of(query)
    if len(windows) > COUNTED_WINDOWS:
        windows = []
    periods = [(g, period) for g, periods in query.granularities.items() for period in periods]
    if not counts_periods(query):
        periods = []
    ranges = [(local_midnight(first), local_midnight(end)) for first, end in windows]
    ranges += [(period.starts_at, period.ends_at) for _, period in periods]
    flags = ", ".join(
        f"MAX(CASE WHEN o.ordered_at >= {query.instant(start)} AND o.ordered_at < {query.instant(end)} "
        f"THEN 1 ELSE 0 END) AS f{index}"
        for index, (start, end) in enumerate(ranges)
    )
    keys, sums = [], []
    for index, window in enumerate(windows):
        keys.append(("window", window))
        sums.append(f"SUM(b.f{index})")
    for index, (granularity, period) in enumerate(periods, start=len(windows)):
        keys += [("buyers", (granularity, period.start)), ("repeat", (granularity, period.start))]
        sums += [
            f"SUM(b.f{index})",
            f"SUM(CASE WHEN b.f{index} = 1 AND b.first_at < {query.instant(period.starts_at)} THEN 1 ELSE 0 END)",
        ]
    if not keys:
        return {}
    segment = query.labels(contact_segments("c"))
    # Whether a buyer of P had bought before P's start needs its first order of all: then every order is read.
    since = f"o.ordered_at >= {query.instant(min(start for start, _ in ranges))} AND " if not periods else ""
    grouping = segment.group_by()
    sql = f"""
        SELECT 0, {segment.select()} AS seg, {", ".join(sums)}
        FROM (
            SELECT o.contact_id, {flags}, MIN(o.ordered_at) AS first_at FROM sales_order o
            WHERE {since}o.ordered_at < {query.instant(max(end for _, end in ranges))}
            GROUP BY o.contact_id
        ) b
        JOIN contacts_contact c ON c.id = b.contact_id
        {segment.joins}
        {f"GROUP BY {grouping}" if grouping else ""}
        """
    memo_key = ("counted_buyers", sql)
    if memo_key not in query.memo:
        by_dimension: dict[str, dict] = {}
        for _, seg, *counts in query.fetch(sql):
            dimension, segment_label = seg.split(SEPARATOR, 1)
            kept = by_dimension.setdefault(dimension, {key: {} for key in keys})
            for key, count in zip(keys, counts, strict=True):
                if count:
                    kept[key][label(segment_label)] = int(count)
        query.memo[memo_key] = by_dimension
    return query.memo[memo_key].get(query.dimension, {key: {} for key in keys})


def clv_windows(query: Query) -> dict[Key, Components]:
    """Per period P and segment, over W = the twelve months ending at P's end: revenue, orders,
    buyers, customers at W's start (S) and those of them who churned in W (L), and the new
    customers and acquisition spend of W (for the CLV to CAC ratio)."""

    def compute():
        segment = query.labels(contact_segments("c"))
        first_window_start = min(period.window_start for period in query.periods)
        windows = window_orders(query)
        orders = {}
        for segment_label in windows.segments:
            for period in query.periods:
                revenue, count, buyers = windows.window(segment_label, period.window_start, period.end)
                if count:
                    orders[(period.start, segment_label)] = {"revenue": revenue, "orders": count, "buyers": buyers}
        # L: customers at W's start who churned in W, a range join over the few contacts who churned.
        lost = keyed(
            query.split(
                f"""
                WITH {query.periods_cte()}
                SELECT periods.p, {segment.select()} AS seg, COUNT(*)
                FROM contacts_contact c
                JOIN periods ON c.churned_at > periods.w AND c.churned_at < periods.e
                    AND c.customer_since <= periods.w
                {segment.joins}
                WHERE c.churned_at > {query.instant(local_midnight(first_window_start))}
                    AND c.churned_at < {query.instant(query.range_end)}
                GROUP BY {segment.group_by("periods.p")}
                """
            )
        )
        # N over W and S (customers at W's start) from the scan of contacts every granularity shares.
        counts = customer_counts(query)
        churn_and_new, start = {}, {}
        for segment_label in set(counts.segments) | {key[1] for key in lost}:
            for period in query.periods:
                key = (period.start, segment_label)
                new = counts.joined(segment_label, period.window_start, period.end)
                churned = lost.get(key, (0,))[0]
                if new or churned:
                    churn_and_new[key] = {"lost": churned, "new": new}
                customers = counts.at(segment_label, period.window_start)
                if customers:
                    start[key] = {"start": customers}
        return merge(orders, churn_and_new, start)

    return query.shared("clv_windows", compute)


def clv_of(c: Components) -> Value:
    """Average purchase value x purchase frequency x lifespan x gross margin, over the window."""
    revenue, orders, buyers = number(c.get("revenue")), number(c.get("orders")), number(c.get("buyers"))
    start, lost = number(c.get("start")), number(c.get("lost"))
    margin = number(getattr(settings, "KPI_GROSS_MARGIN", 1))
    details = {"revenue": str(revenue), "orders": int(orders), "buyers": int(buyers), "start": int(start)}
    details["lost"] = int(lost)
    if not orders or not buyers or not lost or not start:
        return Value(None, None, None, int(buyers), details=details)
    revenue_per_buyer = revenue / orders * (orders / buyers)
    annual_churn = lost / start
    details["average_purchase_value"] = str(revenue / orders)
    details["purchase_frequency"] = str(orders / buyers)
    details["lifespan_years"] = str(1 / annual_churn)
    return Value(revenue_per_buyer / annual_churn * margin, revenue_per_buyer * margin, annual_churn, int(buyers))


@register
class CustomerLifetimeValue(Kpi):
    key = "clv"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_order")
    name = "Customer lifetime value"
    area = "customers"
    unit = "money"
    formula = (
        "Average purchase value x purchase frequency x customer lifespan, over the 12 months ending at the "
        "period's end (W): average purchase value = revenue in W / orders in W; purchase frequency = orders in W / "
        "contacts with an order in W; lifespan (years) = 1 / annual churn, annual churn = L / S over W. "
        "Empty when no customer churned in W. Multiplied by the gross margin setting."
    )
    dimensions = ("channel", "region", "industry")

    def components(self, query):
        return clv_windows(query)

    def value(self, c):
        return clv_of(c)


@register
class ClvCacRatio(Kpi):
    key = "clv_cac_ratio"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_order", "sales_spend")
    name = "CLV to CAC ratio"
    area = "customers"
    unit = "ratio"
    formula = "CLV / CAC over the same 12 months W (acquisition spend in W / new customers in W)."
    dimensions = ("channel",)

    def components(self, query):
        windows = clv_windows(query)
        by_channel = query.dimension == "channel"
        segment = "sg_ch.name" if by_channel else "'all'"
        joins = "LEFT JOIN contacts_channel sg_ch ON sg_ch.id = sp.channel_id" if by_channel else ""
        spend = keyed(
            query.fetch(
                f"""
                WITH {query.periods_cte()}
                SELECT periods.p, {segment} AS seg, SUM(sp.amount)
                FROM sales_spend sp
                JOIN periods ON sp.spent_on >= periods.wd AND sp.spent_on < periods.ed
                {joins}
                WHERE sp.category = 'acquisition'
                    AND sp.spent_on >= {query.day(query.periods[0].window_start)}
                    AND sp.spent_on < {query.day(query.periods[-1].end)}
                GROUP BY 1, 2
                """
            )
        )
        spend = {key: {"spend": values[0]} for key, values in spend.items() if key[1] != NONE_LABEL}
        windows = {key: c for key, c in windows.items() if not (by_channel and key[1] == NONE_LABEL)}
        return merge(windows, spend)

    def value(self, c):
        clv = clv_of(c).value
        new, spend = number(c.get("new")), number(c.get("spend"))
        cac = spend / new if new else None
        if clv is None or not cac:
            return Value(None, clv, cac, int(number(c.get("new"))))
        return Value(clv / cac, clv, cac, int(new))


@register
class UpsellRate(Kpi):
    key = "upsell_rate"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_deal")
    name = "Upsell and cross-sell rate"
    area = "customers"
    unit = "percent"
    formula = (
        "Distinct customers at the period's start with a won upsell or cross-sell deal closed in the period / "
        "customers at its start x 100."
    )
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        segment = query.labels(contact_segments("c"))
        bucket = query.bucket("d.closed_at")
        upsold = query.aggregate(
            f"""
                    SELECT periods.p, {segment.select()} AS seg, COUNT(*)
                    FROM (
                        SELECT d.contact_id, {bucket} AS b FROM sales_deal d
                        WHERE d.status = 'won' AND d.kind IN ('upsell', 'cross_sell')
                            AND {query.in_range("d.closed_at")}
                        GROUP BY 1, 2
                    ) upsells
                    JOIN periods ON periods.p = upsells.b
                    JOIN contacts_contact c ON c.id = upsells.contact_id
                    {segment.joins}
                    WHERE c.customer_since <= periods.s AND (c.churned_at IS NULL OR c.churned_at > periods.s)
                    GROUP BY {segment.group_by("periods.p")}
                    """,
            "upsold",
        )
        return merge(customer_flows(query), upsold)

    def value(self, c):
        return rate_value(c.get("upsold", 0), c.get("start", 0))


@register
class RenewalRate(Kpi):
    key = "renewal_rate"
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "sales_subscription")
    name = "Rate of renewal"
    area = "customers"
    unit = "percent"
    formula = (
        "Subscriptions ending in the period with outcome renewed / subscriptions ending in the period with "
        "outcome renewed, cancelled or expired x 100."
    )
    dimensions = ("channel", "region", "industry")

    def components(self, query):
        segment = query.labels(contact_segments("c"))
        return query.daily(
            f"""
            SELECT s.ends_on, {segment.select()} AS seg,
                SUM(CASE WHEN s.outcome = 'renewed' THEN 1 ELSE 0 END), COUNT(*)
            FROM sales_subscription s
            JOIN contacts_contact c ON c.id = s.contact_id
            {segment.joins}
            WHERE s.outcome IN ('renewed', 'cancelled', 'expired') AND {query.in_dates("s.ends_on")}
            GROUP BY {segment.group_by("s.ends_on")}
            """,
            "renewed",
            "ended",
        )

    def value(self, c):
        return rate_value(c.get("renewed", 0), c.get("ended", 0))


@register
class Engagement(Kpi):
    key = "engagement"
    accumulates = True
    reads = ("auth_user", "contacts_channel", "contacts_company", "contacts_contact", "contacts_interaction")
    name = "Customer engagement"
    area = "customers"
    unit = "per_customer"
    formula = (
        "Interactions in the period with contacts that were customers at some instant of it / number of those "
        "customers (interactions per customer)."
    )
    note = "The share of those customers with at least one interaction is shown beside it."
    dimensions = CUSTOMER_DIMENSIONS

    def components(self, query):
        segment = query.labels(contact_segments("c"))
        # One row per contact and period first: the engaged count is then a plain count, not a DISTINCT. Every
        # granularity from one read of the interactions.
        per_contact = query.each_granularity(
            "i.occurred_at",
            f"""
                        SELECT i.contact_id, __G__ AS g, __BUCKET__ AS b, COUNT(*) AS n
                        FROM contacts_interaction i
                        JOIN contacts_contact cs ON cs.id = i.contact_id AND cs.customer_since < {query.days_end()}
                        WHERE __IN_RANGE__ GROUP BY i.contact_id, __BUCKET__
                        """,
        )
        touched = query.across(
            f"""
                    SELECT periods.g, periods.p, {segment.select()} AS seg, SUM(per_contact.n), COUNT(*)
                    FROM ({per_contact}) per_contact
                    JOIN periods ON periods.g = per_contact.g AND periods.p = per_contact.b
                    JOIN contacts_contact c ON c.id = per_contact.contact_id
                    {segment.joins}
                    WHERE c.customer_since < periods.e
                        AND (c.churned_at IS NULL OR (c.churned_at > periods.s AND c.churned_at > c.customer_since))
                    GROUP BY {segment.group_by("periods.g", "periods.p")}
                    """,
            "interactions",
            "engaged",
        )
        return merge(customer_flows(query), touched)

    def value(self, c):
        customers = number(c.get("start", 0)) + number(c.get("joined_after_start", 0))
        result = mean_value(c.get("interactions", 0), customers)
        engaged = number(c.get("engaged", 0))
        result.details = {
            "engaged": int(engaged),
            "engaged_share": str(engaged / customers * 100) if customers else None,
        }
        return result
