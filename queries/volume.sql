-- Ticket volume in one pass: created in the period (all kinds), resolved in the period and open
-- at $backlog_at, the period's end or as_of if that is earlier (service tickets: incidents and
-- requests). Cancelled tickets count nowhere. Open means created before $backlog_at and neither
-- resolved nor closed at or before it, judged by the ticket's final resolution and close times;
-- a ticket resolved or closed in the help desk whose export has neither time (`end_unknown`)
-- cannot be judged and is the backlog's missing.
-- Only the tickets of one of the three cohorts are aggregated; `ledger_keys` adds every key, so
-- that a breakdown lists the keys whose cohorts are empty.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           count(*) FILTER (WHERE created_at >= $period_start AND created_at < $period_end) AS created,
           count(*) FILTER (WHERE is_service
                              AND resolved_at >= $period_start AND resolved_at < $period_end) AS resolved,
           count(*) FILTER (WHERE is_service AND NOT end_unknown
                              AND created_at < $backlog_at
                              AND NOT coalesce(resolved_at <= $backlog_at, false)
                              AND NOT coalesce(closed_at <= $backlog_at, false)) AS open,
           count(*) FILTER (WHERE is_service AND end_unknown
                              AND created_at < $backlog_at) AS open_unknown,
           -- a key belongs to the resolved and backlog breakdowns only if service tickets have it
           bool_or(is_service) AS has_service_tickets
    FROM (
        SELECT * FROM ledger_keyed
        WHERE NOT is_cancelled
          AND ((created_at >= $period_start AND created_at < $period_end)
               OR (is_service AND resolved_at >= $period_start AND resolved_at < $period_end)
               OR (is_service AND created_at < $backlog_at
                   AND NOT coalesce(resolved_at <= $backlog_at, false)
                   AND NOT coalesce(closed_at <= $backlog_at, false)))
        UNION ALL BY NAME
        SELECT * FROM ledger_keys WHERE NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
)
SELECT k.kpi, 'value' AS stat, dimension, key,
       CASE k.kpi WHEN 'tickets_created' THEN created WHEN 'tickets_resolved' THEN resolved ELSE open END AS value,
       CASE k.kpi WHEN 'tickets_created' THEN created WHEN 'tickets_resolved' THEN resolved ELSE open END AS n,
       CASE k.kpi WHEN 'backlog_open' THEN open_unknown ELSE 0 END AS missing,
       NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('tickets_created'), ('tickets_resolved'), ('backlog_open')) AS k(kpi)
-- (over no ticket at all, a period before the exports begin, the total is 0, not absent)
WHERE k.kpi = 'tickets_created' OR coalesce(has_service_tickets, true)
