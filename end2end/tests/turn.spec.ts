// TURN through a real coturn (issue 12): calls that only a relay gets through. Each test starts its own
// coturn (Debian's, installed by `make test`; `use-auth-secret` with a `static-auth-secret`, as README
// "Deploy" tells an operator to run it) on the namespace's veth address, and its own meshcall-server
// minting TURN REST credentials for it and forcing relay (`--ice-transport-policy relay`, so
// `/config.json` says `"iceTransportPolicy":"relay"` and the browser gathers relay candidates only).
//
// - With the same secret on both sides, three people form a full call, and on every page every
//   connection's selected candidate pair is a relay candidate of this coturn on both ends.
// - With another secret, or with credentials that expired before the page joined, each page says in
//   words that the relay refused the credentials, within seconds, instead of "connecting" forever.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { TestInfo } from '@playwright/test';
import { test, expect, expectFullMesh, clickJoin, roomName, type People, type Person } from './fixtures';
import { OwnServer, inPrivateNetns } from './faults-helpers';
import { PORT } from '../env';

// Clear of the other specs' own servers (faults: PORT+20.., cluster: PORT+30..41).
const SERVER_PORT = PORT + 50;
const TURN_PORT = PORT + 51;
/** The veth address of the namespace (scripts/netns.sh): Chromium gathers nothing on loopback. */
const TURN_IP = '10.77.0.1';
/** coturn's relay ports: a relay candidate in this range is one of our coturn's allocations. */
const RELAY_PORTS = { min: 49200, max: 49299 };
/** How soon a page must say the relay refused it, from the click on Join. */
const REFUSAL_WITHIN = 10_000;

/** A coturn of the test's own, configured from a turnserver.conf in the test's output folder (the
 * minimal one README "Deploy" shows, with test addresses), its log and pid file beside it. */
class Coturn {
  private child: ChildProcess | null = null;
  readonly log: string;
  constructor(private readonly testInfo: TestInfo, private readonly secret: string) {
    this.log = testInfo.outputPath('turnserver.log');
  }

