#!/usr/bin/env python3
"""Baseline: the same KPIs in pandas, as an analyst writes them today.

    python3 benches/baseline_pandas.py export.csv 2026-06-01 2026-07-01
"""
import json
import sys

import pandas as pd

path, start, end = sys.argv[1], pd.Timestamp(sys.argv[2]), pd.Timestamp(sys.argv[3])
df = pd.read_csv(path, usecols=["number", "opened_at", "priority", "assignment_group", "reopen_count",
                                "made_sla", "resolved_at", "closed_at"],
                 parse_dates=["opened_at", "resolved_at", "closed_at"], date_format="%Y-%m-%d %H:%M:%S")
df["P"] = "P" + df["priority"].str[0]
out = []
for dim, key in (("all", None), ("priority", "P"), ("assignment_group", "assignment_group")):
    groups = [("all", df)] if key is None else list(df.groupby(key))
    for k, g in groups:
        created = g[(g.opened_at >= start) & (g.opened_at < end)]
        res = g[(g.resolved_at >= start) & (g.resolved_at < end)]
        hours = (res.resolved_at - res.opened_at).dt.total_seconds() / 3600
        still_open = g[(g.opened_at < end) & ~((g.resolved_at <= end) | (g.closed_at <= end))]
        out += [dict(kpi="tickets_created", dimension=dim, key=k, value=len(created)),
                dict(kpi="tickets_resolved", dimension=dim, key=k, value=len(res)),
                dict(kpi="backlog_open", dimension=dim, key=k, value=len(still_open)),
                dict(kpi="mttr_hours", stat="mean", dimension=dim, key=k, value=hours.mean()),
                dict(kpi="mttr_hours", stat="median", dimension=dim, key=k, value=hours.median()),
                dict(kpi="mttr_hours", stat="p90", dimension=dim, key=k, value=hours.quantile(0.9)),
                dict(kpi="reopen_pct", dimension=dim, key=k, value=100 * (res.reopen_count > 0).mean()),
                dict(kpi="source_sla_met_pct", dimension=dim, key=k, value=100 * res.made_sla.mean())]
print(json.dumps({"kpis": out}, default=float)[:200])
