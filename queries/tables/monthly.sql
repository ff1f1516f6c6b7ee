-- The report's monthly trend beside the volume: for each of the twelve months up to the
-- period's end (`trend_months`), the median calendar hours to resolve of the incidents resolved
-- in it (the cohort of queries/mttr.sql), the resolution SLAs decided in it and how many were
-- met (queries/sla.sql), and the open backlog at its end, or at as_of if that is earlier
-- (queries/volume.sql). Each is what a run for that month would say: a resolution time, a
-- decided SLA and a final close are the same whatever the later as_of.
WITH resolved AS (
    SELECT trend_month(resolved_at) AS month, median(resolve_hours) AS median_resolve_hours,
           count(*) AS resolved_incidents
    FROM ledger
    WHERE kind = 'incident' AND NOT is_cancelled AND resolve_us IS NOT NULL
    GROUP BY ALL
),
decided AS (
    SELECT trend_month(sla_resolution_decided_at) AS month, count(*) AS sla_decided,
           count(*) FILTER (WHERE sla_resolution_state = 'met') AS sla_met
    FROM ledger
    WHERE is_service AND NOT is_cancelled AND sla_resolution_target IS NOT NULL
      AND sla_resolution_state IN ('met', 'breached')
    GROUP BY ALL
),
spanning AS (
    -- a ticket resolved or closed in the month it was created in is open at no month's end
    SELECT created_at, resolved_at, closed_at
    FROM ledger
    WHERE is_service AND NOT is_cancelled
      AND (trend_month(created_at) IS NULL
           OR (trend_month(resolved_at) IS DISTINCT FROM trend_month(created_at)
               AND trend_month(closed_at) IS DISTINCT FROM trend_month(created_at)))
),
backlog AS (
    SELECT m.month, count(l.created_at) AS backlog_open
    FROM trend_months m
    LEFT JOIN spanning l
      ON l.created_at < least(m.month_end, $backlog_at)
     AND NOT coalesce(l.resolved_at <= least(m.month_end, $backlog_at), false)
     AND NOT coalesce(l.closed_at <= least(m.month_end, $backlog_at), false)
    GROUP BY m.month
)
SELECT m.month, r.median_resolve_hours, coalesce(r.resolved_incidents, 0) AS resolved_incidents,
       coalesce(d.sla_decided, 0) AS sla_decided, coalesce(d.sla_met, 0) AS sla_met,
       b.backlog_open
FROM trend_months m
LEFT JOIN resolved r USING (month)
LEFT JOIN decided d USING (month)
LEFT JOIN backlog b USING (month)
ORDER BY m.month
