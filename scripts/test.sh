#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (tests start their own servers on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
scripts/setup.sh --tests
swift build --build-tests
swift test --skip-build "$@"
