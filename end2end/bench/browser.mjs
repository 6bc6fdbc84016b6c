// Browser benchmarks of issues 6 and 14, side by side with the floor page (floor.html: the least a page
// can do to join a matchbox room): time to first face (also in a private room, key in the link), mesh assembly for N = 2..8 (joining at once and
// spread over a second) and a room of 12, download size, and client CPU in a four-person call. Every
// section alternates meshcall and the floor run by run, so drift of the machine hits both alike. scripts/bench.sh runs it inside the private network namespace
// (WebRTC needs the veth pair there) with meshcall-server already listening; it writes raw samples
// and summaries as JSON. It measures; it never asserts.
//
// node end2end/bench/browser.mjs --app http://127.0.0.1:18180 --out /tmp/browser.json
//   [--runs 7] [--mesh-runs 3] [--mesh-ns 2,3,4,5,6,8] [--spreads 0,1000] [--big-n 12] [--big-runs 2]
//   [--cpu-runs 3] [--cpu-seconds 15] [--cpu-n 6] [--cpu-clip 320x240] [--cpu-fps 5] [--only ttff,open,mesh,size,cpu,uplink] [--keyed 1] [--ttff-joins 10]
//   [--uplink-ns 2,3,4,5,6,8] [--uplink-runs 3] [--throttled-runs 3] [--uplink-seconds 8]
// The uplink section (issue 12) is not in the default --only: it makes a network namespace for one
// person (slowlink.mjs), so the server and the floor must listen on every address (scripts/bench.sh
// --part uplink does that).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_BACKGROUND_THROTTLING, smallVideoFlag } from '../chromium.mjs';
import { HERE, THERE, flowDelta, noisyVideoFlag, openSlowLink, readFlows } from '../slowlink.mjs';
import { benchState, cpuBetween, descendantsCpu, diagnose, joinAll, launch, lobby, roomUrl, serveFloor, uniqueRoom, withTimeout } from './people.mjs';
import { measureRoomPage } from './size.mjs';

const opts = {
  app: 'http://127.0.0.1:18180', out: '', runs: 7, 'mesh-runs': 3, 'mesh-ns': '2,3,4,5,6,8',
  spreads: '0,1000', 'big-n': 12, 'big-runs': 2, 'cpu-runs': 3, 'cpu-n': 6, 'cpu-clip': '320x240', 'cpu-fps': 5,
  'cpu-seconds': 15, only: 'ttff,open,mesh,size,cpu', 'floor-port': 18199, variants: 'meshcall,floor', signaling: '', keyed: 1,
  // A time-to-first-face run is this many joins of each variant, interleaved join by join; the run's
  // figure is their mean (every join counts in it, none is dropped). One join alone varies by ~40%
  // from the next on this machine, more than the 5-10% the targets ask about.
  'ttff-joins': 10,
  // The "from the link" runs are made twice: with Chromium's fake camera, which starts at once, and
  // with every getUserMedia answered this many ms later, as a real camera takes to start (0: no
  // second set).
  'camera-ms': 400,
  'uplink-ns': '2,3,4,5,6,8', 'uplink-runs': 3, 'throttled-runs': 3, 'uplink-seconds': 8, 'throttle-kbit': 1000,
};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option --${k}`);
  opts[k] = typeof opts[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const only = new Set(opts.only.split(','));
const VARIANTS = opts.variants.split(',');
const order = (i) => (i % 2 ? [...VARIANTS].reverse() : VARIANTS);
const signaling = opts.signaling || opts.app.replace(/^http/, 'ws') + '/ws/';
const log = (...a) => console.error('[bench]', ...a);
const where = { app: opts.app, floor: `http://127.0.0.1:${opts['floor-port']}`, signaling };
const enter = (browser, variant, room, name, scripts = []) => lobby(browser, roomUrl(where, variant, room), name, scripts);

