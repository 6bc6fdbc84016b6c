// Someone who leaves, or just closes the tab, disappears from everyone else's screen within 5 s.
// The others are checked at the same time, so the 5 s count from the action for all of them.
import { test, expect, clickJoin, expectFullMesh, openChat, roomName, say, tileOf } from './fixtures';

const WITHIN = { timeout: 5_000 };

test('one person leaves and another closes the tab: both tiles disappear from the others', async ({ people }) => {
  const room = roomName('leave');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  const margaret = await people.join('Margaret', room);
  await expectFullMesh([ada, grace, linus, margaret]);

  await ada.page.getByTestId('leave').click();
  await Promise.all(
    [grace, linus, margaret].map(async (v) => {
      await expect(tileOf(v, 'Ada'), `${v.name} no longer sees Ada`).toHaveCount(0, WITHIN);
      await expect(v.page.getByTestId('peer-tile')).toHaveCount(2);
    }),
  );
  // Leaving goes back to the lobby, ready to join again.
  await expect(ada.page.getByTestId('join')).toBeVisible();
  await expect(ada.page.getByTestId('peer-tile')).toHaveCount(0);

  // Closing the tab says goodbye to nobody: the others must notice on their own.
  await linus.page.close();
  await Promise.all(
    [grace, margaret].map(async (v) => {
      await expect(tileOf(v, 'Linus'), `${v.name} no longer sees Linus`).toHaveCount(0, WITHIN);
      await expect(v.page.getByTestId('peer-count')).toHaveText('1');
    }),
  );
  // The two who stayed are still in a working call.
  await expectFullMesh([grace, margaret]);
});

// The call screen is built in the lobby before Join, and a new one after each Leave (issue 14): a
// second Join is a new call, with nothing of the first one on it.
test('leave and join again: a fresh call, seen once by the others, with the camera moving', async ({ people }) => {
  const room = roomName('rejoin');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectFullMesh([ada, grace]);
  await say(grace, 'before you left');
  await openChat(ada);
  await expect(ada.page.getByTestId('chat-text')).toHaveText(['before you left']);

  await ada.page.getByTestId('leave').click();
  await expect(tileOf(grace, 'Ada')).toHaveCount(0, WITHIN);
  await clickJoin(ada);
  await expectFullMesh([ada, grace]);
  await expect(ada.page.getByTestId('self-tile').locator('video')).toBeVisible();
  // The first call's chat went with it; the new one carries on.
  await say(grace, 'welcome back');
  await openChat(ada);
  await expect(ada.page.getByTestId('chat-text')).toHaveText(['welcome back']);
});
