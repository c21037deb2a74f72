-- First contact resolution (KPIS.md `first_contact_resolution`), whole business: of the tickets whose resolved_at
-- falls in each local month, those with at most one agent reply and never reopened, x 100; empty without a
-- resolved ticket. Agent replies and reopenings are the ticket's own counters (agent_replies, reopened_count).
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
resolved AS (
    SELECT date_trunc('month', t.resolved_at AT TIME ZONE %(tz)s)::date AS month,
        count(*) FILTER (WHERE t.agent_replies <= 1 AND t.reopened_count = 0) AS first_contact, count(*) AS tickets
    FROM support_ticket t
    WHERE t.resolved_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND t.resolved_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, r.first_contact * 100.0 / nullif(r.tickets, 0) AS value,
    coalesce(r.first_contact, 0)::numeric AS numerator, coalesce(r.tickets, 0)::numeric AS denominator
FROM months m
LEFT JOIN resolved r USING (month)
ORDER BY m.month
