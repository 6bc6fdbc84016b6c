// People in one room see and hear each other over a full mesh.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, expect, expectFullMesh, roomName, peerConnectionsBuilt } from './fixtures';

test('three people in one room see each other move, read each other\'s names, and hear each other', async ({ people }, testInfo) => {
  const room = roomName('three');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await people.join('Linus', room);

  await expectFullMesh([ada, grace, linus]);
  // A mesh of three is one connection per other person, not a renegotiation storm of new ones.
  for (const p of [ada, grace, linus]) expect(await peerConnectionsBuilt(p)).toBe(2);

  // The picture of a three-person call: a test artifact, and the source of the README's screenshot.
  const shot = await grace.page.screenshot();
  const out = path.join(__dirname, '..', 'artifacts', 'three-person-call.png');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, shot);
  await testInfo.attach('three-person-call.png', { body: shot, contentType: 'image/png' });
});

test('a fourth person joining late completes the mesh again', async ({ people }) => {
  const room = roomName('late');
  const early = [
    await people.join('Ada', room),
    await people.join('Grace', room),
    await people.join('Linus', room),
  ];
  await expectFullMesh(early);

  const margaret = await people.join('Margaret', room);
  await expectFullMesh([...early, margaret]);
});
