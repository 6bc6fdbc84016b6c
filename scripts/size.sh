#!/usr/bin/env bash
# The room page's download size (issue 6's figure), alone: builds the app and the server in release,
# then inside a private network namespace opens /r/<room> in a cold-cache Chromium, joins, and
# prints the gzip -9 bytes of every response the page fetched (end2end/bench/size.mjs, the same code
# `make bench` uses for BENCHMARKS.md). README's size table is this script's output. About a minute
# once the builds are warm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
OUT="$ROOT/target/size"

if [ "${MESHCALL_IN_NETNS:-}" != 1 ]; then
  # What the build and one Chromium page need (not matchbox_server, which only the e2e suite uses).
  setup_size() { setup_run && ensure_browser && ensure_e2e_deps; }
  timed "setup" setup_size
  rm -rf "$OUT"
  mkdir -p "$OUT"
  # Own copy of dist/: other work in this checkout may rebuild dist/ meanwhile.
  timed "release build (meshcall-server, trunk build --release)" \
    cargo build --release -p meshcall-server --bin meshcall-server
  cp "$(target_dir)/release/meshcall-server" "$OUT/"
  timed "release build of the app" trunk_release --dist "$OUT/dist"
  exec "$ROOT/scripts/netns.sh" bash "$ROOT/scripts/size.sh" "$@"
fi

# --- inside the namespace from here on ---
PORT=18170
"$OUT/meshcall-server" --addr "127.0.0.1:$PORT" --static-dir "$OUT/dist" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
(cd "$ROOT/end2end" && node bench/browser.mjs --app "http://127.0.0.1:$PORT" --only size --variants meshcall \
  --out "$OUT/browser.json")
node "$ROOT/end2end/bench/size.mjs" --table "$OUT/browser.json"
