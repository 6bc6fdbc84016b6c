// Issue 5, devices: a camera or microphone lost in the middle of a call (permission taken back, unplugged)
// shows on the person's own screen and as "off" on everyone else's; picking a device in the call swaps
// the track on every connection with replaceTrack: the same connections, no renegotiation, the picture
// and the sound carry on. The pickers follow `devicechange`.
//
// These run in a browser of their own: three fake cameras (device-count=3), and without
// --use-fake-ui-for-media-stream, because only then does taking back a permission end the live tracks
// as it does for a person who revokes it in the address bar. Of Chromium's fake cameras, fake_device_1
// is a depth camera (Y16) that WebRTC does not encode, so a switch goes from fake_device_0 (I420) to
// fake_device_2 (MJPEG).
import type { TestInfo } from '@playwright/test';
import {
  test,
  expect,
  expectFullMesh,
  expectVideoFlowing,
  negotiationCounts,
  roomName,
  tileOf,
  People,
  type Person,
} from './fixtures';
import { launchBrowser } from './faults-helpers';

async function ownBrowser(testInfo: TestInfo) {
  return launchBrowser(
    testInfo,
    ['--use-fake-device-for-media-stream=device-count=3'],
    ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
  );
}

/** Total audio energy `viewer` has received so far; it grows only while sound arrives. */
function audioEnergy(viewer: Person): Promise<number> {
  return viewer.page.evaluate(async () => {
    let energy = 0;
    for (const pc of (window as any).__meshcall?.peerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') energy += r.totalAudioEnergy ?? 0;
      });
    }
    return energy;
  });
}

async function expectSoundArriving(viewer: Person) {
  const before = await audioEnergy(viewer);
  await expect.poll(() => audioEnergy(viewer), { message: `${viewer.name}: sound keeps arriving` }).toBeGreaterThan(before);
}

/** What `sender` sends on every open connection, as `kind:label:readyState`. */
function sentTracks(sender: Person): Promise<string[]> {
  return sender.page.evaluate(() => {
    const out: string[] = [];
    for (const pc of (window as any).__meshcall?.peerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      for (const s of pc.getSenders()) if (s.track) out.push(`${s.track.kind}:${s.track.label}:${s.track.readyState}`);
    }
    return out.sort();
  });
}

/** The label of the track of `kind` that `person`'s own tile plays. */
function selfTrack(person: Person, kind: 'audio' | 'video'): Promise<string | null> {
  return person.page.evaluate((kind) => {
    const v = document.querySelector('[data-testid=self-tile] video') as HTMLVideoElement | null;
    const stream = v?.srcObject as MediaStream | null;
    const t = stream?.getTracks().find((t) => t.kind === kind);
    return t ? `${t.label}:${t.readyState}` : null;
  }, kind);
}

async function pickerLabels(person: Person, testid: string): Promise<string[]> {
  return (await person.page.getByTestId(testid).locator('option:not([disabled])').allTextContents()).map((s) => s.trim());
}

/** Ada and Grace in a call, and what their pages have negotiated so far. */
async function adaAndGrace(people: People, tag: string) {
  const room = roomName(tag);
  const ada = await people.join('Ada', room);
  const grace = await people.join('Grace', room);
  await expectFullMesh([ada, grace]);
  const before = await Promise.all([ada, grace].map(negotiationCounts));
  expect(before.every((c) => c.built === 1 && c.localDescriptions > 0), 'the counters see the call').toBe(true);
  return { ada, grace, before };
}

/** Ada, in the lobby without a working camera, joins; then Grace. Grace sees Ada connected, camera off. */
async function joinWithCameraOff(people: People, ada: Person, room: string) {
  await ada.page.getByTestId('name-input').fill('Ada');
  await ada.page.getByTestId('join').click();
  const grace = await people.join('Grace', room);
  const adaAtGrace = tileOf(grace, 'Ada');
  await expect(adaAtGrace).toHaveAttribute('data-state', 'connected');
  await expect(adaAtGrace).toHaveAttribute('data-cam', 'off');
  return { grace, adaAtGrace };
}

