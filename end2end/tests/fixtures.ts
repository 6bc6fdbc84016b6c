// The people of a call: each one is a page in its own browser context (own storage, own devices), and
// the assertions here are what that person would see or hear. Waits are polls on observable state,
// never fixed sleeps.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { BASE_URL } from '../env';

export { expect };

/** Runs in every page before the app: keeps each RTCPeerConnection the app builds, so a test can count
 * them and read their getStats(), and counts setLocalDescription calls (every offer or answer, so every
 * renegotiation). The app must use the global constructor (the UI contract says so). */
function wrapPeerConnections() {
  const Native = window.RTCPeerConnection;
  if (!Native || (Native as any).__meshcallWrapped) return;
  const built: RTCPeerConnection[] = [];
  const counts = { localDescriptions: 0 };
  const setLocal = Native.prototype.setLocalDescription;
  Native.prototype.setLocalDescription = function (this: RTCPeerConnection, ...args: any[]) {
    counts.localDescriptions++;
    return (setLocal as any).apply(this, args);
  } as any;
  // A plain function returning the native object: instances stay genuine RTCPeerConnections.
  const Wrapped = function (this: unknown, ...args: unknown[]) {
    const pc = new (Native as any)(...args) as RTCPeerConnection;
    built.push(pc);
    return pc;
  } as any;
  Wrapped.prototype = Native.prototype;
  Object.setPrototypeOf(Wrapped, Native); // statics such as generateCertificate
  Wrapped.__meshcallWrapped = true;
  (window as any).RTCPeerConnection = Wrapped;
  (window as any).__meshcall = { peerConnections: built, counts };
}

/** Runs in a page: what its tiles' videos and peer connections are doing, for a failing test's report. */
async function describeCall(): Promise<string> {
  const tiles = [...document.querySelectorAll('[data-testid=peer-tile]')].map((t) => {
    const v = t.querySelector('video');
    const stream = v?.srcObject as MediaStream | null | undefined;
    return {
      attributes: Object.fromEntries([...t.attributes].map((a) => [a.name, a.value])),
      text: t.textContent,
      video: v && {
        tracks: stream ? stream.getTracks().map((x) => `${x.kind}:${x.readyState}${x.muted ? ':muted' : ''}`) : null,
        videoWidth: v.videoWidth,
        readyState: v.readyState,
        paused: v.paused,
        hidden: v.hidden || getComputedStyle(v).display === 'none',
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
      },
    };
  });
  const pcs: RTCPeerConnection[] = (window as any).__meshcall?.peerConnections ?? [];
  const peerConnections = [];
  for (const pc of pcs) {
    const rtp: unknown[] = [];
    if (pc.connectionState !== 'closed') {
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'inbound-rtp' || r.type === 'outbound-rtp') {
          rtp.push({ type: r.type, kind: r.kind, frames: r.framesDecoded ?? r.framesEncoded, bytes: r.bytesReceived ?? r.bytesSent, audioEnergy: r.totalAudioEnergy });
        }
      });
    }
    peerConnections.push({
      connectionState: pc.connectionState,
      signalingState: pc.signalingState,
      transceivers: pc.getTransceivers().map((x) => `${x.mid}:${x.receiver.track.kind}:${x.currentDirection}`),
      rtp,
    });
  }
  return JSON.stringify({ url: location.href, tiles, peerConnections }, null, 1);
}

export type Person = { name: string; page: Page; context: BrowserContext; log: string[] };

export class People {
  readonly all: Person[] = [];
  constructor(private readonly browser: Browser) {}

