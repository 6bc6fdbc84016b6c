// The speaker the others play on (issue 13): where the browser has `setSinkId`, the devices panel
// lists the audio outputs; the choice plays every remote tile's sound there (those that come later
// too) and the browser remembers it. Headless Chromium with fake devices lists "default" and two fake
// outputs and plays nothing aloud, so what is checked is each element's `sinkId`: the output the
// browser says it plays on. Not checked: a screen share's tile, which gets the same call, but
// Chromium refuses a sink to an element with no sound and the fake screen has none. Without
// `setSinkId`, no choice is offered.
import { test, expect, clickJoin, expectNamed, roomName, tileOf, type Person } from './fixtures';

/** The `sinkId` of every remote tile's <video> on `p`'s page. */
const sinks = (p: Person) =>
  p.page.locator('[data-testid=peer-tile] video').evaluateAll((vs) => vs.map((v) => (v as HTMLMediaElement).sinkId));

test('the chosen speaker plays every remote tile, later ones too, and is remembered; no choice without setSinkId', async ({ people }) => {
  const room = roomName('speaker');
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectNamed([ada, grace]);
  await ada.page.getByTestId('call-devices').click();
  const select = ada.page.getByTestId('call-speaker-select');
  await expect(select.locator('option')).toHaveText(['Fake Default Audio Output', 'Fake Audio Output 1', 'Fake Audio Output 2']);
  await expect(select).toHaveValue('default');
  // Chromium's own default ("" or "default": the same output).
  await expect.poll(async () => (await sinks(ada)).map((s) => s || 'default')).toEqual(['default']);

  const output2 = (await select.locator('option', { hasText: 'Fake Audio Output 2' }).getAttribute('value'))!;
  expect(output2).not.toBe('default');
  await select.selectOption({ label: 'Fake Audio Output 2' });
  await expect.poll(() => sinks(ada), { message: "Grace's tile plays on Output 2" }).toEqual([output2]);

  // Linus joins: his new tile plays there too.
  const linus = await people.join('Linus', room);
  await expectNamed([ada, grace, linus]);
  await expect.poll(() => sinks(ada), { message: 'Grace and Linus on Output 2' }).toEqual([output2, output2]);

  // Remembered: after a reload and joining again, the same speaker, chosen in the panel too.
  await ada.page.reload();
  await clickJoin(ada);
  await expectNamed([ada, grace, linus]);
  await expect.poll(() => sinks(ada), { message: 'after the reload' }).toEqual([output2, output2]);
  await ada.page.getByTestId('call-devices').click();
  await expect(select).toHaveValue(output2);

  // A browser without setSinkId (alone in a room of its own): the microphone's picker, no speaker's.
  const old = await people.open('Old', `/r/${roomName('no-sink')}`, undefined, undefined, {
    init: () => {
      delete (HTMLMediaElement.prototype as any).setSinkId;
    },
  });
  await clickJoin(old);
  await old.page.getByTestId('call-devices').click();
  await expect(old.page.getByTestId('call-mic-select')).toBeVisible();
  await expect(old.page.getByTestId('call-speaker-select')).toHaveCount(0);
  // The app never called it either: no error reached the page.
  expect(old.log.filter((l) => l.includes('[pageerror]'))).toEqual([]);
  await expect(tileOf(ada, 'Old')).toHaveCount(0);
});
