-- The breakdowns a review reads beside the KPIs' own dimensions: for each column of
-- `[report] breakdowns` (by default category, assignee and channel), the service tickets
-- (incidents and requests, not cancelled) per value: created in the period, resolved in it, open
-- at $backlog_at (the cohorts of queries/volume.sql), the median calendar hours to resolve of
-- those resolved, and how many of those resolved had breached their resolution SLA. The ten
-- values with the most tickets in these cohorts are listed; the others are added up as
-- `(others)`, with how many values that row holds.
WITH cohorts AS (
    -- the period's tickets first, then a row per breakdown column: a ledger of years is not
    -- repeated for every column
    SELECT *,
           coalesce(created_at >= $period_start AND created_at < $period_end, false) AS created,
           coalesce(resolved_at >= $period_start AND resolved_at < $period_end, false) AS resolved,
           coalesce(created_at < $backlog_at, false)
               AND NOT coalesce(resolved_at <= $backlog_at, false)
               AND NOT coalesce(closed_at <= $backlog_at, false) AS open
    FROM (
        SELECT category, assignee, channel, requester, ci, service, assignment_group,
               created_at, resolved_at, closed_at, resolve_hours, sla_resolution_state
        FROM ledger
        WHERE is_service AND NOT is_cancelled
    )
    WHERE coalesce(created_at >= $period_start AND created_at < $period_end, false)
       OR coalesce(resolved_at >= $period_start AND resolved_at < $period_end, false)
       OR (coalesce(created_at < $backlog_at, false)
           AND NOT coalesce(resolved_at <= $backlog_at, false)
           AND NOT coalesce(closed_at <= $backlog_at, false))
),
tickets AS (
    SELECT b.position, b.name AS breakdown,
           coalesce(CAST(CASE b.name
               WHEN 'category' THEN category WHEN 'assignee' THEN assignee
               WHEN 'channel' THEN channel WHEN 'requester' THEN requester
               WHEN 'ci' THEN ci WHEN 'service' THEN service
               WHEN 'assignment_group' THEN assignment_group END AS VARCHAR), '(none)') AS key,
           created, resolved, open, resolve_hours, sla_resolution_state
    FROM cohorts CROSS JOIN report_breakdowns b
),
ranked AS (
    SELECT breakdown, key,
           row_number() OVER (PARTITION BY breakdown ORDER BY count(*) DESC, key) AS rank
    FROM tickets
    GROUP BY breakdown, key
)
SELECT c.position, c.breakdown,
       CASE WHEN r.rank <= 10 THEN c.key ELSE '(others)' END AS key,
       count(DISTINCT c.key) AS keys,
       count(*) FILTER (WHERE created) AS created,
       count(*) FILTER (WHERE resolved) AS resolved,
       count(*) FILTER (WHERE open) AS open,
       median(c.resolve_hours) FILTER (WHERE resolved) AS median_resolve_hours,
       count(*) FILTER (WHERE resolved AND sla_resolution_state = 'breached') AS resolved_breached,
       min(r.rank) AS rank
FROM tickets c
JOIN ranked r USING (breakdown, key)
GROUP BY c.position, c.breakdown, CASE WHEN r.rank <= 10 THEN c.key ELSE '(others)' END
ORDER BY c.position, rank
