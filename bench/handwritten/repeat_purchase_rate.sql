-- repeat_purchase_rate (KPIS.md): contacts with an order in the local month who also ordered before its start /
-- contacts with an order in the month x 100. Orders are rolled up to customer-months (all history up to the
-- last month); a customer-month is a repeat when the contact's first ordering month is earlier.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
customer_months AS (
    SELECT contact_id, date_trunc('month', ordered_at AT TIME ZONE %(tz)s)::date AS month
    FROM sales_order
    WHERE ordered_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1, 2
),
flagged AS (
    SELECT month, month > min(month) OVER (PARTITION BY contact_id) AS repeat
    FROM customer_months
),
monthly AS (
    SELECT month, count(*) FILTER (WHERE repeat) AS repeat_buyers, count(*) AS buyers
    FROM flagged
    WHERE month >= %(first)s::date
    GROUP BY month
)
SELECT months.month, monthly.repeat_buyers * 100.0 / monthly.buyers AS value,
       coalesce(monthly.repeat_buyers, 0)::numeric AS numerator, coalesce(monthly.buyers, 0)::numeric AS denominator
FROM months
LEFT JOIN monthly USING (month)
ORDER BY months.month
