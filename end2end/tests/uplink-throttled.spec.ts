// Issue 12: one person's uplink is throttled to 1 Mbit/s in a room of four, and the call stays usable:
// the three others keep hearing that person without gaps and seeing their video move (at a lower rate),
// and their own video to each other is as it was.
//
// The throttle is real: the person's Chromium runs in a network namespace of its own, joined to the
// suite's by a veth pair whose far end has a token bucket (`tc qdisc ... tbf`, 1 Mbit/s) on its egress,
// i.e. on everything that page sends. (Inside one namespace all traffic between local addresses runs
// over `lo`, so one person can only be shaped from another namespace; netem is not on this machine.)
// That page loads the app from the veth address, so Chromium is told to treat that origin as secure
// (getUserMedia). Every page's camera is a noisy clip that needs more than the budget gives, so each
// sender really uses what it may send.
//
// FIXME (issue 12, not done): the namespace, the veth pair, the token bucket and the second Chromium
// work (the throttle holds: the three receive 450-700 kbit/s from Margaret in all, against 550 kbit/s
// from each other), but the assertions are not robust yet on a loaded 2-core machine. Four runs
// (2026-12-06, load average 15-30 from other builds): Margaret's audio concealed 7.2%, 0.9%, 0%, 0-0.6%
// of samples at the others, her video 10-14 fps (the clip's 15) at 130-340 kbit/s; the others' video
// to each other 15 fps in two runs and 4-6 fps with 1-15% of their audio concealed in another, which
// is the CPU, not the link, so "unaffected" needs a baseline read in the same run (before the throttle,
// or on a room without it) rather than a fixed rate. One run lost Margaret's tile on one page in the
// final check (not investigated). Marked fixme rather than left red or weakened.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type TestInfo } from '@playwright/test';
import { test, expect, People, expectFullMesh, roomName, type Person } from './fixtures';
import { OwnServer, inPrivateNetns, launchBrowser } from './faults-helpers';
import { CHROMIUM_PATH } from '../chromium.mjs';
import { PORT } from '../env';

const SERVER_PORT = PORT + 60;
const UPLINK_KBIT = 1_000;
/** What the assertions read: a window of this length, after the throttled page's senders settled. */
const WINDOW_MS = 10_000;
const SETTLE_MS = 12_000;
/** The clip's frame rate (and what a tile shows at best). */
const CLIP_FPS = 15;

/** A 320x240 clip of noise (new every frame) with a moving bar, 15 fps, looped by Chromium's fake
 * camera: it compresses badly, so each video sender uses all the bitrate it may. */
