// Where the pages' main threads go while a mesh assembles: N people join at once (the 160x120
// clip, as mesh assembly in browser.mjs), meshcall and the floor alternating run by run; for each
// run the time until every face is shown and, summed over the N pages from the clicks to then,
// Chromium's own main-thread accounting (`Performance.getMetrics`: tasks, script, layout, style)
// and the CPU seconds every thread of the browser used, by thread name.
// It prints every connection a page closes, with the app's reason, as it happens.
// Written for docs/join-timeline.md; not part of `make bench` (its absolute times are longer
// than the bench's: the metrics and profiler cost the pages). Runs inside the network namespace
// with meshcall-server on 127.0.0.1:18180 allowing the floor's origin http://127.0.0.1:18199:
//
// node bench/mesh-profile.mjs [--n 4,6] [--runs 3] [--variants meshcall,floor] [--top 25]
//   [--profile 1]   V8's sampling profiler on every page: self time per function, by kind (our
//                   wasm, JS, browser API, native), and the inclusive time of the wasm's functions
//                   (a build with names: `trunk build --release` with `-g` in index.html's wasm-opt
//                   parameters says which Rust function)
//   [--trace FILE]  a Chromium trace of the span: self time per trace event on the renderers'
//                   main threads (e.g. blocking WebRTC proxies, lazy wasm compilation)
//   [--script F]    an init script for every page (after instrument.js); page 1's `window.__count`
//                   is printed at the end of each run (e.g. one that times WebRTC calls)
//   [--chromium-arg ARG]  one more Chromium flag (e.g. --js-flags=...)
//   [--steady S]    measure S seconds of the call once every face is shown (after 3 s of settling)
//                   instead of its assembly: metrics, CPU, trace and profile cover that window
//   [--clip WxH]    every camera a clip of moving bars that size (160x120; the CPU bench's 320x240)
import fs from 'node:fs';
import { smallVideoFlag } from '../chromium.mjs';
import { cpuBetween, descendantsCpu, diagnose, joinAll, launch, lobby, roomUrl, serveFloor, uniqueRoom, withTimeout } from './people.mjs';

const opts = { n: '4,6', runs: 3, variants: 'meshcall,floor', profile: 0, top: 25, script: '', trace: '', 'chromium-arg': '', steady: 0, clip: '160x120' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option --${k}`);
  opts[k] = typeof opts[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const where = { app: 'http://127.0.0.1:18180', floor: 'http://127.0.0.1:18199', signaling: 'ws://127.0.0.1:18180/ws/' };
const METRICS = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'];
const floor = await serveFloor(18199);
const browser = await launch([smallVideoFlag(...opts.clip.split('x').map(Number)), ...(opts['chromium-arg'] ? [opts['chromium-arg']] : [])]);
const selfTime = {};
const inclusiveTime = {};
const traceSelf = {};
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'v8.wasm',
  'disabled-by-default-v8.compile', 'disabled-by-default-v8.gc', 'toplevel', 'blink', 'webrtc'];

/** Self time (ms) per trace event name on every renderer's main thread, added into `into`. */
function addTrace(into, trace) {
  const events = trace.traceEvents ?? trace;
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !main.has(`${e.pid}:${e.tid}`)) continue;
    const k = `${e.pid}:${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k).push(e);
  }
  for (const list of byThread.values()) {
    list.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
    const stack = [];
    for (const e of list) {
      while (stack.length && stack[stack.length - 1].end <= e.ts) stack.pop();
      const dur = (e.dur ?? 0) / 1000;
      const parent = stack[stack.length - 1];
      if (parent) into[parent.name] = (into[parent.name] ?? 0) - dur;
      into[e.name] = (into[e.name] ?? 0) + dur;
      stack.push({ name: e.name, end: e.ts + (e.dur ?? 0) });
    }
  }
}

/** Self time and inclusive time (ms) per function of one CPU profile, added into `self` and
 * `inclusive`. */
function addProfile(self, inclusive, profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const ms = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const nameOf = (id) => {
    const f = byId.get(id).callFrame;
    const file = f.url ? f.url.split('/').pop().split('?')[0] : '';
    return `${f.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`;
  };
  for (const [id, c] of counts) {
    const name = nameOf(id);
    if (name === '(idle)') continue;
    self[name] = (self[name] ?? 0) + c * ms;
    // Each function on the sample's stack once, however often it recurs.
    const onStack = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) onStack.add(nameOf(at));
    for (const f of onStack) inclusive[f] = (inclusive[f] ?? 0) + c * ms;
  }
}

