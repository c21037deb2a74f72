-- Campaign ROI (KPIS.md `campaign_roi`), whole business: every campaign together. For each local month P:
-- (amount of deals won with closed_at in P whose lead came from a campaign - spend dated in P that names a
-- campaign) / that spend x 100; numerator the gain, denominator the spend; empty when there is no such spend.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::date::timestamp, %(stop)s::date::timestamp - interval '1 day', interval '1 month')
        AS month
),
won AS (
    SELECT date_trunc('month', d.closed_at AT TIME ZONE %(tz)s)::date AS month, sum(d.amount) AS amount
    FROM sales_deal d
    JOIN sales_lead l ON l.id = d.lead_id
    WHERE d.status = 'won' AND l.campaign_id IS NOT NULL
        AND d.closed_at >= %(first)s::date::timestamp AT TIME ZONE %(tz)s
        AND d.closed_at < %(stop)s::date::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
),
spend AS (
    SELECT date_trunc('month', sp.spent_on)::date AS month, sum(sp.amount) AS amount
    FROM sales_spend sp
    WHERE sp.campaign_id IS NOT NULL AND sp.spent_on >= %(first)s::date AND sp.spent_on < %(stop)s::date
    GROUP BY 1
)
SELECT m.month, (coalesce(w.amount, 0) - s.amount) * 100 / nullif(s.amount, 0) AS value,
    coalesce(w.amount, 0) - coalesce(s.amount, 0) AS numerator, coalesce(s.amount, 0) AS denominator
FROM months m
LEFT JOIN won w USING (month)
LEFT JOIN spend s USING (month)
ORDER BY m.month
