-- Hours worked (`labor_minutes`) by assignment group of the tickets resolved in the period and
-- not cancelled: the labour cohort of queries/costs.sql, for the workbook's hours and rates.
SELECT coalesce(assignment_group, '(none)') AS assignment_group,
       sum(labor_minutes) / 60.0 AS hours
FROM ledger
WHERE NOT is_cancelled AND resolved_at >= $period_start AND resolved_at < $period_end
GROUP BY ALL
