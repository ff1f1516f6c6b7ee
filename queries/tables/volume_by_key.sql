-- Where a month's tickets came from, for the volume spike of "What changed": tickets created
-- (every kind, cancelled ones left out, as queries/trend.sql counts them) in each month of the
-- trend window, by category and by configuration item. The spike rule itself (docs/kpis.md)
-- compares the period's month with the trailing months, for the total and for each key.
WITH created AS (
    SELECT trend_month(created_at) AS month, category, ci
    FROM ledger
    WHERE NOT is_cancelled AND trend_month(created_at) IS NOT NULL
)
SELECT 'category' AS dimension, coalesce(CAST(category AS VARCHAR), '(none)') AS key, month,
       count(*) AS created
FROM created
GROUP BY ALL

UNION ALL

SELECT 'ci', coalesce(CAST(ci AS VARCHAR), '(none)'), month, count(*)
FROM created
GROUP BY ALL

ORDER BY dimension, key, month
