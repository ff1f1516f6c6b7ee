-- `deskpulse explain`: the ledger row of each ticket asked for (`explain_ids`; one row per
-- source that has the id), with where the period's KPIs count it, its labour cost as
-- queries/costs.sql counts it, and the incident it repeats as queries/repeat.sql finds it.
-- Run only by `explain`; the report never reads it.
SELECT l.*,
       l.created_at >= $period_start AND l.created_at < $period_end AS created_in_period,
       coalesce(l.resolved_at >= $period_start AND l.resolved_at < $period_end, false)
           AS resolved_in_period,
       coalesce(l.sla_response_decided_at >= $period_start
                AND l.sla_response_decided_at < $period_end, false)
           AS sla_response_decided_in_period,
       coalesce(l.sla_resolution_decided_at >= $period_start
                AND l.sla_resolution_decided_at < $period_end, false)
           AS sla_resolution_decided_in_period,
       -- the backlog's own test (queries/backlog_age.sql)
       l.is_service AND NOT l.is_cancelled AND NOT l.end_unknown AND l.created_at < $backlog_at
           AND NOT coalesce(l.resolved_at <= $backlog_at, false)
           AND NOT coalesce(l.closed_at <= $backlog_at, false) AS open_at_period_end,
       CASE WHEN costs_configured() THEN
           CAST(round(l.labor_minutes / 60.0 * coalesce(c.rate, default_hourly_rate()) * 100)
                AS BIGINT) / 100.0
       END AS labor_cost,
       r.id AS repeat_of,
       r.resolved_at AS repeat_of_resolved_at
FROM ledger l
JOIN explain_ids e ON e.id = l.id
LEFT JOIN cost_rates c ON c.assignment_group = l.assignment_group
LEFT JOIN LATERAL (
    -- the latest resolution of another incident with the same key before this one's creation,
    -- within the repeat window
    SELECT a.id, a.resolved_at
    FROM ledger a
    WHERE l.kind = 'incident' AND NOT l.is_cancelled
      AND a.kind = 'incident' AND NOT a.is_cancelled
      AND a.repeat_key = l.repeat_key AND a.resolved_at < l.created_at
      AND epoch_us(a.resolved_at) >= epoch_us(l.created_at) - repeat_window_us()
    ORDER BY a.resolved_at DESC, a.source, a.id
    LIMIT 1
) r ON true
ORDER BY l.source, l.id
