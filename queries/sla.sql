-- SLA adherence, per the contract's decision instant: an SLA counts in the period in which it
-- was decided -- at its stop when met, at its breach instant when breached (whether the ticket
-- stopped later or is still open). SLAs still running and not yet breached at as_of count
-- nowhere. Only service tickets whose priority has a policy, in every dimension.
-- sla_breached_open counts the SLAs still running at as_of (no response, or no resolution yet)
-- whose breach instant has passed.
-- Only the SLAs decided in the period or breached and still open are aggregated; `ledger_keys`
-- adds every key, so that a breakdown lists the keys with none.
WITH decided AS (
    SELECT *
    FROM (
        SELECT *, 'sla_response_met_pct' AS kpi,
               sla_response_state AS state, sla_response_decided_at AS decided_at,
               sla_response_state = 'breached' AND first_response_at IS NULL AS breached_open
        FROM ledger_keyed
        WHERE is_service AND NOT is_cancelled AND sla_response_target IS NOT NULL
        UNION ALL
        SELECT *, 'sla_resolution_met_pct',
               sla_resolution_state, sla_resolution_decided_at,
               sla_resolution_state = 'breached' AND resolved_at IS NULL AND closed_at IS NULL
        FROM ledger_keyed
        WHERE is_service AND NOT is_cancelled AND sla_resolution_target IS NOT NULL
    )
    WHERE (decided_at >= $period_start AND decided_at < $period_end) OR breached_open
),
slas AS (
    SELECT * FROM decided
    UNION ALL BY NAME
    SELECT *, 'sla_response_met_pct' AS kpi FROM ledger_keys
    WHERE is_service AND NOT is_cancelled AND sla_response_target IS NOT NULL
    UNION ALL BY NAME
    SELECT *, 'sla_resolution_met_pct' AS kpi FROM ledger_keys
    WHERE is_service AND NOT is_cancelled AND sla_resolution_target IS NOT NULL
),
agg AS (
    SELECT kpi,
           dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           count(*) FILTER (WHERE decided_at >= $period_start AND decided_at < $period_end) AS decided,
           count(*) FILTER (WHERE decided_at >= $period_start AND decided_at < $period_end
                              AND state = 'met') AS met,
           count(*) FILTER (WHERE breached_open) AS breached_open
    FROM slas
    GROUP BY GROUPING SETS ((kpi), (kpi, dim_priority), (kpi, dim_kind), (kpi, dim_service),
                            (kpi, dim_assignment_group), (kpi, dim_category))
    UNION ALL
    -- over no ticket in scope (a period before the exports begin) the grouping sets yield no
    -- row: each KPI whose SLAs the exports hold still has its `all` row, with nothing decided
    SELECT k.kpi, 'all', 'all', 0, 0, 0
    FROM (VALUES ('sla_response_met_pct', has_values('sla_response_state')),
                 ('sla_resolution_met_pct', has_values('sla_resolution_state'))) AS k(kpi, held)
    WHERE held AND NOT EXISTS (SELECT 1 FROM slas WHERE slas.kpi = k.kpi)
)
SELECT kpi, 'value' AS stat, dimension, key,
       100.0 * met / nullif(decided, 0) AS value,
       decided AS n, 0 AS missing, met AS numerator, decided AS denominator
FROM agg

UNION ALL

SELECT 'sla_breached_open', 'value', dimension, key,
       sum(breached_open), sum(breached_open), 0, NULL, NULL
FROM agg
GROUP BY dimension, key
