#!/usr/bin/env python3
"""Writes N synthetic vulnerability reports as CSV, deterministically (fixed seed), for scripts/bench-report-sla.sh.

Usage: scripts/generate-sla-reports.py [N] [OUT]   (defaults: 1000000 reports to stdout)
Columns match docs/examples/report-sla/tracker-export.csv. Every value is synthetic.
"""
import csv
import datetime as dt
import random
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = open(sys.argv[2], "w", newline="") if len(sys.argv) > 2 else sys.stdout
rng = random.Random(20261129)
start = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
span = 366 * 86400
severities = ["low", "medium", "high", "critical"]


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


writer = csv.writer(out, lineterminator="\n")
writer.writerow(["Report ID", "Created", "First reply", "Updates", "Resolved", "Disclosed", "Severity", "Status",
                 "Reporter email", "Credit name", "Credit"])
for number in range(1, count + 1):
    received = start + dt.timedelta(seconds=rng.randrange(span))
    reply = received + dt.timedelta(hours=rng.expovariate(1 / 40)) if rng.random() < 0.9 else None
    updates = sorted(received + dt.timedelta(hours=rng.uniform(1, 400)) for _ in range(rng.randrange(4)))
    resolved = received + dt.timedelta(hours=rng.uniform(24, 1500)) if rng.random() < 0.7 else None
    disclosed = None
    if rng.random() < 0.2:
        base = resolved or received
        disclosed = base + dt.timedelta(hours=rng.uniform(-48, 500))
        if disclosed < received:
            disclosed = received + dt.timedelta(hours=1)
    reporter = rng.randrange(200_000)
    writer.writerow([
        f"R-{number:07d}", stamp(received), stamp(reply) if reply else "", ";".join(stamp(u) for u in updates),
        stamp(resolved) if resolved else "", stamp(disclosed) if disclosed else "", rng.choice(severities),
        "resolved" if resolved else "triaged", f"reporter{reporter}@example.org", f"Reporter {reporter}",
        "anonymous" if rng.random() < 0.3 else "credit",
    ])
