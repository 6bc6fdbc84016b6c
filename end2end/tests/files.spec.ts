// Files (issue 13): a file picked (or dropped) in the chat panel goes to everyone in the call, each
// transfer over a data channel of its own per peer on the existing connection (no new offer), with a
// bar on every page; the receivers save the very bytes sent (SHA-256 checked before Save shows).
// Either side can cancel, which leaves no transfer channel open; a peer that sends a broken,
// oversized or endless transfer ends that transfer alone, never the call, the chat or other files.
import * as crypto from 'node:crypto';
import {
  test,
  expect,
  clickJoin,
  dropFile as drop,
  expectNamed,
  expectVideoFlowing,
  fileEntry as entry,
  negotiationCounts,
  openChat,
  roomName,
  saveFile as save,
  sendFile as send,
  sha256,
  type People,
  type Person,
} from './fixtures';

const WITHIN = { timeout: 5_000 };
const MB = 1 << 20;

/** Runs in a page before the app (after the fixtures' wrapper): every data channel the page makes or
 * is given (`__channels`), and every value a file's bar showed (`__bars`), so a test sees progress
 * however quickly a transfer ends. */
function watchFiles() {
  const channels: RTCDataChannel[] = [];
  const make = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (this: RTCPeerConnection, ...args: any[]) {
    const c = (make as any).apply(this, args) as RTCDataChannel;
    channels.push(c);
    return c;
  } as any;
  const Inner = window.RTCPeerConnection;
  const Wrapped = function (this: unknown, ...args: unknown[]) {
    const pc = new (Inner as any)(...args) as RTCPeerConnection;
    pc.addEventListener('datachannel', (e) => channels.push(e.channel));
    return pc;
  } as any;
  Wrapped.prototype = Inner.prototype;
  Object.setPrototypeOf(Wrapped, Inner);
  (window as any).RTCPeerConnection = Wrapped;
  (window as any).__channels = channels;
  // ICE restarts (a loaded machine may need one mid-call): the only offers a transfer may meet.
  const restarts = { n: 0 };
  const offer = RTCPeerConnection.prototype.createOffer;
  RTCPeerConnection.prototype.createOffer = function (this: RTCPeerConnection, ...args: any[]) {
    if (args[0]?.iceRestart) restarts.n++;
    return (offer as any).apply(this, args);
  } as any;
  (window as any).__restarts = restarts;
  const bars: string[] = [];
  (window as any).__bars = bars;
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(() => {
      for (const p of document.querySelectorAll('progress')) bars.push(`${p.getAttribute('value')}/${p.getAttribute('max')}`);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['value'] });
  });
}

async function joinWatched(people: People, name: string, room: string): Promise<Person> {
  const p = await people.open(name, `/r/${room}`, undefined, undefined, { init: watchFiles });
  await clickJoin(p);
  await expect(p.page.getByTestId('self-tile')).toBeVisible();
  return p;
}

/** Transfer channels (every data channel but the call's own) that are not closed on `p`'s page. */
function openFileChannels(p: Person): Promise<number> {
  return p.page.evaluate(
    () => ((window as any).__channels as RTCDataChannel[]).filter((c) => c.label !== 'meshcall' && c.readyState !== 'closed').length,
  );
}

/** Whether `p`'s page showed a bar part of the way (neither empty nor full). */
function sawProgress(p: Person): Promise<boolean> {
  return p.page.evaluate(() =>
    ((window as any).__bars as string[]).some((b) => {
      const [v, m] = b.split('/').map(Number);
      return v > 0 && v < m;
    }),
  );
}

