// Issue 12: one person's uplink is throttled to 1 Mbit/s in a room of four, and the call stays usable:
// the three others keep hearing that person (no more than a short dropout) and seeing their video move (at a lower rate),
// and their own video to each other is as it was.
//
// The throttle is real (end2end/slowlink.mjs): the person's Chromium runs in a network namespace of its
// own, joined to the suite's by a veth pair with a token bucket on everything that page sends. That page
// loads the app from the veth address, so Chromium is told to treat that origin as secure
// (getUserMedia). Its camera is a noisy clip that needs more than the link carries, so its senders
// really have to fit; the three others send the suite's small clip, which keeps four pages within two
// busy cores.
//
// On a loaded machine frame rates and audio concealment move with the CPU, not only with the link, so
// nothing is compared with a fixed rate the machine may not give: the others' video to each other is
// compared with the same flows read just before the throttle was put on, and the throttled person's
// audio with the others' audio at the same viewer in the same seconds.
//
// Seen red with these assertions (2026-12-06): at load averages of 20-50 the app drops people: the
// throttled person's connections to two of the three after the measured window, or tiles before it
// (likely src/room/liveness.rs: a data channel silent 3 s counts as a lost path, a peer then silent
// 5 s as gone, and a starved page is silent that long; not investigated further). Once, at load 4-16, one
// viewer got 2.4 frames a second from her against 8 at the others, that connection having carried
// 1.2 Mbit/s before the throttle against 0.45 for the others. Probably that viewer showed her in a
// larger tile: in a later (green) run one connection carried 940 kbit/s at 1/1.5 scale, the others
// 499 kbit/s at 1/2, and the budget picks the scale from its share, not from what the link carries,
// so on ~150 kbit/s that copy keeps a larger picture and drops frames. The figures the spec writes
// (received.json) include each sender's limits to tell.
import * as fs from 'node:fs';
import { chromium } from '@playwright/test';
import { test, expect, People, expectFullMesh, roomName, type Person } from './fixtures';
import { OwnServer, inPrivateNetns, launchBrowser, smallVideoFlag } from './faults-helpers';
import { HERE, THERE, flowDelta, noisyVideoFlag, openSlowLink, readFlows } from '../slowlink.mjs';
import { PORT } from '../env';

const SERVER_PORT = PORT + 60;
const UPLINK_KBIT = 1_000;
/** Readings are taken this often within a window: a tile that stops for that long has a gap. */
const SAMPLE_MS = 2_000;
/** The windows read: before the throttle, and after the throttled page's senders found the link. */
const BASELINE_SAMPLES = 3;
const SETTLE_MS = 10_000;
const THROTTLED_SAMPLES = 5;

type Flow = {
  index: number;
  peer: string;
  audioSamples: number;
  audioConcealed: number;
  frames: number;
  freezes: number;
  bytes: number;
  encoded: number;
  videoSent: number;
  limitation: string;
  targetBps: number;
  availableBps: number;
  maxBitrate: number | null;
  scale: number | null;
  width: number;
  ms: number;
};
/** What one viewer received in a window: in total per flow, and per sample. */
type Window = { total: Flow[]; samples: Flow[][] };

const flows = (viewer: Person): Promise<Flow[]> => readFlows(viewer.page, 'window.__meshcall?.peerConnections ?? []');

/** Reads every viewer's flows `samples` times, SAMPLE_MS apart. */
async function read(viewers: Person[], samples: number): Promise<Window[]> {
  let last = await Promise.all(viewers.map(flows));
  const first = last;
  const out: Window[] = viewers.map(() => ({ total: [], samples: [] }));
  for (let s = 0; s < samples; s++) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const now = await Promise.all(viewers.map(flows));
    now.forEach((n, i) => out[i].samples.push(flowDelta(last[i], n)));
    last = now;
  }
  last.forEach((n, i) => (out[i].total = flowDelta(first[i], n)));
  return out;
}

const fromSlow = (fs: Flow[]) => fs.filter((f) => f.peer === THERE);
const fromOthers = (fs: Flow[]) => fs.filter((f) => f.peer !== THERE);
const sum = (fs: Flow[], k: keyof Flow) => fs.reduce((a, f) => a + (f[k] as number), 0);
const concealed = (fs: Flow[]) => sum(fs, 'audioConcealed') / Math.max(1, sum(fs, 'audioSamples'));
/** Frames a second, the mean of the flows; kbit/s, their sum (each over the time between its readings). */
const fps = (fs: Flow[]) => fs.reduce((a, f) => a + (f.frames * 1000) / f.ms, 0) / fs.length;
const kbps = (fs: Flow[]) => fs.reduce((a, f) => a + (f.bytes * 8) / f.ms, 0);

