-- churn_rate (KPIS.md): L / S x 100 per local month. S = customers at the month's start; L = those of S whose
-- churned_at falls in the month. Contacts are rolled up once by month index: `joined` / `left_by` = the first
-- month start at or after customer_since / churned_at, `left_in` = the month holding churned_at.
-- A customer at the start of month m has joined <= m < left_by; lost in m when also left_in = m.
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
           coalesce(sum(contacts) FILTER (WHERE spans.left_in = month_index), 0) AS lost
    FROM months
    LEFT JOIN spans ON spans.joined <= month_index AND (spans.left_by IS NULL OR spans.left_by > month_index)
    GROUP BY month_index
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       lost * 100.0 / nullif(at_start, 0) AS value, lost::numeric AS numerator, at_start::numeric AS denominator
FROM counts
ORDER BY month_index
