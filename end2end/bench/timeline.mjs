// Explains a join step by step: N people click Join (at once or spread), and every page records a
// timeline (timeline.js) of its peer connections' negotiation calls, state changes, signaling
// messages and the first movement of each video RTP counter in getStats, for meshcall and the floor
// alternately. Prints each run's timeline relative to the first click and writes the raw events.
// Runs inside the network namespace with meshcall-server listening, like browser.mjs:
//
// node bench/timeline.mjs --app http://127.0.0.1:18180 --n 3 --runs 2 [--spread 0] [--camera small|default]
//   [--variants meshcall,floor] [--floor-port 18199] [--out /tmp/timeline.json] [--quiet 1]
//   [--chromium-args "--flag --other-flag"] [--browsers one|each] [--lobby-wait ms] [--init file.js]
//   [--floor-query "&preview=hide"]
// --browsers each gives every person a Chromium of its own (as real people have) instead of a
// context each in one shared browser (whose fake camera all pages then share); --lobby-wait waits
// that long in the lobby before the clicks; --init adds an init script to every page; --floor-query
// appends to the floor's link (its knobs are in floor.js).
import fs from 'node:fs';
import { smallVideoFlag } from '../chromium.mjs';
import { TIMELINE, benchState, diagnose, joinAll, launch, lobby, roomUrl, serveFloor, uniqueRoom, withTimeout } from './people.mjs';

