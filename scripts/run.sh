#!/usr/bin/env bash
# `make run`: installs what is missing, builds the app and the server in release, and serves the app.
# Idempotent: the second run only checks versions and lets cargo/trunk see nothing changed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ADDR="${MESHCALL_ADDR:-127.0.0.1:8080}"
PORT="${ADDR##*:}"
HOST="${ADDR%:*}"
case "$HOST" in 0.0.0.0 | "[::]" | "") HOST=127.0.0.1 ;; esac

timed "setup (wasm32 target, trunk, wasm-bindgen-cli, wasm-opt)" setup_run
timed "release build (meshcall-server, trunk build --release)" build_release

# The one binary, with the app built into it (no --static-dir): what a deployment runs.
"$(target_dir)/release/meshcall-server" --addr "$ADDR" &
server=$!
# A script's background job ignores Ctrl-C, so pass it on; the server then closes its sockets cleanly.
trap 'kill -TERM "$server" 2>/dev/null' INT TERM

# Print the URL only once the server accepts connections, so it is never a dead link.
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/${HOST//[\[\]]/}/$PORT") 2>/dev/null; then
    printf '\nmeshcall is running: open http://%s/ in your browser (Ctrl-C stops it)\n\n' "$ADDR"
    break
  fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
wait "$server"
