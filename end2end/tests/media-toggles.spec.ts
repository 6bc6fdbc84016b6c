// Turning the camera or the microphone off shows on everyone else's screen within 2 s, and so does
// turning it back on.
import { test, expect, expectFullMesh, expectVideoFlowing, roomName, tileOf } from './fixtures';

const WITHIN = { timeout: 2_000 };

test('camera off, then mic off, shows the placeholder and the muted mark to the others, and back', async ({ people }) => {
  const room = roomName('toggles');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectFullMesh([ada, grace, linus]);
  const viewers = [grace, linus];

  const camButton = ada.page.getByTestId('call-cam');
  const micButton = ada.page.getByTestId('call-mic');
  await expect(camButton).toHaveAttribute('aria-pressed', 'true');
  await expect(micButton).toHaveAttribute('aria-pressed', 'true');
  for (const v of viewers) {
    await expect(tileOf(v, 'Ada').getByTestId('cam-off')).toHaveCount(0);
    await expect(tileOf(v, 'Ada').getByTestId('muted-mark')).toHaveCount(0);
  }

  await camButton.click();
  await expect(camButton).toHaveAttribute('aria-pressed', 'false');
  for (const v of viewers) {
    const tile = tileOf(v, 'Ada');
    await expect(tile.getByTestId('cam-off'), `${v.name} sees Ada's camera off`).toBeVisible(WITHIN);
    await expect(tile).toHaveAttribute('data-cam', 'off', WITHIN);
    await expect(tile.locator('video')).toBeHidden(WITHIN);
    // Only the camera went off: no muted mark yet.
    await expect(tile.getByTestId('muted-mark')).toHaveCount(0);
  }

  await micButton.click();
  await expect(micButton).toHaveAttribute('aria-pressed', 'false');
  for (const v of viewers) {
    const tile = tileOf(v, 'Ada');
    await expect(tile.getByTestId('muted-mark'), `${v.name} sees Ada muted`).toBeVisible(WITHIN);
    await expect(tile).toHaveAttribute('data-mic', 'off', WITHIN);
  }

  await camButton.click();
  await expect(camButton).toHaveAttribute('aria-pressed', 'true');
  for (const v of viewers) {
    const tile = tileOf(v, 'Ada');
    await expect(tile.getByTestId('cam-off'), `${v.name} sees Ada's camera back`).toHaveCount(0, WITHIN);
    await expect(tile).toHaveAttribute('data-cam', 'on', WITHIN);
    await expect(tile.locator('video')).toBeVisible(WITHIN);
  }

  await micButton.click();
  await expect(micButton).toHaveAttribute('aria-pressed', 'true');
  for (const v of viewers) {
    const tile = tileOf(v, 'Ada');
    await expect(tile.getByTestId('muted-mark'), `${v.name} sees Ada unmuted`).toHaveCount(0, WITHIN);
    await expect(tile).toHaveAttribute('data-mic', 'on', WITHIN);
  }

  // And the picture really moves again, on every tile.
  for (const v of viewers) await expectVideoFlowing(v, 2);
});
