// Issue 5: a hostile or broken client joins a room over a raw WebSocket and answers the people's
// offers with garbage SDP, sends candidates for connections that do not exist, payloads nobody
// knows, and a flood. The people keep their call with each other; the bad peer is marked failed and
// goes; nothing panics and no error is shown.
import { test, expect, expectFullMesh, expectVideoFlowing, roomName, tileOf, type Person } from './fixtures';
import { PORT } from '../env';
import { crashes } from './faults-helpers';

/** Runs in a page: the hostile client. Joins, waits for the offers of the `expected` people already in
 * the room, then sends everything wrong it can. Returns what it sent and saw. */
async function beHostile({ url, expected }: { url: string; expected: number }) {
  const ws = new WebSocket(url);
  const offers = new Set<string>();
  let myId = '';
  let closed: string | null = null;
  const sawOffers = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${offers.size} offers arrived`)), 20_000);
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.IdAssigned) myId = msg.IdAssigned;
      if (msg.Signal?.data?.Offer) offers.add(msg.Signal.sender);
      if (offers.size >= expected) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  ws.onclose = (e) => (closed = `${e.code} ${e.reason}`);
  await new Promise((r) => (ws.onopen = r));
  await sawOffers;
  const victims = [...offers];
  const sent: unknown[] = [];
  const signal = (receiver: string, data: unknown) => {
    sent.push(data);
    ws.send(JSON.stringify({ Signal: { receiver, data } }));
  };
  for (const v of victims) {
    // Candidates before any answer, some for a media section that does not exist.
    signal(v, { IceCandidate: '{not json' });
    signal(v, { IceCandidate: JSON.stringify({ candidate: 'candidate:1 1 udp 1 10.77.0.9 9 typ host', sdpMid: '99', sdpMLineIndex: 42 }) });
    // The answer: not SDP at all.
    signal(v, { Answer: 'v=0\r\nthis is not an SDP answer\r\n' });
    // Payloads nobody defined.
    for (const junk of [null, 42, 'Offer', [], { Hello: 1 }, { Offer: { nested: true } }, { Answer: 7, Offer: 'x' }]) signal(v, junk);
    signal('no-such-peer', { Offer: 'v=0' });
  }
  // A flood within the server's burst limit, so it all reaches the people.
  for (let i = 0; i < 120; i++) {
    for (const v of victims) {
      signal(v, i % 3 === 0 ? { Bogus: i } : { IceCandidate: JSON.stringify({ candidate: `candidate:${i} 1 udp 1 10.77.0.${i % 250} ${1000 + i} typ host`, sdpMid: '0' }) });
    }
  }
  // Finally a garbage offer, as if it called them again.
  for (const v of victims) signal(v, { Offer: 'garbage offer' });
  (window as any).__hostile = ws;
  return { myId, victims: victims.length, sent: sent.length, closed };
}

test('a peer that sends malformed signaling is failed alone: the others keep their call', async ({ people }) => {
  test.setTimeout(120_000);
  const room = roomName('hostile');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const good: Person[] = [ada, grace];
  await expectFullMesh(good);

  const mallory = await people.open('Mallory', '/healthz');
  const report = await mallory.page.evaluate(beHostile, { url: `ws://127.0.0.1:${PORT}/ws/${room}`, expected: 2 });
  expect(report.victims).toBe(2);
  expect(report.closed, 'the server relayed the whole flood (within its rate limit)').toBeNull();

  // Each person's tile for the intruder shows failed or is already gone, and then goes.
  for (const p of good) {
    await expect
      .poll(
        async () =>
          (await p.page.getByTestId('peer-tile').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-state')))).filter(
            (s) => s !== 'failed',
          ),
        { message: `${p.name}: apart from failed tiles, only the other person's, connected`, timeout: 10_000 },
      )
      .toEqual(['connected']);
  }
  for (const [p, other] of [[ada, 'Grace'], [grace, 'Ada']] as const) {
    await expect(p.page.getByTestId('peer-tile'), `${p.name}: only ${other} stays`).toHaveCount(1, { timeout: 15_000 });
    await expect(tileOf(p, other)).toHaveAttribute('data-state', 'connected');
    await expect(p.page.getByTestId('error')).toHaveCount(0);
    await expect(p.page.getByTestId('reconnecting-banner')).toBeHidden();
  }
  // The call between the two goes on, and the intruder's connections are released.
  for (const p of good) {
    await expectVideoFlowing(p, 1);
    await expect
      .poll(() => p.page.evaluate(() => ((window as any).__meshcall?.peerConnections ?? []).filter((pc: RTCPeerConnection) => pc.connectionState !== 'closed').length), {
        message: `${p.name}: open connections`,
      })
      .toBe(1);
    expect(crashes(p), `${p.name}: console`).toEqual([]);
  }
  await expectFullMesh(good);
});
