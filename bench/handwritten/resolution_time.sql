-- Resolution time (KPIS.md `resolution_time`), whole business: median hours (with fractions) from created_at to
-- resolved_at of the tickets whose resolved_at falls in each local month; empty when none does. No numerator or
-- denominator (a median).
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
resolved AS (
    SELECT date_trunc('month', t.resolved_at AT TIME ZONE %(tz)s)::date AS month,
        extract(epoch FROM t.resolved_at - t.created_at) / 3600 AS hours
    FROM support_ticket t
    WHERE t.resolved_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND t.resolved_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
),
times AS (
    SELECT month, percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS median
    FROM resolved
    GROUP BY month
)
SELECT m.month, t.median::numeric AS value, NULL::numeric AS numerator, NULL::numeric AS denominator
FROM months m
LEFT JOIN times t USING (month)
ORDER BY m.month
