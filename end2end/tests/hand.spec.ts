// Raise hand and the people list (issue 13): a raised hand shows on the person's tile and in everyone's
// list of people, in the order hands went up; someone who joins later sees the same order; the list
// also shows each person's microphone and camera.
import { test, expect, expectNamed, roomName, tileOf, type Person } from './fixtures';

const WITHIN = { timeout: 2_000 };

async function openPeople(p: Person) {
  await p.page.getByTestId('people-toggle').click();
  await expect(p.page.getByTestId('people-panel')).toBeVisible();
}

/** The names in `viewer`'s (open) list whose hand is up, in the list's order. */
const raised = (viewer: Person) =>
  viewer.page.getByTestId('person').and(viewer.page.locator('[data-hand=up]')).getByTestId('person-name');

async function raise(p: Person, up: boolean) {
  const button = p.page.getByTestId('call-hand');
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', String(up));
}

test('raised hands are seen by the others in the order raised, by a late joiner too, and go down', async ({ people }) => {
  const room = roomName('hand');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);
  await expectNamed([ada, grace, linus]);
  for (const p of [ada, grace, linus]) {
    await openPeople(p);
    await expect(raised(p)).toHaveCount(0);
  }

  // Each viewer checked at the same time, so the 2 s count from the click for all.
  await raise(ada, true);
  await Promise.all(
    [grace, linus].map(async (v) => {
      await expect(tileOf(v, 'Ada').getByTestId('hand-mark'), `${v.name} sees Ada's hand`).toHaveText('✋1', WITHIN);
      await expect(tileOf(v, 'Ada')).toHaveAttribute('data-hand', 'up');
    }),
  );
  await expect(ada.page.getByTestId('self-tile').getByTestId('hand-mark')).toHaveText('✋1');
  await raise(grace, true);
  await Promise.all([
    expect(raised(ada)).toHaveText(['Ada (you)', 'Grace'], WITHIN),
    expect(raised(grace)).toHaveText(['Ada', 'Grace (you)'], WITHIN),
    expect(raised(linus)).toHaveText(['Ada', 'Grace'], WITHIN),
  ]);
  await expect(tileOf(linus, 'Grace').getByTestId('hand-mark')).toHaveText('✋2');
  // Nobody else's hand is up, and Linus is last in his own list, after the raised hands.
  await expect(linus.page.getByTestId('person-name')).toHaveText(['Ada', 'Grace', 'Linus (you)']);

  // The list shows microphones too: Linus mutes.
  await linus.page.getByTestId('call-mic').click();
  await expect(ada.page.getByTestId('person').filter({ hasText: 'Linus' })).toHaveAttribute('data-mic', 'off', WITHIN);

  // Margaret joins while both hands are up: she sees them in the order they were raised.
  const margaret = await people.join('Margaret', room);
  await expectNamed([ada, grace, linus, margaret]);
  await openPeople(margaret);
  await expect(raised(margaret)).toHaveText(['Ada', 'Grace']);
  await expect(tileOf(margaret, 'Grace').getByTestId('hand-mark')).toHaveText('✋2');

  // Ada lowers hers: gone everywhere, and Grace is first in line.
  await raise(ada, false);
  await Promise.all(
    [grace, linus, margaret].map(async (v) => {
      await expect(tileOf(v, 'Ada').getByTestId('hand-mark'), `${v.name} sees Ada's hand down`).toHaveCount(0, WITHIN);
      await expect(raised(v)).toHaveText([v === grace ? 'Grace (you)' : 'Grace'], WITHIN);
    }),
  );
  await expect(tileOf(margaret, 'Grace').getByTestId('hand-mark')).toHaveText('✋1');
});
