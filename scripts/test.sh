#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every suite in order: native tests, the
# wasm-bindgen-test browser suites, and the Playwright end-to-end suite. A failing suite does not stop the
# later ones (CI shows every failure at once), but any failure makes the exit code non-zero.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

failed=()
passed_tests=0
failed_tests=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# Counts what the runners report: cargo test and wasm-bindgen-test print "test result: ... N passed;
# N failed;", Playwright prints "N passed" / "N failed" lines, the lint suite "lint passed: <check>" or
# "lint failed: <check>" (one each).
count_results() {
  local p
  p=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1/p; s/^ +([0-9]+) passed( \(.*\))?$/\1/p; s/^lint passed: .*/1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
  reported_failures=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\2/p; s/^ +([0-9]+) (failed|flaky|interrupted|did not run)$/\1/p; s/^lint failed: .*/1/p' "$out" | awk '{ s += $1 } END { print s + 0 }')
  passed_tests=$((passed_tests + p))
}

suite() {
  local name="$1"
  shift
  if timed "$name" "$@" 2>&1 | tee "$out"; then
    count_results
    failed_tests=$((failed_tests + reported_failures))
  else
    failed+=("$name")
    count_results
    # A suite that failed before any test reported (a build error) still counts as one failure.
    failed_tests=$((failed_tests + (reported_failures > 0 ? reported_failures : 1)))
  fi
}

summary() {
  echo
  if [ "${#failed[@]}" -gt 0 ]; then
    printf 'FAILED suite: %s\n' "${failed[@]}"
  fi
  echo "total: $passed_tests passed, $failed_tests failed"
  [ "${#failed[@]}" -eq 0 ]
}

# Setup and the release build are preconditions: without them no later suite means anything.
timed "setup (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt, chromium, chromedriver, npm deps)" setup_test || exit 1

# Formatting and clippy, native (the whole workspace) and wasm (the app, as the browser runs it): a
# warning fails the suite. Every check runs, so one run shows all of them.
lint() {
  local rc=0 check
  for check in "cargo fmt --all --check" \
    "cargo clippy --workspace --all-targets -- -D warnings" \
    "cargo clippy --target wasm32-unknown-unknown -p meshcall --all-targets -- -D warnings"; do
    if $check; then
      echo "lint passed: $check"
    else
      echo "lint failed: $check"
      rc=1
    fi
  done
  return "$rc"
}
suite "lint: cargo fmt, cargo clippy (native and wasm)" lint

suite "native tests: cargo test --workspace" cargo test --workspace

# The browser suites in tests/ run in headless Chromium through chromedriver. Build (and fetch crates)
# outside the namespace, which has no network; run inside it, where WebRTC has a non-loopback interface.
wasm_tests() {
  export CHROMEDRIVER=/usr/bin/chromedriver
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  # The runner gives each test file 20 s in all by default; tests/devices.rs needs ~10 s when well and
  # more when one wait runs out, which must report as that test's failure, not as a runner timeout.
  export WASM_BINDGEN_TEST_TIMEOUT=90
  cargo test --target wasm32-unknown-unknown -p meshcall --no-run &&
    scripts/netns.sh cargo test --offline --target wasm32-unknown-unknown -p meshcall
}
suite "browser tests: wasm-bindgen-test in headless Chromium" wasm_tests

if ! timed "release build (meshcall-server, trunk build --release)" build_release; then
  failed+=("release build (the end-to-end suite cannot run)")
  failed_tests=$((failed_tests + 1))
  summary
  exit
fi

suite "end-to-end: Playwright, several Chromium pages in a private network namespace" run_e2e

summary
