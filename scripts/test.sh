#!/usr/bin/env bash
# Sets up what is missing and runs every test suite; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
