-- Close rate (KPIS.md `win_rate`), whole business: deals won with closed_at in each local month / deals won or
-- lost with closed_at in it, x 100; empty for a month without a closed deal.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
closed AS (
    SELECT date_trunc('month', d.closed_at AT TIME ZONE %(tz)s)::date AS month,
        count(*) FILTER (WHERE d.status = 'won') AS won, count(*) AS decided
    FROM sales_deal d
    WHERE d.status IN ('won', 'lost')
        AND d.closed_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND d.closed_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, c.won * 100.0 / nullif(c.decided, 0) AS value, coalesce(c.won, 0)::numeric AS numerator,
    coalesce(c.decided, 0)::numeric AS denominator
FROM months m
LEFT JOIN closed c USING (month)
ORDER BY m.month
