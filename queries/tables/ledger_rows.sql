-- ledger.csv: the tickets behind the period's figures, one row each with every ledger column:
-- those created, resolved or closed in the period, and those open at its end ($backlog_at).
-- Ordered by source and id (an id appears once per source: ingest rejects a repeated one).
-- `labor_cost` is the ticket's labour cost as queries/costs.sql counts it (time worked x its
-- assignment group's hourly rate, else the default rate, to the cent), so that the cost
-- allocation can be checked ticket by ticket; empty without [costs].
SELECT l.*,
       CASE WHEN costs_configured() THEN
           CAST(round(l.labor_minutes / 60.0 * coalesce(r.rate, default_hourly_rate()) * 100)
                AS BIGINT) / 100.0
       END AS labor_cost
FROM ledger l
LEFT JOIN cost_rates r ON r.assignment_group = l.assignment_group
WHERE (l.created_at >= $period_start AND l.created_at < $period_end)
   OR (l.resolved_at >= $period_start AND l.resolved_at < $period_end)
   OR (l.closed_at >= $period_start AND l.closed_at < $period_end)
   OR (l.created_at < $backlog_at
       AND NOT coalesce(l.resolved_at <= $backlog_at, false)
       AND NOT coalesce(l.closed_at <= $backlog_at, false))
ORDER BY l.source, l.id
