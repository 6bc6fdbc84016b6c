// Issue 11, rooms only the invited enter. A private room's key rides in the invite link's fragment
// (never sent to a server); each pair proves it over the data channel, bound to both DTLS
// fingerprints of its connection, before any media flows. Someone who knows the room's name but not
// its key (or has a wrong one) gets nothing: no frame, no tile on anyone's page, just one line
// saying someone tried. The safety code on each tile reads the same on both ends.
import { test, expect, expectFullMesh, roomName, tileOf, type Person } from './fixtures';

const KEY = 'e2e-private-room-key-abcdefgh';

/** Starts, in the page, a record of the most remote tiles it ever showed and the most video frames
 * its connections ever decoded, sampled every 50 ms (connections it closed keep their last count). */
async function watch(person: Person) {
  await person.page.evaluate(() => {
    const w = window as any;
    w.__seen = { tiles: 0, frames: 0 };
    const decoded = new Map<RTCPeerConnection, number>();
    setInterval(async () => {
      w.__seen.tiles = Math.max(w.__seen.tiles, document.querySelectorAll('[data-testid=peer-tile]').length);
      for (const pc of w.__meshcall.peerConnections as RTCPeerConnection[]) {
        if (pc.connectionState === 'closed') continue;
        let frames = 0;
        (await pc.getStats()).forEach((r: any) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded ?? 0;
        });
        decoded.set(pc, frames);
      }
      w.__seen.frames = Math.max(w.__seen.frames, [...decoded.values()].reduce((a, b) => a + b, 0));
    }, 50);
  });
}

const seen = (p: Person): Promise<{ tiles: number; frames: number }> => p.page.evaluate(() => (window as any).__seen);

/** The safety code `viewer` shows on the tile of `name`. */
const codeOn = (viewer: Person, name: string) => tileOf(viewer, name).getByTestId('safety-code').textContent();

test('three invited people form the call; someone without the key, or with a wrong one, gets nothing', async ({
  people,
}) => {
  const room = roomName('keyed');
  const invited = [];
  for (const name of ['Ada', 'Grace', 'Linus']) invited.push(await people.join(name, room, { query: `#${KEY}` }));
  const [ada, grace, linus] = invited;
  await expectFullMesh(invited);

  // The same safety code at both ends of each connection.
  for (const [a, b] of [[ada, grace], [ada, linus], [grace, linus]]) {
    const code = await codeOn(a, b.name);
    expect(code, `${a.name} and ${b.name}`).toMatch(/^\d{4} \d{4}$/);
    expect(await codeOn(b, a.name), `${b.name} and ${a.name}`).toBe(code);
  }

  for (const p of invited) await watch(p);
  // Eve knows the room's name only; then Mallory comes, with a key, the wrong one. One after the
  // other, so that neither decodes anything from the other.
  const intruders: [string, string][] = [['Eve', ''], ['Mallory', '#the-wrong-key-for-this-room']];
  for (const [i, [name, fragment]] of intruders.entries()) {
    const intruder = await people.join(name, room, { query: fragment });
    await watch(intruder);
    // Each of the three turns the intruder away and says so in one line, with no tile for it.
    for (const p of invited) {
      const notice = p.page.getByTestId('intruder-notice');
      await expect(notice, `${p.name} says someone tried`).toHaveText(/Someone without the room key tried to join/);
      await expect(notice, `${p.name} turned ${name} away`).toHaveAttribute('data-count', String(i + 1));
      await expect(p.page.getByTestId('mitm-warning')).toHaveCount(0);
    }
    // The three closed their connections to the intruder, which saw all there was to see.
    await expect
      .poll(() => intruder.page.evaluate(() => (window as any).__meshcall.peerConnections.filter((pc: RTCPeerConnection) => pc.connectionState !== 'closed').length), {
        message: `${name}'s connections to the three are closed`,
      })
      .toBe(0);
    expect((await seen(intruder)).frames, `video frames ${name} decoded`).toBe(0);
    await intruder.page.getByTestId('leave').click();
  }
  for (const p of invited) expect((await seen(p)).tiles, `most tiles ${p.name} ever showed`).toBe(2);
  // And the call of the invited goes on.
  await expectFullMesh(invited);
});
