// The README's pictures of a meeting (issue 13): a call of three in which Linus shares his screen,
// Grace has raised her hand and the chat holds a message from each, seen by Ada with the chat open,
// wide (1280x720) and on a phone (390x844), light and dark. Each picture is taken only once what it
// should show is on screen; `make screenshot` copies them from end2end/artifacts/ into docs/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, expectFullMesh, roomName, say, tileOf } from './fixtures';

test('a meeting, wide and on a phone, light and dark: the pictures in the README', async ({ people }, testInfo) => {
  const room = roomName('shots');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectFullMesh([ada, grace, linus]);

  await linus.page.getByTestId('call-share').click();
  await grace.page.getByTestId('call-hand').click();
  await say(grace, 'Can everyone see the slides?');
  await say(linus, 'Sharing them now: https://example.com/slides');
  await say(ada, 'Yes, all good');

  const view = ada.page;
  await expect(view.getByTestId('share-tile').filter({ hasText: "Linus's screen" })).toBeVisible();
  await expect(tileOf(ada, 'Grace').getByTestId('hand-mark')).toHaveText('✋1');
  await expect(view.getByTestId('chat-line')).toHaveCount(3);

  const out = path.join(__dirname, '..', 'artifacts');
  fs.mkdirSync(out, { recursive: true });
  for (const [size, viewport] of [['wide', { width: 1280, height: 720 }], ['phone', { width: 390, height: 844 }]] as const) {
    await view.setViewportSize(viewport);
    for (const scheme of ['light', 'dark'] as const) {
      await view.emulateMedia({ colorScheme: scheme });
      await expect
        .poll(() => view.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches))
        .toBe(scheme === 'dark');
      // Every video on screen has a picture before the shot (none shows a blank box).
      await expect
        .poll(() => view.locator('video').evaluateAll((vs) => vs.every((v) => (v as HTMLVideoElement).videoWidth > 0)))
        .toBe(true);
      const name = `meeting-${size}-${scheme}.png`;
      const shot = await view.screenshot();
      fs.writeFileSync(path.join(out, name), shot);
      await testInfo.attach(name, { body: shot, contentType: 'image/png' });
    }
  }
});