test('a file of several MB reaches both others byte-identical, with a bar on every page and no new offer', async ({ people }) => {
  const room = roomName('files');
  const ada = await joinWatched(people, 'Ada', room);
  const grace = await joinWatched(people, 'Grace', room);
  const linus = await joinWatched(people, 'Linus', room);
  await expectNamed([ada, grace, linus]);
  const negotiations = (p: Person) =>
    Promise.all([negotiationCounts(p), p.page.evaluate(() => (window as any).__restarts.n as number)]);
  const before = await Promise.all([ada, grace, linus].map(negotiations));

  // Grace has the chat panel open; Linus has not, and the chat tells him a file is coming.
  await openChat(grace);
  const bytes = crypto.randomBytes(6 * MB + 12_345);
  await send(ada, 'report.bin', bytes);
  await expect(entry(ada, 'report.bin')).toHaveAttribute('data-state', 'sent', { timeout: 60_000 });
  await expect(entry(ada, 'report.bin').getByTestId('file-status')).toHaveText('Sent; 2 received it whole.');
  await expect(linus.page.getByTestId('chat-unread')).toHaveText('1');
  for (const p of [grace, linus]) {
    expect(await save(p, 'report.bin'), `${p.name}: the bytes saved are the bytes sent`).toBe(sha256(bytes));
    await expect(entry(p, 'report.bin').locator('.who')).toHaveText('Ada');
    await expect(p.page.getByTestId('chat-text').last()).toHaveText('Sends a file: report.bin');
  }
  for (const p of [ada, grace]) expect(await sawProgress(p), `${p.name}: a bar part of the way`).toBe(true);
  for (const p of [ada, grace, linus]) {
    await expect.poll(() => openFileChannels(p), { message: `${p.name}: transfer channels left open` }).toBe(0);
  }
  // A data channel on a connection that has one needs no offer: no connection was rebuilt, and the
  // only offers and answers made (if any) were ICE restarts, each one offer and one answer.
  const after = await Promise.all([ada, grace, linus].map(negotiations));
  expect(after.map(([c]) => c.built)).toEqual(before.map(([c]) => c.built));
  const total = (all: typeof before) => all.reduce((sum, [c, r]) => [sum[0] + c.localDescriptions, sum[1] + r], [0, 0]);
  const [descriptions, restarts] = [0, 1].map((i) => total(after)[i] - total(before)[i]);
  expect(descriptions, 'offers and answers beyond ICE restarts').toBe(2 * restarts);

  // The other way.
  const small = crypto.randomBytes(40_000);
  await send(linus, 'notes.txt', small);
  expect(await save(ada, 'notes.txt')).toBe(sha256(small));
  expect(await save(grace, 'notes.txt')).toBe(sha256(small));
  // Dropped on the chat panel rather than picked.
  const dropped = crypto.randomBytes(20_000);
  await drop(grace, 'dropped.bin', dropped);
  expect(await save(ada, 'dropped.bin')).toBe(sha256(dropped));
  await expectNamed([ada, grace, linus]);
});

