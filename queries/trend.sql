-- Volume trend: tickets created (all kinds) and resolved (incidents and requests) in each of the
-- twelve calendar months up to the period's end, in the report's time zone: the `month`
-- dimension of tickets_created and tickets_resolved. `trend_months` holds the months and their
-- boundaries; cancelled tickets count nowhere.
SELECT 'tickets_created' AS kpi, 'value' AS stat, 'month' AS dimension, m.month AS key,
       count(l.id) AS value, count(l.id) AS n, 0 AS missing, NULL AS numerator, NULL AS denominator
FROM trend_months m
LEFT JOIN ledger l
  ON NOT l.is_cancelled AND l.created_at >= m.month_start AND l.created_at < m.month_end
GROUP BY m.month

UNION ALL

SELECT 'tickets_resolved', 'value', 'month', m.month, count(l.id), count(l.id), 0, NULL, NULL
FROM trend_months m
LEFT JOIN ledger l
  ON l.is_service AND NOT l.is_cancelled
 AND l.resolved_at >= m.month_start AND l.resolved_at < m.month_end
GROUP BY m.month
