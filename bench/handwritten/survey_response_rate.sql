-- Survey response rate (KPIS.md `survey_response_rate`), whole business: invitations whose sent_at falls in each
-- local month that have a response (at any time) / invitations sent in it, x 100; empty without an invitation.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
sent AS (
    SELECT date_trunc('month', i.sent_at AT TIME ZONE %(tz)s)::date AS month, count(r.id) AS answered,
        count(*) AS invitations
    FROM surveys_invitation i
    LEFT JOIN surveys_response r ON r.invitation_id = i.id
    WHERE i.sent_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND i.sent_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, s.answered * 100.0 / nullif(s.invitations, 0) AS value,
    coalesce(s.answered, 0)::numeric AS numerator, coalesce(s.invitations, 0)::numeric AS denominator
FROM months m
LEFT JOIN sent s USING (month)
ORDER BY m.month