test('a transfer cancelled by the receiver or by the sender ends on both sides and leaves no channel open', async ({ people }) => {
  const room = roomName('files-cancel');
  const ada = await joinWatched(people, 'Ada', room);
  const grace = await joinWatched(people, 'Grace', room);
  await expectNamed([ada, grace]);

  // Grace cancels: while Ada's page is held busy (so the file cannot finish meanwhile).
  const big = crypto.randomBytes(40 * MB);
  await openChat(grace);
  await send(ada, 'big.bin', big);
  const arriving = (name: string) => entry(grace, name).getAttribute('data-state');
  await expect.poll(() => arriving('big.bin'), { timeout: 30_000, intervals: [20] }).toBe('receiving');
  const busy = ada.page.evaluate(() => {
    const end = Date.now() + 1_000;
    while (Date.now() < end); // holds the sender's page: nothing more is sent meanwhile
  });
  await entry(grace, 'big.bin').getByTestId('file-cancel').click();
  await busy;
  await expect(entry(grace, 'big.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(entry(ada, 'big.bin')).toHaveAttribute('data-state', 'cancelled', WITHIN);
  for (const p of [ada, grace]) await expect.poll(() => openFileChannels(p)).toBe(0);

  // Ada cancels the next one as soon as Grace's bar moves.
  await send(ada, 'again.bin', big);
  await expect.poll(() => arriving('again.bin'), { timeout: 30_000, intervals: [20] }).toBe('receiving');
  await entry(ada, 'again.bin').getByTestId('file-cancel').click();
  await expect(entry(ada, 'again.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(entry(grace, 'again.bin')).toHaveAttribute('data-state', 'cancelled', WITHIN);
  await expect(entry(grace, 'again.bin').getByTestId('file-save')).toHaveCount(0);
  for (const p of [ada, grace]) await expect.poll(() => openFileChannels(p)).toBe(0);

  // The call and its channel are as before, and a file still goes.
  await expectNamed([ada, grace]);
  const small = crypto.randomBytes(100_000);
  await send(grace, 'after.bin', small);
  expect(await save(ada, 'after.bin')).toBe(sha256(small));
});

test('a peer sending broken, oversized, endless or too many transfers ends those alone', async ({ people }) => {
  const room = roomName('files-bad');
  const ada = await joinWatched(people, 'Ada', room);
  const grace = await joinWatched(people, 'Grace', room);
  const mallory = await joinWatched(people, 'Mallory', room);
  await expectNamed([ada, grace, mallory]);

  // Straight onto her connections, past her own page's checks.
  await mallory.page.evaluate(async () => {
    const hash = '0'.repeat(64);
    const pcs = ((window as any).__meshcall.peerConnections as RTCPeerConnection[]).filter((pc) => pc.connectionState === 'connected');
    // Resolves when the channel opens (or is closed by the other side first).
    const open = (pc: RTCPeerConnection, label: string) =>
      new Promise<RTCDataChannel>((resolve) => {
        const c = pc.createDataChannel(label);
        c.onopen = c.onclose = () => resolve(c);
      });
    // Resolves when the receiver has closed it: each refusal ends before the next transfer starts.
    const closed = (c: RTCDataChannel) =>
      new Promise<void>((resolve) => (c.readyState === 'closed' ? resolve() : c.addEventListener('close', () => resolve())));
    const put = (c: RTCDataChannel, data: string | Uint8Array) => {
      try {
        c.send(data as any);
      } catch {
        // closed by the other side already
      }
    };
    const held: RTCDataChannel[] = [];
    for (const pc of pcs) {
      await closed(await open(pc, 'not a file at all'));
      await closed(await open(pc, `${200 * 1024 * 1024}:${hash}:huge.bin`));
      const over = await open(pc, `1000:${hash}:over.bin`);
      put(over, new Uint8Array(2000));
      await closed(over);
      const bad = await open(pc, `20000:${hash}:corrupt.bin`);
      put(bad, new Uint8Array(16384));
      put(bad, new Uint8Array(20000 - 16384));
      await closed(bad);
      const tiny = await open(pc, `50000:${hash}:tiny.bin`);
      put(tiny, new Uint8Array(10));
      await closed(tiny);
      const text = await open(pc, `50000:${hash}:text.bin`);
      put(text, 'hello');
      await closed(text);
      // Three that never send a byte, and a fourth at once, which is closed.
      for (const n of [1, 2, 3]) held.push(await open(pc, `50000:${hash}:wait${n}.bin`));
      await closed(await open(pc, `50000:${hash}:wait4.bin`));
    }
    (window as any).__held = held;
  });
  const sentences: [string, string][] = [
    ['a file', 'Refused: it did not say properly what the file is.'],
    ['huge.bin', 'Refused: files can be at most 100 MB.'],
    ['over.bin', 'Stopped: more bytes came than announced.'],
    ['corrupt.bin', 'Not saved: the bytes that came are not the file sent.'],
    ['tiny.bin', 'Stopped: a broken piece came.'],
    ['text.bin', 'Stopped: a broken piece came.'],
    ['wait4.bin', 'Refused: too many files from them at once.'],
  ];
  for (const p of [ada, grace]) {
    await openChat(p);
    for (const [name, sentence] of sentences) {
      await expect(entry(p, name), `${p.name}: ${name}`).toHaveAttribute('data-state', 'failed', WITHIN);
      await expect(entry(p, name).getByTestId('file-status')).toHaveText(sentence);
      await expect(entry(p, name).getByTestId('file-save')).toHaveCount(0);
    }
    for (const n of [1, 2, 3]) await expect(entry(p, `wait${n}.bin`)).toHaveAttribute('data-state', 'receiving');
    // Only the three waiting ones hold a channel.
    await expect.poll(() => openFileChannels(p), { message: `${p.name}: channels left` }).toBe(3);
  }

  // Meanwhile the call goes on: a good file arrives whole, chat flows, video moves.
  const good = crypto.randomBytes(2 * MB);
  await send(ada, 'good.bin', good);
  expect(await save(grace, 'good.bin')).toBe(sha256(good));
  expect(await save(mallory, 'good.bin')).toBe(sha256(good));
  await grace.page.getByTestId('chat-input').fill('Still here');
  await grace.page.getByTestId('chat-send').click();
  await expect(ada.page.getByTestId('chat-text').last()).toHaveText('Still here', WITHIN);
  for (const p of [ada, grace]) await expectVideoFlowing(p, 2);
  await expectNamed([ada, grace, mallory]);

  // Mallory gives up the waiting ones: they end as cancelled, and no channel is left.
  await mallory.page.evaluate(() => ((window as any).__held as RTCDataChannel[]).forEach((c) => c.close()));
  for (const p of [ada, grace]) {
    for (const n of [1, 2, 3]) await expect(entry(p, `wait${n}.bin`)).toHaveAttribute('data-state', 'cancelled', WITHIN);
    await expect.poll(() => openFileChannels(p)).toBe(0);
  }
});
