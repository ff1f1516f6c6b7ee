-- Cost for the period: labour (labor_minutes / 60 x the hourly rate of the ticket's assignment
-- group, else [costs] default_hourly_rate) of the tickets resolved in the period, plus the fixed
-- monthly service costs prorated to the period (`service_costs`). Amounts are summed as whole
-- cents. Allocations add up: by service, each service's labour and fixed cost (a service with
-- costs and no tickets is its own line, tickets without a service are `(none)`); by the other
-- dimensions, the labour split plus a `(fixed costs)` line. The `month` dimension gives the cost
-- of each of the twelve months up to the period's end (labour of the tickets resolved in it, and
-- a month of every fixed cost). cost_per_ticket = cost / tickets resolved, for all and by
-- service. No rows when [costs] is empty.
-- Fixed costs are charged only to the period and the months the exports cover, those in which
-- some ticket was created or resolved: never to a month before the exports begin or after them.
WITH period_active AS (
    SELECT EXISTS (
        SELECT 1 FROM ledger
        WHERE (created_at >= $period_start AND created_at < $period_end)
           OR (resolved_at >= $period_start AND resolved_at < $period_end)
    ) AS active
),
charged_costs AS (
    SELECT s.service, CASE WHEN p.active THEN s.fixed_cents ELSE 0 END AS fixed_cents
    FROM service_costs s, period_active p
),
active_months AS (
    SELECT trend_month(created_at) AS month FROM ledger
    UNION
    SELECT trend_month(resolved_at) FROM ledger
),
costed AS (
    SELECT l.*,
           l.resolved_at >= $period_start AND l.resolved_at < $period_end AS in_cohort,
           CAST(round(l.labor_minutes / 60.0 * coalesce(r.rate, default_hourly_rate()) * 100) AS BIGINT)
               AS labor_cents
    FROM ledger_keyed l
    LEFT JOIN cost_rates r ON r.assignment_group = l.assignment_group
    WHERE NOT l.is_cancelled AND costs_configured()
      AND ((l.resolved_at >= $period_start AND l.resolved_at < $period_end)
           OR trend_month(l.resolved_at) IS NOT NULL)
),
labor AS (
    SELECT dimension_name(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS dimension,
           dimension_key(dim_priority, dim_kind, dim_service, dim_assignment_group, dim_category) AS key,
           count(*) FILTER (WHERE in_cohort) AS resolved,
           count(*) FILTER (WHERE in_cohort AND labor_cents IS NULL) AS without_labor,
           coalesce(sum(labor_cents) FILTER (WHERE in_cohort), 0) AS labor_cents
    FROM (
        SELECT * FROM costed WHERE in_cohort
        UNION ALL BY NAME
        -- every key, for the keys with nothing resolved in the period
        SELECT * FROM ledger_keys WHERE NOT is_cancelled AND costs_configured()
    )
    GROUP BY GROUPING SETS ((), (dim_priority), (dim_kind), (dim_service),
                            (dim_assignment_group), (dim_category))
    HAVING costs_configured()
),
by_month AS (
    SELECT trend_month(resolved_at) AS month, count(*) AS resolved,
           count(*) FILTER (WHERE labor_cents IS NULL) AS without_labor,
           sum(labor_cents) AS labor_cents
    FROM costed
    GROUP BY ALL
),
fixed AS (
    SELECT coalesce(sum(fixed_cents), 0) AS cents FROM charged_costs
),
lines AS (
    -- all: labour and every fixed cost
    SELECT 'all' AS dimension, 'all' AS key, l.resolved, l.without_labor,
           l.labor_cents + f.cents AS cents
    FROM labor l, fixed f WHERE l.dimension = 'all'
    UNION ALL
    -- by service: labour and the service's own fixed cost
    SELECT 'service', coalesce(l.key, s.service), coalesce(l.resolved, 0), coalesce(l.without_labor, 0),
           coalesce(l.labor_cents, 0) + coalesce(s.fixed_cents, 0)
    FROM (SELECT * FROM labor WHERE dimension = 'service') l
    FULL OUTER JOIN charged_costs s ON s.service = l.key
    WHERE costs_configured()
    UNION ALL
    -- by the other dimensions: the labour split
    SELECT dimension, key, resolved, without_labor, labor_cents
    FROM labor WHERE dimension NOT IN ('all', 'service')
    UNION ALL
    -- ... and the fixed costs, which belong to services, on a line of their own
    SELECT d.dimension, '(fixed costs)', 0, 0, f.cents
    FROM (SELECT DISTINCT dimension FROM labor WHERE dimension NOT IN ('all', 'service')) d, fixed f
    WHERE f.cents > 0
    UNION ALL
    -- by month
    SELECT 'month', m.month, coalesce(c.resolved, 0), coalesce(c.without_labor, 0),
           coalesce(c.labor_cents, 0)
             + CASE WHEN m.month IN (SELECT month FROM active_months)
                    THEN (SELECT coalesce(sum(CAST(round(monthly * 100) AS BIGINT)), 0) FROM service_costs)
                    ELSE 0 END
    FROM trend_months m
    LEFT JOIN by_month c USING (month)
    WHERE costs_configured()
)
SELECT 'cost_total' AS kpi, 'value' AS stat, dimension, key, cents / 100.0 AS value,
       resolved AS n, without_labor AS missing, NULL AS numerator, NULL AS denominator
FROM lines
UNION ALL
SELECT 'cost_per_ticket', 'value', dimension, key, cents / 100.0 / nullif(resolved, 0),
       resolved, without_labor, cents / 100.0, resolved
FROM lines
WHERE dimension IN ('all', 'service')
