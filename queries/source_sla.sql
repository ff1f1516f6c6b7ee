-- The help desk's own SLA verdict (made_sla, Jira's time left, Freshworks', GLPI's), shown beside deskpulse's, never
-- instead of it: true / (true + false) over the service tickets resolved in the period.
-- No rows at all when no ticket carries a verdict.
SELECT 'source_sla_met_pct' AS kpi, 'value' AS stat,
       dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
       dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
       100.0 * count(*) FILTER (WHERE in_cohort AND source_sla_met)
             / nullif(count(*) FILTER (WHERE in_cohort AND source_sla_met IS NOT NULL), 0) AS value,
       count(*) FILTER (WHERE in_cohort AND source_sla_met IS NOT NULL) AS n,
       count(*) FILTER (WHERE in_cohort AND source_sla_met IS NULL) AS missing,
       count(*) FILTER (WHERE in_cohort AND source_sla_met) AS numerator,
       count(*) FILTER (WHERE in_cohort AND source_sla_met IS NOT NULL) AS denominator
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
-- the empty grouping set yields a row even over no tickets (a period before the exports begin):
-- keep none when no export holds the data at all
HAVING has_values('source_sla_met')
