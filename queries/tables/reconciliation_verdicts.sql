-- deskpulse's resolution SLA verdict beside the help desk's own (`made_sla`, "Resolution
-- status"), for the tickets resolved in the period that both decided.
SELECT source, id, CAST(sla_resolution_state AS VARCHAR) AS ours,
       CASE WHEN source_sla_met THEN 'met' ELSE 'breached' END AS theirs
FROM ledger
WHERE NOT is_cancelled AND resolved_at >= $period_start AND resolved_at < $period_end
  AND sla_resolution_state IN ('met', 'breached')
  AND source_sla_met IS NOT NULL
ORDER BY source, id
