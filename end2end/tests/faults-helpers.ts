// What the fault scenarios (issue 5) need beyond fixtures.ts: a signaling server of their own that a
// test can kill and restart on the same port, a switch that cuts the media path inside the network
// namespace while signaling keeps working, a browser whose whole process tree can be frozen, and the
// small fake camera that keeps six pages within two cores.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type TestInfo } from '@playwright/test';
import { expect, frameCounts, People, type Person } from './fixtures';
import { PORT } from '../env';

export { smallVideoFlag } from '../chromium.mjs';

const END2END = path.resolve(__dirname, '..');
const SERVER_BIN = path.resolve(END2END, process.env.MESHCALL_SERVER_BIN ?? '../target/release/meshcall-server');
const DIST = path.resolve(END2END, process.env.MESHCALL_DIST ?? '../dist');

/** Ports of the fault specs' own servers, clear of the suite's (PORT, PORT+1, PORT+9). */
export const FAULT_PORT = PORT + 20;

/** A Chromium of the test's own. Through a browser server, because only that exposes the browser's
 * process, whose tree a test may freeze or kill. `drop` removes some of the suite's flags. */
export async function launchBrowser(
  testInfo: TestInfo,
  extra: string[] = [],
  drop: string[] = [],
): Promise<{ browser: Browser; pid: number; close: () => Promise<void> }> {
  // The suite's own launch options (playwright.config.ts): same Chromium, same flags.
  const launch = testInfo.project.use.launchOptions ?? {};
  const args = (launch.args ?? []).filter((a) => !drop.includes(a));
  const server = await chromium.launchServer({ ...launch, args: [...args, ...extra] });
  const browser = await chromium.connect(server.wsEndpoint());
  const pid = server.process().pid!;
  return {
    browser,
    pid,
    close: async () => {
      await browser.close().catch(() => {});
      await server.close().catch(() => {});
    },
  };
}

/** Runs `body` with the people of a browser of the test's own (Chromium given `extra` flags, such
 * as a camera clip of another size), attaches their evidence to the report if it fails, and closes
 * them and the browser either way. */
export async function inOwnBrowser(testInfo: TestInfo, extra: string[], body: (people: People) => Promise<void>) {
  const own = await launchBrowser(testInfo, extra);
  const people = new People(own.browser);
  try {
    await body(people);
  } catch (e) {
    await people.attachEvidence(testInfo).catch(() => {});
    throw e;
  } finally {
    await people.closeAll();
    await own.close();
  }
}

/** A meshcall-server of the test's own (same binary and dist/ as the suite's), so the test may kill it
 * and start it again on the same port, or give it flags of its own (`args`), listening on `host`
 * (reached through `url` on loopback either way). Its output goes to a file in the test's output
 * folder. */
export class OwnServer {
  private child: ChildProcess | null = null;
  private starts = 0;
  readonly url: string;
  constructor(
    readonly port: number,
    private readonly testInfo: TestInfo,
    private readonly extra: string[] = [],
    private readonly host = '127.0.0.1',
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start() {
    const log = fs.openSync(this.testInfo.outputPath(`server-${this.port}-${++this.starts}.log`), 'w');
    const args = ['--addr', `${this.host}:${this.port}`, '--static-dir', DIST, ...this.extra];
    const child = spawn(SERVER_BIN, args, {
      stdio: ['ignore', log, log],
    });
    this.child = child;
    await expect
      .poll(
        async () => {
          if (child.exitCode !== null) throw new Error(`meshcall-server exited with ${child.exitCode}`);
          return fetch(`${this.url}/healthz`).then((r) => r.ok, () => false);
        },
        { message: `meshcall-server answers on ${this.url}`, timeout: 15_000 },
      )
      .toBe(true);
  }

  /** SIGKILL: a crash, no goodbye to any socket. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }
}

/** Cuts every packet between the veth addresses (10.77.0.0/24) that ICE uses, while signaling and HTTP
 * on 127.0.0.1 keep working. Both addresses are local to the namespace, so their traffic runs over `lo`
 * and a rule on v0/v1 (or a link going down) would not touch it: a blackhole policy rule consulted
 * before the local table does. Needs only iproute2 (netem and iptables are not on this machine). */
export function blockMediaPath() {
  ip('rule', 'add', 'pref', '10', 'lookup', 'local');
  ip('rule', 'del', 'pref', '0', 'lookup', 'local');
  ip('rule', 'add', 'pref', '5', 'to', '10.77.0.0/24', 'blackhole');
}

export function unblockMediaPath() {
  // Tolerant: also runs from cleanup after a partial block.
  for (const args of [
    ['rule', 'del', 'pref', '5'],
    ['rule', 'add', 'pref', '0', 'lookup', 'local'],
    ['rule', 'del', 'pref', '10'],
  ]) {
    try {
      ip(...args);
    } catch {
      /* already so */
    }
  }
}

function ip(...args: string[]) {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** True inside the private network namespace scripts/netns.sh makes (never touch the host's rules). */
export function inPrivateNetns(): boolean {
  return process.env.MESHCALL_IN_NETNS === '1';
}

/** A process and all its descendants (Chromium's renderers, GPU and network services). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (!pid) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export function signalTree(pids: number[], signal: NodeJS.Signals) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Holds for `ms` (the outage's required length) while checking, once a second, that every one of
 * `count` remote tiles on every page has shown new frames since the previous check. */
export async function expectFramesAdvanceThroughout(viewers: Person[], count: number, ms: number) {
  const start = Date.now();
  let last = await Promise.all(viewers.map(frameCounts));
  while (Date.now() - start < ms) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = await Promise.all(viewers.map(frameCounts));
    viewers.forEach((v, i) => {
      const advanced = Object.keys(now[i]).filter((k) => now[i][k] > (last[i][k] ?? 0));
      expect(
        advanced.length,
        `${v.name} at ${((Date.now() - start) / 1000).toFixed(1)} s into the outage: tiles whose frames advanced in the last second (${JSON.stringify(last[i])} -> ${JSON.stringify(now[i])})`,
      ).toBe(count);
    });
    last = now;
  }
}

/** Each peer connection a page built, with its state and the ICE ufrag of its local description (a new
 * ufrag on the same connection is what an ICE restart looks like). */
export function connectionsOf(viewer: Person): Promise<{ state: string; ufrag: string | null }[]> {
  return viewer.page.evaluate(() =>
    ((window as any).__meshcall?.peerConnections ?? []).map((pc: RTCPeerConnection) => ({
      state: pc.connectionState,
      ufrag: pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1] ?? null,
    })),
  );
}

/** Marks the page's JS realm: a reload or navigation loses the mark. */
export async function markPage(viewer: Person) {
  await viewer.page.evaluate(() => ((window as any).__faultsMark = 'still the same page'));
}

export function pageMark(viewer: Person): Promise<string | undefined> {
  return viewer.page.evaluate(() => (window as any).__faultsMark);
}

/** Lines of a page's console that say something panicked or threw. */
export function crashes(viewer: Person): string[] {
  return viewer.log.filter((l) => /panicked|\[pageerror\]|RuntimeError|unreachable/.test(l));
}
