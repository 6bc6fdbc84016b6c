// What every browser benchmark does with people: start the browser, serve the floor page, open a room
// (meshcall's or the floor's) in a context of its own, wait in the lobby with the camera preview
// playing, and read back what instrument.js recorded. browser.mjs and timeline.mjs share it.
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, CHROMIUM_PATH, NO_BACKGROUND_THROTTLING } from '../chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const INSTRUMENT = path.join(HERE, 'instrument.js');
export const TIMELINE = path.join(HERE, 'timeline.js');

/** The suite's Chromium (or `executablePath`) and flags, without background throttling, plus `extra`. */
export const launch = (extra = [], executablePath = CHROMIUM_PATH) =>
  chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...NO_BACKGROUND_THROTTLING, ...extra] });

/** The floor page, served from this process on its own port (on `host`); it signals through
 * meshcall-server. */
export function serveFloor(port, host = '127.0.0.1') {
  const files = { '/floor.html': 'text/html', '/floor.js': 'text/javascript' };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    if (!files[p]) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': files[p], 'cache-control': 'no-store' });
    res.end(fs.readFileSync(path.join(HERE, p.slice(1))));
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

/** The link a person opens: `where` is { app, floor, signaling } (base URLs), and optionally
 * `floorQuery` (more of the floor's query, e.g. "&preview=hide"). */
export const roomUrl = (where, variant, room) => {
  if (variant === 'meshcall') return `${where.app}/r/${room}`;
  // A private room (issue 11): the key rides in the fragment; media waits for both sides' proofs.
  if (variant === 'keyed') return `${where.app}/r/${room}#${roomKey(room)}`;
  return `${where.floor}/floor.html?room=${room}&signaling=${encodeURIComponent(where.signaling)}${where.floorQuery ?? ''}`;
};
const roomKeys = new Map();
/** The room's key (everyone invited has the same), made as the app makes one: 26 symbols of its
 * 32-letter alphabet. */
function roomKey(room) {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  if (!roomKeys.has(room)) {
    roomKeys.set(room, [...crypto.getRandomValues(new Uint8Array(26))].map((b) => alphabet[b & 31]).join(''));
  }
  return roomKeys.get(room);
}
let roomSeq = 0;
export const uniqueRoom = (tag) => `bench-${tag}-${Date.now().toString(36)}-${roomSeq++}`;

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms); }),
  ]);
}

/** A person in the lobby: own context, camera preview showing, name typed, ready to press Join.
 * `scripts` are init scripts after instrument.js (e.g. TIMELINE). */
export async function lobby(browser, url, name, scripts = []) {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], viewport: { width: 1280, height: 720 } });
  // A script is a file's path, or `{ content }` made by the caller.
  for (const script of [INSTRUMENT, ...scripts]) await context.addInitScript(typeof script === 'string' ? { path: script } : script);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=preview]');
    return v && v.videoWidth > 0;
  }, null, { timeout: 30_000 });
  await page.locator('[data-testid=name-input]').fill(name);
  await page.locator('[data-testid=join]:enabled').waitFor({ timeout: 10_000 });
  return { context, page, errors };
}

/** Clicks Join on every page: all in the same instant (`spreadMs` 0), or spread evenly over
 * `spreadMs` in the given order. */
export async function joinAll(people, spreadMs = 0) {
  const click = (p) => p.page.evaluate(() => document.querySelector('[data-testid=join]').click());
  if (!spreadMs) {
    await Promise.all(people.map(click));
    return;
  }
  const step = spreadMs / Math.max(1, people.length - 1);
  const t0 = Date.now();
  await Promise.all(people.map(async (p, i) => {
    const wait = t0 + i * step - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await click(p);
  }));
}

/** What a page shows when a run times out, so a failure in BENCHMARKS.md explains itself. */
export async function diagnose(people) {
  const parts = await Promise.all(people.map(async (p, i) => {
    const seen = await p.page.evaluate(() => ({
      tiles: [...document.querySelectorAll('[data-testid=peer-tile]')].map((t) => t.dataset.state ?? '?'),
      error: document.querySelector('[data-testid=error]')?.textContent?.trim() ?? null,
      pcs: window.__bench.pcs, connected: window.__bench.connectedAt.length, faces: window.__bench.faces.length,
      sent: window.__bench.sentKinds,
    })).catch((e) => ({ unreadable: e.message }));
    return `page ${i + 1}: ${JSON.stringify(seen)}${p.errors.length ? ` errors: ${p.errors.slice(0, 2).join(' | ')}` : ''}`;
  }));
  return parts.join('; ');
}

export const benchState = (p) => p.page.evaluate(() => {
  const b = window.__bench;
  return { joinAt: b.joinAt, socketAt: b.socketAt, idAt: b.idAt, sockets: b.sockets, pcs: b.pcs, sent: b.sent, received: b.received,
    keepAlives: b.keepAlives, sentKinds: b.sentKinds, receivedKinds: b.receivedKinds,
    connectedAt: b.connectedAt, faces: b.faces, attached: b.attached, decoded: b.decoded };
});

// CPU seconds (user + system) of every process below this one (the Chromium that Playwright
// started), in total and per thread name summed over processes, so a difference between meshcall
// and the floor shows where it is spent (main thread, audio, WebRTC encoders, compositor...).
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
function statFields(text) {
  const close = text.lastIndexOf(')');
  return { comm: text.slice(text.indexOf('(') + 1, close), f: text.slice(close + 2).split(' ') };
}
export function descendantsCpu() {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const { f } = statFields(fs.readFileSync(`/proc/${d}/stat`, 'utf8'));
      const ppid = Number(f[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* the process ended while we looked */ }
  }
  let total = 0;
  const byThread = {};
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length) {
    const pid = stack.pop();
    stack.push(...(children.get(pid) ?? []));
    let tids = [];
    try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const { comm, f } = statFields(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
        const secs = (Number(f[11]) + Number(f[12])) / TICK;
        const name = comm.replace(/[-_.:]?\d+$/, '');
        total += secs;
        byThread[name] = (byThread[name] ?? 0) + secs;
      } catch { /* the thread ended while we looked */ }
    }
  }
  return { total, byThread };
}

/** CPU seconds used between two readings of `descendantsCpu`, in total and per thread name. */
export function cpuBetween(before, after) {
  const byThread = Object.fromEntries(Object.entries(after.byThread).map(([k, s]) => [k, s - (before.byThread[k] ?? 0)]));
  return { total: after.total - before.total, byThread };
}
