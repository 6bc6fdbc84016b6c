#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every suite in order: native tests, the
# wasm-bindgen-test browser suites, and the Playwright end-to-end suite. A failing suite does not stop the
# later ones (CI shows every failure at once), but any failure makes the exit code non-zero.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

failed=()
suite() {
  local name="$1"; shift
  if ! timed "$name" "$@"; then
    failed+=("$name")
  fi
}

# Setup and the release build are preconditions: without them no later suite means anything.
timed "setup (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt, chromium, chromedriver, npm deps)" setup_test || exit 1

suite "native tests: cargo test --workspace" cargo test --workspace

# The browser suites in tests/ run in headless Chromium through chromedriver. Build (and fetch crates)
# outside the namespace, which has no network; run inside it, where WebRTC has a non-loopback interface.
wasm_tests() {
  export CHROMEDRIVER=/usr/bin/chromedriver
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  cargo test --target wasm32-unknown-unknown -p meshcall --no-run &&
    scripts/netns.sh cargo test --offline --target wasm32-unknown-unknown -p meshcall
}
# TEMPORARY gate until the app's browser suites land in tests/; remove it then.
if compgen -G "tests/*.rs" >/dev/null; then
  suite "browser tests: wasm-bindgen-test in headless Chromium" wasm_tests
else
  say "SKIPPED browser tests: no tests/*.rs yet"
fi

# TEMPORARY gate until the app (index.html) and the real server land; remove it then.
if [ ! -f index.html ] || ! grep -rqs -- static-dir server/src; then
  say "SKIPPED release build and end-to-end suite: app or server not there yet"
  [ "${#failed[@]}" -eq 0 ] || { printf 'FAILED suite: %s\n' "${failed[@]}" >&2; exit 1; }
  exit 0
fi

timed "release build (meshcall-server, trunk build --release)" build_release || {
  echo "release build failed; the end-to-end suite cannot run" >&2
  exit 1
}

suite "end-to-end: Playwright, several Chromium pages in a private network namespace" run_e2e

echo
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'FAILED suite: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "all suites passed"
