-- retention_rate (KPIS.md): R / S x 100 per local month, R = S - L: the customers at the month's start that did
-- not churn during it. Same roll-up as churn_rate: a customer at the start of month m has joined <= m < left_by
-- (first month start at or after customer_since / churned_at); retained unless churned_at falls in m.
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
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int AS left_in,
           count(*) AS contacts
    FROM local
    GROUP BY 1, 2, 3
),
months AS (
    SELECT generate_series(first_index, stop_index - 1) AS month_index FROM bounds
),
counts AS (
    SELECT month_index,
           coalesce(sum(contacts), 0) AS at_start,
           coalesce(sum(contacts) FILTER (WHERE spans.left_in IS DISTINCT FROM month_index), 0) AS retained
    FROM months
    LEFT JOIN spans ON spans.joined <= month_index AND (spans.left_by IS NULL OR spans.left_by > month_index)
    GROUP BY month_index
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       retained * 100.0 / nullif(at_start, 0) AS value, retained::numeric AS numerator,
       at_start::numeric AS denominator
FROM counts
ORDER BY month_index
