# Shared by the benchmark scripts: builds a product the way it is installed and prints the binary's path; on a failed
# build, prints the compiler's output and fails.
#
# `--static-swift-stdlib` links the Swift runtime and Foundation into the binary: the host needs only Debian's
# libcurl, libxml2 and OpenSSL, and each start skips loading and binding about 20 Swift shared libraries (≈ 9 ms,
# which matters for a command like `vouch tls` that runs in tens of milliseconds).
release_binary() {
  local log
  log="$(mktemp)"
  if ! swift build -c release --static-swift-stdlib --product "$1" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  local bin
  bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" || return 1
  echo "$bin/$1"
}
