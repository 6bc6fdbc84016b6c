// The cluster section of BENCHMARKS.md (issue 15) from scripts/bench-cluster.sh's two loadgen runs.
// Usage: node scripts/bench-cluster.mjs target/bench > target/bench/cluster.md
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = process.argv[2] ?? 'target/bench';
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
const cluster = read('loadgen-cluster.json');
const alone = read('loadgen-alone.json');
const ms = (v) => (typeof v === 'number' ? `${v.toFixed(2)} ms` : 'n/a');
const kb = (v) => (typeof v === 'number' ? `${v.toFixed(1)} KiB` : 'n/a');
const [c, a] = [cluster.steps[0], alone.steps[0]];
const [onA, onB] = cluster.memory.sockets_per_node;

console.log(`## Two nodes through Redis (issue 15)

${cluster.sockets} sockets in rooms of 2, relaying ${c.target_rate} msg/s for ${cluster.duration_s} s, on two
meshcall-server nodes sharing a redis-server (${onA} and ${onB} sockets; half the rooms on one node, half
across both), then the same load on one node alone, in the same run (\`scripts/bench-cluster.sh\`).

| figure | two nodes | one node alone |
| --- | --- | --- |
| sockets joined | ${cluster.connect.joined} | ${alone.connect.joined} |
| relay held | ${c.held_rate.toFixed(0)} msg/s (lost ${c.lost}) | ${a.held_rate.toFixed(0)} msg/s (lost ${a.lost}) |
| relay p50 / p99, all pairs | ${ms(c.p50_ms)} / ${ms(c.p99_ms)} | ${ms(a.p50_ms)} / ${ms(a.p99_ms)} |
| relay p99, same-node pairs | ${ms(c.same_node?.p99_ms)} (${c.same_node?.received} msgs) | |
| relay p99, cross-node pairs | ${ms(c.cross_node?.p99_ms)} (${c.cross_node?.received} msgs) | |
| memory per idle socket | ${kb(cluster.memory.per_idle_conn_kb)} (first node), ${kb(cluster.memory.second_node?.per_idle_conn_kb)} (second) | ${kb(alone.memory.per_idle_conn_kb)} |
| join (handshake + IdAssigned) p99 | ${ms(cluster.connect.p99_ms)} | ${ms(alone.connect.p99_ms)} |

In a cluster every signal goes through Redis, also between two sockets of one node (one channel per
room keeps the single node's ordering), so same-node and cross-node pairs pay the same extra hop.
`);
