// Issue 5: someone vanishes without leaving (the machine froze, the network went, the browser was
// killed). The server may never say PeerLeft; the others' tiles of that person must still go within
// 10 s, and their connection be released.
import { test, expect, expectFullMesh, roomName, tileOf, People, type Person } from './fixtures';
import { launchBrowser, processTree, signalTree } from './faults-helpers';

const GONE_WITHIN_MS = 10_000;

/** The others' view: the victim's tile goes within 10 s, they keep their call, its connection closes. */
async function expectVanished(others: Person[], victim: string) {
  const since = Date.now();
  // Waits longer than the bound, so a miss reports by how much.
  const took = await Promise.all(
    others.map(async (v) => {
      await expect(tileOf(v, victim), `${v.name} no longer sees ${victim}`).toHaveCount(0, { timeout: 40_000 });
      return Date.now() - since;
    }),
  );
  for (const [i, v] of others.entries()) {
    expect(took[i], `${v.name}: ms until ${victim}'s tile went`).toBeLessThanOrEqual(GONE_WITHIN_MS);
  }
  for (const v of others) {
    await expect(v.page.getByTestId('peer-count')).toHaveText(String(others.length - 1));
    // Released: of the connections this page built, only the ones to the people still here are open.
    await expect
      .poll(() => v.page.evaluate(() => ((window as any).__meshcall?.peerConnections ?? []).filter((pc: RTCPeerConnection) => pc.connectionState !== 'closed').length), {
        message: `${v.name}: open connections`,
      })
      .toBe(others.length - 1);
  }
  await expectFullMesh(others);
  return Math.max(...took);
}

const CASES = [
  { how: 'frozen (SIGSTOP: sockets stay open, no PeerLeft)', signal: 'SIGSTOP', after: 0 },
  { how: 'killed (SIGKILL)', signal: 'SIGKILL', after: 0 },
  // A call that has run a while: its healthy connections are read at rest (every 5 s, not each
  // second), and the freeze must still be seen from when the media stopped, not from the reading.
  { how: 'frozen (SIGSTOP) after 12 s of call', signal: 'SIGSTOP', after: 12_000 },
] as const;

for (const { how, signal, after } of CASES) {
  test(`a person whose browser is ${how} disappears from the others within 10 s`, async ({ people }, testInfo) => {
    test.setTimeout(120_000);
    const room = roomName('vanish');
    const ada = await people.join('Ada', room);
    const grace = await people.join('Grace', room);
    // The victim runs in a browser of its own, so its whole process tree can be stopped or killed.
    const own = await launchBrowser(testInfo);
    const theirs = new People(own.browser);
    let stopped: number[] = [];
    try {
      const linus = await theirs.join('Linus', room);
      await expectFullMesh([ada, grace, linus]);
      // The call goes on for a while: time passing is the point, there is no event to wait for.
      if (after) await ada.page.waitForTimeout(after);
      stopped = processTree(own.pid);
      expect(stopped.length, 'browser, renderer and service processes').toBeGreaterThan(2);
      signalTree(stopped, signal);
      const took = await expectVanished([ada, grace], 'Linus');
      testInfo.annotations.push({ type: 'tile gone after', description: `${took} ms` });
    } finally {
      signalTree(stopped, 'SIGKILL');
      await own.close();
    }
  });
}
