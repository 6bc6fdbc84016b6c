#!/usr/bin/env bash
# `make run`: installs what is missing, builds the app and the server in release, and serves the app.
# Idempotent: the second run only checks versions and lets cargo/trunk see nothing changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ADDR="${MESHCALL_ADDR:-127.0.0.1:8080}"

timed "setup (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt)" setup_run
timed "release build (meshcall-server, trunk build --release)" build_release

server="$(target_dir)/release/meshcall-server"
printf '\nmeshcall is running: open http://%s/ in your browser (Ctrl-C stops it)\n\n' "$ADDR"
exec "$server" --addr "$ADDR" --static-dir "$ROOT/dist"
