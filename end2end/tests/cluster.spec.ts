// Issue 15: three meshcall-server nodes sharing their rooms through Redis, behind a real HAProxy.
// Three pages, each pinned to a different node (by the loopback address it loads from), form one
// call; one node is killed: its page reconnects through the load balancer to another node and rebinds,
// every page keeps moving frames throughout, and no connection is rebuilt.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { test, expect, peerConnectionsBuilt, roomName, expectVideoFlowing, type Person } from './fixtures';
import { OwnServer, connectionsOf, crashes, expectFramesAdvanceThroughout, markPage, pageMark } from './faults-helpers';
import { PORT } from '../env';

const NODE_PORTS = [PORT + 30, PORT + 31, PORT + 32];
const LB_PORT = PORT + 40;
const REDIS_PORT = PORT + 41;
/** Page i loads from 127.0.0.<i+1> (all loopback, so a secure context); HAProxy pins each address to
 * one node and falls back to the others when it is down. */
const BASES = [1, 2, 3].map((i) => `http://127.0.0.${i}:${LB_PORT}`);

function haproxyConfig(): string {
  const servers = (primary: number) =>
    NODE_PORTS.map((port, i) => `    server node${i} 127.0.0.1:${port} check inter 1s fall 2 rise 1${i === primary ? '' : ' backup'}`).join('\n');
  return `global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout check 3s
    timeout client 90s
    timeout server 90s
    timeout tunnel 1h
    option redispatch
    retries 3
frontend meet
    ${[1, 2, 3].map((i) => `bind 127.0.0.${i}:${LB_PORT}`).join('\n    ')}
${[1, 2, 3].map((i) => `    use_backend pin${i - 1} if { dst 127.0.0.${i} }`).join('\n')}
${NODE_PORTS.map((_, p) => `backend pin${p}
    option httpchk GET /healthz
    http-check expect status 200
${servers(p)}`).join('\n')}
`;
}

/** A process of the test's own, killed at the end. */
function run(cmd: string, args: string[], log: string): ChildProcess {
  const out = fs.openSync(log, 'w');
  return spawn(cmd, args, { stdio: ['ignore', out, out] });
}

async function expectCallShown(viewer: Person, peers: number, opts = {}) {
  await expect(viewer.page.getByTestId('reconnecting-banner'), `${viewer.name}: banner gone`).toBeHidden(opts);
  await expect(viewer.page.getByTestId('peer-tile'), `${viewer.name}: tiles`).toHaveCount(peers, opts);
  for (const tile of await viewer.page.getByTestId('peer-tile').all()) {
    await expect(tile, `${viewer.name}: tile connected`).toHaveAttribute('data-state', 'connected', opts);
  }
}

async function peersOn(port: number): Promise<number> {
  const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json());
  return health.peers;
}

test('three pages on three nodes behind HAProxy: a node is killed, its page moves over, frames keep moving, nothing is rebuilt', async ({ people }, testInfo) => {
  test.setTimeout(150_000);
  const redis = run('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', testInfo.outputDir], testInfo.outputPath('redis.log'));
  const cfg = testInfo.outputPath('haproxy.cfg');
  fs.writeFileSync(cfg, haproxyConfig());
  const nodes = NODE_PORTS.map((port) => new OwnServer(port, testInfo, ['--redis', `redis://127.0.0.1:${REDIS_PORT}/`]));
  let haproxy: ChildProcess | null = null;
  try {
    for (const node of nodes) await node.start();
    haproxy = run(fs.existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy', ['-db', '-f', cfg], testInfo.outputPath('haproxy.log'));
    await expect.poll(() => fetch(`${BASES[2]}/healthz`).then((r) => r.ok, () => false), { message: 'HAProxy answers' }).toBe(true);

    const room = roomName('cluster');
    const trio = [
      await people.join('Ada', room, { base: BASES[0] }),
      await people.join('Grace', room, { base: BASES[1] }),
      await people.join('Linus', room, { base: BASES[2] }),
    ];
    for (const p of trio) await expectCallShown(p, 2);
    // Pinned: one person's socket on each node.
    expect(await Promise.all(NODE_PORTS.map(peersOn)), 'one peer per node').toEqual([1, 1, 1]);
    for (const p of trio) await expectVideoFlowing(p, 2);
    for (const p of trio) await markPage(p);
    const built = await Promise.all(trio.map(peerConnectionsBuilt));
    expect(built, 'one connection per other person').toEqual([2, 2, 2]);

    // Grace's node dies without a goodbye.
    await nodes[1].kill();
    await expectFramesAdvanceThroughout(trio, 2, 10_000);
    // Her page is back, through HAProxy, on one of the two nodes left; everyone shows the call.
    await expect.poll(async () => (await peersOn(NODE_PORTS[0])) + (await peersOn(NODE_PORTS[2])), { message: 'three peers on the nodes left', timeout: 20_000 }).toBe(3);
    for (const p of trio) await expectCallShown(p, 2, { timeout: 15_000 });
    for (const [i, p] of trio.entries()) {
      expect(await pageMark(p), `${p.name}: no reload`).toBe('still the same page');
      expect(await peerConnectionsBuilt(p), `${p.name}: connections built`).toBe(built[i]);
      expect((await connectionsOf(p)).map((c) => c.state), `${p.name}: the original connections`).toEqual(['connected', 'connected']);
    }
    for (const p of trio) await expectVideoFlowing(p, 2);
    for (const p of trio) expect(crashes(p), `${p.name}: console`).toEqual([]);
  } finally {
    haproxy?.kill('SIGKILL');
    for (const node of nodes) await node.kill();
    redis.kill('SIGKILL');
  }
});
