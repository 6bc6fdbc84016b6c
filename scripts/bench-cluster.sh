# Sourced by scripts/bench.sh inside its namespace (issue 15): two meshcall-server nodes sharing rooms
# through a redis-server of their own, against one node alone, in the same run. 10,000 sockets in
# rooms of two (5,000 per node; half the rooms on one node, half across the two), relaying 5,000 msg/s:
# relay p99 of same-node and cross-node pairs, and memory per idle socket on each node. Writes
# $OUT/loadgen-cluster.json, $OUT/loadgen-alone.json and the report section $OUT/cluster.md. Not the
# defaults: room for the sockets, all from the load generator's one address (as the load bench).
# shellcheck shell=bash

bench_cluster() {
  local sockets="$1" rate="$2" secs="$3" redis_port=18195 a=18191 b=18192 redis_pid node_a node_b
  wait_quiet
  say "cluster: two nodes and Redis, $sockets sockets in rooms of 2, $rate msg/s (vs one node alone)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$OUT" \
    >"$OUT/redis.log" 2>&1 &
  redis_pid=$!
  wait_port "$redis_port"
  "${PRIO[@]}" "$SERVER_BIN" --addr "127.0.0.1:$a" --static-dir "$DIST" --max-connections 15000 --max-connections-per-ip 15000 \
    --redis "redis://127.0.0.1:$redis_port/" >"$OUT/server-cluster-a.log" 2>&1 &
  node_a=$!
  "${PRIO[@]}" "$SERVER_BIN" --addr "127.0.0.1:$b" --static-dir "$DIST" --max-connections 15000 --max-connections-per-ip 15000 \
    --redis "redis://127.0.0.1:$redis_port/" >"$OUT/server-cluster-b.log" 2>&1 &
  node_b=$!
  wait_port "$a" && wait_port "$b"
  "${PRIO[@]}" "$LOADGEN" --url "ws://127.0.0.1:$a/ws/" --cluster-url "ws://127.0.0.1:$b/ws/" \
    --sockets "$sockets" --room-size 2 --rate "$rate" --duration "$secs" \
    --server-pid "$node_a" --cluster-pid "$node_b" --json "$OUT/loadgen-cluster.json" |
    tee "$OUT/loadgen-cluster.txt"
  kill "$node_a" "$node_b" "$redis_pid" 2>/dev/null || true
  wait "$node_a" "$node_b" "$redis_pid" 2>/dev/null || true

  wait_quiet
  say "the same load on one node alone"
  start_server alone "$a" "${PRIO[@]}" "$SERVER_BIN" --addr "127.0.0.1:$a" --static-dir "$DIST" \
    --max-connections 15000 --max-connections-per-ip 15000
  "${PRIO[@]}" "$LOADGEN" --url "ws://127.0.0.1:$a/ws/" --sockets "$sockets" --room-size 2 \
    --rate "$rate" --duration "$secs" --server-pid "$SERVER_PID" --json "$OUT/loadgen-alone.json" |
    tee "$OUT/loadgen-alone.txt"
  stop_server
  node "$ROOT/scripts/bench-cluster.mjs" "$OUT" >"$OUT/cluster.md"
}
