-- Net Promoter Score (KPIS.md `nps`), whole business: of the NPS responses submitted in each local month, the
-- percentage scoring 9-10 minus the percentage scoring 0-6 (numerator promoters - detractors, denominator the
-- responses); empty without a response.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
submitted AS (
    SELECT date_trunc('month', r.submitted_at AT TIME ZONE %(tz)s)::date AS month,
        count(*) FILTER (WHERE r.score >= 9) - count(*) FILTER (WHERE r.score <= 6) AS net, count(*) AS responses
    FROM surveys_response r
    WHERE r.kind = 'nps'
        AND r.submitted_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND r.submitted_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT m.month, s.net * 100.0 / nullif(s.responses, 0) AS value, coalesce(s.net, 0)::numeric AS numerator,
    coalesce(s.responses, 0)::numeric AS denominator
FROM months m
LEFT JOIN submitted s USING (month)
ORDER BY m.month
