-- ledger.csv: the tickets behind the period's figures, one row each with every ledger column:
-- those created, resolved or closed in the period, and those open at its end ($backlog_at).
-- Ordered by source and id (an id appears once per source: ingest rejects a repeated one).
SELECT * FROM ledger
WHERE (created_at >= $period_start AND created_at < $period_end)
   OR (resolved_at >= $period_start AND resolved_at < $period_end)
   OR (closed_at >= $period_start AND closed_at < $period_end)
   OR (created_at < $backlog_at
       AND NOT coalesce(resolved_at <= $backlog_at, false)
       AND NOT coalesce(closed_at <= $backlog_at, false))
ORDER BY source, id
