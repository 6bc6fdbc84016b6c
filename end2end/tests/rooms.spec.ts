// Two rooms at the same time on one server never see each other's people.
import { test, expect, expectFullMesh, roomName, peerConnectionsBuilt } from './fixtures';

test('two rooms at once never see each other\'s peers', async ({ people }) => {
  const red = roomName('red');
  const blue = roomName('blue');
  // Joined interleaved, so both rooms are live while the other fills.
  const ada = await people.join('Ada', red);
  const grace = await people.join('Grace', blue);
  const linus = await people.join('Linus', red);
  const margaret = await people.join('Margaret', blue);

  await expectFullMesh([ada, linus]);
  await expectFullMesh([grace, margaret]);
  for (const p of [ada, grace, linus, margaret]) {
    await expect(p.page.getByTestId('peer-tile')).toHaveCount(1);
    // Not even a connection attempt crossed rooms.
    expect(await peerConnectionsBuilt(p), `${p.name}: peer connections built`).toBe(1);
  }
});