function noisyVideoFlag() {
  const w = 320, h = 240, frames = 15;
  const file = path.join(os.tmpdir(), `meshcall-noise-${w}x${h}.y4m`);
  if (!fs.existsSync(file)) {
    const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F${CLIP_FPS}:1 Ip A1:1 C420jpeg\n`)];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (let f = 0; f < frames; f++) {
      const y = Buffer.alloc(w * h);
      for (let r = 0; r < h; r++)
        for (let c = 0; c < w; c++) y[r * w + c] = (c + f * 8) % 80 < 16 ? 235 : 40 + (random() >> 1);
      parts.push(Buffer.from('FRAME\n'), y, Buffer.alloc((w * h) / 2, 128));
    }
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat(parts));
    fs.renameSync(tmp, file);
  }
  return `--use-file-for-fake-video-capture=${file}`;
}

function run(cmd: string, ...args: string[]) {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

/** A network namespace of its own for one browser, reached over the veth pair s0 (10.77.1.1, in the
 * suite's namespace) <-> s1 (10.77.1.2, in this one). It lives as long as the process holding it. */
class SlowLink {
  static readonly HERE = '10.77.1.1';
  static readonly THERE = '10.77.1.2';
  private constructor(
    private readonly holder: ChildProcess,
    readonly chromium: string,
  ) {}

  static async open(testInfo: TestInfo): Promise<SlowLink> {
    const holder = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
    const ns = `/proc/${holder.pid}/ns/net`;
    const ours = fs.readlinkSync('/proc/self/ns/net');
    await expect
      .poll(() => {
        try {
          return fs.readlinkSync(ns) !== ours;
        } catch {
          return false;
        }
      }, { message: 'the namespace of its own exists' })
      .toBe(true);
    const inside = (...args: string[]) => run('nsenter', `--net=${ns}`, ...args);
    run('ip', 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 's1');
    run('ip', 'link', 'set', 's1', 'netns', String(holder.pid));
    run('ip', 'addr', 'add', `${SlowLink.HERE}/24`, 'dev', 's0');
    run('ip', 'link', 'set', 's0', 'up');
    inside('ip', 'link', 'set', 'lo', 'up');
    inside('ip', 'addr', 'add', `${SlowLink.THERE}/24`, 'dev', 's1');
    inside('ip', 'link', 'set', 's1', 'up');
    inside('ip', 'route', 'add', 'default', 'via', SlowLink.HERE);
    // Everything the page sends leaves through s1: a token bucket there is its uplink.
    inside('tc', 'qdisc', 'add', 'dev', 's1', 'root', 'tbf', 'rate', `${UPLINK_KBIT}kbit`, 'burst', '16kb', 'latency', '200ms');
    const wrapper = testInfo.outputPath('chromium-in-slow-namespace.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${ns} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
    return new SlowLink(holder, wrapper);
  }

  close() {
    try {
      run('ip', 'link', 'del', 's0');
    } catch {
      /* gone with the namespace */
    }
    this.holder.kill();
  }
}

type Flow = { index: number; peer: string; audioSamples: number; audioConcealed: number; frames: number; freezes: number; bytes: number };

/** Per connection of `viewer` (its index among the page's connections, and the address the other end
 * sends from: the suite's pages share theirs): audio samples received and concealed, video frames
 * decoded, freezes, bytes received. */
function flows(viewer: Person): Promise<Flow[]> {
  return viewer.page.evaluate(async () => {
    const pcs: RTCPeerConnection[] = (window as any).__meshcall?.peerConnections ?? [];
    const out: Flow[] = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      const f: Flow = { index: pcs.indexOf(pc), peer: '?', audioSamples: 0, audioConcealed: 0, frames: 0, freezes: 0, bytes: 0 };
      const byId = new Map<string, any>();
      stats.forEach((r: any) => byId.set(r.id, r));
      stats.forEach((r: any) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) {
          const pair = byId.get(r.selectedCandidatePairId);
          f.peer = byId.get(pair?.remoteCandidateId)?.address ?? '?';
        }
        if (r.type !== 'inbound-rtp') return;
        f.bytes += r.bytesReceived ?? 0;
        if (r.kind === 'audio') {
          f.audioSamples += r.totalSamplesReceived ?? 0;
          f.audioConcealed += r.concealedSamples ?? 0;
        } else {
          f.frames += r.framesDecoded ?? 0;
          f.freezes += r.freezeCount ?? 0;
        }
      });
      out.push(f);
    }
    return out;
  });
}

type Rates = { fromSlow: Flow; others: Flow[] };

/** What each of `viewers` received over `ms` from the throttled page and from the others. */
async function over(viewers: Person[], ms: number): Promise<Rates[]> {
  const before = await Promise.all(viewers.map(flows));
  await new Promise((r) => setTimeout(r, ms));
  const after = await Promise.all(viewers.map(flows));
  return viewers.map((_, i) => {
    const delta = after[i].map((a) => {
      const b = before[i].find((x) => x.index === a.index);
      return {
        index: a.index,
        peer: a.peer,
        audioSamples: a.audioSamples - (b?.audioSamples ?? 0),
        audioConcealed: a.audioConcealed - (b?.audioConcealed ?? 0),
        frames: a.frames - (b?.frames ?? 0),
        freezes: a.freezes - (b?.freezes ?? 0),
        bytes: a.bytes - (b?.bytes ?? 0),
      };
    });
    return {
      fromSlow: delta.find((d) => d.peer === SlowLink.THERE)!,
      others: delta.filter((d) => d.peer !== SlowLink.THERE),
    };
  });
}

test.fixme('one person on a 1 Mbit/s uplink in a room of four: heard without gaps, video moving, the others unaffected', async ({}, testInfo) => {
  test.skip(!inPrivateNetns(), 'makes a network namespace and a veth pair: only inside the one of scripts/netns.sh');
  test.setTimeout(200_000);
  const clip = noisyVideoFlag();
  const link = await SlowLink.open(testInfo);
  // Listening on every address of the namespace: the throttled page comes from 10.77.1.1.
  const server = new OwnServer(SERVER_PORT, testInfo, [], '0.0.0.0');
  const slowOrigin = `http://${SlowLink.HERE}:${SERVER_PORT}`;
  const fast = await launchBrowser(testInfo, [clip]);
  const launch = testInfo.project.use.launchOptions ?? {};
  const slowBrowser = await chromium.launch({
    ...launch,
    executablePath: link.chromium,
    args: [...(launch.args ?? []), clip, `--unsafely-treat-insecure-origin-as-secure=${slowOrigin}`],
  });
  const people = new People(fast.browser);
  const slowPeople = new People(slowBrowser);
  try {
    await server.start();
    const room = roomName('throttled');
    const three = [];
    for (const name of ['Ada', 'Grace', 'Linus']) three.push(await people.join(name, room, { base: server.url }));
    const slow = await slowPeople.join('Margaret', room, { base: slowOrigin });
    const all = [...three, slow];
    await expectFullMesh(all);

    // The throttled page's senders find what the link carries, then a window is read.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rates = await over(three, WINDOW_MS);
    const seconds = WINDOW_MS / 1000;
    const report = rates.map((r, i) => ({
      viewer: three[i].name,
      fromSlow: {
        concealed: +(r.fromSlow.audioConcealed / Math.max(1, r.fromSlow.audioSamples)).toFixed(3),
        fps: +(r.fromSlow.frames / seconds).toFixed(1),
        freezes: r.fromSlow.freezes,
        kbps: Math.round((r.fromSlow.bytes * 8) / seconds / 1000),
      },
      others: r.others.map((o) => ({
        concealed: +(o.audioConcealed / Math.max(1, o.audioSamples)).toFixed(3),
        fps: +(o.frames / seconds).toFixed(1),
        freezes: o.freezes,
        kbps: Math.round((o.bytes * 8) / seconds / 1000),
      })),
    }));
    testInfo.annotations.push({ type: 'received over 10 s', description: JSON.stringify(report) });
    fs.writeFileSync(testInfo.outputPath('received.json'), JSON.stringify(report, null, 1));

    // The throttle holds: the three together get no more than the link carries.
    const fromSlowKbps = report.reduce((sum, r) => sum + r.fromSlow.kbps, 0);
    expect(fromSlowKbps, 'kbit/s the three receive from the throttled page in all').toBeLessThanOrEqual(UPLINK_KBIT * 1.05);
    for (const [i, r] of rates.entries()) {
      const name = three[i].name;
      // Heard without gaps: samples keep coming at the playout rate, hardly any concealed.
      expect(r.fromSlow.audioSamples / seconds, `${name}: audio samples a second from Margaret`).toBeGreaterThan(40_000);
      expect(report[i].fromSlow.concealed, `${name}: share of Margaret's audio concealed`).toBeLessThan(0.05);
      // Her video moves, at a lower rate.
      expect(report[i].fromSlow.fps, `${name}: frames a second from Margaret`).toBeGreaterThanOrEqual(3);
      // The others' video to each other as it was: the clip's frame rate, give or take a busy machine.
      for (const o of report[i].others) expect(o.fps, `${name}: frames a second from the others`).toBeGreaterThanOrEqual(CLIP_FPS * 0.7);
    }
    // And on every page every tile still shows moving frames, Margaret's included.
    await expectFullMesh(all);
  } catch (e) {
    await people.attachEvidence(testInfo);
    await slowPeople.attachEvidence(testInfo);
    throw e;
  } finally {
    await slowPeople.closeAll();
    await people.closeAll();
    await slowBrowser.close().catch(() => {});
    await fast.close();
    await server.kill();
    link.close();
  }
});
