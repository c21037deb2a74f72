-- engagement (KPIS.md): interactions in the local month with contacts that were customers at some instant of it /
-- the number of those customers; empty when there are none. A contact is a customer at some instant of month m
-- when customer_since < its end, churned_at (if any) > its start, and churned_at > customer_since. In month
-- indexes (year x 12 + month - 1): joined_in <= m < left_by, the month of customer_since and the first month start
-- at or after churned_at.
WITH bounds AS (
    SELECT (date_part('year', %(first)s::date) * 12 + date_part('month', %(first)s::date) - 1)::int AS first_index,
           (date_part('year', %(stop)s::date) * 12 + date_part('month', %(stop)s::date) - 1)::int AS stop_index
),
months AS (
    SELECT generate_series(first_index, stop_index - 1) AS month_index FROM bounds
),
local AS (
    SELECT id, customer_since AT TIME ZONE %(tz)s AS since, churned_at AT TIME ZONE %(tz)s AS churned
    FROM contacts_contact
    WHERE customer_since IS NOT NULL AND (churned_at IS NULL OR churned_at > customer_since)
),
customers AS (
    SELECT id,
           (date_part('year', since) * 12 + date_part('month', since) - 1)::int AS joined_in,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int
               + (churned > date_trunc('month', churned))::int AS left_by
    FROM local
),
spans AS (
    SELECT joined_in, left_by, count(*) AS contacts FROM customers GROUP BY 1, 2
),
active AS (
    SELECT month_index, coalesce(sum(spans.contacts), 0) AS customers
    FROM months
    LEFT JOIN spans ON spans.joined_in <= month_index AND (spans.left_by IS NULL OR spans.left_by > month_index)
    GROUP BY month_index
),
touches AS (
    SELECT touched.month_index, count(*) AS interactions
    FROM (
        SELECT contact_id,
               (date_part('year', occurred_at AT TIME ZONE %(tz)s) * 12
                   + date_part('month', occurred_at AT TIME ZONE %(tz)s) - 1)::int AS month_index
        FROM contacts_interaction
        WHERE occurred_at >= %(first)s::timestamp AT TIME ZONE %(tz)s
          AND occurred_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    ) AS touched
    JOIN customers ON customers.id = touched.contact_id
    WHERE customers.joined_in <= touched.month_index
      AND (customers.left_by IS NULL OR customers.left_by > touched.month_index)
    GROUP BY 1
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       coalesce(touches.interactions, 0)::numeric / nullif(active.customers, 0) AS value,
       coalesce(touches.interactions, 0)::numeric AS numerator, active.customers::numeric AS denominator
FROM active
LEFT JOIN touches USING (month_index)
ORDER BY month_index
