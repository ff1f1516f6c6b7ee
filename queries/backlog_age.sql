-- Age of the open backlog at $backlog_at (the period's end, or as_of if earlier): days since
-- creation of the service tickets open then (created before it, neither resolved nor closed at
-- or before it; one resolved or closed with neither time in the export is missing): mean, median and 90th percentile by the usual dimensions, and the count in each
-- age bucket (whole days: 0-1, 2-5, 6-30, 31-90, >90) as the `age_bucket` dimension.
WITH open_tickets AS (
    -- a ticket with no end in the export has no age: it is counted as missing
    SELECT *,
           CASE WHEN NOT end_unknown
                THEN epoch_us($backlog_at::TIMESTAMPTZ) - epoch_us(created_at) END AS age_us,
           CASE WHEN NOT end_unknown
                THEN (epoch_us($backlog_at::TIMESTAMPTZ) - epoch_us(created_at)) / 86400e6
           END AS age_days,
           created_at < $backlog_at AND NOT end_unknown
             AND NOT coalesce(resolved_at <= $backlog_at, false)
             AND NOT coalesce(closed_at <= $backlog_at, false) AS is_open
    FROM ledger_keyed
    WHERE is_service AND NOT is_cancelled
      AND created_at < $backlog_at
      AND NOT coalesce(resolved_at <= $backlog_at, false)
      AND NOT coalesce(closed_at <= $backlog_at, false)
    UNION ALL BY NAME
    -- every service-ticket key, for the keys with nothing open
    SELECT * FROM ledger_keys WHERE is_service AND NOT is_cancelled
),
agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           -- only open tickets have an age: the key rows add none to sums and percentiles
           count(*) FILTER (WHERE is_open) AS n,
           -- resolved or closed with neither time in the export: open or not, nobody can tell
           count(*) FILTER (WHERE end_unknown) AS missing,
           -- an integer sum: a float sum's digits would depend on the order threads add in
           CAST(sum(age_us) AS DOUBLE)
               / nullif(count(*) FILTER (WHERE is_open), 0) / 86400e6 AS mean,
           quantile_cont(age_days, [0.5, 0.9]) AS q
    FROM open_tickets
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
)
SELECT 'backlog_age_days' AS kpi, s.stat, dimension, key,
       CASE s.stat WHEN 'mean' THEN mean WHEN 'median' THEN q[1] ELSE q[2] END AS value,
       n, missing, NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('mean'), ('median'), ('p90')) AS s(stat)

UNION ALL

SELECT 'backlog_age_days', 'value', 'age_bucket', b.bucket,
       count(t.age_days), count(t.age_days), 0, NULL, NULL
FROM (VALUES (1, '0-1', 0, 2), (2, '2-5', 2, 6), (3, '6-30', 6, 31), (4, '31-90', 31, 91), (5, '>90', 91, NULL))
       AS b(ord, bucket, low, high)
LEFT JOIN open_tickets t
  ON t.is_open AND floor(t.age_days) >= b.low AND (b.high IS NULL OR floor(t.age_days) < b.high)
GROUP BY b.bucket
