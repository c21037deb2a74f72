-- bookings (KPIS.md): the sum of amounts of won deals whose closed_at falls in the local month; 0 when none.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
monthly AS (
    SELECT date_trunc('month', closed_at AT TIME ZONE %(tz)s)::date AS month, sum(amount) AS bookings
    FROM sales_deal
    WHERE status = 'won'
      AND closed_at >= %(first)s::timestamp AT TIME ZONE %(tz)s
      AND closed_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT months.month, coalesce(monthly.bookings, 0)::numeric AS value, NULL::numeric AS numerator,
       NULL::numeric AS denominator
FROM months
LEFT JOIN monthly USING (month)
ORDER BY months.month
