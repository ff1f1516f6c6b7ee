-- The report's list of SLAs still running at as_of whose breach instant has passed: the 25
-- oldest breaches (the total is the `sla_breached_open` KPI).
SELECT id, priority, assignment_group, title, sla, epoch_us(breach_at) AS breach_us FROM (
    SELECT source, id, priority, assignment_group, title, 'response' AS sla,
           sla_response_breach_at AS breach_at
    FROM ledger
    WHERE is_service AND NOT is_cancelled
      AND sla_response_state = 'breached' AND first_response_at IS NULL
    UNION ALL
    SELECT source, id, priority, assignment_group, title, 'resolution',
           sla_resolution_breach_at
    FROM ledger
    WHERE is_service AND NOT is_cancelled
      AND sla_resolution_state = 'breached' AND resolved_at IS NULL AND closed_at IS NULL)
ORDER BY breach_at, source, id, sla
LIMIT 25
