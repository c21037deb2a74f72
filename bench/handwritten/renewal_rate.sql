-- renewal_rate (KPIS.md): subscriptions whose ends_on falls in the local month with outcome renewed / those with
-- outcome renewed, cancelled or expired x 100; empty when none has such an outcome.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
monthly AS (
    SELECT date_trunc('month', ends_on)::date AS month,
           count(*) FILTER (WHERE outcome = 'renewed') AS renewed,
           count(*) AS decided
    FROM sales_subscription
    WHERE ends_on >= %(first)s::date AND ends_on < %(stop)s::date
      AND outcome IN ('renewed', 'cancelled', 'expired')
    GROUP BY 1
)
SELECT months.month, monthly.renewed * 100.0 / monthly.decided AS value,
       coalesce(monthly.renewed, 0)::numeric AS numerator, coalesce(monthly.decided, 0)::numeric AS denominator
FROM months
LEFT JOIN monthly USING (month)
ORDER BY months.month
