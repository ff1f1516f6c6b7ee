-- Each service's monthly cost ([costs] monthly_service_costs), the months of the period it is
-- charged for, and the amount in cents.
SELECT service, monthly, months, fixed_cents FROM service_costs ORDER BY service