  async start() {
    const conf = this.testInfo.outputPath('turnserver.conf');
    fs.writeFileSync(
      conf,
      [
        `listening-ip=${TURN_IP}`,
        `relay-ip=${TURN_IP}`,
        `listening-port=${TURN_PORT}`,
        `min-port=${RELAY_PORTS.min}`,
        `max-port=${RELAY_PORTS.max}`,
        'use-auth-secret',
        `static-auth-secret=${this.secret}`,
        'realm=meshcall.test',
        'fingerprint',
        'no-tls',
        'no-dtls',
        // coturn 4.6.1 exits if the CLI is on without a password; nobody needs it here.
        'no-cli',
        'no-multicast-peers',
        `log-file=${this.log}`,
        'simple-log',
        'verbose',
        `pidfile=${this.testInfo.outputPath('turnserver.pid')}`,
        `userdb=${this.testInfo.outputPath('turndb')}`,
      ].join('\n') + '\n',
    );
    const child = spawn('turnserver', ['-c', conf], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) =>
        reject(new Error(`turnserver did not start (${e.message}): \`make test\` installs coturn; by hand: apt-get install coturn`)),
      );
      child.once('exit', (code) => reject(new Error(`turnserver exited with ${code}; see ${this.log}`)));
    });
    // It listens on TCP as well as UDP: a TCP connect says it is up.
    const listening = expect
      .poll(() => canConnect(TURN_IP, TURN_PORT), { message: `coturn listens on ${TURN_IP}:${TURN_PORT}`, timeout: 15_000 })
      .toBe(true);
    await Promise.race([listening, failed]);
    failed.catch(() => {}); // it exits on stop(), later: not an error then
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** coturn and a meshcall-server handing out credentials for it (with `serverSecret`, which a test may
 * make differ from coturn's), both stopped when the test ends. */
const relayTest = test.extend<{ relay: (o: { turnSecret: string; serverSecret: string; ttlSecs?: number }) => Promise<OwnServer> }>({
  relay: async ({}, use, testInfo) => {
    expect(inPrivateNetns(), 'runs inside scripts/netns.sh (make test, make e2e)').toBe(true);
    const stops: (() => Promise<void>)[] = [];
    await use(async ({ turnSecret, serverSecret, ttlSecs }) => {
      const turn = new Coturn(testInfo, turnSecret);
      stops.push(() => turn.stop());
      await turn.start();
      const args = [
        '--turn-url', `turn:${TURN_IP}:${TURN_PORT}?transport=udp`,
        '--turn-secret', serverSecret,
        '--ice-transport-policy', 'relay',
      ];
      if (ttlSecs !== undefined) args.push('--turn-ttl-secs', String(ttlSecs));
      const server = new OwnServer(SERVER_PORT, testInfo, args);
      stops.push(() => server.kill());
      await server.start();
      return server;
    });
    for (const stop of stops.reverse()) await stop();
    if (testInfo.status !== testInfo.expectedStatus) {
      const log = testInfo.outputPath('turnserver.log');
      if (fs.existsSync(log)) await testInfo.attach('turnserver.log', { path: log });
    }
  },
});

/** For each connected peer connection of the page: the candidate types and addresses of its selected
 * pair, read from getStats (the transport's selected pair, or the nominated succeeded one). */
function selectedPairs(viewer: Person) {
  return viewer.page.evaluate(async () => {
    const pcs: RTCPeerConnection[] = (window as any).__meshcall?.peerConnections ?? [];
    const out = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const reports = new Map<string, any>();
      (await pc.getStats()).forEach((r: any) => reports.set(r.id, r));
      const all = [...reports.values()];
      const transport = all.find((r) => r.type === 'transport' && r.selectedCandidatePairId);
      const pair =
        reports.get(transport?.selectedCandidatePairId) ??
        all.find((r) => r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded');
      const local = pair && reports.get(pair.localCandidateId);
      const remote = pair && reports.get(pair.remoteCandidateId);
      out.push({
        local: local ? { type: local.candidateType, address: local.address, port: local.port } : null,
        remote: remote ? { type: remote.candidateType, address: remote.address, port: remote.port } : null,
      });
    }
    return out;
  });
}

async function joinAt(people: People, server: OwnServer, name: string, room: string) {
  const person = await people.open(name, `/r/${room}`, server.url);
  await clickJoin(person);
  await expect(person.page.getByTestId('self-tile')).toBeVisible();
  return person;
}

relayTest('three people forced through a real coturn form a full call, every selected pair relay on both ends', async ({
  people,
  relay,
}) => {
  const server = await relay({ turnSecret: 'turn-secret-7', serverSecret: 'turn-secret-7' });
  // The operator's setting reaches the page as it is served.
  const config = await (await fetch(`${server.url}/config.json`)).json();
  expect(config.iceTransportPolicy).toBe('relay');

  const room = roomName('turn');
  const trio = [];
  for (const name of ['Ada', 'Grace', 'Linus']) trio.push(await joinAt(people, server, name, room));
  await expectFullMesh(trio);

  for (const me of trio) {
    const pairs = await selectedPairs(me);
    expect(pairs, `${me.name}: one connected connection per other person`).toHaveLength(2);
    for (const pair of pairs) {
      for (const end of [pair.local, pair.remote]) {
        expect(end?.type, `${me.name}: ${JSON.stringify(pair)}`).toBe('relay');
        // An allocation of this coturn: its address, a port of its relay range.
        expect(end?.address).toBe(TURN_IP);
        expect(end!.port).toBeGreaterThanOrEqual(RELAY_PORTS.min);
        expect(end!.port).toBeLessThanOrEqual(RELAY_PORTS.max);
      }
    }
  }
  // Nothing is said about the relay where it works.
  for (const me of trio) await expect(me.page.getByTestId('relay-notice')).toHaveCount(0);
});

/** Two people join; from the second one's Join (when their connection is made), each page says
 * within REFUSAL_WITHIN that the relay refused the credentials, and no connection comes up. */
async function expectRefusal(people: People, server: OwnServer, before?: (p: Person) => Promise<void>) {
  const room = roomName('turn-refused');
  const pair: Person[] = [];
  let start = 0;
  for (const name of ['Ada', 'Grace']) {
    const person: Person = await people.open(name, `/r/${room}`, server.url);
    if (before) await before(person);
    start = Date.now();
    await clickJoin(person);
    pair.push(person);
  }
  for (const p of pair) {
    await expect(p.page.getByTestId('relay-notice'), `${p.name} is told why`).toContainText(
      "Can't reach the relay server (TURN): it refused the credentials",
      { timeout: Math.max(1, REFUSAL_WITHIN - (Date.now() - start)) },
    );
  }
  for (const p of pair) {
    const states = await p.page.evaluate(() =>
      ((window as any).__meshcall?.peerConnections ?? []).map((pc: RTCPeerConnection) => pc.connectionState),
    );
    expect(states, `${p.name}: its connection to the other`).toHaveLength(1);
    expect(states, `${p.name}: no connection came up without the relay`).not.toContain('connected');
  }
}

relayTest('a TURN secret the server and coturn disagree on is said on the page within seconds', async ({ people, relay }) => {
  const server = await relay({ turnSecret: 'the-real-secret', serverSecret: 'a-stale-secret' });
  await expectRefusal(people, server);
});

relayTest('expired TURN credentials are said on the page within seconds', async ({ people, relay }) => {
  // Credentials live one second: the page fetches them with the lobby, and joins once they expired.
  const server = await relay({ turnSecret: 'turn-secret-8', serverSecret: 'turn-secret-8', ttlSecs: 1 });
  await expectRefusal(people, server, async (person) => {
    const config = await person.page.evaluate(() => fetch('/config.json').then((r) => r.json()));
    const expiry = Number(String(config.iceServers[0].username).split(':')[0]);
    // The page's own credentials were minted at the lobby's load, before this fetch: expired by then.
    await person.page.waitForFunction((at) => Date.now() / 1000 > at + 1, expiry, { timeout: 5_000 });
  });
});
