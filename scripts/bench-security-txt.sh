#!/usr/bin/env bash
# Benchmark: the security.txt corpus repeated COPIES times (53 × 100 = 5,300 files by default) linted by
# `vouch security-txt` (release build, every file in one process) and by sectxt 0.9.8 from PyPI, in the same run.
#
# sectxt is measured twice:
#   library  — sectxt.Parser over every file in ONE Python process (sectxt's best case: no interpreter start-up);
#   command  — the `sectxt FILE` command as shipped, which takes one file per process, over CLI_FILES files
#              (default: one copy of the corpus, 53 files) and extrapolated linearly to all files.
# vouch gets the file list through --files-from (thousands of positional arguments cost argument-parser more than
# the linting). Wall time and CPU time (user + system) are both reported: on a shared machine CPU time is the steadier
# figure. The headline ratio is vouch against the library, the conservative comparison.
# Usage: scripts/bench-security-txt.sh [COPIES] [REPEATS] [CLI_FILES]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
copies="${1:-100}"
repeats="${2:-5}"
cli_files="${3:-53}"
now="2026-11-29T05:21:33Z"
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
if ! [ -x /usr/bin/time ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi

venv="$root/.bench-sectxt"
if ! [ -x "$venv/bin/sectxt" ]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "sectxt==0.9.8"
fi

. scripts/lib/release.sh
vouch="$(release_binary vouch)"

corpus="$root/Tests/VouchKitTests/Fixtures/security-txt"
work="$venv/corpus"
rm -rf "$work"
mkdir -p "$work"
for ((copy = 0; copy < copies; copy++)); do
  for file in "$corpus"/*.txt; do cp "$file" "$work/$copy-$(basename "$file")"; done
done
files=("$work"/*.txt)
total=${#files[@]}

seconds() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
list="$venv/files.txt"
printf '%s\n' "${files[@]}" >"$list"

# Runs a command under /usr/bin/time, appends "wall cpu" to the file named by $1 and returns the command's status.
measure() {
  local record=$1 status=0
  shift
  /usr/bin/time -f "%e %U %S" -o "$venv/time.out" "$@" || status=$?
  tail -n 1 "$venv/time.out" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' >>"$record"
  return "$status"
}

: >"$venv/vouch.times"
: >"$venv/library.times"
for ((run = 0; run < repeats; run++)); do
  status=0
  measure "$venv/vouch.times" "$vouch" security-txt --now "$now" --quiet --files-from "$list" >"$venv/vouch.out" ||
    status=$?
  # Exit 1 is expected: most corpus files are invalid. Anything else means the run itself failed.
  [ "$status" -le 1 ] || { echo "vouch security-txt failed with $status" >&2; exit 1; }
  measure "$venv/library.times" "$venv/bin/python" -c '
import sys
from sectxt import Parser
for path in open(sys.argv[1]).read().split("\n")[:-1]:
    with open(path, "rb") as handle:
        parser = Parser(handle.read())
    print(path, "valid" if parser.is_valid() else "invalid")
' "$list" >"$venv/sectxt-library.out"
done

start=$(seconds)
for file in "${files[@]:0:$cli_files}"; do "$venv/bin/sectxt" "$file" >/dev/null || true; done
end=$(seconds)
cli_sample=$(calc "$end - $start")

vouch_median=$(cut -d' ' -f1 "$venv/vouch.times" | median)
vouch_cpu=$(cut -d' ' -f2 "$venv/vouch.times" | median)
library_median=$(cut -d' ' -f1 "$venv/library.times" | median)
library_cpu=$(cut -d' ' -f2 "$venv/library.times" | median)
cli_total=$(calc "$cli_sample * $total / $cli_files")
vouch_valid=$(grep -c ': valid (' "$venv/vouch.out" || true)
library_valid=$(grep -c ' valid$' "$venv/sectxt-library.out" || true)

echo "files: $total ($copies copies of the 53-file corpus), medians of $repeats runs"
printf '%-38s %9s %9s %7s\n' "" "wall (s)" "cpu (s)" "valid"
printf '%-38s %9.3f %9.3f %7d\n' "vouch security-txt (one process)" "$vouch_median" "$vouch_cpu" "$vouch_valid"
printf '%-38s %9.3f %9.3f %7d\n' "sectxt library (one process)" "$library_median" "$library_cpu" "$library_valid"
printf '%-38s %9.3f %9s %7s\n' "sectxt command (one process per file)" "$cli_total" "-" "-"
printf '  (the command: %d files took %.3f s, scaled to %d)\n' "$cli_files" "$cli_sample" "$total"
printf 'vouch vs sectxt library: %.1fx wall, %.1fx cpu\n' "$(calc "$library_median / $vouch_median")" \
  "$(calc "$library_cpu / $vouch_cpu")"
printf 'vouch vs sectxt command: %.1fx wall\n' "$(calc "$cli_total / $vouch_median")"
