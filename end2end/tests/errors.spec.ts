// When joining cannot work, the person is told why in plain words and can retry.
import { test, expect, clickJoin, expectFullMesh, roomName } from './fixtures';
import { CLOSED_PORT, SMALL_ROOM_LIMIT, SMALL_ROOM_URL } from '../env';

test('a full room says so, and the people inside are undisturbed', async ({ people }) => {
  const room = roomName('full');
  const inside = [];
  for (const name of ['Ada', 'Grace', 'Linus', 'Margaret'].slice(0, SMALL_ROOM_LIMIT)) {
    inside.push(await people.join(name, room, { base: SMALL_ROOM_URL }));
  }
  await expectFullMesh(inside);

  const late = await people.open('Barbara', `/r/${room}`, SMALL_ROOM_URL);
  await clickJoin(late);
  await expect(late.page.getByTestId('error')).toContainText(/full/i);
  await expect(late.page.getByTestId('retry')).toBeVisible();

  for (const p of inside) await expect(p.page.getByTestId('peer-tile')).toHaveCount(SMALL_ROOM_LIMIT - 1);
  await expectFullMesh(inside);
});

test('an unreachable signaling server says so', async ({ people }) => {
  const room = roomName('unreachable');
  // The operator's config.json names a server that is down.
  const ada = await people.open('Ada', `/r/${room}`, undefined, undefined, {
    config: { signalingUrl: `ws://127.0.0.1:${CLOSED_PORT}/ws/` },
  });
  await clickJoin(ada);
  await expect(ada.page.getByTestId('error')).toContainText(/reach/i);
  await expect(ada.page.getByTestId('retry')).toBeVisible();
  await expect(ada.page.getByTestId('peer-tile')).toHaveCount(0);
});
