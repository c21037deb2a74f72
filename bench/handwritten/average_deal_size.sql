-- Average deal size (KPIS.md `average_deal_size`), whole business: mean amount of the deals won with closed_at
-- in each local month (numerator the won amount, denominator the number of won deals); empty without a won deal.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
won AS (
    SELECT date_trunc('month', d.closed_at AT TIME ZONE %(tz)s)::date AS month, sum(d.amount) AS amount,
        count(*) AS deals
    FROM sales_deal d
    WHERE d.status = 'won'
        AND d.closed_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND d.closed_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, w.amount / nullif(w.deals, 0) AS value, coalesce(w.amount, 0)::numeric AS numerator,
    coalesce(w.deals, 0)::numeric AS denominator
FROM months m
LEFT JOIN won w USING (month)
ORDER BY m.month
