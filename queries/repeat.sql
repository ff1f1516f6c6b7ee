-- Repeat incidents: incident B is a repeat if an earlier incident A with the same repeat key
-- ([repeat] key, default the CI) was resolved within [repeat] window_days before B was created
-- (at or after B's creation minus the window, and strictly before B's creation). Cohort:
-- incidents created in the period; n = those with the key filled in, missing = those without,
-- so the key's coverage is n / (n + missing).
-- (Cohort and resolutions each read the ledger with their own filter: a shared CTE of all
-- incidents would be materialised whole.)
WITH cohort AS (
    SELECT dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category,
           repeat_key, created_at
    FROM ledger_keyed
    WHERE kind = 'incident' AND NOT is_cancelled
      AND created_at >= $period_start AND created_at < $period_end
),
resolutions AS (
    -- only those that can precede a cohort incident within the window
    SELECT repeat_key, resolved_at FROM ledger
    WHERE kind = 'incident' AND NOT is_cancelled
      AND repeat_key IS NOT NULL AND resolved_at < $period_end
      AND epoch_us(resolved_at) >= epoch_us($period_start::TIMESTAMPTZ) - repeat_window_us()
),
flagged AS (
    -- the latest resolution of an incident with the same key before B's creation (B's own
    -- resolution comes after its creation, so it is never B itself); none without a key
    SELECT b.*, true AS in_cohort,
           coalesce(epoch_us(a.resolved_at) >= epoch_us(b.created_at) - repeat_window_us(), false)
               AS is_repeat
    FROM cohort b
    ASOF LEFT JOIN resolutions a
      ON a.repeat_key = b.repeat_key AND b.created_at > a.resolved_at
    UNION ALL BY NAME
    -- every incident key, so that a breakdown lists its keys even with an empty cohort
    SELECT * FROM ledger_keys WHERE kind = 'incident' AND NOT is_cancelled
)
SELECT 'repeat_incident_pct' AS kpi, 'value' AS stat,
       dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
       dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
       100.0 * count(*) FILTER (WHERE in_cohort AND is_repeat)
             / nullif(count(*) FILTER (WHERE in_cohort AND repeat_key IS NOT NULL), 0) AS value,
       count(*) FILTER (WHERE in_cohort AND repeat_key IS NOT NULL) AS n,
       count(*) FILTER (WHERE in_cohort AND repeat_key IS NULL) AS missing,
       count(*) FILTER (WHERE in_cohort AND is_repeat) AS numerator,
       count(*) FILTER (WHERE in_cohort AND repeat_key IS NOT NULL) AS denominator
FROM flagged
GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                        (dim_assignment_group), (dim_category))
