// Issue 11, hole 2: a link must not choose who relays a call's signaling. Whoever relays it sees every
// SDP, so a crafted `?signaling=ws://evil/` link used to put a stranger's server in the middle of the
// call, and the parameter then rode along into the invite links. A release page takes its signaling
// server from the operator's /config.json only: here a second server on the machine records every
// connection attempt, and the pages opened with links pointing at it never knock.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, expect, clickJoin, expectFullMesh, roomName, type Person } from './fixtures';
import { PORT } from '../env';

type Recorder = { url: string; hits: string[]; close: () => Promise<void> };

/** An HTTP server that answers nothing and notes every request and WebSocket upgrade it gets. */
async function recorder(): Promise<Recorder> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`GET ${req.url}`);
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket) => {
    hits.push(`upgrade ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every WebSocket the page opens from now on. */
function socketsOf(person: Person): string[] {
  const urls: string[] = [];
  person.page.on('websocket', (ws) => urls.push(ws.url()));
  return urls;
}

test('links carrying ?signaling= never reroute a release page, nor travel in its invite link', async ({ people }) => {
  const evil = await recorder();
  try {
    const query = `?signaling=${encodeURIComponent(evil.url)}`;
    const clipboard = ['camera', 'microphone', 'clipboard-read', 'clipboard-write'];

    // Ada follows a crafted link to the home page and starts a new room from there.
    const ada = await people.open('Ada', `/${query}`, undefined, clipboard);
    const adaSockets = socketsOf(ada);
    await ada.page.getByTestId('new-room').click();
    await expect(ada.page).toHaveURL(/\/r\/[a-z0-9-]+#[a-z0-9]+$/);
    expect(ada.page.url(), 'the query did not survive the navigation').not.toContain('signaling');
    const room = new URL(ada.page.url()).pathname.split('/').pop()!;
    await clickJoin(ada);
    await expect(ada.page.getByTestId('self-tile')).toBeVisible();

    // Her invite link has the room and its key, and nothing of the query she arrived with.
    await ada.page.getByTestId('copy-link').click();
    await expect(ada.page.getByTestId('copy-link')).toHaveText(/Link copied/);
    const invite = await ada.page.evaluate(() => navigator.clipboard.readText());
    const fragment = new URL(ada.page.url()).hash;
    expect(invite).toBe(`http://127.0.0.1:${PORT}/r/${room}${fragment}`);

    // Bob gets that link with the parameter slipped in again, and opens the room straight away.
    const link = new URL(invite);
    const bob = await people.open('Bob', `${link.pathname}${query}${link.hash}`);
    const bobSockets = socketsOf(bob);
    await clickJoin(bob);
    await expect(bob.page.getByTestId('self-tile')).toBeVisible();

    // Their call works, signaled by the server that served the page...
    await expectFullMesh([ada, bob]);
    const own = `ws://127.0.0.1:${PORT}/ws/${room}`;
    expect(adaSockets, "Ada's sockets").toEqual([own]);
    expect(bobSockets, "Bob's sockets").toEqual([own]);
    // ... and the server named in the links never heard from either page.
    expect(evil.hits, 'requests to the server named in ?signaling=').toEqual([]);
  } finally {
    await evil.close();
  }
});

// A room name typed on the home page gets no key: it is an open room, and says so.
test('a typed room name is an open room and the lobby says so; a new room is private', async ({ people }) => {
  const ada = await people.open('Ada', '/');
  await ada.page.getByTestId('room-input').fill(roomName('typed'));
  await ada.page.getByTestId('go-room').click();
  await expect(ada.page.getByTestId('room-privacy')).toHaveText(/Open room/);
  expect(new URL(ada.page.url()).hash).toBe('');

  const bob = await people.open('Bob', '/');
  await bob.page.getByTestId('new-room').click();
  await expect(bob.page.getByTestId('room-privacy')).toHaveText(/Private room/);

  // A damaged key is never read as "no key".
  const carol = await people.open('Carol', `/r/${roomName('damaged')}#not a key`);
  await expect(carol.page.getByTestId('error')).toContainText(/room key in this link is damaged/);
});
