// The view (issue 13): the speaker view (one tile large, the others in a strip) and a pinned tile stay
// as the person chose them while people join and leave; a tile goes full screen; and each connection's
// quality mark shows real figures on hover.
import { test, expect, bigTiles as big, expectNamed, expectQualityFigures, roomName, tileOf } from './fixtures';

test('speaker view and a pinned tile survive a join and a leave; a tile goes full screen', async ({ people }) => {
  const room = roomName('layout');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectNamed([ada, grace, linus]);
  const grid = ada.page.locator('.grid');
  await expect(big(ada)).toHaveCount(0);

  // Speaker view: one tile large (someone's: everyone beeps), the others in the strip.
  const layout = ada.page.getByTestId('layout-toggle');
  await layout.click();
  await expect(layout).toHaveAttribute('aria-pressed', 'true');
  await expect(grid).toHaveClass(/\bspeaker\b/);
  await expect(big(ada)).toHaveCount(1);

  // Ada pins Grace.
  const pin = tileOf(ada, 'Grace').getByTestId('pin');
  await pin.click();
  await expect(pin).toHaveAttribute('aria-pressed', 'true');
  await expect(big(ada)).toHaveCount(1);
  await expect(tileOf(ada, 'Grace')).toHaveClass(/\bbig\b/);
  const strip = await tileOf(ada, 'Linus').boundingBox();
  const large = await tileOf(ada, 'Grace').boundingBox();
  expect(large!.width, 'the pinned tile is larger than one in the strip').toBeGreaterThan(strip!.width * 2);

  // Margaret joins and Linus leaves: still the speaker view, Grace still pinned and large.
  const margaret = await people.join('Margaret', room);
  await expectNamed([ada, grace, margaret]);
  await linus.page.getByTestId('leave').click();
  await expect(tileOf(ada, 'Linus')).toHaveCount(0);
  await expect(grid).toHaveClass(/\bspeaker\b/);
  await expect(layout).toHaveAttribute('aria-pressed', 'true');
  await expect(tileOf(ada, 'Grace')).toHaveClass(/\bbig\b/);
  await expect(tileOf(ada, 'Margaret')).not.toHaveClass(/\bbig\b/);
  await expect(big(ada)).toHaveCount(1);

  // Unpinned, the speaker view shows whoever speaks (here: one of the two beeping) large.
  await pin.click();
  await expect(pin).toHaveAttribute('aria-pressed', 'false');
  await expect(big(ada)).toHaveCount(1);

  // Back to the grid: nothing large.
  await layout.click();
  await expect(grid).not.toHaveClass(/\bspeaker\b/);
  await expect(big(ada)).toHaveCount(0);

  // Full screen: Margaret's tile fills the screen, then leaves it.
  await tileOf(ada, 'Margaret').getByTestId('fullscreen').click();
  await expect
    .poll(() => ada.page.evaluate(() => document.fullscreenElement?.querySelector('[data-testid=peer-name]')?.textContent?.trim()))
    .toBe('Margaret');
  await ada.page.evaluate(() => document.exitFullscreen());
  await expect.poll(() => ada.page.evaluate(() => document.fullscreenElement === null)).toBe(true);
});

test('the quality details of a connection show real figures', async ({ people }) => {
  const room = roomName('quality');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  const tile = tileOf(ada, 'Grace');
  const mark = tile.getByTestId('quality');
  const details = tile.getByTestId('quality-details');
  await expect(details).toBeHidden();
  await expectQualityFigures(ada, 'Grace');
  // A tap (a click) keeps it open without the pointer over it.
  await ada.page.mouse.move(0, 0);
  await expect(details).toBeHidden();
  await mark.click();
  await ada.page.mouse.move(0, 0);
  await expect(details).toBeVisible();
  await expect(mark).toHaveAttribute('aria-expanded', 'true');
});
