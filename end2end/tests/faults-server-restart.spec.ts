// Issue 5: the signaling server dies in the middle of a three-person call. People keep seeing each
// other for the whole outage; when the server is back every page reconnects on its own, keeps the
// connections it had (rebind over the data channels, no new RTCPeerConnection), and a fourth person
// who joins afterwards connects to everyone.
import { test, expect, peerConnectionsBuilt, roomName, expectVideoFlowing, type Person } from './fixtures';
import { FAULT_PORT, OwnServer, connectionsOf, crashes, expectFramesAdvanceThroughout, markPage, pageMark } from './faults-helpers';

const OUTAGE_MS = 12_000;
const BACK_WITHIN = { timeout: 10_000 };

async function expectCallShown(viewer: Person, peers: number, opts = {}) {
  await expect(viewer.page.getByTestId('reconnecting-banner'), `${viewer.name}: banner gone`).toBeHidden(opts);
  await expect(viewer.page.getByTestId('peer-tile'), `${viewer.name}: tiles`).toHaveCount(peers, opts);
  for (const tile of await viewer.page.getByTestId('peer-tile').all()) {
    await expect(tile, `${viewer.name}: tile connected`).toHaveAttribute('data-state', 'connected', opts);
  }
}

test('the server dies mid-call: media flows throughout, pages rebind without new connections, a late joiner meets all', async ({ people }, testInfo) => {
  test.setTimeout(150_000);
  const server = new OwnServer(FAULT_PORT, testInfo);
  await server.start();
  try {
    const room = roomName('restart');
    const base = server.url;
    const trio = [
      await people.join('Ada', room, { base }),
      await people.join('Grace', room, { base }),
      await people.join('Linus', room, { base }),
    ];
    for (const p of trio) await expectCallShown(p, 2);
    for (const p of trio) await expectVideoFlowing(p, 2);
    for (const p of trio) await markPage(p);
    const built = await Promise.all(trio.map(peerConnectionsBuilt));
    expect(built, 'one connection per other person before the outage').toEqual([2, 2, 2]);

    await server.kill();
    // Everyone is told the link is down, and keeps seeing the others' video for the whole outage.
    for (const p of trio) await expect(p.page.getByTestId('reconnecting-banner'), `${p.name}: banner`).toBeVisible();
    await expectFramesAdvanceThroughout(trio, 2, OUTAGE_MS);
    for (const p of trio) await expect(p.page.getByTestId('peer-tile'), `${p.name}: tiles kept`).toHaveCount(2);

    await server.start();
    const back = Date.now();
    await Promise.all(trio.map((p) => expectCallShown(p, 2, BACK_WITHIN)));
    testInfo.annotations.push({ type: 'back after', description: `${Date.now() - back} ms` });
    // Re-associated, not rebuilt: the same connections, still up, and no new one.
    for (const [i, p] of trio.entries()) {
      expect(await pageMark(p), `${p.name}: no reload`).toBe('still the same page');
      expect(await peerConnectionsBuilt(p), `${p.name}: connections built`).toBe(built[i]);
      expect((await connectionsOf(p)).map((c) => c.state), `${p.name}: the original connections`).toEqual(['connected', 'connected']);
    }
    for (const p of trio) await expectVideoFlowing(p, 2);

    // Someone joining the restarted server meets all three, and they meet them.
    const margaret = await people.join('Margaret', room, { base });
    const four = [...trio, margaret];
    for (const p of four) await expectCallShown(p, 3, { timeout: 15_000 });
    for (const p of four) await expectVideoFlowing(p, 3);
    for (const [i, p] of trio.entries()) {
      expect(await peerConnectionsBuilt(p), `${p.name}: exactly one more connection, for Margaret`).toBe(built[i] + 1);
    }
    for (const p of four) expect(crashes(p), `${p.name}: console`).toEqual([]);
  } finally {
    await server.kill();
  }
});
