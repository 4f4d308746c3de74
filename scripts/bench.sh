#!/usr/bin/env bash
# Benchmark: N `http` controls (one control expanded over N targets) run by `vouch run` — including the sealed
# bundle and both reports — against one local nginx, next to `curl --parallel` fetching the same N URLs into files.
# Prints the median wall time and peak RSS of each over R repetitions, and a floor: copying the sealed bundle's
# per-control artifacts with `cp -r` and flushing them with `sync -f` (less than any tool must do to leave the same
# evidence on disk: no fetching, no results, manifest or reports).
# Usage: scripts/bench.sh [N] [R]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
. scripts/lib/nginx.sh
count="${1:-1000}"
repeats="${2:-5}"
parallel=50
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
if ! [ -x /usr/bin/time ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
fi
. scripts/lib/release.sh
vouch="$(release_binary vouch)"

work="$root/.bench"
rm -rf "$work"
mkdir -p "$work/site" "$work/controls"
head -c 4096 /dev/urandom | base64 >"$work/site/page.html"
port=$(free_ports 1 19080)
start_nginx "$work/nginx" 2 "
  server {
    listen 127.0.0.1:$port;
    root $work/site;
    location /page/ { default_type text/html; try_files /page.html =404; }
  }" "$port"

cat >"$work/controls/bench.yaml" <<YAML
id: page
title: Benchmark page answers
description: One of $count pages served by the local nginx.
criteria: [CC7.1]
owner: bench
severity: low
frequency: daily
for_each: targets
collector:
  kind: http
  url: \${target.url}
expect:
  - fact: status
    equals: 200
YAML
{
  echo "targets:"
  for i in $(seq -w 1 "$count"); do printf '  p%s:\n    url: http://127.0.0.1:%s/page/%s\n' "$i" "$port" "$i"; done
} >"$work/vars.yaml"
for i in $(seq -w 1 "$count"); do
  printf 'url = "http://127.0.0.1:%s/page/%s"\noutput = "%s/curl-out/%s.html"\n' "$port" "$i" "$work" "$i"
done >"$work/curl.config"

# Times one run of the command into $work/time.txt ("seconds peak_kib"); exit codes up to MAX_OK count as success
# (vouch's 1 and 2 are results). Dirty pages left by earlier steps are flushed first, untimed, so no command pays for
# another's writes.
measure() {
  local max_ok=$1 code
  shift
  sync -f "$work"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || {
    code=$?; [ "$code" -le "$max_ok" ] || { cat "$work/stderr.txt" >&2; exit "$code"; }
  }
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

vouch_times=() vouch_rss=() curl_times=() curl_rss=() floor_times=()
for _ in $(seq "$repeats"); do
  rm -rf "$work/evidence" "$work/reports" "$work/curl-out"
  measure 2 "$vouch" run --controls "$work/controls" --vars "$work/vars.yaml" \
    --evidence "$work/evidence" --reports "$work/reports" --concurrency "$parallel"
  read -r t m <"$work/time.txt"
  vouch_times+=("$t") vouch_rss+=("$m")
  mkdir -p "$work/curl-out"
  measure 0 curl --silent --parallel --parallel-max "$parallel" --config "$work/curl.config"
  read -r t m <"$work/time.txt"
  curl_times+=("$t") curl_rss+=("$m")
  rm -rf "$work/floor"
  bundles=("$work"/evidence/2*/)
  measure 0 sh -c 'cp -r "$1" "$2" && sync -f "$2"' floor "${bundles[0]}controls" "$work/floor"
  read -r t _ <"$work/time.txt"
  floor_times+=("$t")
done
passed=$(grep -o '"pass" : [0-9]*' "$work"/evidence/*/results.json | tail -n 1 | grep -o '[0-9]*$')
fetched=$(find "$work/curl-out" -name '*.html' | wc -l)

vt=$(printf '%s\n' "${vouch_times[@]}" | median) vm=$(printf '%s\n' "${vouch_rss[@]}" | median)
ct=$(printf '%s\n' "${curl_times[@]}" | median) cm=$(printf '%s\n' "${curl_rss[@]}" | median)
ft=$(printf '%s\n' "${floor_times[@]}" | median)
files=$(find "$work/floor" -type f | wc -l)
echo "$count URLs, $parallel in parallel, median of $repeats runs ($(nproc) cores, $(nginx -v 2>&1 | cut -d/ -f2), $(curl --version | head -n 1 | cut -d' ' -f1-2))"
printf '%-44s %10s %14s\n' "" "wall (s)" "peak RSS (MiB)"
printf '%-44s %10s %14.1f\n' "vouch run (http controls, bundle, reports)" "$vt" "$(awk -v k="$vm" 'BEGIN { print k / 1024 }')"
printf '%-44s %10s %14.1f\n' "curl --parallel (bodies to files)" "$ct" "$(awk -v k="$cm" 'BEGIN { print k / 1024 }')"
printf '%-44s %10s\n' "floor: cp -r of the $files artifacts, sync -f" "$ft"
printf 'ratio vouch/curl wall time: %.2f (target <= 1.5); floor/curl: %.2f\n' \
  "$(awk -v a="$vt" -v b="$ct" 'BEGIN { print a / b }')" "$(awk -v a="$ft" -v b="$ct" 'BEGIN { print a / b }')"
echo "controls passed in the last vouch run: ${passed:-0} of $count; files fetched by curl: $fetched"
