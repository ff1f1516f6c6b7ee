-- Time to resolve on the business clock: created -> resolved, counting only the open hours of
-- the ticket's calendar (its priority's SLA calendar, else [sla] calendar, else 24x7) and net of
-- pauses, for incidents resolved in the period.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group) AS key,
           count(resolve_business_us) FILTER (WHERE resolved_in_period) AS n,
           count(*) FILTER (WHERE resolved_in_period AND resolve_business_us IS NULL) AS missing,
           sum(resolve_business_us) FILTER (WHERE resolved_in_period) AS total_us,
           quantile_cont(resolve_business_us / 3600e6, 0.5) FILTER (WHERE resolved_in_period) AS median,
           quantile_cont(resolve_business_us / 3600e6, 0.9) FILTER (WHERE resolved_in_period) AS p90
    FROM (
        SELECT *, resolved_at >= $period_start AND resolved_at < $period_end AS resolved_in_period
        FROM ledger_keyed
        WHERE kind = 'incident' AND NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service), (dim_assignment_group))
)
SELECT 'mttr_business_hours' AS kpi, s.stat, dimension, key,
       CASE s.stat
            WHEN 'mean' THEN CAST(total_us AS DOUBLE) / nullif(n, 0) / 3600e6
            WHEN 'median' THEN median
            ELSE p90
       END AS value,
       n, missing, NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('mean'), ('median'), ('p90')) AS s(stat)
