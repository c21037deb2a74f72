-- retention_rate (KPIS.md): (E - N') / S x 100 per local month: E the customers at the month's end, N' the
-- customers who joined during the month and are still customers at its end, S the customers at its start.
-- Month roll-up as churn_rate's: a customer at the start of month m has joined <= m < left_by (first month start
-- at or after customer_since / churned_at); at the end of month m, the same with m + 1.
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
    SELECT (date_part('year', since) * 12 + date_part('month', since) - 1)::int AS joined_in,
           (date_part('year', since) * 12 + date_part('month', since) - 1)::int
               + (since > date_trunc('month', since))::int AS joined,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int
               + (churned > date_trunc('month', churned))::int AS left_by,
           count(*) AS contacts
    FROM local
    GROUP BY 1, 2, 3
),
months AS (
    SELECT generate_series(first_index, stop_index - 1) AS month_index FROM bounds
),
counts AS (
    SELECT month_index,
           coalesce(sum(contacts) FILTER (
               WHERE joined <= month_index AND (left_by IS NULL OR left_by > month_index)), 0) AS at_start,
           coalesce(sum(contacts) FILTER (
               WHERE joined <= month_index + 1 AND (left_by IS NULL OR left_by > month_index + 1)), 0) AS at_end,
           coalesce(sum(contacts) FILTER (
               WHERE joined_in = month_index AND (left_by IS NULL OR left_by > month_index + 1)), 0) AS new_kept
    FROM months
    LEFT JOIN spans ON spans.joined_in <= month_index + 1
    GROUP BY month_index
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       (at_end - new_kept) * 100.0 / nullif(at_start, 0) AS value, (at_end - new_kept)::numeric AS numerator,
       at_start::numeric AS denominator
FROM counts
ORDER BY month_index
