#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build Vouch and run its demo (Debian's package mirrors only);
# with --tests also what the tests compare against or drive (Python validators, Chromium, sslscan, sslyze).
set -euo pipefail

packages=(libcurl4-openssl-dev libxml2-dev libssl-dev nginx-light openssl ca-certificates gpgv)
tests=false
[ "${1:-}" = "--tests" ] && tests=true
if $tests; then
  packages+=(libxml2-utils gnupg python3 python3-jsonschema python3-regex python3-numpy python3-venv chromium sslscan)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# sslyze (PyPI) is the reference the TLS collector's tests compare against; scripts/bench-tls.sh times it too.
tools="$(cd "$(dirname "$0")/.." && pwd)/.venv-tools"
if $tests && [ ! -x "$tools/bin/sslyze" ]; then
  echo "setup: installing sslyze into $tools" >&2
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "sslyze==6.3.1"
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: add /opt/swift/usr/bin to PATH" >&2
  else
    echo "setup: a Swift 6 toolchain is required (swift.org/install); none found on PATH" >&2
  fi
  exit 1
fi
