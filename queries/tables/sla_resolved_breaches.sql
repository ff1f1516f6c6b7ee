-- The report's list of tickets resolved in the period whose resolution SLA had been breached:
-- the 25 resolved longest after their breach instant (the total is the count of rows before
-- the limit, in `total`).
SELECT id, priority, assignment_group, title, epoch_us(sla_resolution_breach_at) AS breach_us,
       epoch_us(resolved_at) AS resolved_us, count(*) OVER () AS total
FROM ledger
WHERE is_service AND NOT is_cancelled AND sla_resolution_state = 'breached'
  AND resolved_at >= $period_start AND resolved_at < $period_end
ORDER BY epoch_us(resolved_at) - epoch_us(sla_resolution_breach_at) DESC, source, id
LIMIT 25
