#!/usr/bin/env bash
# `make e2e`: only the end-to-end suite, for iterating on it. Rebuilds what changed first.
# Arguments go to `playwright test`: scripts/e2e.sh --grep "closes the tab" --repeat-each 3
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
timed "setup" setup_test
timed "release build (meshcall-server, trunk build --release)" build_release
timed "end-to-end" run_e2e "$@"
