-- Lead conversion rate (KPIS.md `lead_conversion_rate`), whole business: of the leads created in each local
-- month, the share converted at any time so far (converted_at set), x 100; empty for a month without leads.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
created AS (
    SELECT date_trunc('month', l.created_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS leads,
        count(l.converted_at) AS converted
    FROM sales_lead l
    WHERE l.created_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND l.created_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, c.converted * 100.0 / nullif(c.leads, 0) AS value, coalesce(c.converted, 0)::numeric AS numerator,
    coalesce(c.leads, 0)::numeric AS denominator
FROM months m
LEFT JOIN created c USING (month)
ORDER BY m.month
