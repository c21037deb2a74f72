-- clv_cac_ratio (KPIS.md): clv / CAC over the window W of the 12 local months ending with the month, where
-- CAC over W = acquisition spend dated in W / N in W (contacts whose customer_since falls in W); empty when clv is
-- empty or that CAC is empty or 0. clv as in clv.sql: (revenue in W / contacts with an order in W) x (S / L over W)
-- x gross margin, S = customers at W's start, L = those of S whose churned_at falls in W.
-- Month indexes (year x 12 + month - 1): contacts roll up by `joined` / `left_by` (first month start at or after
-- customer_since / churned_at) and `joined_in` / `left_in` (month of customer_since / churned_at); a customer at
-- the start of month k has joined <= k < left_by. Buyers in W come from customer-months: each one adds +1 from the
-- first window it opens for its contact and -1 after the last, and a running sum counts them.
WITH bounds AS (
    SELECT (date_part('year', %(first)s::date) * 12 + date_part('month', %(first)s::date) - 1)::int AS first_index,
           (date_part('year', %(stop)s::date) * 12 + date_part('month', %(stop)s::date) - 1)::int AS stop_index
),
local AS (
    SELECT customer_since AT TIME ZONE %(tz)s AS since, churned_at AT TIME ZONE %(tz)s AS churned
    FROM contacts_contact
    WHERE customer_since IS NOT NULL
),
spans AS MATERIALIZED (
    SELECT (date_part('year', since) * 12 + date_part('month', since) - 1)::int
               + (since > date_trunc('month', since))::int AS joined,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int
               + (churned > date_trunc('month', churned))::int AS left_by,
           (date_part('year', churned) * 12 + date_part('month', churned) - 1)::int AS left_in,
           (date_part('year', since) * 12 + date_part('month', since) - 1)::int AS joined_in,
           count(*) AS contacts
    FROM local
    GROUP BY 1, 2, 3, 4
),
customer_months AS MATERIALIZED (
    SELECT contact_id,
           (date_part('year', ordered_at AT TIME ZONE %(tz)s) * 12
               + date_part('month', ordered_at AT TIME ZONE %(tz)s) - 1)::int AS month_index,
           sum(amount) AS revenue
    FROM sales_order
    WHERE ordered_at >= (%(first)s::timestamp - interval '11 months') AT TIME ZONE %(tz)s
      AND ordered_at < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1, 2
),
order_months AS (
    SELECT month_index, sum(revenue) AS revenue FROM customer_months GROUP BY 1
),
-- A customer-month opens the windows ending from it (or from 12 months after the contact's previous ordering
-- month) to 11 months after it.
buyer_steps AS (
    SELECT month_index, sum(step) AS step
    FROM (
        SELECT greatest(month_index, lag(month_index) OVER (PARTITION BY contact_id ORDER BY month_index) + 12)
                   AS month_index,
               1 AS step
        FROM customer_months
        UNION ALL
        SELECT month_index + 12, -1 FROM customer_months
    ) AS steps
    GROUP BY 1
),
new_customers AS (
    SELECT joined_in AS month_index, sum(contacts) AS customers FROM spans GROUP BY 1
),
spend AS (
    SELECT (date_part('year', spent_on) * 12 + date_part('month', spent_on) - 1)::int AS month_index,
           sum(amount) AS spend
    FROM sales_spend
    WHERE category = 'acquisition'
      AND spent_on >= %(first)s::date - interval '11 months' AND spent_on < %(stop)s::date
    GROUP BY 1
),
rolling AS (
    SELECT month_index,
           sum(coalesce(order_months.revenue, 0)) OVER last_12 AS revenue,
           sum(coalesce(buyer_steps.step, 0)) OVER (ORDER BY month_index) AS buyers,
           sum(coalesce(new_customers.customers, 0)) OVER last_12 AS new_customers,
           sum(coalesce(spend.spend, 0)) OVER last_12 AS spend
    FROM bounds, generate_series(first_index - 11, stop_index - 1) AS month_index
    LEFT JOIN order_months USING (month_index)
    LEFT JOIN buyer_steps USING (month_index)
    LEFT JOIN new_customers USING (month_index)
    LEFT JOIN spend USING (month_index)
    WINDOW last_12 AS (ORDER BY month_index ROWS 11 PRECEDING)
),
windows AS (
    SELECT month_index, revenue, buyers, new_customers, spend,
           (SELECT sum(contacts) FROM spans
             WHERE joined <= month_index - 11 AND (left_by IS NULL OR left_by > month_index - 11)) AS at_start,
           (SELECT sum(contacts) FROM spans
             WHERE joined <= month_index - 11 AND left_by > month_index - 11 AND left_in <= month_index) AS lost
    FROM rolling, bounds
    WHERE month_index >= first_index
)
SELECT make_date(month_index / 12, mod(month_index, 12) + 1, 1) AS month,
       revenue / nullif(buyers, 0) * at_start / nullif(lost, 0) * %(gross_margin)s::numeric
           / nullif(spend / nullif(new_customers, 0), 0) AS value,
       NULL::numeric AS numerator, NULL::numeric AS denominator
FROM windows
ORDER BY month_index
