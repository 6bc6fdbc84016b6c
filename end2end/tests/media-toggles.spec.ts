// Turning the camera or the microphone off shows on everyone else's screen within 2 s, and so does
// turning it back on. Each viewer is checked at the same time, so the 2 s count from the click for all.
import { test, expect, expectFullMesh, expectVideoFlowing, roomName, tileOf, type Person } from './fixtures';

const WITHIN = { timeout: 2_000 };

test('camera off, then mic off, shows the placeholder and the muted mark to the others, and back', async ({ people }) => {
  const room = roomName('toggles');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectFullMesh([ada, grace, linus]);
  const viewers = [grace, linus];
  const everyViewer = (check: (v: Person, adaTile: ReturnType<typeof tileOf>) => Promise<void>) =>
    Promise.all(viewers.map((v) => check(v, tileOf(v, 'Ada'))));

  const camButton = ada.page.getByTestId('call-cam');
  const micButton = ada.page.getByTestId('call-mic');
  await expect(camButton).toHaveAttribute('aria-pressed', 'true');
  await expect(micButton).toHaveAttribute('aria-pressed', 'true');
  await everyViewer(async (v, tile) => {
    await expect(tile).toHaveAttribute('data-cam', 'on');
    await expect(tile).toHaveAttribute('data-mic', 'on');
    await expect(tile.getByTestId('cam-off')).toHaveCount(0);
    await expect(tile.getByTestId('muted-mark')).toHaveCount(0);
  });

  await camButton.click();
  await everyViewer(async (v, tile) => {
    await expect(tile.getByTestId('cam-off'), `${v.name} sees Ada's camera off`).toBeVisible(WITHIN);
    await expect(tile).toHaveAttribute('data-cam', 'off', WITHIN);
    await expect(tile.locator('video')).toBeHidden(WITHIN);
  });
  await expect(camButton).toHaveAttribute('aria-pressed', 'false');
  // Only the camera went off: no muted mark.
  await everyViewer(async (v, tile) => {
    await expect(tile.getByTestId('muted-mark')).toHaveCount(0);
    await expect(tile).toHaveAttribute('data-mic', 'on');
  });

  await micButton.click();
  await everyViewer(async (v, tile) => {
    await expect(tile.getByTestId('muted-mark'), `${v.name} sees Ada muted`).toBeVisible(WITHIN);
    await expect(tile).toHaveAttribute('data-mic', 'off', WITHIN);
  });
  await expect(micButton).toHaveAttribute('aria-pressed', 'false');

  await camButton.click();
  await everyViewer(async (v, tile) => {
    await expect(tile.getByTestId('cam-off'), `${v.name} sees Ada's camera back`).toHaveCount(0, WITHIN);
    await expect(tile).toHaveAttribute('data-cam', 'on', WITHIN);
    await expect(tile.locator('video')).toBeVisible(WITHIN);
  });
  await expect(camButton).toHaveAttribute('aria-pressed', 'true');
  // The camera came back while the mic stays off.
  await everyViewer(async (v, tile) => expect(tile.getByTestId('muted-mark')).toBeVisible());

  await micButton.click();
  await everyViewer(async (v, tile) => {
    await expect(tile.getByTestId('muted-mark'), `${v.name} sees Ada unmuted`).toHaveCount(0, WITHIN);
    await expect(tile).toHaveAttribute('data-mic', 'on', WITHIN);
  });
  await expect(micButton).toHaveAttribute('aria-pressed', 'true');

  // And the picture really moves again, on every tile.
  for (const v of viewers) await expectVideoFlowing(v, 2);
});
