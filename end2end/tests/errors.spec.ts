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

// A link that leads nowhere says so and leads back; the browser's Back goes where the person was.
test('a bad room link and an unknown page say so and lead home; Back returns', async ({ people }) => {
  const ada = await people.open('Ada', '/r/not%20a%20room');
  await expect(ada.page.getByTestId('error')).toContainText(/not a valid room name/);
  await ada.page.getByTestId('retry').click();
  await expect(ada.page).toHaveURL(/\/$/);
  await expect(ada.page.getByTestId('new-room')).toBeVisible();

  await ada.page.getByTestId('new-room').click();
  await expect(ada.page.getByTestId('room-privacy')).toHaveText(/Private room/);
  await ada.page.goBack();
  await expect(ada.page.getByTestId('new-room')).toBeVisible();

  // The server answers any /r/... with the page; a path deeper than a room is none.
  await ada.page.goto('/r/room/deeper');
  await expect(ada.page.getByRole('heading')).toHaveText('Nothing here');
  await ada.page.getByRole('link', { name: 'Start or join a room' }).click();
  await expect(ada.page.getByTestId('new-room')).toBeVisible();
});
