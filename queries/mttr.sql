-- Time to resolve on the calendar clock: created -> resolved, for incidents resolved in the
-- period. The mean is computed from the exact sum of whole microseconds; percentiles
-- interpolate linearly between the two nearest values.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group) AS key,
           count(*) FILTER (WHERE resolved_in_period) AS n,
           sum(resolve_us) FILTER (WHERE resolved_in_period) AS total_us,
           quantile_cont(resolve_us / 3600e6, 0.5) FILTER (WHERE resolved_in_period) AS median,
           quantile_cont(resolve_us / 3600e6, 0.9) FILTER (WHERE resolved_in_period) AS p90
    FROM (
        SELECT *, resolved_at >= $period_start AND resolved_at < $period_end AS resolved_in_period
        FROM ledger_keyed
        WHERE kind = 'incident' AND NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service), (dim_assignment_group))
)
SELECT 'mttr_hours' AS kpi, s.stat, dimension, key,
       CASE s.stat
            WHEN 'mean' THEN CAST(total_us AS DOUBLE) / nullif(n, 0) / 3600e6
            WHEN 'median' THEN median
            ELSE p90
       END AS value,
       n, 0 AS missing, NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('mean'), ('median'), ('p90')) AS s(stat)
