-- Customer satisfaction over the service tickets resolved in the period (each ticket's latest
-- rating): satisfied / (satisfied + dissatisfied), and the response rate answered / (answered +
-- offered without an answer). Tickets never asked are in neither. No rows when no export
-- carries ratings.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           count(*) FILTER (WHERE in_cohort AND csat = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE in_cohort AND csat IN ('satisfied', 'dissatisfied')) AS answered,
           count(*) FILTER (WHERE in_cohort AND csat = 'offered') AS unanswered
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
    HAVING has_values('csat')
)
SELECT 'csat_pct' AS kpi, 'value' AS stat, dimension, key,
       100.0 * satisfied / nullif(answered, 0) AS value, answered AS n, 0 AS missing,
       satisfied AS numerator, answered AS denominator
FROM agg
UNION ALL
SELECT 'csat_response_rate_pct', 'value', dimension, key,
       100.0 * answered / nullif(answered + unanswered, 0), answered + unanswered, 0,
       answered, answered + unanswered
FROM agg