const opts = { app: 'http://127.0.0.1:18180', n: 3, runs: 2, spread: 0, camera: 'small', variants: 'meshcall,floor',
  'floor-port': 18199, signaling: '', out: '', quiet: 0, 'chromium-args': '', browsers: 'one', 'lobby-wait': 0, init: '', 'floor-query': '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option --${k}`);
  opts[k] = typeof opts[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const where = { app: opts.app, floor: `http://127.0.0.1:${opts['floor-port']}`, signaling: opts.signaling || `${opts.app.replace(/^http/, 'ws')}/ws/`,
  floorQuery: opts['floor-query'] };
const VARIANTS = opts.variants.split(',');

async function run(shared, variant) {
  const room = uniqueRoom(`timeline${opts.n}`);
  const people = [];
  const own = [];
  try {
    for (let i = 0; i < opts.n; i++) {
      const browser = shared ?? own[own.push(await launchOne()) - 1];
      people.push(await lobby(browser, roomUrl(where, variant, room), `P${i + 1}`, [TIMELINE, ...(opts.init ? [opts.init] : [])]));
    }
    const shown = people.map((p) => p.page.evaluate((k) => window.__bench.facesShown(k), opts.n - 1));
    if (opts['lobby-wait']) await new Promise((r) => setTimeout(r, opts['lobby-wait']));
    await joinAll(people, opts.spread);
    await withTimeout(Promise.all(shown), 30_000, `${variant} mesh of ${opts.n}`)
      .catch(async (e) => { throw new Error(`${e.message} (${await diagnose(people)})`); });
    // A moment more, so counters that move just after the last face (late PLIs) show too.
    await new Promise((r) => setTimeout(r, 300));
    const pages = await Promise.all(people.map(async (p) => ({
      bench: await benchState(p),
      timeline: await p.page.evaluate(() => window.__timeline),
    })));
    const t0 = Math.min(...pages.map((p) => p.bench.joinAt));
    return { variant, t0, pages };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
    await Promise.all(own.map((b) => b.close().catch(() => {})));
  }
}

const ms = (x) => String(Math.round(x)).padStart(5);
function print(r) {
  const last = Math.max(...r.pages.flatMap((p) => p.bench.faces.map((f) => f.at))) - r.t0;
  console.log(`\n=== ${r.variant}, N = ${opts.n}, every face shown at ${Math.round(last)} ms ===`);
  r.pages.forEach((p, i) => {
    console.log(`-- page ${i + 1}: clicked at ${ms(p.bench.joinAt - r.t0)}, faces at ${p.bench.faces.map((f) => Math.round(f.at - r.t0)).join(', ')}`);
    const lines = [
      ...p.timeline.events.filter((e) => !/addIceCandidate|ws (in|out) IceCandidate/.test(e.what)),
      ...p.bench.attached.map((e) => ({ at: e.at, pc: -1, what: `video attached (tile ${e.peer})` })),
      ...p.bench.decoded.map((e) => ({ at: e.at, pc: -1, what: `video loadeddata (tile ${e.peer})` })),
      ...p.bench.faces.map((e) => ({ at: e.at, pc: -1, what: `FACE shown (tile ${e.peer})` })),
    ].sort((a, b) => a.at - b.at);
    for (const e of lines) {
      const extra = ['type', 'kind', 'value', 'sdp', 'peer', 'signaling', 'error'].filter((k) => e[k] !== undefined).map((k) => `${k}=${e[k]}`).join(' ');
      console.log(`${ms(e.at - r.t0)}  ${e.pc >= 0 ? `pc${e.pc}` : '   '}  ${e.what} ${extra}`);
    }
  });
}

/** One line per connection: when it connected, and when each stage of its video first moved
 * (audio sent; camera frames handed to the video sender; video packets sent; frames decoded), plus
 * the longest gap in each page's own camera frames. Where the wait between "connected" and the
 * first decoded frame sits shows here at a glance. */
function summarize(r) {
  const at = (x) => (x == null ? '   -' : String(Math.round(x - r.t0)).padStart(5));
  r.pages.forEach((p, i) => {
    const tl = p.timeline;
    const first = (pc, key) => tl.samples.find((s) => s.pc === pc && (s[key] ?? 0) > 0)?.at;
    const cam = (tl.camera ?? []).filter((c) => c.at >= r.t0);
    let gap = 0;
    // Time between samples where the count of frames the track delivered moved: a stalled camera
    // shows as one long gap. Not totalFrames: that keeps counting frames the track never delivered
    // (it hid a 2.6 s stall of the camera from an earlier reading of these timelines).
    const moved = cam.filter((c, k) => k === 0 || c.delivered !== cam[k - 1].delivered);
    for (let k = 1; k < moved.length; k++) gap = Math.max(gap, moved[k].at - moved[k - 1].at);
    console.log(`page ${i + 1} (clicked ${at(p.bench.joinAt)}): longest gap between camera frames delivered ${cam.length ? Math.round(gap) : '?'} ms`);
    tl.pcs.forEach(({ id }) => {
      const connected = tl.events.find((e) => e.pc === id && e.what === 'connection connected')?.at;
      console.log(`  pc${id}: connected ${at(connected)} | audio sent ${at(first(id, 'audio.out.packets'))} | camera frame to video sender ${at(first(id, 'src.frames'))} | video sent ${at(first(id, 'out.packets'))} | first frame decoded ${at(first(id, 'in.frames'))}`);
    });
  });
}

const floor = await serveFloor(opts['floor-port']);
const extra = opts['chromium-args'].split(' ').filter(Boolean);
const launchOne = () => launch([...(opts.camera === 'small' ? [smallVideoFlag()] : []), ...extra]);
const browser = opts.browsers === 'each' ? null : await launchOne();
const results = [];
try {
  for (let i = 0; i < opts.runs; i++) {
    for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) {
      try {
        const r = await run(browser, v);
        results.push(r);
        if (!opts.quiet) print(r);
        console.log(`\n--- ${v} #${i + 1}, N = ${opts.n}${opts.spread ? `, clicks spread over ${opts.spread} ms` : ', clicks at once'} (ms from the first click)`);
        summarize(r);
        const last = Math.max(...r.pages.flatMap((p) => p.bench.faces.map((f) => f.at))) - r.t0;
        const conn = Math.max(...r.pages.flatMap((p) => p.bench.connectedAt)) - r.t0;
        console.error(`[timeline] ${v} #${i + 1}: all connected ${Math.round(conn)} ms, every face ${Math.round(last)} ms`);
      } catch (e) {
        console.error(`[timeline] ${v} #${i + 1} failed: ${e.message}`);
      }
    }
  }
} finally {
  await browser?.close();
  floor.close();
}
if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(results, null, 1));
