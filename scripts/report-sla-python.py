#!/usr/bin/env python3
"""The comparison for scripts/bench-report-sla.sh: the same first-response measurement as Vouch's report-sla
collector on a generated CSV, written the short way (csv module + numpy busday functions, whole-day calendar).

Usage: scripts/report-sla-python.py INPUT.csv OUTPUT.csv
"""
import csv
import datetime as dt
import json
import sys
import zoneinfo

import numpy as np

zone = zoneinfo.ZoneInfo("Europe/Berlin")
holidays = ["2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01"]
days = 3

ids, received, responded = [], [], []
with open(sys.argv[1], newline="") as source:
    rows = csv.reader(source)
    header = next(rows)
    at = {name: index for index, name in enumerate(header)}
    for row in rows:
        ids.append(row[at["Report ID"]])
        received.append(dt.datetime.fromisoformat(row[at["Created"]]).astimezone(zone))
        reply = row[at["First reply"]]
        responded.append(dt.datetime.fromisoformat(reply).astimezone(zone) if reply else None)

received_day = np.array([r.date() for r in received], dtype="datetime64[D]")
start_day = np.busday_offset(received_day, 0, roll="forward", holidays=holidays)
deadline_day = np.busday_offset(start_day, days, roll="forward", holidays=holidays)
starts_today = start_day == received_day
fraction_received = np.array([(r.hour * 3600 + r.minute * 60 + r.second) / 86400 for r in received])
start_fraction = np.where(starts_today, fraction_received, 0.0)

answered = np.array([r is not None for r in responded])
response_day = np.array([(r or d).date() for r, d in zip(responded, received)], dtype="datetime64[D]")
response_fraction = np.array([(r.hour * 3600 + r.minute * 60 + r.second) / 86400 if r else 0 for r in responded])
response_fraction = np.where(np.is_busday(response_day, holidays=holidays), response_fraction, 0.0)
whole = np.busday_count(start_day, response_day, holidays=holidays)
elapsed = np.maximum(whole + response_fraction - start_fraction, 0)
within = answered & (response_day <= deadline_day)

with open(sys.argv[2], "w", newline="") as target:
    out = csv.writer(target, lineterminator="\n")
    out.writerow(["id", "clock_start_day", "deadline_day", "first_response_business_days", "verdict"])
    for index in range(len(ids)):
        verdict = ("within" if within[index] else "breach") if answered[index] else "open"
        shown = f"{elapsed[index]:.3f}" if answered[index] else ""
        out.writerow([ids[index], str(start_day[index]), str(deadline_day[index]), shown, verdict])

measured = elapsed[answered]
print(json.dumps({
    "reports": len(ids), "within": int(within.sum()), "breaches": int((answered & ~within).sum()),
    "p50": round(float(np.percentile(measured, 50)), 3), "p90": round(float(np.percentile(measured, 90)), 3),
}))
