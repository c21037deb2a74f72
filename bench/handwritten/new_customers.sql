-- new_customers (KPIS.md): N, the contacts whose customer_since falls in the local month; a count, 0 when none.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
joined AS (
    SELECT date_trunc('month', customer_since AT TIME ZONE %(tz)s)::date AS month, count(*) AS customers
    FROM contacts_contact
    WHERE customer_since >= %(first)s::timestamp AT TIME ZONE %(tz)s
      AND customer_since < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT months.month, coalesce(joined.customers, 0)::numeric AS value, NULL::numeric AS numerator,
       NULL::numeric AS denominator
FROM months
LEFT JOIN joined USING (month)
ORDER BY months.month
