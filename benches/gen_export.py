#!/usr/bin/env python3
"""Writes a ServiceNow-style incident list export for benchmarks: field-name headers, display
values, every field quoted, `yyyy-MM-dd HH:mm:ss`, N tickets over the 12 months from 2025-11.
Seeded: the same N gives the same file.

    python3 benches/gen_export.py 1000000 /tmp/incidents-1m.csv
"""
import csv
import random
import sys
from datetime import datetime, timedelta

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
start = datetime(2025, 11, 1)
priorities = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"]
groups = [f"Resolver group {i:02d}" for i in range(40)]
services = ["Email", "VPN", "ERP", "Laptop", "Printing", "Wi-Fi", "HR portal", "CRM", "Storage", "Telephony"]
words = "printer vpn email outlook password reset laptop screen slow network drive access error erp crm login".split()
fmt = "%Y-%m-%d %H:%M:%S"
header = ["number", "opened_at", "short_description", "caller_id", "priority", "state", "category",
          "assignment_group", "assigned_to", "business_service", "cmdb_ci", "reopen_count",
          "reassignment_count", "made_sla", "resolved_at", "closed_at", "sys_updated_on"]
with open(out, "w", newline="") as f:
    w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    for i in range(n):
        opened = start + timedelta(seconds=rnd.randrange(365 * 86400))
        prio = rnd.choices(priorities, [2, 8, 60, 30])[0]
        still_open = rnd.random() < 0.04
        resolved = None if still_open else opened + timedelta(minutes=int(rnd.lognormvariate(6.5, 1.6)))
        closed = None if resolved is None else resolved + timedelta(days=3)
        state = "In Progress" if still_open else ("Closed" if rnd.random() < 0.8 else "Resolved")
        w.writerow([f"INC{i:08d}", opened.strftime(fmt), " ".join(rnd.choices(words, k=6)),
                    f"Caller {rnd.randrange(20000)}", prio, state, rnd.choice(["Network", "Software", "Hardware"]),
                    rnd.choice(groups), f"Agent {rnd.randrange(300)}", rnd.choice(services),
                    f"CI {rnd.randrange(5000)}", rnd.choices([0, 1, 2], [95, 4, 1])[0],
                    rnd.choices([0, 1, 2, 3], [60, 25, 10, 5])[0], "true" if rnd.random() < 0.7 else "false",
                    resolved.strftime(fmt) if resolved else "", closed.strftime(fmt) if closed else "",
                    (closed or opened).strftime(fmt)])
