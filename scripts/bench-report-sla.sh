#!/usr/bin/env bash
# Benchmark: the report-sla collector (`vouch run`, release build, one control — including the sealed bundle and
# both reports) on N generated reports, next to scripts/report-sla-python.py (csv + numpy busday functions) on the
# same file, in the same run. Prints wall time and peak RSS of each. Usage: scripts/bench-report-sla.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
count="${1:-1000000}"
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh --tests
if ! [ -x /usr/bin/time ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi
. scripts/lib/release.sh
vouch="$(release_binary vouch)"

work="$root/.bench/report-sla"
mkdir -p "$work"
input="$work/reports-$count.csv"
# Deterministic, so a generated file is reused between runs.
[ -f "$input" ] || python3 scripts/generate-sla-reports.py "$count" "$input"
rm -rf "$work/controls" "$work/evidence" "$work/reports"
mkdir -p "$work/controls"
cat >"$work/controls/sla.yaml" <<YAML
id: report-sla
title: Vulnerability reports answered within three business days
description: Benchmark over $count generated reports.
criteria: [CC7.3]
owner: bench
severity: low
frequency: monthly
collector:
  kind: report-sla
  path: $input
  columns: {id: Report ID, received_at: Created, first_response_at: First reply, updates: Updates,
            resolved_at: Resolved, disclosed_at: Disclosed, severity: Severity, state: Status,
            reporter: Reporter email, credit_name: Credit name, credit: Credit}
  time_zone: Europe/Berlin
  holidays: [2025-12-25, 2025-12-26, 2026-01-01, 2026-04-03, 2026-04-06, 2026-05-01]
  from: 2025-06-01
  to: 2026-06-02
  pseudonym_key_env: BENCH_PSEUDONYM_KEY
YAML

# measure LABEL COMMAND…: runs COMMAND under GNU time and prints "LABEL  wall s  peak RSS MB".
measure() {
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/time-$label" "$@" >"$work/output-$label" 2>&1 || {
    cat "$work/output-$label" >&2
    exit 1
  }
  read -r wall rss <"$work/time-$label"
  printf '%-28s %8.2f s %8.1f MB peak RSS\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
}

echo "input: $count reports, $(du -m "$input" | cut -f1) MB, $(nproc) CPUs"
(cd "$work" && BENCH_PSEUDONYM_KEY=bench-key-0123456789abcdef measure vouch \
  "$vouch" run --controls controls --evidence evidence --reports reports)
measure python-csv-numpy python3 scripts/report-sla-python.py "$input" "$work/python-reports.csv"
read -r vouch_wall _ <"$work/time-vouch"
read -r python_wall _ <"$work/time-python-csv-numpy"
printf 'speed-up: %.1fx\n' "$(echo "$python_wall / $vouch_wall" | bc -l)"
# The headline figures of both, to show they measured the same thing (Python's "breaches" counts answered reports
# only; Vouch's sla_breaches also counts reports closed without any response after their deadline).
python3 - "$work" <<'PY'
import glob, json, sys
results = json.load(open(glob.glob(f"{sys.argv[1]}/evidence/*/results.json")[0]))
facts = results["results"][0]["facts"]
names = ["reports_received", "first_responses_within_sla", "sla_breaches", "first_response_p50_business_days",
         "first_response_p90_business_days", "rejected_rows"]
print("vouch: ", json.dumps({name: facts[name] for name in names}))
print("python:", open(f"{sys.argv[1]}/output-python-csv-numpy").read().strip().splitlines()[-1])
PY