test.describe('devices in a call', () => {
  let own: Awaited<ReturnType<typeof ownBrowser>>;
  let people: People;
  test.beforeEach(async ({}, testInfo) => {
    own = await ownBrowser(testInfo);
    people = new People(own.browser);
  });
  test.afterEach(async ({}, testInfo) => {
    if (testInfo.status !== testInfo.expectedStatus) await people.attachEvidence(testInfo);
    await people.closeAll();
    await own.close();
  });

  test('permission taken back: both sides see it, Try again says blocked, and after allowing it the camera and mic come back on the same connections', async () => {
    const { ada, grace, before } = await adaAndGrace(people, 'revoke');

    await ada.context.clearPermissions();
    const notice = ada.page.getByTestId('device-notice');
    await expect(notice).toContainText('Your camera stopped');
    await expect(notice).toContainText('Your microphone stopped');
    await expect(ada.page.getByTestId('call-cam')).toHaveAttribute('aria-pressed', 'false');
    await expect(ada.page.getByTestId('call-mic')).toHaveAttribute('aria-pressed', 'false');
    await expect(ada.page.getByTestId('self-tile')).toHaveAttribute('data-cam', 'off');
    const adaAtGrace = tileOf(grace, 'Ada');
    await expect(adaAtGrace, 'Grace sees Ada camera off').toHaveAttribute('data-cam', 'off');
    await expect(adaAtGrace.getByTestId('muted-mark'), 'Grace sees Ada muted').toBeVisible();
    // The call itself goes on.
    await expect(adaAtGrace).toHaveAttribute('data-state', 'connected');
    await expectVideoFlowing(ada, 1);

    // Still not allowed: trying again explains why instead of failing silently.
    await ada.page.getByTestId('device-retry').click();
    await expect(notice).toContainText('The camera is blocked');
    await expect(notice).toContainText('The microphone is blocked');

    await ada.context.grantPermissions(['camera', 'microphone']);
    await ada.page.getByTestId('device-retry').click();
    await expect(notice).toHaveCount(0);
    await expect(ada.page.getByTestId('call-cam')).toHaveAttribute('aria-pressed', 'true');
    await expect(ada.page.getByTestId('call-mic')).toHaveAttribute('aria-pressed', 'true');
    await expect(ada.page.getByTestId('self-tile')).toHaveAttribute('data-cam', 'on');
    expect(await selfTrack(ada, 'video')).toMatch(/:live$/);
    await expect(adaAtGrace).toHaveAttribute('data-cam', 'on');
    await expect(adaAtGrace.getByTestId('muted-mark')).toHaveCount(0);
    await expectVideoFlowing(grace, 1);
    await expectSoundArriving(grace);
    await expect.poll(() => sentTracks(ada)).toEqual([expect.stringMatching(/^audio:.*:live$/), expect.stringMatching(/^video:.*:live$/)]);
    expect(await Promise.all([ada, grace].map(negotiationCounts)), 'same connections, no renegotiation').toEqual(before);
  });

  test('picking another camera and microphone in the call swaps them on every connection without renegotiating', async () => {
    const room = roomName('switch');
    const ada = await people.join('Ada', room);
    const grace = await people.join('Grace', room);
    const linus = await people.join('Linus', room);
    await expectFullMesh([ada, grace, linus]);
    const everyone = [ada, grace, linus];
    const before = await Promise.all(everyone.map(negotiationCounts));
    expect(before.every((c) => c.built === 2 && c.localDescriptions > 0), 'the counters see the call').toBe(true);

    await ada.page.getByTestId('call-devices').click();
    await expect(ada.page.getByTestId('device-panel')).toBeVisible();
    expect(await pickerLabels(ada, 'call-camera-select')).toEqual(['fake_device_0', 'fake_device_1', 'fake_device_2']);
    expect(await selfTrack(ada, 'video')).toBe('fake_device_0:live');
    const newCamera = 'fake_device_2';
    await ada.page.getByTestId('call-camera-select').selectOption({ label: newCamera });
    await expect.poll(() => selfTrack(ada, 'video'), { message: 'Ada sees herself through the new camera' }).toBe(`${newCamera}:live`);
    await expect
      .poll(async () => (await sentTracks(ada)).filter((t) => t.startsWith('video:')), { message: 'both connections send the new camera' })
      .toEqual([`video:${newCamera}:live`, `video:${newCamera}:live`]);

    const mics = await pickerLabels(ada, 'call-mic-select');
    const newMic = mics.find((m) => m !== (mics.find((x) => /Default/.test(x)) ?? mics[0]))!;
    await ada.page.getByTestId('call-mic-select').selectOption({ label: newMic });
    await expect
      .poll(async () => (await sentTracks(ada)).filter((t) => t.startsWith('audio:')), { message: 'both connections send the new microphone' })
      .toEqual([`audio:${newMic}:live`, `audio:${newMic}:live`]);

    for (const viewer of [grace, linus]) {
      await expect(tileOf(viewer, 'Ada')).toHaveAttribute('data-cam', 'on');
      await expectVideoFlowing(viewer, 2);
      await expectSoundArriving(viewer);
    }
    expect(await Promise.all(everyone.map(negotiationCounts)), 'same connections, no renegotiation').toEqual(before);
  });

  test('a camera unplugged mid-call: the pickers follow devicechange, and picking the other camera brings the picture back', async () => {
    const { ada, grace, before } = await adaAndGrace(people, 'unplug');
    const inUse = 'fake_device_0';
    expect(await selfTrack(ada, 'video')).toBe(`${inUse}:live`);

    // What the browser does when a camera goes away: the device leaves enumerateDevices(), its track
    // ends, and `devicechange` fires. Headless Chromium has no camera to pull, so the page gets exactly
    // those three things.
    await ada.page.evaluate((label) => {
      const md = navigator.mediaDevices;
      const real = md.enumerateDevices.bind(md);
      (window as any).__plugBack = () => {
        md.enumerateDevices = real;
        md.dispatchEvent(new Event('devicechange'));
      };
      md.enumerateDevices = async () => (await real()).filter((d) => d.label !== label);
      const v = document.querySelector('[data-testid=self-tile] video') as HTMLVideoElement;
      const track = (v.srcObject as MediaStream).getVideoTracks()[0];
      track.stop();
      track.dispatchEvent(new Event('ended'));
      md.dispatchEvent(new Event('devicechange'));
    }, inUse);

    await expect(ada.page.getByTestId('device-notice')).toContainText('Your camera stopped');
    await expect(ada.page.getByTestId('device-panel')).toBeVisible();
    await expect.poll(() => pickerLabels(ada, 'call-camera-select')).toEqual(['fake_device_1', 'fake_device_2']);
    await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-cam', 'off');

    const other = 'fake_device_2';
    await ada.page.getByTestId('call-camera-select').selectOption({ label: other });
    await expect(ada.page.getByTestId('device-notice')).toHaveCount(0);
    await expect.poll(() => selfTrack(ada, 'video')).toBe(`${other}:live`);
    await expect(tileOf(grace, 'Ada')).toHaveAttribute('data-cam', 'on');
    await expectVideoFlowing(grace, 1);

    // Plugged back in: it is offered again (the panel closed with the trouble; open it).
    await ada.page.evaluate(() => (window as any).__plugBack());
    await ada.page.getByTestId('call-devices').click();
    await expect.poll(() => pickerLabels(ada, 'call-camera-select')).toHaveLength(3);
    expect(await Promise.all([ada, grace].map(negotiationCounts)), 'same connections, no renegotiation').toEqual(before);
  });

  test('someone who joined without camera and mic turns them on in the call, and the others see and hear them', async () => {
    const room = roomName('late-camera');
    // Nothing allowed: the lobby says so and Ada joins to watch and listen.
    const ada = await people.open('Ada', `/r/${room}`, undefined, []);
    await expect(ada.page.getByTestId('lobby-notice')).toContainText('blocked');
    const { grace, adaAtGrace } = await joinWithCameraOff(people, ada, room);
    await expectVideoFlowing(ada, 1);
    const built = (await Promise.all([ada, grace].map(negotiationCounts))).map((c) => c.built);

    await ada.context.grantPermissions(['camera', 'microphone']);
    await ada.page.getByTestId('call-cam').click();
    await expect(ada.page.getByTestId('call-cam')).toHaveAttribute('aria-pressed', 'true');
    await ada.page.getByTestId('call-mic').click();
    await expect(ada.page.getByTestId('call-mic')).toHaveAttribute('aria-pressed', 'true');
    await expect(ada.page.getByTestId('self-tile')).toHaveAttribute('data-cam', 'on');
    await expect(adaAtGrace).toHaveAttribute('data-cam', 'on');
    await expect(adaAtGrace).toHaveAttribute('data-mic', 'on');
    await expectVideoFlowing(grace, 1);
    await expectSoundArriving(grace);
    // New kinds of media are negotiated on the connection they already have.
    expect((await Promise.all([ada, grace].map(negotiationCounts))).map((c) => c.built), 'same connections').toEqual(built);
  });

  test('permission taken back in the lobby: the lobby says so, and the call starts with the camera off and Try again', async () => {
    const room = roomName('lobby-revoke');
    const ada = await people.open('Ada', `/r/${room}`);
    await expect(ada.page.getByTestId('join')).toBeEnabled();
    await ada.context.clearPermissions();
    await expect(ada.page.getByTestId('lobby-notice')).toContainText('Your camera stopped');
    await expect(ada.page.getByTestId('lobby-notice')).toContainText('Your microphone stopped');
    await expect(ada.page.getByText('Camera stopped', { exact: true })).toBeVisible();
    const { grace, adaAtGrace } = await joinWithCameraOff(people, ada, room);
    await expect(adaAtGrace).toHaveAttribute('data-mic', 'off');
    await expect(ada.page.getByTestId('device-notice')).toContainText('Your camera stopped');

    await ada.context.grantPermissions(['camera', 'microphone']);
    await ada.page.getByTestId('device-retry').click();
    await expect(ada.page.getByTestId('device-notice')).toHaveCount(0);
    await expect(adaAtGrace).toHaveAttribute('data-cam', 'on');
    await expect(adaAtGrace).toHaveAttribute('data-mic', 'on');
    await expectVideoFlowing(grace, 1);
    await expectSoundArriving(grace);
  });

  test('the lobby pickers follow devicechange too', async () => {
    const ada = await people.open('Ada', `/r/${roomName('lobby-devices')}`);
    await expect(ada.page.getByTestId('join')).toBeEnabled();
    await expect.poll(() => pickerLabels(ada, 'camera-select')).toHaveLength(3);
    await ada.page.evaluate(() => {
      const md = navigator.mediaDevices;
      const real = md.enumerateDevices.bind(md);
      md.enumerateDevices = async () => (await real()).filter((d) => d.label !== 'fake_device_1');
      md.dispatchEvent(new Event('devicechange'));
    });
    await expect.poll(() => pickerLabels(ada, 'camera-select')).toEqual(['fake_device_0', 'fake_device_2']);
  });
});
