-- average_order_value (KPIS.md): revenue / number of orders with ordered_at in the local month; empty without orders.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
monthly AS (
    SELECT date_trunc('month', ordered_at AT TIME ZONE %(tz)s)::date AS month, sum(amount) AS revenue,
           count(*) AS orders
    FROM sales_order
    WHERE ordered_at >= %(first)s::timestamp AT TIME ZONE %(tz)s
      AND ordered_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT months.month, monthly.revenue / monthly.orders AS value, coalesce(monthly.revenue, 0)::numeric AS numerator,
       coalesce(monthly.orders, 0)::numeric AS denominator
FROM months
LEFT JOIN monthly USING (month)
ORDER BY months.month
