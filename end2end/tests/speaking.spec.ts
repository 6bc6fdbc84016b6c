// Who speaks (issue 13): the tile of the person whose microphone carries sound is marked, from the
// remote audio's level in getStats, with a short hold, and so is their own tile on their own page
// (from the level their connections send); a person whose microphone is on but silent, or who is
// muted, is never marked, on no page. Chromium's fake microphone beeps; the quiet people run in a second
// Chromium whose fake microphone plays a WAV of silence (a launch flag, so a browser of its own).
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, silentAudioFlag } from '../chromium.mjs';
import { test as base, expect, expectNamed, expectSpeakers, mute, roomName, tileOf, People } from './fixtures';

const test = base.extend<{ quiet: People }>({
  quiet: async ({}, use, testInfo) => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, silentAudioFlag()] });
    const quiet = new People(browser);
    await use(quiet);
    if (testInfo.status !== testInfo.expectedStatus) await quiet.attachEvidence(testInfo);
    await quiet.closeAll();
    await browser.close();
  },
});

test('the speaking mark follows the microphone that carries sound, never a silent or muted one', async ({ people, quiet }) => {
  const room = roomName('speak');
  // Ada and Grace have the beeping microphone; Linus's is on and hears silence.
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  const linus = await quiet.join('Linus', room);
  await mute(grace, true);
  await expectNamed([ada, grace, linus]);

  // Ada beeps: Grace and Linus see her speaking, Ada sees her own tile marked and nobody else's
  // (Grace is muted, Linus silent); Grace's and Linus's own tiles are not marked.
  await Promise.all([
    expectSpeakers(grace, ['Ada']),
    expectSpeakers(linus, ['Ada']),
    expectSpeakers(ada, ['Ada (you)']),
  ]);

  // Ada mutes and Grace unmutes: the mark moves from Ada to Grace, on her own page too.
  await mute(ada, true);
  await mute(grace, false);
  await Promise.all([
    expectSpeakers(ada, ['Grace']),
    expectSpeakers(linus, ['Grace']),
    expectSpeakers(grace, ['Grace (you)']),
  ]);
  // Linus's microphone was on all along.
  await expect(tileOf(ada, 'Linus')).toHaveAttribute('data-mic', 'on');
});
