// Keyboard and screen readers (issue 13): an accessibility scan (axe-core) finds nothing serious or
// critical on the home page, the lobby and a call; the call's shortcuts (M, V, S, C, H) do what their
// buttons do, are named in the buttons' tooltips, and stay out of the way while typing; they can be
// turned off (WCAG 2.1.4), which the browser remembers; every control of the call is reached with Tab.
import AxeBuilder from '@axe-core/playwright';
import { test, expect, clickJoin, expectNamed, roomName, tileOf, type Person } from './fixtures';

/** axe's violations of impact serious or critical on `p`'s page as it is now, as readable lines. */
async function seriousViolations(p: Person): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page: p.page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('home, lobby and call have no serious or critical accessibility violations', async ({ people }) => {
  const room = roomName('a11y');
  const home = await people.open('Home', '/');
  await expect(home.page.locator('main')).toBeVisible();
  expect(await seriousViolations(home), 'home').toEqual([]);

  const ada = await people.open('Ada', `/r/${room}`);
  await expect(ada.page.getByTestId('preview')).toBeVisible();
  expect(await seriousViolations(ada), 'lobby').toEqual([]);

  await clickJoin(ada);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  // The call with its panels open and a connection's details shown.
  await ada.page.getByTestId('chat-toggle').click();
  await ada.page.getByTestId('people-toggle').click();
  await ada.page.getByTestId('call-devices').click();
  await expect(ada.page.getByTestId('shortcuts-toggle')).toBeVisible();
  await tileOf(ada, 'Grace').getByTestId('quality').click();
  expect(await seriousViolations(ada), 'call').toEqual([]);
});

test('shortcuts toggle mic, camera, share, chat and hand, are in the tooltips, and never fire while typing', async ({ people }) => {
  const room = roomName('keys');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  const { page } = ada;
  const at = (id: string) => page.getByTestId(id);
  const shortcuts: [string, string][] = [['call-mic', 'M'], ['call-cam', 'V'], ['call-share', 'S'], ['chat-toggle', 'C'], ['call-hand', 'H']];
  for (const [id, key] of shortcuts) {
    await expect(at(id), `${id}'s tooltip`).toHaveAttribute('title', new RegExp(`\\(${key}\\)$`));
    await expect(at(id)).toHaveAttribute('aria-keyshortcuts', key);
  }

  await page.keyboard.press('m');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'false');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-mic', 'off');
  await page.keyboard.press('v');
  await expect(at('call-cam')).toHaveAttribute('aria-pressed', 'false');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-cam', 'off');
  await page.keyboard.press('h');
  await expect(at('call-hand')).toHaveAttribute('aria-pressed', 'true');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-hand', 'up');
  await page.keyboard.press('s');
  await expect(at('call-share')).toHaveAttribute('aria-pressed', 'true');
  await expect(grace.page.getByTestId('share-tile')).toHaveCount(1);
  await page.keyboard.press('s');
  await expect(grace.page.getByTestId('share-tile')).toHaveCount(0);
  await page.keyboard.press('c');
  await expect(at('chat-toggle')).toHaveAttribute('aria-expanded', 'true');

  // Typing in the chat: letters are text, not shortcuts.
  const input = page.getByTestId('chat-input');
  await input.click();
  await page.keyboard.type('my vch');
  await expect(input).toHaveValue('my vch');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'false');
  await expect(at('call-hand')).toHaveAttribute('aria-pressed', 'true');
  await expect(at('chat-toggle')).toHaveAttribute('aria-expanded', 'true');
  // A modifier held is the browser's, not ours.
  await input.blur();
  await page.keyboard.press('Control+m');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'false');
  await page.keyboard.press('M');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'true');
});

test('single-key shortcuts can be turned off in the settings, and stay off after a reload', async ({ people }) => {
  const room = roomName('keys-off');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  const at = (id: string) => ada.page.getByTestId(id);
  const toggle = at('shortcuts-toggle');
  await at('call-devices').click();
  await expect(toggle).toBeChecked();
  await toggle.click();
  await expect(toggle).not.toBeChecked();
  await toggle.blur();
  // Off: M and H do nothing. The hand's button clicked after them raises it (H had raised it, the
  // click would lower it); once Grace sees that, she would have seen a mute sent before it.
  await ada.page.keyboard.press('m');
  await ada.page.keyboard.press('h');
  await at('call-hand').click();
  await expect(at('call-hand')).toHaveAttribute('aria-pressed', 'true');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-hand', 'up');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'true');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-mic', 'on');
  // And no tooltip or screen reader offers the keys.
  for (const id of ['call-mic', 'call-cam', 'call-share', 'chat-toggle', 'call-hand']) {
    await expect(at(id)).not.toHaveAttribute('aria-keyshortcuts', /./);
    await expect(at(id)).not.toHaveAttribute('title', /\(.\)$/);
  }

  // The browser remembers it: after a reload and joining again, still off.
  await ada.page.reload();
  await clickJoin(ada);
  await expectNamed([ada, grace]);
  await ada.page.keyboard.press('m');
  await at('call-devices').click();
  await expect(toggle).not.toBeChecked();
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'true');

  // On again: M mutes, and Grace sees it.
  await toggle.click();
  await expect(toggle).toBeChecked();
  await toggle.blur();
  await expect(at('call-mic')).toHaveAttribute('aria-keyshortcuts', 'M');
  await ada.page.keyboard.press('m');
  await expect(at('call-mic')).toHaveAttribute('aria-pressed', 'false');
  await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-mic', 'off');
});

test('every control of the call is reached with Tab, and each has a name', async ({ people }) => {
  const room = roomName('tab');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  const { page } = ada;
  const wanted = ['call-mic', 'call-cam', 'call-hand', 'call-share', 'layout-toggle', 'people-toggle', 'call-devices', 'chat-toggle', 'copy-link', 'leave', 'pin', 'fullscreen', 'quality'];
  const reached = new Set<string>();
  for (let i = 0; i < 40 && reached.size < wanted.length; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const name = el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? '';
      return { id: el?.getAttribute('data-testid') ?? '', named: name.length > 0 };
    });
    if (wanted.includes(focused.id)) {
      expect(focused.named, `${focused.id} has a name`).toBe(true);
      reached.add(focused.id);
    }
  }
  expect([...reached].sort()).toEqual([...wanted].sort());
});
