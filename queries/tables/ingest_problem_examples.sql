-- The first three rows of each problem of ingest_problems.sql, as examples.
SELECT source_file, "column", problem, action, source_row, value
FROM ingest_issues
QUALIFY row_number() OVER (PARTITION BY source_file, "column", problem, action
                           ORDER BY source_row) <= 3
ORDER BY source_row
