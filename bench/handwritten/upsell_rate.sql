-- upsell_rate (KPIS.md): distinct customers at the local month's start with a won upsell or cross_sell deal
-- closed in the month / customers at the month's start (S) x 100. Month indexes (year x 12 + month - 1): a contact
-- is a customer at the start of month k when joined <= k < left_by, the first month starts at or after its
-- customer_since / churned_at.
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
    WHERE customer_since IS NOT NULL
),
customers AS (
    SELECT id,
           (date_part('year', since) * 12 + date_part('month', since) - 1)::int
               + (since > date_trunc('month', since))::int AS joined,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int
               + (churned > date_trunc('month', churned))::int AS left_by
    FROM local
),
spans AS (
    SELECT joined, left_by, count(*) AS contacts FROM customers GROUP BY 1, 2
),
at_start AS (
    SELECT month_index, coalesce(sum(spans.contacts), 0) AS customers
    FROM months
    LEFT JOIN spans ON spans.joined <= month_index AND (spans.left_by IS NULL OR spans.left_by > month_index)
    GROUP BY month_index
),
upsold AS (
    SELECT deals.month_index, count(DISTINCT deals.contact_id) AS customers
    FROM (
        SELECT contact_id,
               (date_part('year', closed_at AT TIME ZONE %(tz)s) * 12
                   + date_part('month', closed_at AT TIME ZONE %(tz)s) - 1)::int AS month_index
        FROM sales_deal
        WHERE status = 'won' AND kind IN ('upsell', 'cross_sell')
          AND closed_at >= %(first)s::timestamp AT TIME ZONE %(tz)s
          AND closed_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    ) AS deals
    JOIN customers ON customers.id = deals.contact_id
    WHERE customers.joined <= deals.month_index
      AND (customers.left_by IS NULL OR customers.left_by > deals.month_index)
    GROUP BY 1
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       coalesce(upsold.customers, 0) * 100.0 / nullif(at_start.customers, 0) AS value,
       coalesce(upsold.customers, 0)::numeric AS numerator, at_start.customers::numeric AS denominator
FROM at_start
LEFT JOIN upsold USING (month_index)
ORDER BY month_index
