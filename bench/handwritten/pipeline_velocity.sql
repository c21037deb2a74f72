-- Sales pipeline velocity (KPIS.md `pipeline_velocity`), whole business, in money per day, for each local month P:
-- open deals at P's end (created before it and not closed before it) x win rate of P (as a fraction) x average
-- deal size of P / sales cycle length of P (mean days of the deals won in P). numerator = open x win rate x
-- average deal size, denominator = the cycle; empty when P has no won deal (or a cycle of zero days).
-- Open deals at an instant t = deals created before t - deals closed before t (a deal closes after it opens), kept
-- as a running sum over the months from the count at the first month's start.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
opened AS (
    -- one scan: deals created in each month, and (month NULL) those created before the first month, with how
    -- many of them closed before it too
    SELECT CASE WHEN d.created_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
            THEN date_trunc('month', d.created_at AT TIME ZONE %(tz)s)::date END AS month,
        count(*) AS deals, count(*) FILTER (WHERE d.closed_at < %(first)s::date::timestamp AT TIME ZONE %(tz)s) AS gone
    FROM sales_deal d
    WHERE d.created_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
),
closed AS (
    SELECT date_trunc('month', d.closed_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS deals,
        count(*) FILTER (WHERE d.status = 'won') AS won, sum(d.amount) FILTER (WHERE d.status = 'won') AS amount,
        sum(extract(epoch FROM d.closed_at - d.created_at) / 86400) FILTER (WHERE d.status = 'won') AS days
    FROM sales_deal d
    WHERE d.closed_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND d.closed_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
),
open_at_first AS (
    SELECT coalesce(sum(deals - gone), 0) AS deals FROM opened WHERE month IS NULL
),
series AS (
    SELECT m.month,
        f.deals + sum(coalesce(o.deals, 0) - coalesce(c.deals, 0)) OVER (ORDER BY m.month) AS open_deals,
        c.won, c.deals AS decided, c.amount, c.days
    FROM months m
    CROSS JOIN open_at_first f
    LEFT JOIN opened o USING (month)
    LEFT JOIN closed c USING (month)
),
factors AS (
    -- open x (won / decided) x (amount / won) = open x amount / decided; a closed deal is won or lost
    SELECT s.*, s.open_deals * s.amount / nullif(s.decided, 0) AS numerator, s.days / nullif(s.won, 0) AS cycle
    FROM series s
)
SELECT month, numerator / nullif(cycle, 0) AS value,
    CASE WHEN cycle > 0 THEN numerator END AS numerator, CASE WHEN cycle > 0 THEN cycle END AS denominator
FROM factors
ORDER BY month
