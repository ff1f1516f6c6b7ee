-- What each source contributed to the period: tickets created and resolved in it (cancelled
-- ones left out).
SELECT source,
       count(*) FILTER (WHERE created_at >= $period_start AND created_at < $period_end) AS created,
       count(*) FILTER (WHERE resolved_at >= $period_start AND resolved_at < $period_end) AS resolved
FROM ledger
WHERE NOT is_cancelled
GROUP BY source
ORDER BY source
