#!/usr/bin/env bash
# Benchmark of the audit layer: 365 synthetic nightly bundles of 50 controls (made once by the real runner with an
# injected clock), then `verify` over all of them, the period report over the year, and SHA-256 throughput next to
# sha256sum on the same files. Usage: scripts/bench-audit.sh [NIGHTS] [CONTROLS]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh
. scripts/lib/release.sh
bench="$(release_binary vouch-bench)"
"$bench" .bench-audit "${1:-365}" "${2:-50}"
