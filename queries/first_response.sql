-- Time to first response, calendar and business clock, for the service tickets created in the
-- period. A ticket without a response is not zero: it is left out and counted in `missing`.
-- No rows at all when no export carries a first-response time. An export with only the help
-- desk's business first-reply minutes (a Zendesk CSV) measures the business clock alone.
WITH agg AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           -- only the cohort's tickets carry durations: the key rows add none
           count(first_response_us) AS n,
           count(*) FILTER (WHERE created_in_period AND first_response_us IS NULL) AS missing,
           sum(first_response_us) AS total_us,
           -- one sort for both percentiles
           quantile_cont(first_response_us / 3600e6, [0.5, 0.9]) AS q,
           count(first_response_business_us) AS n_b,
           count(*) FILTER (WHERE created_in_period AND first_response_business_us IS NULL) AS missing_b,
           sum(first_response_business_us) AS total_us_b,
           quantile_cont(first_response_business_us / 3600e6, [0.5, 0.9]) AS q_b
    FROM (
        SELECT *, true AS created_in_period
        FROM ledger_keyed
        WHERE is_service AND NOT is_cancelled
          AND created_at >= $period_start AND created_at < $period_end
        UNION ALL BY NAME
        -- every service-ticket key, for the keys with nothing created in the period
        SELECT * FROM ledger_keys WHERE is_service AND NOT is_cancelled
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
    -- the empty grouping set yields a row even over no tickets (a period before the exports begin):
-- keep none when no export holds the data at all
    HAVING has_values('first_response_at')
        OR has_values('reported_first_response_business_minutes')
)
SELECT k.kpi, s.stat, dimension, key,
       CASE WHEN k.kpi = 'first_response_hours' THEN
                CASE s.stat WHEN 'mean' THEN CAST(total_us AS DOUBLE) / nullif(n, 0) / 3600e6
                            WHEN 'median' THEN q[1] ELSE q[2] END
            ELSE
                CASE s.stat WHEN 'mean' THEN CAST(total_us_b AS DOUBLE) / nullif(n_b, 0) / 3600e6
                            WHEN 'median' THEN q_b[1] ELSE q_b[2] END
       END AS value,
       CASE WHEN k.kpi = 'first_response_hours' THEN n ELSE n_b END AS n,
       CASE WHEN k.kpi = 'first_response_hours' THEN missing ELSE missing_b END AS missing,
       NULL AS numerator, NULL AS denominator
FROM agg
CROSS JOIN (VALUES ('first_response_hours'), ('first_response_business_hours')) AS k(kpi)
CROSS JOIN (VALUES ('mean'), ('median'), ('p90')) AS s(stat)
WHERE k.kpi = 'first_response_business_hours' OR has_values('first_response_at')
