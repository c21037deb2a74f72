-- New leads (KPIS.md `new_leads`), whole business: leads whose created_at falls in each local month.
-- value = numerator = the count (0 for a month without leads); no denominator.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
created AS (
    SELECT date_trunc('month', l.created_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS leads
    FROM sales_lead l
    WHERE l.created_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND l.created_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, coalesce(c.leads, 0)::numeric AS value, coalesce(c.leads, 0)::numeric AS numerator,
    NULL::numeric AS denominator
FROM months m
LEFT JOIN created c USING (month)
ORDER BY m.month
