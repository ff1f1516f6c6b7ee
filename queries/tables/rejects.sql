-- rejects.csv: every row rejected and every value set aside, with its file, row and column.
SELECT * FROM ingest_issues ORDER BY source_file, source_row, "column", problem