  /** Opens a fresh browser context (a new person) on `path`, relative to `base`, with camera and
   * microphone allowed unless `permissions` says otherwise. `extra.config`: what the operator's
   * `/config.json` says instead of the suite server's (the only place a release page takes its
   * signaling server from); `extra.init`: a script run in the page before the app. */
  async open(
    name: string,
    path: string,
    base = BASE_URL,
    permissions = ['camera', 'microphone'],
    extra: { config?: { signalingUrl?: string }; init?: () => void; viewport?: { width: number; height: number } } = {},
  ): Promise<Person> {
    const context = await this.browser.newContext({ baseURL: base, permissions, viewport: extra.viewport });
    await context.addInitScript(wrapPeerConnections);
    if (extra.init) await context.addInitScript(extra.init);
    const config = extra.config;
    if (config) await context.route('**/config.json', (route) => route.fulfill({ json: config }));
    const page = await context.newPage();
    const log: string[] = [];
    const t0 = Date.now();
    const at = () => `${((Date.now() - t0) / 1000).toFixed(2)}s`;
    page.on('console', (m) => log.push(`${at()} [${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`${at()} [pageerror] ${e.message}`));
    const person = { name, page, context, log };
    this.all.push(person);
    await page.goto(path);
    return person;
  }

  /** Opens the room's lobby, types the name and joins; returns once the call view shows. */
  async join(
    name: string,
    room: string,
    opts: { base?: string; query?: string; permissions?: string[]; viewport?: { width: number; height: number } } = {},
  ): Promise<Person> {
    const person = await this.open(name, `/r/${room}${opts.query ?? ''}`, opts.base, opts.permissions, { viewport: opts.viewport });
    await clickJoin(person);
    await expect(person.page.getByTestId('self-tile')).toBeVisible();
    return person;
  }

  /** On failure: each page's console next to Playwright's own screenshots and trace, so a red run
   * explains itself. */
  async attachEvidence(testInfo: TestInfo) {
    for (const [i, p] of this.all.entries()) {
      const label = `${i + 1}-${p.name}`;
      await attachFile(testInfo, `${label}-console.txt`, p.log.join('\n') + '\n');
      if (p.page.isClosed()) continue;
      const state = await p.page.evaluate(describeCall).catch((e) => `page not readable: ${e}`);
      await attachFile(testInfo, `${label}-call-state.json`, state);
    }
  }

  async closeAll() {
    await Promise.all(this.all.map((p) => p.context.close().catch(() => {})));
  }
}

/** Written into the test's output folder (kept in CI logs and artifacts) and attached to the report. */
async function attachFile(testInfo: TestInfo, name: string, body: string) {
  const file = testInfo.outputPath(name);
  fs.writeFileSync(file, body);
  await testInfo.attach(name, { path: file });
}

export const test = base.extend<{ people: People }>({
  people: async ({ browser }, use, testInfo) => {
    const people = new People(browser);
    await use(people);
    if (testInfo.status !== testInfo.expectedStatus) await people.attachEvidence(testInfo);
    await people.closeAll();
  },
});

/** A room name no other test (or earlier run) uses. */
export function roomName(tag: string): string {
  return `e2e-${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export async function clickJoin(person: Person) {
  const { page } = person;
  await expect(page.getByTestId('preview')).toBeVisible();
  await page.getByTestId('name-input').fill(person.name);
  await page.getByTestId('join').click();
}

/** The tile that shows `name` on `viewer`'s page. */
export function tileOf(viewer: Person, name: string) {
  const exact = new RegExp(`^\\s*${name}\\s*$`);
  return viewer.page
    .getByTestId('peer-tile')
    .filter({ has: viewer.page.getByTestId('peer-name').filter({ hasText: exact }) });
}

/** Frames decoded so far by each remote tile's <video>, keyed by data-peer (0 while it shows nothing). */
export function frameCounts(viewer: Person): Promise<Record<string, number>> {
  return viewer.page.getByTestId('peer-tile').evaluateAll((tiles) =>
    Object.fromEntries(
      tiles.map((t) => {
        const v = t.querySelector('video');
        const frames = v && v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
        return [t.getAttribute('data-peer') ?? '?', frames];
      }),
    ),
  );
}

/** Every one of `count` remote tiles shows video whose frames keep advancing. */
export async function expectVideoFlowing(viewer: Person, count: number) {
  await expect
    .poll(async () => Object.values(await frameCounts(viewer)).filter((n) => n > 0).length, {
      message: `${viewer.name}: remote tiles showing video`,
    })
    .toBe(count);
  const before = await frameCounts(viewer);
  await expect
    .poll(
      async () => {
        const now = await frameCounts(viewer);
        return Object.keys(before).filter((k) => (now[k] ?? 0) >= before[k] + 5).length;
      },
      { message: `${viewer.name}: remote tiles whose frames advance` },
    )
    .toBe(count);
}

/** How many connected peer connections of `viewer` receive audio with energy above zero. */
export function peersHeard(viewer: Person): Promise<number> {
  return viewer.page.evaluate(async () => {
    const pcs: RTCPeerConnection[] = (window as any).__meshcall?.peerConnections ?? [];
    let heard = 0;
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      let energy = 0;
      stats.forEach((r: any) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') energy += r.totalAudioEnergy ?? 0;
      });
      if (energy > 0) heard++;
    }
    return heard;
  });
}

/** Peer connections the app has built on this page so far (closed ones included). */
export function peerConnectionsBuilt(viewer: Person): Promise<number> {
  return viewer.page.evaluate(() => ((window as any).__meshcall?.peerConnections ?? []).length);
}

/** Connections built and offers/answers set so far: unchanged across a device switch means the switch
 * needed no new connection and no renegotiation. */
export function negotiationCounts(viewer: Person): Promise<{ built: number; localDescriptions: number }> {
  return viewer.page.evaluate(() => {
    const m = (window as any).__meshcall;
    return { built: m?.peerConnections.length ?? 0, localDescriptions: m?.counts.localDescriptions ?? 0 };
  });
}

/** What each person in a full mesh sees: every other person's tile, named, connected, with moving video
 * and audible sound. */
export async function expectFullMesh(people: Person[]) {
  const others = (me: Person) => people.filter((p) => p !== me).map((p) => p.name).sort();
  for (const me of people) {
    const tiles = me.page.getByTestId('peer-tile');
    await expect(tiles, `${me.name}: one tile per other person`).toHaveCount(people.length - 1);
    await expect(me.page.getByTestId('peer-count')).toHaveText(String(people.length - 1));
    await expect
      .poll(async () => (await me.page.getByTestId('peer-name').allTextContents()).map((s) => s.trim()).sort(), {
        message: `${me.name}: names on the tiles`,
      })
      .toEqual(others(me));
    for (const tile of await tiles.all()) await expect(tile).toHaveAttribute('data-state', 'connected');
  }
  for (const me of people) {
    await expectVideoFlowing(me, people.length - 1);
    await expect
      .poll(() => peersHeard(me), { message: `${me.name}: peers whose audio arrives` })
      .toBeGreaterThanOrEqual(people.length - 1);
  }
}

/** Runs in a page before the app: keeps every data channel it makes (as `window.__channels`), so a test
 * can send on them what the app never would. */
export function keepChannels() {
  const make = RTCPeerConnection.prototype.createDataChannel;
  const channels: RTCDataChannel[] = [];
  RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, ...args: any[]) {
    const channel = (make as any).apply(this, args) as RTCDataChannel;
    channels.push(channel);
    return channel;
  } as any;
  (window as any).__channels = channels;
}

/** Each person shows every other one's tile, connected and named (their data channels are open and
 * admitted): quicker than expectFullMesh where media is not the point. */
export async function expectNamed(people: Person[]) {
  for (const me of people) {
    for (const other of people.filter((p) => p !== me)) {
      await expect(tileOf(me, other.name), `${me.name} sees ${other.name}`).toHaveAttribute('data-state', 'connected');
    }
  }
}

// Files (issue 13): sending one from the chat panel, and saving one with its SHA-256.

export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

export async function openChat(p: Person) {
  if (!(await p.page.getByTestId('chat-panel').isVisible())) await p.page.getByTestId('chat-toggle').click();
}

/** `p`'s entry for the file called `name` (the latest, if several). */
export function fileEntry(p: Person, name: string) {
  return p.page
    .getByTestId('file')
    .filter({ has: p.page.getByTestId('file-name').filter({ hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
    .last();
}

/** `p` saves the received file `name` with one click; the SHA-256 of what was saved. */
export async function saveFile(p: Person, name: string): Promise<string> {
  await openChat(p);
  const e = fileEntry(p, name);
  await expect(e, `${p.name}: ${name} ready`).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const [download] = await Promise.all([p.page.waitForEvent('download'), e.getByTestId('file-save').click()]);
  expect(download.suggestedFilename()).toBe(name);
  return sha256(fs.readFileSync((await download.path())!));
}

/** `p` picks a file called `name` holding `bytes` in the chat panel. From a file on disk: a buffer
 * would be handed to the page as base64 and decoded on its thread, which for megabytes stalls the page
 * long enough for its peers to think it gone. */
export async function sendFile(p: Person, name: string, bytes: Buffer) {
  await openChat(p);
  // In the test's output folder (emptied before each run): the page reads the file when it sends it.
  const dir = fs.mkdtempSync(base.info().outputPath('file-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  await p.page.getByTestId('file-input').setInputFiles(file);
}

/** `p` drops a file called `name` holding `bytes` (small: it travels as base64) on the chat panel. */
export async function dropFile(p: Person, name: string, bytes: Buffer) {
  await openChat(p);
  const dataTransfer = await p.page.evaluateHandle(
    ([name, b64]) => {
      const t = new DataTransfer();
      t.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
      return t;
    },
    [name, bytes.toString('base64')],
  );
  await p.page.getByTestId('chat-panel').dispatchEvent('drop', { dataTransfer });
}

/** `p` writes `text` in the chat (opening the panel if closed) and sends it; returns once sent. */
export async function say(p: Person, text: string) {
  await openChat(p);
  await p.page.getByTestId('chat-input').fill(text);
  await p.page.getByTestId('chat-send').click();
  await expect(p.page.getByTestId('chat-input')).toHaveValue('');
}

// Who speaks and the connection's quality (issue 13), as a person sees them on the tiles.

/** The names on the tiles marked speaking on `viewer`'s page, their own as "Name (you)". */
export async function speakers(viewer: Person): Promise<string[]> {
  const names = await viewer.page.locator('.tile[data-speaking=true] .name').allTextContents();
  return names.map((n) => n.trim()).sort();
}

/** `p` clicks the microphone button so that it is `muted` (or not). */
export async function mute(p: Person, muted: boolean) {
  const mic = p.page.getByTestId('call-mic');
  await mic.click();
  await expect(mic).toHaveAttribute('aria-pressed', String(!muted));
}

/** `viewer` sees exactly `names` speaking, and still does a few readings (seconds) later: a mark that
 * flickers, or a silent person marked now and then, fails. */
export async function expectSpeakers(viewer: Person, names: string[]) {
  await expect.poll(() => speakers(viewer), { message: `${viewer.name} sees speaking`, timeout: 6_000 }).toEqual(names);
  // Each reading of the app is a second apart: watch three of them.
  const until = Date.now() + 3_000;
  while (Date.now() < until) {
    expect(await speakers(viewer), `${viewer.name} still sees speaking`).toEqual(names);
    await viewer.page.waitForTimeout(250); // sampling what the page shows, not waiting for an event
  }
}

/** `viewer` hovers the quality mark on `name`'s tile: a grade, and the details with real figures of a
 * direct connection (kbit/s and a round trip above zero, loss, the video's size, its codec). */
export async function expectQualityFigures(viewer: Person, name: string) {
  const tile = tileOf(viewer, name);
  const mark = tile.getByTestId('quality');
  // Two readings make a rate: then a grade.
  await expect(tile.locator('.quality')).not.toHaveAttribute('data-grade', 'unknown');
  await expect(mark).toHaveAttribute('aria-label', /^Connection: (good|fair|poor)$/);
  await mark.hover();
  await expect(tile.getByTestId('quality-details')).toBeVisible();
  const figure = async (id: string) => Number((await tile.getByTestId(id).textContent())!.trim());
  await expect.poll(() => figure('q-kbps'), { message: 'kbit/s received' }).toBeGreaterThan(0);
  await expect.poll(() => figure('q-rtt'), { message: 'round trip in ms' }).toBeGreaterThan(0);
  await expect(tile.getByTestId('q-rtt')).toHaveText(/^\d+\.\d$/);
  await expect(tile.getByTestId('q-loss')).toHaveText(/^\d+\.\d%$/);
  await expect(tile.getByTestId('q-size')).toHaveText(/^[1-9]\d*×[1-9]\d*$/);
  await expect(tile.getByTestId('q-codec')).toHaveText(/^(VP8|VP9|H264|AV1)$/);
  await expect(tile.getByTestId('q-path')).toHaveText('direct');
}

/** The large tiles on `p`'s page (the speaker view's one, or a pinned one). */
export const bigTiles = (p: Person) => p.page.locator('.tile.big');
