-- Change success and failure over the changes closed in the period. Implemented changes are
-- those with an outcome other than cancelled; a change without an outcome is missing. A change
-- failed if its outcome is unsuccessful, or if an incident created within [changes]
-- failure_window_days after the change's close names it as the change that caused it
-- (caused_by_change = the change's id, in the same source or another).
WITH changes AS (
    SELECT *, true AS in_cohort
    FROM ledger_keyed
    WHERE kind = 'change' AND NOT is_cancelled
      AND closed_at >= $period_start AND closed_at < $period_end
),
caused AS (
    SELECT DISTINCT c.source, c.id
    FROM changes c
    JOIN ledger i
      ON i.kind = 'incident' AND NOT i.is_cancelled
     AND i.caused_by_change = c.id
     AND i.created_at >= c.closed_at
     AND epoch_us(i.created_at) < epoch_us(c.closed_at) + change_failure_window_us()
),
agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           count(*) FILTER (WHERE in_cohort AND implemented) AS implemented,
           count(*) FILTER (WHERE in_cohort AND change_outcome IS NULL) AS without_outcome,
           count(*) FILTER (WHERE in_cohort AND implemented AND change_outcome = 'successful') AS successful,
           count(*) FILTER (WHERE in_cohort AND implemented
                              AND (change_outcome = 'unsuccessful' OR caused_incident)) AS failed
    FROM (
        SELECT c.*,
               c.change_outcome IN ('successful', 'successful_with_issues', 'unsuccessful') AS implemented,
               x.id IS NOT NULL AS caused_incident
        FROM changes c
        LEFT JOIN caused x ON x.source = c.source AND x.id = c.id
        UNION ALL BY NAME
        -- every change key, for the keys with no change closed in the period
        SELECT * FROM ledger_keys WHERE kind = 'change' AND NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
    HAVING has_kind('change')
)
SELECT 'change_success_pct' AS kpi, 'value' AS stat, dimension, key,
       100.0 * successful / nullif(implemented, 0) AS value, implemented AS n,
       without_outcome AS missing, successful AS numerator, implemented AS denominator
FROM agg
UNION ALL
SELECT 'change_failure_pct', 'value', dimension, key,
       100.0 * failed / nullif(implemented, 0), implemented, without_outcome, failed, implemented
FROM agg
