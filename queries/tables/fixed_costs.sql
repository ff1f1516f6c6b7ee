-- Each service's monthly cost ([costs] monthly_service_costs), the months of the period it is
-- charged for, and the amount in cents: none for a period the exports do not cover, in which
-- no ticket was created or resolved (the rule of costs.sql).
SELECT service, monthly,
       CASE WHEN active THEN months ELSE 0 END AS months,
       CASE WHEN active THEN fixed_cents ELSE 0 END AS fixed_cents
FROM service_costs,
     (SELECT EXISTS (
          SELECT 1 FROM ledger
          WHERE (created_at >= $period_start AND created_at < $period_end)
             OR (resolved_at >= $period_start AND resolved_at < $period_end)
      ) AS active)
ORDER BY service
