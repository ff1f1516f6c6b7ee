-- deskpulse's SLA verdicts beside the help desk's own: the resolution's (`made_sla`,
-- "Resolution status", Jira's time left) for the tickets resolved in the period, and the first
-- response's ("First response status", Jira's time to first response) for those created in it,
-- where both sides decided.
SELECT 'resolution' AS measure, source, id, CAST(sla_resolution_state AS VARCHAR) AS ours,
       CASE WHEN source_sla_met THEN 'met' ELSE 'breached' END AS theirs
FROM ledger
WHERE NOT is_cancelled AND resolved_at >= $period_start AND resolved_at < $period_end
  AND sla_resolution_state IN ('met', 'breached')
  AND source_sla_met IS NOT NULL
UNION ALL
SELECT 'response', source, id, CAST(sla_response_state AS VARCHAR),
       CASE WHEN source_response_sla_met THEN 'met' ELSE 'breached' END
FROM ledger
WHERE NOT is_cancelled AND created_at >= $period_start AND created_at < $period_end
  AND sla_response_state IN ('met', 'breached')
  AND source_response_sla_met IS NOT NULL
ORDER BY measure, source, id
