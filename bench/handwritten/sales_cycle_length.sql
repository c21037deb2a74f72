-- Sales cycle length (KPIS.md `sales_cycle_length`), whole business: mean days (with fractions) from created_at
-- to closed_at of the deals won with closed_at in each local month (numerator the summed days, denominator the
-- won deals); empty without a won deal.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
won AS (
    SELECT date_trunc('month', d.closed_at AT TIME ZONE %(tz)s)::date AS month,
        extract(epoch FROM d.closed_at - d.created_at) / 86400 AS days
    FROM sales_deal d
    WHERE d.status = 'won'
        AND d.closed_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND d.closed_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
),
cycles AS (
    SELECT month, sum(days) AS days, count(*) AS deals
    FROM won
    GROUP BY month
)
SELECT m.month, c.days / nullif(c.deals, 0) AS value, coalesce(c.days, 0)::numeric AS numerator,
    coalesce(c.deals, 0)::numeric AS denominator
FROM months m
LEFT JOIN cycles c USING (month)
ORDER BY m.month
