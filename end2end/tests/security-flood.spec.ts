// Issue 11, hole 6: a peer floods its data channels. Every `ping` used to cost each receiver a `pong`
// and every `hello` a re-render, without limit. Now each peer has a budget of messages per second;
// the flooder is cut off, and the others' pages stay responsive with their call going on.
import { test, expect, clickJoin, expectFullMesh, expectVideoFlowing, keepChannels, roomName, tileOf, type Person } from './fixtures';

/** Runs in Mallory's page: sends pings and hellos on every open channel as fast as the channels take
 * them, until none is open any more (or 20 s); resolves with how many it sent. */
function flood(): Promise<number> {
  const channels: RTCDataChannel[] = (window as any).__channels;
  const messages = [
    JSON.stringify({ type: 'ping' }),
    JSON.stringify({ type: 'hello', name: 'Mallory', mic: true, cam: true, signaling_id: null }),
  ];
  let sent = 0;
  const until = performance.now() + 20_000;
  return new Promise((resolve) => {
    const round = () => {
      const open = channels.filter((c) => c.readyState === 'open');
      if (open.length === 0 || performance.now() > until) return resolve(sent);
      for (const c of open) {
        try {
          for (let i = 0; i < 500 && c.bufferedAmount < 1 << 20; i++) c.send(messages[sent++ % 2]);
        } catch {
          // closed under us: the next round sees it
        }
      }
      setTimeout(round, 0);
    };
    round();
  });
}

/** Starts measuring, in the page, how late a 20 ms timer runs at worst (its main thread busy) and
 * the longest task the browser reports; `mark()` starts a new window. */
async function measureMainThread(person: Person) {
  await person.page.evaluate(() => {
    const w = window as any;
    w.__busy = { lateness: 0, longestTask: 0 };
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      w.__busy.lateness = Math.max(w.__busy.lateness, now - last - 20);
      last = now;
    }, 20);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__busy.longestTask = Math.max(w.__busy.longestTask, e.duration);
    }).observe({ type: 'longtask' });
  });
}

/** The page's worst lateness and longest task since the last window, and a new window from now. */
function window_(person: Person): Promise<{ lateness: number; longestTask: number }> {
  return person.page.evaluate(() => {
    const w = window as any;
    const seen = { ...w.__busy };
    w.__busy = { lateness: 0, longestTask: 0 };
    return seen;
  });
}

test('a peer flooding its data channels is cut off while the others stay responsive and keep their call', async ({
  people,
}) => {
  const room = roomName('flood');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const mallory = await people.open('Mallory', `/r/${room}`, undefined, undefined, { init: keepChannels });
  await clickJoin(mallory);
  await expectFullMesh([ada, grace, mallory]);

  // How busy their pages are on this machine anyway, over a quiet stretch as long as a flood takes
  // to be cut here (a measured window, not a wait for an event).
  for (const p of [ada, grace]) await measureMainThread(p);
  await ada.page.waitForTimeout(3_000);
  const quiet = await Promise.all([ada, grace].map(window_));
  const sent = mallory.page.evaluate(flood);
  // Both cut her off: her tile goes from their pages.
  for (const p of [ada, grace]) await expect(tileOf(p, 'Mallory'), `${p.name} cut Mallory off`).toHaveCount(0);
  // Her channels closed under her (she did not stop on her own), after far more than any budget.
  expect(await sent).toBeGreaterThan(1_000);

  // Cut off, the flood costs their main threads no more than half a second over what the machine's
  // load costs them anyway.
  for (const [i, p] of [ada, grace].entries()) {
    const busy = await window_(p);
    const calm = quiet[i];
    expect(busy.lateness, `${p.name}: most a 20 ms timer ran late (ms; ${calm.lateness} when quiet)`).toBeLessThan(calm.lateness + 500);
    expect(busy.longestTask, `${p.name}: longest task (ms; ${calm.longestTask} when quiet)`).toBeLessThan(calm.longestTask + 500);
  }
  // Ada and Grace still see each other's video moving.
  await expectVideoFlowing(ada, 1);
  await expectVideoFlowing(grace, 1);
  await expect(tileOf(ada, 'Grace')).toHaveAttribute('data-state', 'connected');
});
