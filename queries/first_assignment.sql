-- First-assignment resolution: service tickets resolved in the period without being reassigned
-- (reassignment_count = 0) and without being reopened, over the tickets resolved in the period
-- whose reassignment count is known (the others are missing).
SELECT 'first_assignment_resolution_pct' AS kpi, 'value' AS stat,
       dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
       dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
       100.0 * count(*) FILTER (WHERE in_cohort AND reassignment_count = 0 AND NOT coalesce(reopened, false))
             / nullif(count(*) FILTER (WHERE in_cohort AND reassignment_count IS NOT NULL), 0) AS value,
       count(*) FILTER (WHERE in_cohort AND reassignment_count IS NOT NULL) AS n,
       count(*) FILTER (WHERE in_cohort AND reassignment_count IS NULL) AS missing,
       count(*) FILTER (WHERE in_cohort AND reassignment_count = 0 AND NOT coalesce(reopened, false)) AS numerator,
       count(*) FILTER (WHERE in_cohort AND reassignment_count IS NOT NULL) AS denominator
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
HAVING has_values('reassignment_count')
