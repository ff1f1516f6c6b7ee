-- Ticket volume: created in the period (all kinds), resolved in the period and open at its end
-- (service tickets: incidents and requests). Cancelled tickets count nowhere.
SELECT 'tickets_created' AS kpi, 'value' AS stat, dimension, key,
       count(*) FILTER (WHERE created_at >= $period_start AND created_at < $period_end) AS value,
       count(*) FILTER (WHERE created_at >= $period_start AND created_at < $period_end) AS n,
       0 AS missing, NULL AS numerator, NULL AS denominator
FROM ledger_dims
WHERE NOT is_cancelled
GROUP BY dimension, key

UNION ALL

SELECT 'tickets_resolved', 'value', dimension, key,
       count(*) FILTER (WHERE resolved_at >= $period_start AND resolved_at < $period_end),
       count(*) FILTER (WHERE resolved_at >= $period_start AND resolved_at < $period_end),
       0, NULL, NULL
FROM ledger_dims
WHERE is_service AND NOT is_cancelled
GROUP BY dimension, key

UNION ALL

-- Open at $backlog_at, the period's end (or as_of, if that is earlier): created before it and
-- neither resolved nor closed at or before it, judged by the ticket's final resolution and close
-- times.
SELECT 'backlog_open', 'value', dimension, key,
       count(*) FILTER (WHERE created_at < $backlog_at
                          AND NOT coalesce(resolved_at <= $backlog_at, false)
                          AND NOT coalesce(closed_at <= $backlog_at, false)),
       count(*) FILTER (WHERE created_at < $backlog_at
                          AND NOT coalesce(resolved_at <= $backlog_at, false)
                          AND NOT coalesce(closed_at <= $backlog_at, false)),
       0, NULL, NULL
FROM ledger_dims
WHERE is_service AND NOT is_cancelled
GROUP BY dimension, key
