// Someone who leaves, or just closes the tab, disappears from everyone else's screen within 5 s.
// The others are checked at the same time, so the 5 s count from the action for all of them.
import { test, expect, expectFullMesh, roomName, tileOf } from './fixtures';

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
