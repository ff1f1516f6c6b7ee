#!/usr/bin/env python3
"""Writes sample_data/incidents.csv: a ServiceNow incident list export (field-name headers,
display values, every field quoted, local times without a zone) of a fictional IT department,
August to October 2026. Seeded, so the file is the same on every run.

    python3 sample_data/make_sample.py
"""
import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

rnd = random.Random(20261031)
START = datetime(2026, 8, 1)
END = datetime(2026, 11, 1)
EXPORTED = datetime(2026, 11, 3, 9, 0)  # the export was taken two days after the last month

PRIORITIES = [("1 - Critical", 3, 4), ("2 - High", 12, 12), ("3 - Moderate", 55, 40), ("4 - Low", 30, 90)]
GROUPS = {
    "Service Desk": ["Email", "Printing", "Laptop", "HR portal"],
    "Network": ["VPN", "Wi-Fi"],
    "Workplace": ["Laptop", "Printing"],
    "Applications": ["ERP", "HR portal", "Email"],
    "Identity & Access": ["VPN", "Email", "ERP"],
}
GROUP_WEIGHTS = [40, 15, 15, 20, 10]
TITLES = {
    "Email": ["Outlook keeps asking for password", "Shared mailbox not visible", "Cannot send mail to external domain",
              "Calendar invites not arriving"],
    "VPN": ["VPN disconnects every 10 minutes", "Cannot connect to VPN from home", "VPN client update fails"],
    "ERP": ["ERP order screen times out", "Cannot post invoice in ERP", "ERP report missing last month's data"],
    "Laptop": ["Laptop does not boot", "Docking station not detected", "Battery drains in an hour", "Screen flickers"],
    "Printing": ["Printer on 3rd floor offline", "Print jobs stuck in queue", "Scanner sends blank pages"],
    "Wi-Fi": ["Wi-Fi drops in meeting room B", "Guest Wi-Fi portal not loading"],
    "HR portal": ["HR portal shows wrong leave balance", "Cannot upload expense receipt"],
}
# Configuration items: the laptop is the caller's own, the rest shared infrastructure.
CI_POOLS = {
    "Email": [f"EXO-MBX-{i:02d}" for i in range(1, 25)],
    "VPN": ["VPN-GW-AMS-1", "VPN-GW-AMS-2", "VPN-GW-RTM-1"],
    "ERP": [f"ERP-APP-{i:02d}" for i in range(1, 13)],
    "Printing": [f"PRN-{floor}F-{n}" for floor in range(1, 9) for n in range(1, 4)],
    "Wi-Fi": [f"AP-{floor}F-{n:02d}" for floor in range(1, 9) for n in range(1, 7)],
    "HR portal": ["HRP-WEB-1", "HRP-WEB-2", "HRP-DB-1"],
}
CATEGORIES = {"Email": "Software", "VPN": "Network", "ERP": "Software", "Laptop": "Hardware",
              "Printing": "Hardware", "Wi-Fi": "Network", "HR portal": "Inquiry / Help"}
AGENTS = {g: [f"{g.split()[0]} Agent {i}" for i in range(1, 5)] for g in GROUPS}
CHANNELS = [("Phone", 35), ("Email", 30), ("Self-service", 30), ("Walk-in", 5)]
FMT = "%Y-%m-%d %H:%M:%S"


def working_time(t):
    """Push a time into office hours (Mon-Fri 08:00-18:00), as most incidents arrive then."""
    while t.weekday() >= 5:
        t += timedelta(days=1)
    if t.hour < 8:
        t = t.replace(hour=8) + timedelta(minutes=rnd.randrange(0, 120))
    if t.hour >= 18:
        t = t + timedelta(days=1)
        t = t.replace(hour=8) + timedelta(minutes=rnd.randrange(0, 120))
        return working_time(t)
    return t


rows = []
n = 420
for i in range(n):
    while True:
        opened = START + timedelta(seconds=rnd.randrange(int((END - START).total_seconds())))
        if rnd.random() < 0.85:
            opened = working_time(opened)
        if opened < END:
            break
    prio, _, median_h = rnd.choices(PRIORITIES, [p[1] for p in PRIORITIES])[0]
    caller = rnd.randrange(1, 900)
    group = rnd.choices(list(GROUPS), GROUP_WEIGHTS)[0]
    service = rnd.choice(GROUPS[group])
    hours = rnd.lognormvariate(0, 1.0) * median_h
    resolved = opened + timedelta(hours=hours)
    reopened = rnd.random() < 0.06
    if reopened:
        resolved += timedelta(hours=rnd.uniform(4, 72))
    cancelled = rnd.random() < 0.03
    state = "Closed"
    closed = resolved + timedelta(days=3)
    if cancelled:
        state, resolved, closed = "Canceled", None, opened + timedelta(hours=rnd.uniform(0.2, 6))
    elif resolved > EXPORTED:
        state, resolved, closed = rnd.choice(["In Progress", "On Hold", "New"]), None, None
    elif closed > EXPORTED:
        state, closed = "Resolved", None
    target_h = {"1 - Critical": 4, "2 - High": 24, "3 - Moderate": 72, "4 - Low": 120}[prio]
    made_sla = "" if resolved is None else ("true" if hours <= target_h else "false")
    rows.append({
        "number": f"INC00{41000 + i * 7}",
        "opened_at": opened.strftime(FMT),
        "short_description": rnd.choice(TITLES[service]),
        "caller_id": f"Employee {caller:03d}",
        "priority": prio,
        "state": state,
        "category": CATEGORIES[service],
        "assignment_group": group,
        "assigned_to": rnd.choice(AGENTS[group]),
        "business_service": service,
        "cmdb_ci": (f"LT-{caller:03d}" if service == "Laptop" else rnd.choice(CI_POOLS[service])),
        "contact_type": rnd.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
        "reopen_count": "1" if reopened else "0",
        "reassignment_count": str(rnd.choices([0, 1, 2, 3], [60, 25, 10, 5])[0]),
        "made_sla": made_sla,
        # time worked, kept in a custom field by this instance (mapped in deskpulse.toml)
        "u_time_worked_min": (str(max(5, int(rnd.lognormvariate(3.8, 0.8))))
                              if resolved is not None and rnd.random() < 0.85 else ""),
        "resolved_at": resolved.strftime(FMT) if resolved else "",
        "closed_at": closed.strftime(FMT) if closed else "",
    })

# What real exports carry, and the data-quality section reports:
rows[17]["resolved_at"] = ""              # closed in the help desk, exported without a resolution time
rows[58]["opened_at"] = ""                # no creation time: the row is rejected
rows[91]["closed_at"] = "2026-07-30 10:00:00"  # closed before it was opened: that value is set aside
rows[133]["business_service"] = ""        # no service: reported under (none)
rows[204]["priority"] = "3 - Medium"      # a label the profile does not know: priority set aside

rows.sort(key=lambda r: r["number"])
out = Path(__file__).with_name("incidents.csv")
with out.open("w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
print(f"wrote {len(rows)} incidents to {out}")
