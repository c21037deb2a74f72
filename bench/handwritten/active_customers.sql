-- active_customers (KPIS.md): E, the customers at the end of the local month (customer_since <= end and
-- churned_at empty or after it). Contacts are rolled up once into (month index of the first month start at or
-- after customer_since, same for churned_at); E of month m counts the groups that joined by m + 1 and left after it.
WITH bounds AS (
    SELECT (date_part('year', %(first)s::date) * 12 + date_part('month', %(first)s::date) - 1)::int AS first_index,
           (date_part('year', %(stop)s::date) * 12 + date_part('month', %(stop)s::date) - 1)::int AS stop_index
),
local AS (
    SELECT customer_since AT TIME ZONE %(tz)s AS since, churned_at AT TIME ZONE %(tz)s AS churned
    FROM contacts_contact
    WHERE customer_since IS NOT NULL
),
spans AS (
    SELECT (date_part('year', since) * 12 + date_part('month', since) - 1)::int
               + (since > date_trunc('month', since))::int AS joined,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int
               + (churned > date_trunc('month', churned))::int AS left_by,
           count(*) AS contacts
    FROM local
    GROUP BY 1, 2
),
months AS (
    SELECT generate_series(first_index, stop_index - 1) AS month_index FROM bounds
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       coalesce(sum(spans.contacts), 0)::numeric AS value, NULL::numeric AS numerator, NULL::numeric AS denominator
FROM months
LEFT JOIN spans ON spans.joined <= month_index + 1 AND (spans.left_by IS NULL OR spans.left_by > month_index + 1)
GROUP BY month_index
ORDER BY month_index
