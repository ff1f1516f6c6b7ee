-- The data-quality account per source: tickets known at as_of, cancelled ones, those resolved
-- in the help desk but exported without a resolution time.
SELECT source,
       count(*) AS tickets,
       count(*) FILTER (WHERE is_cancelled) AS cancelled,
       count(*) FILTER (WHERE resolved_without_timestamp AND NOT is_cancelled)
           AS resolved_without_timestamp
FROM ledger
GROUP BY source
ORDER BY source
