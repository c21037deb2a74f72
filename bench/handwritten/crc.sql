-- crc (KPIS.md): retention spend dated in the local month / R, the customers at the month's start that did not
-- churn during it; empty when R is 0. R as in retention_rate: contacts rolled up by month index, `joined` /
-- `left_by` = first month start at or after customer_since / churned_at, `left_in` = the month of churned_at.
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
retained AS (
    SELECT month_index, coalesce(sum(contacts) FILTER (WHERE spans.left_in IS DISTINCT FROM month_index), 0) AS retained
    FROM months
    LEFT JOIN spans ON spans.joined <= month_index AND (spans.left_by IS NULL OR spans.left_by > month_index)
    GROUP BY month_index
),
spend AS (
    SELECT (date_part('year', spent_on) * 12 + date_part('month', spent_on) - 1)::int AS month_index,
           sum(amount) AS spend
    FROM sales_spend
    WHERE category = 'retention' AND spent_on >= %(first)s::date AND spent_on < %(stop)s::date
    GROUP BY 1
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       coalesce(spend.spend, 0) / nullif(retained.retained, 0) AS value, coalesce(spend.spend, 0)::numeric AS numerator,
       retained.retained::numeric AS denominator
FROM retained
LEFT JOIN spend USING (month_index)
ORDER BY month_index
