-- Reopened share of the service tickets resolved in the period: reopen_count > 0, or a move in
-- the status history from resolved or closed to any status but resolved, closed or cancelled.
-- A ticket whose export has neither a reopen count nor status history is missing; a run in
-- which no ticket has either measures nothing.
SELECT 'reopen_pct' AS kpi, 'value' AS stat,
       dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
       dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
       100.0 * count(*) FILTER (WHERE in_cohort AND reopened)
             / nullif(count(*) FILTER (WHERE in_cohort AND reopened IS NOT NULL), 0) AS value,
       count(*) FILTER (WHERE in_cohort AND reopened IS NOT NULL) AS n,
       count(*) FILTER (WHERE in_cohort AND reopened IS NULL) AS missing,
       count(*) FILTER (WHERE in_cohort AND reopened) AS numerator,
       count(*) FILTER (WHERE in_cohort AND reopened IS NOT NULL) AS denominator
FROM (
    SELECT *, true AS in_cohort
    FROM ledger_keyed
    WHERE is_service AND NOT is_cancelled
      AND resolved_at >= $period_start AND resolved_at < $period_end
    UNION ALL BY NAME
    -- every service-ticket key, for the keys with nothing resolved in the period
    SELECT * FROM ledger_keys WHERE is_service AND NOT is_cancelled
)
GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                        (dim_assignment_group), (dim_category))
HAVING has_values('reopen_count') OR has_values('reopened_in_history')
