-- Volume trend: tickets created (all kinds) and resolved (incidents and requests) in each of the
-- twelve calendar months up to the period's end, in the report's time zone: the `month`
-- dimension of tickets_created and tickets_resolved. `trend_months` holds the months and their
-- boundaries, `trend_month(t)` names the month an instant falls in; cancelled tickets count
-- nowhere.
WITH created AS (
    SELECT trend_month(created_at) AS month, count(*) AS n
    FROM ledger
    WHERE NOT is_cancelled
    GROUP BY ALL
),
resolved AS (
    SELECT trend_month(resolved_at) AS month, count(*) AS n
    FROM ledger
    WHERE is_service AND NOT is_cancelled
    GROUP BY ALL
)
SELECT 'tickets_created' AS kpi, 'value' AS stat, 'month' AS dimension, m.month AS key,
       coalesce(c.n, 0) AS value, coalesce(c.n, 0) AS n, 0 AS missing,
       NULL AS numerator, NULL AS denominator
FROM trend_months m
LEFT JOIN created c USING (month)

UNION ALL

SELECT 'tickets_resolved', 'value', 'month', m.month, coalesce(r.n, 0), coalesce(r.n, 0), 0, NULL, NULL
FROM trend_months m
LEFT JOIN resolved r USING (month)
