-- SLA attainment (KPIS.md `sla_attainment`), whole business: of the tickets created in each local month that
-- have a first response target (first_response_due_at, set from their priority's SLA policy) and either a first
-- response or a target already past (now()), those whose first response came by the target, x 100; empty when
-- there is none.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
created AS (
    SELECT date_trunc('month', t.created_at AT TIME ZONE %(tz)s)::date AS month,
        count(*) FILTER (WHERE t.first_response_at <= t.first_response_due_at) AS within_target,
        count(*) FILTER (WHERE t.first_response_at IS NOT NULL OR t.first_response_due_at < now()) AS due
    FROM support_ticket t
    WHERE t.first_response_due_at IS NOT NULL
        AND t.created_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND t.created_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, c.within_target * 100.0 / nullif(c.due, 0) AS value,
    coalesce(c.within_target, 0)::numeric AS numerator, coalesce(c.due, 0)::numeric AS denominator
FROM months m
LEFT JOIN created c USING (month)
ORDER BY m.month
