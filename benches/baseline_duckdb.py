#!/usr/bin/env python3
"""Baseline: DuckDB alone reading the export and computing the same first-slice KPIs (created,
resolved, backlog, MTTR mean/median/p90, reopen %, the help desk's SLA %) for all, by priority and
by assignment group, in one SQL pass per dimension. The floor for "read a CSV and aggregate it".

    python3 benches/baseline_duckdb.py export.csv 2026-06-01 2026-07-01
"""
import sys

import duckdb

path, start, end = sys.argv[1:4]
con = duckdb.connect()
con.execute(f"""
CREATE TABLE t AS SELECT number, opened_at, resolved_at, closed_at, 'P' || priority[1] AS p,
  assignment_group AS grp, reopen_count, made_sla
FROM read_csv('{path}', timestampformat='%Y-%m-%d %H:%M:%S')""")
query = """
SELECT {key} AS k,
  count(*) FILTER (opened_at >= $s AND opened_at < $e) AS created,
  count(*) FILTER (resolved_at >= $s AND resolved_at < $e) AS resolved,
  count(*) FILTER (opened_at < $e AND NOT coalesce(resolved_at <= $e OR closed_at <= $e, false)) AS backlog,
  avg(epoch(resolved_at - opened_at) / 3600) FILTER (resolved_at >= $s AND resolved_at < $e) AS mttr_mean,
  quantile_cont(epoch(resolved_at - opened_at) / 3600, 0.5) FILTER (resolved_at >= $s AND resolved_at < $e) AS mttr_median,
  quantile_cont(epoch(resolved_at - opened_at) / 3600, 0.9) FILTER (resolved_at >= $s AND resolved_at < $e) AS mttr_p90,
  100 * avg((reopen_count > 0)::int) FILTER (resolved_at >= $s AND resolved_at < $e) AS reopen_pct,
  100 * avg(made_sla::int) FILTER (resolved_at >= $s AND resolved_at < $e) AS sla_pct
FROM t GROUP BY ALL"""
rows = []
for key in ("'all'", "p", "grp"):
    rows += con.execute(query.format(key=key), {"s": start, "e": end}).fetchall()
print(len(rows), rows[0])
