-- The data-quality account per source: tickets known at as_of, cancelled ones, those resolved
-- in the help desk but exported without a resolution time, and those with a reopen count.
SELECT source,
       count(*) AS tickets,
       count(*) FILTER (WHERE is_cancelled) AS cancelled,
       count(*) FILTER (WHERE resolved_without_timestamp AND NOT is_cancelled)
           AS resolved_without_timestamp,
       count(*) FILTER (WHERE reopen_count IS NOT NULL) AS with_reopen_count
FROM ledger
GROUP BY source
ORDER BY source
