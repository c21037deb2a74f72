-- cac (KPIS.md): acquisition spend dated in the local month / N (contacts whose customer_since falls in it);
-- empty when N is 0.
WITH months AS (
    SELECT month::date AS month
    FROM generate_series(%(first)s::timestamp, %(stop)s::timestamp - interval '1 month', interval '1 month') AS month
),
spend AS (
    SELECT date_trunc('month', spent_on)::date AS month, sum(amount) AS spend
    FROM sales_spend
    WHERE category = 'acquisition' AND spent_on >= %(first)s::date AND spent_on < %(stop)s::date
    GROUP BY 1
),
joined AS (
    SELECT date_trunc('month', customer_since AT TIME ZONE %(tz)s)::date AS month, count(*) AS customers
    FROM contacts_contact
    WHERE customer_since >= %(first)s::timestamp AT TIME ZONE %(tz)s
      AND customer_since < %(stop)s::timestamp AT TIME ZONE %(tz)s
    GROUP BY 1
)
SELECT months.month, coalesce(spend.spend, 0) / joined.customers AS value,
       coalesce(spend.spend, 0)::numeric AS numerator, coalesce(joined.customers, 0)::numeric AS denominator
FROM months
LEFT JOIN spend USING (month)
LEFT JOIN joined USING (month)
ORDER BY months.month