test('one person on a 1 Mbit/s uplink in a room of four: still heard, video moving, the others unaffected', async ({}, testInfo) => {
  test.skip(!inPrivateNetns(), 'makes a network namespace and a veth pair: only inside the one of scripts/netns.sh');
  // About 30 s of fixed windows, four joins and ten readings of every connection: 1.8-2.1 minutes
  // on a new 2-core machine (2026-12-06), where 120 s ran out twice during the last check (in the
  // run whose consoles were read, no peer had been closed on any page).
  test.setTimeout(180_000);
  const link = await openSlowLink(testInfo.outputPath('chromium-in-slow-namespace.sh'));
  // Listening on every address of the namespace: the throttled page comes from HERE.
  const server = new OwnServer(SERVER_PORT, testInfo, [], '0.0.0.0');
  const slowOrigin = `http://${HERE}:${SERVER_PORT}`;
  const fast = await launchBrowser(testInfo, [smallVideoFlag()]);
  const launch = testInfo.project.use.launchOptions ?? {};
  const slowBrowser = await chromium.launch({
    ...launch,
    executablePath: link.chromium,
    args: [...(launch.args ?? []), noisyVideoFlag(), `--unsafely-treat-insecure-origin-as-secure=${slowOrigin}`],
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

    // The same room before the throttle: what the three get from each other on this machine now.
    const before = await read(all, BASELINE_SAMPLES);
    link.throttle(UPLINK_KBIT);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = await read(all, THROTTLED_SAMPLES);
    // What Margaret's own senders did meanwhile, per connection and reading: frames encoded, the
    // bitrate they aimed at and what limited them (bandwidth, cpu), to tell the link from the CPU.
    const sending = after[3].samples.map((s) =>
      s.map((f) => `${f.encoded}f ${Math.round(f.targetBps / 1000)}k sent ${Math.round((f.videoSent * 8) / f.ms)}k ${f.limitation} (max ${f.maxBitrate}, /${f.scale})`),
    );

    const report = three.map((v, i) => {
      const [b, a] = [before[i].total, after[i].total];
      return {
        viewer: v.name,
        margaret: {
          kbps: [kbps(fromSlow(b)), kbps(fromSlow(a))].map(Math.round),
          fps: [fps(fromSlow(b)), fps(fromSlow(a))].map((x) => +x.toFixed(1)),
          concealed: [concealed(fromSlow(b)), concealed(fromSlow(a))].map((x) => +x.toFixed(3)),
          framesPerSample: after[i].samples.map((s) => sum(fromSlow(s), 'frames')),
          concealedPerSample: after[i].samples.map((s) => +concealed(fromSlow(s)).toFixed(3)),
          freezes: sum(fromSlow(a), 'freezes'),
          width: [fromSlow(b)[0]?.width ?? 0, fromSlow(a)[0]?.width ?? 0],
        },
        others: {
          fps: [fps(fromOthers(b)), fps(fromOthers(a))].map((x) => +x.toFixed(1)),
          concealed: [concealed(fromOthers(b)), concealed(fromOthers(a))].map((x) => +x.toFixed(3)),
          freezes: sum(fromOthers(a), 'freezes'),
        },
      };
    });
    // [before the throttle, with it] for each figure.
    testInfo.annotations.push({ type: 'received (before, throttled)', description: JSON.stringify(report) });
    testInfo.annotations.push({ type: 'Margaret sends (each reading)', description: JSON.stringify(sending) });
    fs.writeFileSync(testInfo.outputPath('received.json'), JSON.stringify({ report, sending, before, after }, null, 1));

    // The throttle holds: the three together get no more from Margaret than the link carries.
    const total = report.reduce((a, r) => a + r.margaret.kbps[1], 0);
    expect(total, 'kbit/s the three receive from Margaret in all, throttled').toBeLessThanOrEqual(UPLINK_KBIT * 1.05);
    for (const [i, r] of report.entries()) {
      const name = r.viewer;
      const slowFlows = fromSlow(after[i].total);
      expect(slowFlows, `${name}: a connection to Margaret`).toHaveLength(1);
      // Heard: samples keep coming at the playout rate (48 kHz), and hardly any concealed. A 1 Mbit/s
      // link with a 200 ms queue drops a burst of packets now and then while the three connections'
      // congestion controls probe it (the probes are padding on top of the video), which costs a
      // dropout of under a second about once in ten (at worst 42% of a reading, 11% of the window,
      // in 7 runs). So: over the window no more concealed than of the others' audio in the same
      // seconds plus 12 points, and in no reading more than half. (A link too small for the call,
      // 150 kbit/s, concealed 17% of the window and lost the connection at two of the three.)
      expect((sum(slowFlows, 'audioSamples') * 1000) / slowFlows[0].ms, `${name}: audio samples a second from Margaret`).toBeGreaterThan(40_000);
      expect(r.margaret.concealed[1], `${name}: share of Margaret's audio concealed (the others': ${r.others.concealed[1]})`).toBeLessThanOrEqual(
        r.others.concealed[1] + 0.12,
      );
      for (const [s, c] of r.margaret.concealedPerSample.entries())
        expect(c, `${name}: share of Margaret's audio concealed in reading ${s + 1} of ${THROTTLED_SAMPLES}`).toBeLessThanOrEqual(0.5);
      // Her video moves: new frames in every reading, and over the window at least 2 frames a second
      // and 0.3x the others' rate at the same viewer (a busy machine lowers both alike). With the
      // budget's resolution steps off, her encoder keeps the full picture on a sliver of bitrate and
      // drops frames: 1.8-2.4 a second (0.12-0.16x the others'), against 8-19 (0.48x or more) with them.
      for (const [s, frames] of r.margaret.framesPerSample.entries())
        expect(frames, `${name}: frames from Margaret in reading ${s + 1} of ${THROTTLED_SAMPLES} (${SAMPLE_MS} ms each)`).toBeGreaterThan(0);
      expect(r.margaret.fps[1], `${name}: frames a second from Margaret (the others': ${r.others.fps[1]})`).toBeGreaterThanOrEqual(
        Math.max(2, r.others.fps[1] * 0.3),
      );
      expect(fromOthers(after[i].total), `${name}: connections to the two others`).toHaveLength(2);
      // The others' video to each other as it was before the throttle (what this machine gave then).
      expect(r.others.fps[1], `${name}: frames a second from the others, throttled (before: ${r.others.fps[0]})`).toBeGreaterThanOrEqual(
        r.others.fps[0] * 0.7,
      );
    }
    // And on every page every tile is still there and connected, Margaret's included.
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
