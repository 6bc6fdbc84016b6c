// The app against the real `matchbox_server` (crates.io 0.15.0), not ours: the brief promises it works
// with any matchbox-protocol signaling server, so nothing in a call may depend on what only
// meshcall-server does (its /ws/ base, pings, close codes). Pages still load from the suite's
// meshcall-server; a `/config.json` as an operator would write it sends their sockets to
// matchbox_server, which relays every offer, answer and candidate of the call. The room is a private
// one (a key in the link's fragment), so the room key's proofs work through any matchbox server.
//
// matchbox_server is installed by `make test` (scripts/lib.sh) into .tools/matchbox; without it this
// test fails and says how to install it, so CI can never pass by skipping it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {
  test as base,
  expect,
  bigTiles,
  clickJoin,
  expectFullMesh,
  expectNamed,
  expectQualityFigures,
  expectSpeakers,
  mute,
  peerConnectionsBuilt,
  roomName,
  saveFile,
  say,
  sendFile,
  sha256,
  tileOf,
  type People,
  type Person,
} from './fixtures';

const MATCHBOX_BIN =
  process.env.MATCHBOX_SERVER_BIN ?? path.resolve(__dirname, '../../.tools/matchbox/bin/matchbox_server');
const WITHIN = { timeout: 5_000 };

type Matchbox = { url: string; log: string[] };

/** A loopback port nothing listens on (the suite runs in its own network namespace, so it stays free). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once matchbox_server answers /health; rejects with its output if it exits first. */
async function untilHealthy(child: ChildProcess, port: number, log: string[]) {
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`matchbox_server did not start: ${e.message}`)));
    child.once('exit', (code, signal) =>
      reject(new Error(`matchbox_server exited (${code ?? signal}) before it listened:\n${log.join('')}`)),
    );
  });
  const healthy = (async () => {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100)); // polling a port: there is no event to await
    }
    throw new Error(`matchbox_server did not answer on 127.0.0.1:${port} within 15 s:\n${log.join('')}`);
  })();
  await Promise.race([healthy, exited]);
}

