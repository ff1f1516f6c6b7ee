-- The data-quality section's problems: how many rows or values each problem touched, per file
-- and column, rejected rows first (their examples: ingest_problem_examples.sql).
SELECT source_file, "column", problem, action, count(*) AS n
FROM ingest_issues
GROUP BY ALL
ORDER BY source_file, action DESC, n DESC, "column", problem
