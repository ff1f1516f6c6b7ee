-- Breached SLAs by the quarter hour in which each was decided (every zone's offset is a whole
-- number of quarter hours): the report adds them up by month in the report's zone.
SELECT 'response' AS sla, epoch_us(sla_response_decided_at) // 900000000 AS quarter_hour,
       count(*) AS n
FROM ledger
WHERE sla_response_state = 'breached' AND is_service AND NOT is_cancelled
GROUP BY ALL
UNION ALL
SELECT 'resolution', epoch_us(sla_resolution_decided_at) // 900000000, count(*)
FROM ledger
WHERE sla_resolution_state = 'breached' AND is_service AND NOT is_cancelled
GROUP BY ALL
