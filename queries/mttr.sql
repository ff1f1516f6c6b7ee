-- Time to resolve, created -> resolved, for incidents resolved in the period, on two clocks in
-- one pass: the calendar clock (mttr_hours) and the business clock (mttr_business_hours: only the
-- open hours of the ticket's calendar, net of pauses). Means come from exact sums of whole
-- microseconds; percentiles interpolate linearly between the two nearest values.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           -- only the cohort's tickets carry durations: the key rows add none
           count(*) FILTER (WHERE resolved_in_period) AS n,
           sum(resolve_us) AS total_us,
           -- one sort for both percentiles
           quantile_cont(resolve_us / 3600e6, [0.5, 0.9]) AS q,
           count(resolve_business_us) AS n_b,
           count(*) FILTER (WHERE resolved_in_period AND resolve_business_us IS NULL) AS missing_b,
           sum(resolve_business_us) AS total_us_b,
           quantile_cont(resolve_business_us / 3600e6, [0.5, 0.9]) AS q_b
    FROM (
        SELECT *, true AS resolved_in_period
        FROM ledger_keyed
        WHERE kind = 'incident' AND NOT is_cancelled
          AND resolved_at >= $period_start AND resolved_at < $period_end
        UNION ALL BY NAME
        -- every incident key, for the keys with no incident resolved in the period
        SELECT * FROM ledger_keys WHERE kind = 'incident' AND NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
)
SELECT k.kpi, s.stat, dimension, key,
       CASE WHEN k.kpi = 'mttr_hours' THEN
                CASE s.stat WHEN 'mean' THEN CAST(total_us AS DOUBLE) / nullif(n, 0) / 3600e6
                            WHEN 'median' THEN q[1] ELSE q[2] END
            ELSE
                CASE s.stat WHEN 'mean' THEN CAST(total_us_b AS DOUBLE) / nullif(n_b, 0) / 3600e6
                            WHEN 'median' THEN q_b[1] ELSE q_b[2] END
       END AS value,
       CASE WHEN k.kpi = 'mttr_hours' THEN n ELSE n_b END AS n,
       CASE WHEN k.kpi = 'mttr_hours' THEN 0 ELSE missing_b END AS missing,
       NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('mttr_hours'), ('mttr_business_hours')) AS k(kpi)
CROSS JOIN (VALUES ('mean'), ('median'), ('p90')) AS s(stat)