function addKinds(into, from) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/** The first person in `room`: in the lobby, joined, with an id from the server (added to `people`). */
async function firstIn(browser, variant, room, people) {
  const a = await enter(browser, variant, room, 'Ada');
  people.push(a);
  await a.page.locator('[data-testid=join]').click();
  await a.page.waitForFunction(() => (window.__bench.receivedKinds.IdAssigned ?? 0) >= 1, null, { timeout: 15_000 });
  return a;
}

/** Second person joins a room where the first already is: Join click → first remote frame on both sides. */
async function ttffRun(browser, variant) {
  const room = uniqueRoom('ttff');
  const people = [];
  try {
    const a = await firstIn(browser, variant, room, people);
    const b = await enter(browser, variant, room, 'Bo');
    people.push(b);
    const faceA = a.page.evaluate(() => window.__bench.facesShown(1));
    const faceB = b.page.evaluate(() => window.__bench.facesShown(1));
    await b.page.locator('[data-testid=join]').click();
    const [fa, fb] = await withTimeout(Promise.all([faceA, faceB]), 30_000, `${variant} first face`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    const [sa, sb] = await Promise.all(people.map(benchState));
    const connected = [sa, sb].map((s) => Math.min(...s.connectedAt));
    return {
      both_ms: Math.max(fa, fb) - sb.joinAt, joiner_ms: fb - sb.joinAt, present_ms: fa - sb.joinAt,
      connected_ms: Math.max(...connected) - sb.joinAt,
      // The joiner's own steps: socket opened after the click, then its id from the server.
      socket_ms: sb.socketAt - sb.joinAt, id_ms: sb.idAt - sb.joinAt,
      attached_ms: lastOfAll([sa.attached, sb.attached], 1) - sb.joinAt,
      decoded_ms: lastOfAll([sa.decoded, sb.decoded], 1) - sb.joinAt,
      messages: sa.sent + sb.sent, kinds: addKinds(addKinds({}, sa.sentKinds), sb.sentKinds),
    };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

/** An init script: every getUserMedia of the page is answered `ms` later (a camera that takes that
 * long to start; the fake one starts at once). */
const slowCamera = (ms) => ({ content: `(() => { const md = navigator.mediaDevices; if (!md) return;
  const ask = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => new Promise((r) => setTimeout(r, ${Number(ms)})).then(() => ask(c)); })();` });

/** Issue 14's "timed from opening the link": the second person opens the room's link (page load,
 * lobby, camera) and presses Join as soon as it is enabled; first remote frame shown on both sides.
 * Split at the moment the lobby was ready (preview playing, Join enabled, name typed). */
async function openRun(browser, variant, cameraMs = 0) {
  const room = uniqueRoom('open');
  const people = [];
  try {
    const a = await firstIn(browser, variant, room, people);
    const faceA = a.page.evaluate(() => window.__bench.facesShown(1));
    const b = await enter(browser, variant, room, 'Bo', cameraMs ? [slowCamera(cameraMs)] : []);
    people.push(b);
    const readyAt = Date.now();
    const faceB = b.page.evaluate(() => window.__bench.facesShown(1));
    await b.page.locator('[data-testid=join]').click();
    const [fa, fb] = await withTimeout(Promise.all([faceA, faceB]), 30_000, `${variant} first face from the link`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    // Navigation start of Bo's page, on the same clock as instrument.js's times (epoch ms).
    const opened = await b.page.evaluate(() => performance.timeOrigin);
    const face = Math.max(fa, fb);
    return { open_ms: face - opened, lobby_ms: readyAt - opened, join_ms: face - readyAt };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

/** The time by which every page had k events (NaN if one never did). */
function lastOfAll(perPage, k) {
  return Math.max(...perPage.map((evs) => (evs.length >= k ? evs.map((e) => e.at).sort((a, b) => a - b)[k - 1] : NaN)));
}

/** N people press Join at the same moment (or spread evenly over `spread` ms): time from the first
 * click until every page shows every other face. */
async function meshRun(browser, variant, n, spread) {
  const room = uniqueRoom(`mesh${n}`);
  const people = [];
  try {
    for (let i = 0; i < n; i++) people.push(await enter(browser, variant, room, `P${i + 1}`));
    const shown = people.map((p) => p.page.evaluate((k) => window.__bench.facesShown(k), n - 1));
    // The machine's load average as the clicks happen: the machine is shared, so each run says.
    const load = os.loadavg()[0];
    await joinAll(people, spread);
    // Rooms beyond 8 have no target on the time (two cores), only "every face shown": they get
    // three minutes, the others one.
    const done = await withTimeout(Promise.all(shown), n > 8 ? 180_000 : 60_000, `${variant} mesh of ${n}`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    const states = await Promise.all(people.map(benchState));
    const t0 = Math.min(...states.map((s) => s.joinAt));
    const sum = (f) => states.reduce((a, s) => a + f(s), 0);
    const kinds = states.reduce((acc, s) => addKinds(acc, s.sentKinds), {});
    // When the last of the n(n-1) connection ends reached "connected", and the first face anywhere.
    const connected = states.flatMap((s) => s.connectedAt);
    return {
      n, assembly_ms: Math.max(...done) - t0, loadavg: load,
      connected_ms: connected.length >= n * (n - 1) ? Math.max(...connected) - t0 : null,
      first_face_ms: Math.min(...states.flatMap((s) => s.faces.map((f) => f.at))) - t0,
      // When the last page had every remote stream attached to a <video>, and decoded a frame.
      attached_ms: lastOfAll(states.map((s) => s.attached), n - 1) - t0,
      decoded_ms: lastOfAll(states.map((s) => s.decoded), n - 1) - t0, join_spread_ms: Math.max(...states.map((s) => s.joinAt)) - t0,
      client_messages: sum((s) => s.sent), server_messages: sum((s) => s.received), kinds,
      peer_connections: sum((s) => s.pcs), expected_peer_connections: n * (n - 1), sockets: sum((s) => s.sockets),
      retries: Math.max(0, sum((s) => s.pcs) - n * (n - 1)) + Math.max(0, sum((s) => s.sockets) - n),
      // One offer per pair is the least a mesh needs; more means renegotiation, glare or ICE restarts.
      offers: kinds['Signal.Offer'] ?? 0, expected_offers: (n * (n - 1)) / 2,
    };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

/** Gzipped bytes of everything the browser fetches for a room page (cold cache): see size.mjs. */
const downloadSize = (browser) => measureRoomPage(browser, opts.app, uniqueRoom('size'));

/** The CPU section's clip: its size ([w, h]) and the fake camera flag that plays it. */
const cpuClip = () => opts['cpu-clip'].split('x').map(Number);
const cpuVideoFlag = () => smallVideoFlag(...cpuClip(), opts['cpu-fps']);

/** People (`--cpu-n`, six) in a steady call, every camera the `--cpu-clip` clip of moving bars
 * (320x240) at `--cpu-fps` (5: at 15 the two cores are full with either page, which then shows
 * fewer frames than are sent, so the two would no longer have the same pictures on screen): CPU
 * of the whole browser and main-thread task time per page. Every video, remote and our own, is
 * drawn at the same size on both pages (the clip's), so both composite the same pixels. */
async function cpuRun(variant, seconds) {
  const [w, h] = cpuClip();
  const browser = await launch([cpuVideoFlag()]);
  const room = uniqueRoom('cpu');
  const people = [];
  const n = opts['cpu-n'];
  try {
    for (let i = 0; i < n; i++) people.push(await enter(browser, variant, room, `C${i + 1}`));
    const shown = people.map((p) => p.page.evaluate((others) => window.__bench.facesShown(others), n - 1));
    for (const p of people) await p.page.locator('[data-testid=join]').click();
    await withTimeout(Promise.all(shown), 60_000, `${variant} ${n}-person call`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    // The same picture on both pages: each remote video at the clip's own size, whatever the page's
    // layout would make of it (meshcall's tiles and the floor's grid differ).
    // A constructed style sheet: meshcall's Content-Security-Policy (`style-src 'self'`) refuses
    // the inline `<style>` that `page.addStyleTag` would add.
    // Our own camera's video too: its size followed each page's own layout.
    const css = `:is([data-testid=peer-tile], [data-testid=self-tile]) video { width: ${w}px !important; height: ${h}px !important; aspect-ratio: auto !important; }`;
    await Promise.all(people.map((p) => p.page.evaluate((text) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(text);
      document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    }, css)));
    await new Promise((r) => setTimeout(r, 3000)); // past ramp-up: bandwidth estimation settles
    const sessions = await Promise.all(people.map(async (p) => {
      const s = await p.context.newCDPSession(p.page);
      await s.send('Performance.enable');
      return s;
    }));
    const metrics = () => Promise.all(sessions.map(async (s) => Object.fromEntries(
      (await s.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]))));
    const frames = () => Promise.all(people.map((p) => p.page.evaluate(() =>
      [...document.querySelectorAll('[data-testid=peer-tile] video')]
        .reduce((a, v) => a + v.getVideoPlaybackQuality().totalVideoFrames, 0))));
    const [m0, f0, c0, t0] = [await metrics(), await frames(), descendantsCpu(), performance.now()];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const [m1, f1, c1, t1] = [await metrics(), await frames(), descendantsCpu(), performance.now()];
    // Pixels of remote video on screen per page: compositing them is CPU work without a GPU.
    const videoPixels = await Promise.all(people.map((p) => p.page.evaluate(() =>
      [...document.querySelectorAll('[data-testid=peer-tile] video')]
        .reduce((a, v) => { const r = v.getBoundingClientRect(); return a + r.width * r.height; }, 0))));
    const wall = (t1 - t0) / 1000;
    const perPage = (k) => m1.map((m, i) => (m[k] - m0[i][k]) / wall * 100);
    const cpu = cpuBetween(c0, c1);
    const threads = Object.fromEntries(Object.entries(cpu.byThread)
      .map(([k, s]) => [k, s / wall * 100]).filter(([, v]) => v > 0.05));
    const flows = await Promise.all(people.map(flowsOf));
    return {
      browser_cpu_percent: cpu.total / wall * 100, threads_percent: threads,
      video_pixels_per_page: videoPixels,
      task_percent_per_page: perPage('TaskDuration'), script_percent_per_page: perPage('ScriptDuration'),
      frames_per_s_per_page: f1.map((f, i) => (f - f0[i]) / wall),
      // Video senders whose encoder the CPU held back at the end (WebRTC lowers resolution and frame
      // rate by itself then): a saturated machine compares adaptation, not the pages.
      cpu_limited: flows.flat().filter((f) => f.limitation === 'cpu').length,
      // The width of the last frame decoded from each other person, per page: the same pixels
      // on both pages means the same pictures sent, not only the same boxes drawn.
      frame_widths_per_page: flows.map((fs) => fs.map((f) => f.width)),
    };
  } finally {
    await browser.close().catch(() => {});
  }
}

// The uplink (issue 12). A page's connections, read with getStats (instrument.js keeps them).
const flowsOf = (p) => readFlows(p.page, 'window.__bench.peerConnections');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Every page's flows over `seconds`, after `settle` seconds of the call running. */
async function flowWindow(people, settle, seconds) {
  await sleep(settle * 1000);
  const before = await Promise.all(people.map(flowsOf));
  await sleep(seconds * 1000);
  const after = await Promise.all(people.map(flowsOf));
  return after.map((a, i) => flowDelta(before[i], a));
}

/** N people in a call, each camera a noisy clip that needs more than any budget gives: kbit/s each
 * page sends (transport bytes of all its connections: media, headers, RTCP, data channel). */
async function sendRun(browser, variant, n) {
  const room = uniqueRoom(`send${n}`);
  const people = [];
  try {
    for (let i = 0; i < n; i++) people.push(await enter(browser, variant, room, `P${i + 1}`));
    const shown = people.map((p) => p.page.evaluate((k) => window.__bench.facesShown(k), n - 1));
    await joinAll(people);
    await withTimeout(Promise.all(shown), 60_000, `${variant} call of ${n}`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    const load = os.loadavg()[0];
    const flows = await flowWindow(people, 8, opts['uplink-seconds']);
    const kbps = flows.map((fs) => fs.reduce((a, f) => a + f.sent * 8 / f.ms, 0));
    const senders = flows.flat();
    return { n, loadavg: load, kbps_per_page: kbps, max_kbps: Math.max(...kbps),
      // Senders whose encoder was held back by the CPU rather than the network: a busy machine
      // sends less than either page would ask for.
      cpu_limited: senders.filter((f) => f.limitation === 'cpu').length, senders: senders.length };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

/** A room of four: three in `fast`, one in `slow` (the browser behind the throttled link, its camera
 * a noisy clip). Per tile at the three (viewer, sender): frames decoded and freezes a second, audio
 * concealed, kbit/s received. */
async function throttledRun(fast, slow, variant, slowWhere) {
  const room = uniqueRoom('throttled');
  const people = [];
  try {
    for (const name of ['Ada', 'Grace', 'Linus']) people.push(await enter(fast, variant, room, name));
    people.push(await lobby(slow, roomUrl(slowWhere, variant, room), 'Margaret'));
    const shown = people.map((p) => p.page.evaluate(() => window.__bench.facesShown(3)));
    await joinAll(people);
    await withTimeout(Promise.all(shown), 60_000, `${variant} throttled room`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    const load = os.loadavg()[0];
    const flows = await flowWindow(people, 10, opts['uplink-seconds']);
    const tiles = flows.slice(0, 3).flatMap((fs, viewer) => fs.map((f) => ({
      viewer, from: f.peer === THERE ? 'throttled' : 'other', fps: f.frames * 1000 / f.ms, freezes: f.freezes,
      concealed: f.audioConcealed / Math.max(1, f.audioSamples), kbps: f.bytes * 8 / f.ms,
    })));
    const of = (from) => tiles.filter((t) => t.from === from);
    const slowTiles = of('throttled'), others = of('other');
    return { loadavg: load, tiles, complete: slowTiles.length === 3 && others.length === 6,
      throttled_min_fps: Math.min(...slowTiles.map((t) => t.fps)), throttled_freezes: slowTiles.reduce((a, t) => a + t.freezes, 0),
      throttled_max_concealed: Math.max(...slowTiles.map((t) => t.concealed)), throttled_kbps: slowTiles.reduce((a, t) => a + t.kbps, 0),
      others_min_fps: Math.min(...others.map((t) => t.fps)), others_freezes: others.reduce((a, t) => a + t.freezes, 0) };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

/** From this many people on, every camera of the upload runs is the 160x120 noise clip. */
const SMALL_CLIP_FROM = 8;

async function uplinkSection(result) {
  const out = { budget_kbps: 2500, throttle_kbit: opts['throttle-kbit'], sends: {}, throttled: {} };
  // Noise at 320x240: at 640x480 two cores could not encode the copies past N = 4 (load 30-45, every
  // N = 8 run of both pages failed). The browser lets the floor send such a picture at up to
  // 600 kbit/s a copy, so meshcall's budget binds from N = 5 on ((2,500 - 4 x 70) x 0.9 / 4 = 499).
  // From N = 8 on, 160x120: 56 copies of 320x240 noise (8 x 7 encoders and as many decoders) kept
  // two cores at load 30-35, and calls of both pages failed to show every face within 60 s (the
  // floor 3 of 4 runs, meshcall 3 of 4 on 2026-12-06).
  const browser = await launch([noisyVideoFlag()]);
  const smaller = await launch([noisyVideoFlag(160, 120)]);
  result.chromium ||= browser.version();
  try {
    for (const n of opts['uplink-ns'].split(',').map(Number)) {
      const rs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
      const b = n >= SMALL_CLIP_FROM ? smaller : browser;
      for (let i = 0; i < opts['uplink-runs']; i++) {
        for (const v of order(i)) {
          const r = await attempt(`send ${v} N=${n} #${i + 1}`, () => sendRun(b, v, n), result.failures);
          rs[v].push(r);
          if (r) log(`send ${v} N=${n} #${i + 1}: per page ${r.kbps_per_page.map((k) => k.toFixed(0)).join(', ')} kbit/s (load ${r.loadavg.toFixed(1)}, ${r.cpu_limited}/${r.senders} senders cpu-limited)`);
        }
      }
      out.sends[n] = rs;
    }
  } finally {
    await browser.close().catch(() => {});
    await smaller.close().catch(() => {});
  }
  out.small_clip_from = SMALL_CLIP_FROM;
  // One person behind a throttled link: a browser of its own in a namespace of its own.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshcall-slowlink-'));
  const link = await openSlowLink(path.join(dir, 'chromium.sh'));
  const app = new URL(opts.app);
  const slowWhere = { app: `http://${HERE}:${app.port}`, floor: `http://${HERE}:${opts['floor-port']}`,
    signaling: `ws://${HERE}:${app.port}/ws/` };
  const fast = await launch([smallVideoFlag()]);
  const slow = await launch([noisyVideoFlag(), `--unsafely-treat-insecure-origin-as-secure=${slowWhere.app},${slowWhere.floor}`], link.chromium);
  try {
    link.throttle(opts['throttle-kbit']);
    const rs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let i = 0; i < opts['throttled-runs']; i++) {
      for (const v of order(i)) {
        const r = await attempt(`throttled ${v} #${i + 1}`, () => throttledRun(fast, slow, v, slowWhere), result.failures);
        rs[v].push(r);
        if (r) log(`throttled ${v} #${i + 1}: from the throttled person min ${r.throttled_min_fps.toFixed(1)} fps, ${r.throttled_freezes} freezes, audio concealed max ${(r.throttled_max_concealed * 100).toFixed(1)}%, ${r.throttled_kbps.toFixed(0)} kbit/s in all; others min ${r.others_min_fps.toFixed(1)} fps, ${r.others_freezes} freezes (load ${r.loadavg.toFixed(1)})`);
      }
    }
    out.throttled = rs;
  } finally {
    await slow.close().catch(() => {});
    await fast.close().catch(() => {});
    link.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  result.uplink = out;
}

function summary(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return { n: 0 };
  const q = (p) => { const i = (s.length - 1) * p; const lo = Math.floor(i); return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo); };
  return { n: s.length, median: q(0.5), p25: q(0.25), p75: q(0.75), min: s[0], max: s[s.length - 1] };
}

async function attempt(what, fn, failures) {
  try { return await fn(); } catch (e) { log(`${what} failed: ${e.message}`); failures.push(`${what}: ${e.message}`); return null; }
}

async function main() {
  const result = { started: new Date().toISOString(), chromium: '', options: opts, failures: [],
    // What the browsers ran with beyond the e2e suite's own flags (CHROMIUM_ARGS), for the report.
    settings: { extra_chromium_args: NO_BACKGROUND_THROTTLING, small_video: smallVideoFlag(), cpu_video: cpuVideoFlag(), viewport: '1280x720' } };
  // The throttled person's browser reaches the floor from another namespace (the veth address).
  const floor = await serveFloor(opts['floor-port'], only.has('uplink') ? '0.0.0.0' : '127.0.0.1');
  try {
    if (only.has('ttff') || only.has('size') || only.has('open')) {
      const browser = await launch();
      result.chromium = browser.version();
      if (only.has('size')) {
        log('download size');
        result.size = await attempt('download size', () => downloadSize(browser), result.failures);
      }
      if (only.has('ttff')) {
        // A private room's join (key proofs before media) is timed in the same alternation.
        const variants = VARIANTS.includes('meshcall') && opts.keyed ? [...VARIANTS, 'keyed'] : VARIANTS;
        const samples = Object.fromEntries(variants.map((v) => [v, []]));
        const perRun = Object.fromEntries(variants.map((v) => [v, []]));
        for (const v of variants) await attempt(`ttff warm-up ${v}`, () => ttffRun(browser, v), result.failures);
        const joins = Math.max(1, opts['ttff-joins']);
        for (let i = 0; i < opts.runs; i++) {
          const inRun = Object.fromEntries(variants.map((v) => [v, []]));
          for (let j = 0; j < joins; j++) {
            // Alternate which goes first, so drift of the machine hits all the same.
            for (const v of (i * joins + j) % 2 ? [...variants].reverse() : variants) {
              const r = await attempt(`ttff ${v} #${i + 1}.${j + 1}`, () => ttffRun(browser, v), result.failures);
              inRun[v].push(r ? r.both_ms : null);
              if (r) { samples[v].push(r); log(`ttff ${v} #${i + 1}.${j + 1}: ${r.both_ms.toFixed(0)} ms`); }
            }
          }
          // A run with a failed join has no figure (and the section then counts as incomplete).
          for (const v of variants) {
            perRun[v].push(inRun[v].includes(null) ? null : inRun[v].reduce((a, b) => a + b, 0) / joins);
          }
        }
        result.ttff = Object.fromEntries(Object.entries(samples).map(([v, rs]) => [v, {
          // `both` summarizes the runs' figures (means of their joins); `joins` every join alone.
          both: summary(perRun[v]), joins: summary(rs.map((r) => r.both_ms)), joiner: summary(rs.map((r) => r.joiner_ms)),
          present: summary(rs.map((r) => r.present_ms)), connected: summary(rs.map((r) => r.connected_ms)),
          socket: summary(rs.map((r) => r.socket_ms)), id: summary(rs.map((r) => r.id_ms)),
          attached: summary(rs.map((r) => r.attached_ms)), decoded: summary(rs.map((r) => r.decoded_ms)), messages: summary(rs.map((r) => r.messages)), samples: rs,
          per_run_ms: perRun[v], joins_per_run: joins, runs: perRun[v].filter((x) => x != null).length, attempted: opts.runs,
        }]));
      }
      if (only.has('open')) {
        const series = async (cameraMs) => {
          const perRun = Object.fromEntries(VARIANTS.map((v) => [v, []]));
          const perJoin = Object.fromEntries(VARIANTS.map((v) => [v, []]));
          const perLobby = Object.fromEntries(VARIANTS.map((v) => [v, []]));
          const samples = Object.fromEntries(VARIANTS.map((v) => [v, []]));
          const tag = cameraMs ? ` (camera starts in ${cameraMs} ms)` : '';
          for (let i = 0; i < opts.runs; i++) {
            for (const v of order(i)) {
              const r = await attempt(`open ${v}${tag} #${i + 1}`, () => openRun(browser, v, cameraMs), result.failures);
              perRun[v].push(r ? r.open_ms : null);
              perJoin[v].push(r ? r.join_ms : null);
              perLobby[v].push(r ? r.lobby_ms : null);
              if (r) { samples[v].push(r); log(`from the link${tag} ${v} #${i + 1}: ${r.open_ms.toFixed(0)} ms (lobby ready at ${r.lobby_ms.toFixed(0)})`); }
            }
          }
          return Object.fromEntries(Object.entries(samples).map(([v, rs]) => [v, {
            open: summary(rs.map((r) => r.open_ms)), lobby: summary(rs.map((r) => r.lobby_ms)), join: summary(rs.map((r) => r.join_ms)),
            samples: rs, per_run_ms: perRun[v], join_per_run_ms: perJoin[v], lobby_per_run_ms: perLobby[v], runs: rs.length, attempted: opts.runs,
            camera_ms: cameraMs,
          }]));
        };
        result.open = await series(0);
        if (opts['camera-ms'] > 0) result.open_slow_camera = await series(opts['camera-ms']);
      }
      await browser.close();
    }
    if (only.has('mesh')) {
      const browser = await launch([smallVideoFlag()]);
      result.chromium ||= browser.version();
      // result.mesh[spread][variant][n]: spread 0 is everyone at once.
      result.mesh = {};
      const sizes = [...opts['mesh-ns'].split(',').map(Number), ...(opts['big-n'] ? [opts['big-n']] : [])];
      for (const spread of opts.spreads.split(',').map(Number)) {
        const bySpread = (result.mesh[spread] = Object.fromEntries(VARIANTS.map((v) => [v, {}])));
        for (const n of sizes) {
          // The big room once, joining at once: it is measured, it has no target of its own.
          if (n === opts['big-n'] && spread !== 0) continue;
          const runs = n === opts['big-n'] ? opts['big-runs'] : opts['mesh-runs'];
          const rs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
          for (let i = 0; i < runs; i++) {
            for (const v of order(i)) {
              const what = `mesh ${v} N=${n}${spread ? ` spread ${spread} ms` : ''} #${i + 1}`;
              const r = await attempt(what, () => meshRun(browser, v, n, spread), result.failures);
              // A failed run stays in the list (null) so run i of both pages still pair up.
              rs[v].push(r);
              if (r) log(`${what}: ${r.assembly_ms.toFixed(0)} ms (load ${r.loadavg.toFixed(1)}; all connected ${r.connected_ms?.toFixed(0)}, attached ${r.attached_ms.toFixed(0)}, decoded ${r.decoded_ms.toFixed(0)} ms; first face ${r.first_face_ms.toFixed(0)} ms), ${r.client_messages} msgs, retries ${r.retries}`);
            }
          }
          for (const v of VARIANTS) {
            const ok = rs[v].filter(Boolean);
            bySpread[v][n] = {
              assembly: summary(ok.map((r) => r.assembly_ms)), connected: summary(ok.map((r) => r.connected_ms ?? NaN)),
              first_face: summary(ok.map((r) => r.first_face_ms)), attached: summary(ok.map((r) => r.attached_ms)),
              decoded: summary(ok.map((r) => r.decoded_ms)), client_messages: summary(ok.map((r) => r.client_messages)),
              server_messages: summary(ok.map((r) => r.server_messages)), retries: ok.reduce((a, r) => a + r.retries, 0),
              extra_offers: ok.reduce((a, r) => a + Math.max(0, r.offers - r.expected_offers), 0),
              runs: ok.length, attempted: runs, samples: ok,
              // Run by run, in the order they alternated (null: that run failed).
              per_run_ms: rs[v].map((r) => (r ? r.assembly_ms : null)),
            };
          }
        }
      }
      await browser.close();
    }
    if (only.has('cpu')) {
      const samples = Object.fromEntries(VARIANTS.map((v) => [v, []]));
      for (let i = 0; i < opts['cpu-runs']; i++) {
        for (const v of order(i)) {
          const r = await attempt(`cpu ${v} #${i + 1}`, () => cpuRun(v, opts['cpu-seconds']), result.failures);
          if (r) { samples[v].push(r); log(`cpu ${v} #${i + 1}: browser ${r.browser_cpu_percent.toFixed(0)}%`); }
        }
      }
      const mean = (xs) => xs.reduce((a, x) => a + x, 0) / xs.length;
      result.cpu = Object.fromEntries(Object.entries(samples).map(([v, rs]) => [v, {
        browser: summary(rs.map((r) => r.browser_cpu_percent)),
        task_per_page: summary(rs.map((r) => mean(r.task_percent_per_page))),
        script_per_page: summary(rs.map((r) => mean(r.script_percent_per_page))),
        fps_per_page: summary(rs.map((r) => mean(r.frames_per_s_per_page))),
        video_pixels_per_page: summary(rs.map((r) => mean(r.video_pixels_per_page))),
        cpu_limited: rs.reduce((a, r) => a + (r.cpu_limited ?? 0), 0),
        threads: Object.fromEntries([...new Set(rs.flatMap((r) => Object.keys(r.threads_percent)))]
          .map((k) => [k, summary(rs.map((r) => r.threads_percent[k] ?? 0)).median])),
        samples: rs,
      }]));
    }
    if (only.has('uplink')) await uplinkSection(result);
  } finally {
    floor.close();
  }
  result.finished = new Date().toISOString();
  const text = JSON.stringify(result, null, 2);
  if (opts.out) fs.writeFileSync(opts.out, text);
  else console.log(text);
}

main().catch((e) => { console.error(e); process.exit(1); });
