-- First response time (KPIS.md `first_response_time`), whole business: median hours (with fractions) from
-- created_at to first_response_at of the tickets created in each local month that have a first response;
-- empty when none has. No numerator or denominator (a median).
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
created AS (
    SELECT date_trunc('month', t.created_at AT TIME ZONE %(tz)s)::date AS month,
        extract(epoch FROM t.first_response_at - t.created_at) / 3600 AS hours
    FROM support_ticket t
    WHERE t.first_response_at IS NOT NULL AND t.created_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND t.created_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
),
times AS (
    SELECT month, percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median
    FROM created
    GROUP BY month
)
SELECT m.month, t.median::numeric AS value, NULL::numeric AS numerator, NULL::numeric AS denominator
FROM months m
LEFT JOIN times t USING (month)
ORDER BY m.month