// One matchbox_server per worker: worker fixtures end after the test's, so on a failure the pages'
// evidence is captured while their signaling is still up, as it was when the test failed.
const test = base.extend<{ matchboxLog: void }, { matchbox: Matchbox }>({
  matchbox: [
    async ({}, use) => {
      if (!fs.existsSync(MATCHBOX_BIN)) {
        throw new Error(
          `matchbox_server not found at ${MATCHBOX_BIN}. \`make test\` installs it; by hand: ` +
            'cargo install matchbox_server --version 0.15.0 --locked --root .tools/matchbox ' +
            '(or set MATCHBOX_SERVER_BIN).',
        );
      }
      const port = await freePort();
      const log: string[] = [];
      // Its one argument is the listen address; info logs name each peer's room.
      const child = spawn(MATCHBOX_BIN, [`127.0.0.1:${port}`], {
        env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => log.push(String(d)));
      child.stderr!.on('data', (d) => log.push(String(d)));
      const gone = new Promise((r) => {
        child.once('exit', r);
        child.once('error', r);
      });
      try {
        await untilHealthy(child, port, log);
        await use({ url: `ws://127.0.0.1:${port}/`, log });
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await gone;
      }
    },
    { scope: 'worker' },
  ],
  // A failing test keeps matchbox_server's log beside the pages' consoles.
  matchboxLog: [
    async ({ matchbox }, use, testInfo) => {
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        const file = testInfo.outputPath('matchbox_server.log');
        fs.writeFileSync(file, matchbox.log.join('').replace(/\x1b\[[0-9;]*m/g, ''));
        await testInfo.attach('matchbox_server.log', { path: file });
      }
    },
    { auto: true },
  ],
});

/** Joins like people.join, into `room` (with `key`) signaled through matchbox_server, noting every
 * WebSocket the page opens in `sockets`. */
async function joinVia(people: People, matchbox: Matchbox, room: string, key: string, name: string, sockets: Map<string, string[]>) {
  const person = await people.open(name, `/r/${room}#${key}`, undefined, undefined, {
    config: { signalingUrl: matchbox.url },
  });
  const urls: string[] = [];
  sockets.set(name, urls);
  person.page.on('websocket', (ws) => urls.push(ws.url()));
  await clickJoin(person);
  await expect(person.page.getByTestId('self-tile')).toBeVisible();
  return person;
}

test('three people in a private room signaled by the real matchbox_server see and hear each other; one leaves', async ({
  people,
  matchbox,
}) => {
  const room = roomName('matchbox');
  const key = 'matchbox-interop-room-key-2';
  const sockets = new Map<string, string[]>();
  const join = (name: string): Promise<Person> => joinVia(people, matchbox, room, key, name, sockets);
  const ada = await join('Ada');
  const grace = await join('Grace');
  const linus = await join('Linus');

  await expectFullMesh([ada, grace, linus]);
  // Signaling went to matchbox_server (at the room's path there), never to our server's /ws/.
  for (const [name, urls] of sockets) {
    expect(urls, `${name}'s signaling sockets`).toEqual([`${matchbox.url}${room}`]);
  }
  // And matchbox_server itself put the three of them in that room.
  await expect
    .poll(() => matchbox.log.join('').split(`isolated to room '${room}'`).length - 1, {
      message: 'peers matchbox_server placed in the room',
    })
    .toBe(3);

  // matchbox_server's PeerLeft (and the leaver's hang-up) removes the tile from both others.
  await grace.page.getByTestId('leave').click();
  await Promise.all(
    [ada, linus].map(async (v) => {
      await expect(tileOf(v, 'Grace'), `${v.name} no longer sees Grace`).toHaveCount(0, WITHIN);
      await expect(v.page.getByTestId('peer-count')).toHaveText('1');
    }),
  );
  await expect(grace.page.getByTestId('join')).toBeVisible();
  // The two who stayed are still in a working call through matchbox_server.
  await expectFullMesh([ada, linus]);
});

test('the meeting through matchbox_server: chat both ways, a file, who speaks, a raised hand, speaker view and a pin through a join, quality figures, a screen share', async ({
  people,
  matchbox,
}) => {
  const room = roomName('matchbox-meeting');
  const key = 'matchbox-interop-meeting-key';
  const sockets = new Map<string, string[]>();
  const join = (name: string): Promise<Person> => joinVia(people, matchbox, room, key, name, sockets);
  const ada = await join('Ada');
  const grace = await join('Grace');
  await expectNamed([ada, grace]);

  // Chat both ways, over the data channels of connections matchbox_server signaled.
  await say(ada, 'Through matchbox');
  await expect(grace.page.getByTestId('chat-unread')).toHaveText('1', WITHIN);
  await say(grace, 'Heard you, Ada');
  await expect(grace.page.getByTestId('chat-text')).toHaveText(['Through matchbox', 'Heard you, Ada']);
  await expect(ada.page.getByTestId('chat-text')).toHaveText(['Through matchbox', 'Heard you, Ada'], WITHIN);
  // A file goes on a channel of its own.
  const file = crypto.randomBytes(300_000);
  await sendFile(grace, 'through-matchbox.bin', file);
  expect(await saveFile(ada, 'through-matchbox.bin')).toBe(sha256(file));

  // Who speaks: both fake microphones beep; the one unmuted is marked at the other, and it moves.
  await mute(grace, true);
  await Promise.all([expectSpeakers(grace, ['Ada']), expectSpeakers(ada, ['Ada (you)'])]);
  await mute(ada, true);
  await mute(grace, false);
  await Promise.all([expectSpeakers(ada, ['Grace']), expectSpeakers(grace, ['Grace (you)'])]);

  await grace.page.getByTestId('call-hand').click();
  await expect(tileOf(ada, 'Grace').getByTestId('hand-mark')).toHaveText('✋1', WITHIN);

  // Ada's speaker view with Grace pinned stays as she set it while Linus joins.
  await ada.page.getByTestId('layout-toggle').click();
  await tileOf(ada, 'Grace').getByTestId('pin').click();
  await expect(tileOf(ada, 'Grace')).toHaveClass(/\bbig\b/);
  const linus = await join('Linus');
  await expectNamed([ada, grace, linus]);
  await expect(ada.page.locator('.grid')).toHaveClass(/\bspeaker\b/);
  await expect(tileOf(ada, 'Grace')).toHaveClass(/\bbig\b/);
  await expect(bigTiles(ada)).toHaveCount(1);
  await expect(tileOf(linus, 'Grace').getByTestId('hand-mark')).toHaveText('✋1');
  await expectQualityFigures(ada, 'Linus');

  // The share's track is negotiated on the same connections; both others get its tile.
  await ada.page.getByTestId('call-share').click();
  for (const v of [grace, linus]) {
    const share = v.page.getByTestId('share-tile');
    await expect(share).toContainText("Ada's screen", WITHIN);
    const frames = () => share.locator('video').evaluate((el: HTMLVideoElement) => (el.videoWidth > 0 ? el.getVideoPlaybackQuality().totalVideoFrames : 0));
    await expect.poll(frames, { message: `frames of Ada's screen at ${v.name}` }).toBeGreaterThan(5);
  }
  await ada.page.getByTestId('call-share').click();
  for (const v of [grace, linus]) await expect(v.page.getByTestId('share-tile')).toHaveCount(0, WITHIN);
  for (const p of [ada, grace, linus]) expect(await peerConnectionsBuilt(p), `${p.name}: connections built`).toBe(2);
  for (const [name, urls] of sockets) expect(urls, `${name}'s signaling sockets`).toEqual([`${matchbox.url}${room}`]);
});