async function run(variant, n) {
  const room = uniqueRoom(`prof${n}`);
  let clickAt = Date.now();
  const people = [];
  try {
    for (let i = 0; i < n; i++) {
      people.push(await lobby(browser, roomUrl(where, variant, room), `P${i + 1}`, opts.script ? [opts.script] : []));
      const page = i + 1;
      people[i].page.on('console', (m) => { if (/closed:|failed|rejected/.test(m.text())) console.log(`  page ${page} ${((Date.now() - clickAt) / 1000).toFixed(1)} s: ${m.text()}`); });
    }
    const sessions = await Promise.all(people.map(async (p) => {
      const s = await p.context.newCDPSession(p.page);
      await s.send('Performance.enable');
      if (opts.profile) {
        await s.send('Profiler.enable');
        await s.send('Profiler.setSamplingInterval', { interval: 500 });
      }
      return s;
    }));
    const metrics = () => Promise.all(sessions.map(async (s) => Object.fromEntries(
      (await s.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]))));
    const traceFile = opts.trace ? `${opts.trace}-${variant}-${n}.json` : null;
    // What the window measures starts here: before the clicks, or in a steady call.
    const start = async () => {
      if (opts.profile) await Promise.all(sessions.map((s) => s.send('Profiler.start')));
      if (traceFile) await browser.startTracing(undefined, { path: traceFile, categories: TRACE_CATEGORIES });
      return [await metrics(), descendantsCpu()];
    };
    let [before, cpu0] = opts.steady ? [] : await start();
    const shown = people.map((p) => p.page.evaluate((k) => window.__bench.facesShown(k), n - 1).catch(() => NaN));
    clickAt = Date.now();
    await joinAll(people);
    const done = await withTimeout(Promise.all(shown), 60_000, `${variant} mesh of ${n}`).catch(async (e) => { console.log(`  ${e.message}: ${await diagnose(people)}`); return [NaN]; });
    if (opts.steady) {
      await new Promise((r) => setTimeout(r, 3000));
      [before, cpu0] = await start();
      await new Promise((r) => setTimeout(r, opts.steady * 1000));
    }
    if (traceFile) {
      await browser.stopTracing();
      addTrace((traceSelf[variant] ??= {}), JSON.parse(fs.readFileSync(traceFile, 'utf8')));
    }
    const cpu1 = descendantsCpu();
    const after = await metrics();
    if (opts.profile) {
      for (const s of sessions) {
        addProfile((selfTime[variant] ??= {}), (inclusiveTime[variant] ??= {}), (await s.send('Profiler.stop')).profile);
      }
    }
    const t0 = Math.min(...(await Promise.all(people.map((p) => p.page.evaluate(() => window.__bench.joinAt)))));
    const sums = Object.fromEntries(METRICS.map((m) => [m, after.reduce((a, x, i) => a + (x[m] - before[i][m]) * 1000, 0)]));
    const counts = opts.script ? await Promise.all(people.map((p) => p.page.evaluate(() => window.__count))) : null;
    return { every_face_ms: Math.max(...done) - t0, ...sums, counts, cpu: cpuBetween(cpu0, cpu1) };
  } finally {
    await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  }
}

const fmt = (x) => Math.round(x).toLocaleString('en');
/** The `opts.top` largest of `times` (name → ms), one a line. */
const printTop = (times) => {
  for (const [name, ms] of Object.entries(times).sort((a, b) => b[1] - a[1]).slice(0, opts.top)) console.log(`${fmt(ms).padStart(7)}  ${name.slice(0, 220)}`);
};
try {
  for (const n of opts.n.split(',').map(Number)) {
    for (let r = 0; r < opts.runs; r++) {
      const variants = opts.variants.split(',');
      for (const v of r % 2 ? variants.reverse() : variants) {
        const x = await run(v, n);
        console.log(`N=${n} run ${r + 1} ${v}: every face ${fmt(x.every_face_ms)} ms; main threads (sum of ${n} pages): ` +
          METRICS.map((m) => `${m.replace('Duration', '')} ${fmt(x[m])}`).join(', ') + ' ms' +
          (x.counts ? `; page 1 called ${JSON.stringify(x.counts[0])}` : ''));
        const top = Object.entries(x.cpu.byThread).sort((a, b) => b[1] - a[1]).slice(0, 8);
        console.log(`  CPU of the whole browser over the span ${x.cpu.total.toFixed(1)} s: ${top.map(([k, s]) => `${k} ${s.toFixed(1)}`).join(', ')}`);
      }
    }
  }
  for (const [v, t] of Object.entries(traceSelf)) {
    console.log(`\n${v}: trace events' self time on the renderers' main threads, summed over every run (ms)`);
    printTop(t);
  }
  for (const [v, t] of Object.entries(selfTime)) {
    console.log(`\n${v}: inclusive time of our own functions (ms)`);
    printTop(Object.fromEntries(Object.entries(inclusiveTime[v]).filter(([name]) => name.endsWith('.wasm'))));
    const kinds = {};
    for (const [name, ms] of Object.entries(t)) {
      const kind = name.startsWith('(') ? name : name.endsWith('.wasm') ? 'wasm' : / \S+\.(m?js|html)$/.test(name) ? 'JS' : 'browser API';
      kinds[kind] = (kinds[kind] ?? 0) + ms;
    }
    console.log(`${v}: self time by kind (ms): ${Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${fmt(ms)}`).join(', ')}`);
    console.log(`${v}: self time summed over every page of every run (ms)`);
    printTop(t);
  }
} finally {
  await browser.close();
  floor.close();
}
