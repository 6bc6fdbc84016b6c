// Chat (issue 13): lines go over the data channels to everyone in the call, with the sender's name and
// the time; the button counts what came while the panel was closed; whatever a peer writes shows as
// text (never as HTML), and only http/https addresses become links that cannot reach back to the page.
// A peer sending an oversized or malformed chat affects nothing but that message.
import { test, expect, clickJoin, expectNamed, keepChannels, roomName, say, type Person } from './fixtures';

const WITHIN = { timeout: 5_000 };

const panel = (p: Person) => p.page.getByTestId('chat-panel');
const unread = (p: Person) => p.page.getByTestId('chat-unread');
const lines = (p: Person) => p.page.getByTestId('chat-line');

/** The last line `viewer` shows: who wrote it and what. */
async function lastLine(viewer: Person) {
  const line = lines(viewer).last();
  return { name: (await line.getByTestId('chat-name').textContent())?.trim(), text: await line.getByTestId('chat-text').textContent() };
}

test('three people chat in both directions; unread counts; markup shows as text; links are safe; long lines are refused', async ({
  people,
}) => {
  const room = roomName('chat');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectNamed([ada, grace, linus]);

  // Nothing unread yet: no count on the button.
  for (const p of [ada, grace, linus]) await expect(unread(p)).toHaveCount(0);
  await say(ada, 'Hello from Ada');
  await expect(lines(ada)).toHaveCount(1);
  expect(await lastLine(ada)).toEqual({ name: 'You', text: 'Hello from Ada' });
  await expect(panel(ada).getByText('You see messages sent since you joined.')).toBeVisible();
  for (const p of [grace, linus]) {
    await expect(unread(p), `${p.name}: one unread`).toHaveText('1', WITHIN);
    await expect(p.page.getByTestId('chat-toggle')).toHaveAccessibleName(/1 unread/);
  }
  // Grace opens the panel: the count goes, the line is there with Ada's name and a time.
  await grace.page.getByTestId('chat-toggle').click();
  await expect(unread(grace)).toHaveCount(0);
  expect(await lastLine(grace)).toEqual({ name: 'Ada', text: 'Hello from Ada' });
  await expect(lines(grace).last().locator('time')).toHaveText(/^\d\d:\d\d$/);

  // The other way: Grace answers, Ada (panel open) reads it without a count, Linus gets a second one.
  await say(grace, 'Hi Ada, Grace here');
  await expect.poll(() => lastLine(ada), WITHIN).toEqual({ name: 'Grace', text: 'Hi Ada, Grace here' });
  await expect(unread(ada)).toHaveCount(0);
  await expect(unread(linus)).toHaveText('2', WITHIN);
  await say(linus, 'Linus too');
  await expect(unread(linus)).toHaveCount(0);
  for (const p of [ada, grace]) await expect.poll(() => lastLine(p), WITHIN).toEqual({ name: 'Linus', text: 'Linus too' });
  // Everyone has the same three lines, in order.
  for (const p of [ada, grace, linus]) {
    await expect(lines(p).getByTestId('chat-text')).toHaveText(['Hello from Ada', 'Hi Ada, Grace here', 'Linus too']);
  }

  // Markup is text. The one http(s) address is a link that opens apart from this page; the
  // javascript: one is not a link at all.
  const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> <b>bold</b> see https://example.com/x?a=1. or javascript:alert(1)';
  await say(grace, hostile);
  for (const p of [ada, linus]) {
    await expect.poll(() => lastLine(p), WITHIN).toEqual({ name: 'Grace', text: hostile });
    const text = lines(p).last().getByTestId('chat-text');
    await expect(text.locator('script, img, b')).toHaveCount(0);
    const link = text.locator('a');
    await expect(link).toHaveCount(1);
    await expect(link).toHaveAttribute('href', 'https://example.com/x?a=1');
    await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    await expect(link).toHaveAttribute('target', '_blank');
    expect(await p.page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  }

  // Linus closes his panel; Ada's next line counts again.
  await linus.page.getByTestId('chat-toggle').click();
  await expect(panel(linus)).toHaveCount(0);
  await say(ada, 'One more');
  await expect(unread(linus)).toHaveText('1', WITHIN);

  // Too long: a sentence says so, nothing can be sent, and nobody receives anything.
  await ada.page.getByTestId('chat-input').fill('x'.repeat(1001));
  await expect(ada.page.getByTestId('chat-too-long')).toHaveText('A message can be at most 1000 characters; this one has 1001.');
  await expect(ada.page.getByTestId('chat-send')).toBeDisabled();
  await ada.page.getByTestId('chat-input').press('Enter');
  await ada.page.getByTestId('chat-input').fill('x'.repeat(1000));
  await expect(ada.page.getByTestId('chat-too-long')).toHaveCount(0);
  await ada.page.getByTestId('chat-send').click();
  await expect.poll(async () => (await lastLine(grace)).text, WITHIN).toBe('x'.repeat(1000));
  // Exactly the lines sent, the refused one not among them.
  await expect(lines(grace)).toHaveCount(6);
  await expect(unread(linus)).toHaveText('2');
});

test('a peer sending oversized or malformed chat changes nothing else; its good lines still arrive', async ({ people }) => {
  const room = roomName('chat-bad');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const mallory = await people.open('Mallory', `/r/${room}`, undefined, undefined, { init: keepChannels });
  await clickJoin(mallory);
  await expectNamed([ada, grace, mallory]);

  // Straight onto her data channels, past her own page's checks.
  await mallory.page.evaluate(() => {
    const bad = [
      JSON.stringify({ type: 'chat', text: 'y'.repeat(1001) }),
      JSON.stringify({ type: 'chat', text: 'z'.repeat(40_000) }),
      JSON.stringify({ type: 'chat', text: 42 }),
      JSON.stringify({ type: 'chat' }),
      JSON.stringify({ type: 'chat', text: ' \u0000\u202e ' }),
      '{"type":"chat","text":',
      JSON.stringify({ type: 'chat', text: 'Still here' }),
    ];
    for (const c of (window as any).__channels as RTCDataChannel[]) for (const m of bad) c.send(m);
  });
  for (const p of [ada, grace]) {
    await expect(unread(p), `${p.name}: only the good line counts`).toHaveText('1', WITHIN);
    await p.page.getByTestId('chat-toggle').click();
    await expect(lines(p)).toHaveCount(1);
    expect(await lastLine(p)).toEqual({ name: 'Mallory', text: 'Still here' });
  }
  // The call and the chat between the others go on.
  await mallory.page.getByTestId('chat-toggle').click();
  await say(ada, 'Grace, still there?');
  await expect.poll(() => lastLine(grace), WITHIN).toEqual({ name: 'Ada', text: 'Grace, still there?' });
  await expect.poll(() => lastLine(mallory), WITHIN).toEqual({ name: 'Ada', text: 'Grace, still there?' });
  await expectNamed([ada, grace, mallory]);
});
