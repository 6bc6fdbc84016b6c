// Screen share (issue 13): the screen goes as an extra video track on every connection, added and
// negotiated through the existing perfect negotiation (no connection rebuilt), and shows at the others
// as a large tile of its own beside the sharer's camera tile. Headless Chromium with the fake-ui and
// fake-device flags answers getDisplayMedia with a moving fake screen. Stopping, by our button or by
// the browser ending the track ("Stop sharing"), removes it everywhere within 2 s; someone who joins
// during a share gets it; two people may share at once; a refused pick leaves the call as it was.
import {
  test,
  expect,
  clickJoin,
  expectFullMesh,
  expectNamed,
  expectVideoFlowing,
  negotiationCounts,
  peerConnectionsBuilt,
  roomName,
  type Person,
} from './fixtures';

const WITHIN = { timeout: 2_000 };

/** Runs in a page before the app: keeps every stream getDisplayMedia gives, as `window.__screens`. */
function keepScreens() {
  const md = navigator.mediaDevices;
  const pick = md.getDisplayMedia.bind(md);
  const screens: MediaStream[] = [];
  (window as any).__screens = screens;
  md.getDisplayMedia = async (constraints?: DisplayMediaStreamOptions) => {
    const stream = await pick(constraints);
    screens.push(stream);
    return stream;
  };
}

/** Runs in a page before the app: the person cancels the screen picker, as the browser reports it. */
function refuseScreens() {
  navigator.mediaDevices.getDisplayMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
}

const shareTile = (viewer: Person, name: string) =>
  viewer.page.getByTestId('share-tile').filter({ hasText: `${name}'s screen` });

/** Frames the share tile of `name` has shown on `viewer`'s page (0 while it shows nothing). */
const shareFrames = (viewer: Person, name: string) =>
  shareTile(viewer, name)
    .locator('video')
    .evaluate((v: HTMLVideoElement) => (v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0));

/** `viewer` shows `name`'s screen in its own tile, on a video track other than the camera's, with
 * frames that keep coming. */
async function expectShare(viewer: Person, name: string) {
  const tile = shareTile(viewer, name);
  await expect(tile, `${viewer.name} sees ${name}'s screen`).toBeVisible();
  await expect.poll(() => shareFrames(viewer, name), { message: `${viewer.name}: frames of ${name}'s screen` }).toBeGreaterThan(0);
  const before = await shareFrames(viewer, name);
  await expect.poll(() => shareFrames(viewer, name), { message: `${viewer.name}: ${name}'s screen moves` }).toBeGreaterThan(before + 5);
  const tracks = await viewer.page.evaluate((who) => {
    const id = (sel: Element | null) => ((sel?.querySelector('video')?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.id);
    const share = [...document.querySelectorAll('[data-testid=share-tile]')].find((t) => t.textContent?.includes(`${who}'s screen`));
    const camera = [...document.querySelectorAll('[data-testid=peer-tile]')].find((t) => t.querySelector('[data-testid=peer-name]')?.textContent?.trim() === who);
    return { share: id(share ?? null), camera: id(camera ?? null) };
  }, name);
  expect(tracks.share, `${viewer.name}: ${name}'s screen has a video track`).toBeTruthy();
  expect(tracks.share, `${viewer.name}: ${name}'s screen is not the camera's track`).not.toBe(tracks.camera);
}

/** Inbound video streams decoding frames on all of `viewer`'s connections. */
const videosDecoding = (viewer: Person) =>
  viewer.page.evaluate(async () => {
    let n = 0;
    for (const pc of (window as any).__meshcall.peerConnections as RTCPeerConnection[]) {
      if (pc.connectionState !== 'connected') continue;
      (await pc.getStats()).forEach((r: any) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video' && (r.framesDecoded ?? 0) > 0) n++;
      });
    }
    return n;
  });

test('a screen share reaches everyone as its own tile, a late joiner too, two at once; ending it removes it everywhere', async ({ people }) => {
  const room = roomName('share');
  const ada = await people.open('Ada', `/r/${room}`, undefined, undefined, { init: keepScreens });
  await clickJoin(ada);
  const grace = await people.join('Grace', room);
  const linus = await people.open('Linus', `/r/${room}`, undefined, undefined, { init: keepScreens });
  await clickJoin(linus);
  await expectFullMesh([ada, grace, linus]);

  await ada.page.getByTestId('call-share').click();
  await expect(ada.page.getByTestId('call-share')).toHaveAttribute('aria-pressed', 'true');
  for (const v of [grace, linus]) {
    await expectShare(v, 'Ada');
    // Her camera tile still shows her camera, moving: three video streams decode (two cameras, a screen).
    await expectVideoFlowing(v, 2);
    await expect.poll(() => videosDecoding(v), { message: `${v.name}: video streams decoding` }).toBe(3);
  }

  // Two at once: Linus shares too.
  await linus.page.getByTestId('call-share').click();
  for (const v of [ada, grace]) await expectShare(v, 'Linus');
  await expect(grace.page.getByTestId('share-tile')).toHaveCount(2);

  // Margaret joins during both shares and gets them.
  const margaret = await people.join('Margaret', room);
  await expectNamed([ada, grace, linus, margaret]);
  await expectShare(margaret, 'Ada');
  await expectShare(margaret, 'Linus');
  await expectVideoFlowing(margaret, 3);

  // The browser ends Ada's share ("Stop sharing"): her screen goes from every page within 2 s.
  await ada.page.evaluate(() => {
    const track = ((window as any).__screens[0] as MediaStream).getVideoTracks()[0];
    track.stop();
    track.dispatchEvent(new Event('ended'));
  });
  await Promise.all(
    [grace, linus, margaret].map((v) => expect(shareTile(v, 'Ada'), `${v.name}: Ada's screen gone`).toHaveCount(0, WITHIN)),
  );
  await expect(ada.page.getByTestId('call-share')).toHaveAttribute('aria-pressed', 'false');
  // Linus's share goes on.
  for (const v of [ada, grace, margaret]) await expectShare(v, 'Linus');

  // Linus stops with the button: gone everywhere within 2 s, and his screen track stopped.
  await linus.page.getByTestId('call-share').click();
  await Promise.all(
    [ada, grace, margaret].map((v) => expect(shareTile(v, 'Linus'), `${v.name}: Linus's screen gone`).toHaveCount(0, WITHIN)),
  );
  expect(await linus.page.evaluate(() => ((window as any).__screens[0] as MediaStream).getTracks().map((t) => t.readyState))).not.toContain('live');

  // No connection was rebuilt for any of it: one per other person, ever.
  for (const p of [ada, grace, linus, margaret]) expect(await peerConnectionsBuilt(p), `${p.name}: connections built`).toBe(3);
  // The cameras still move everywhere.
  for (const p of [ada, grace, linus, margaret]) await expectVideoFlowing(p, 3);
});

test('a cancelled or refused screen pick leaves the call as it was, and says so', async ({ people }) => {
  const room = roomName('share-no');
  const ada = await people.open('Ada', `/r/${room}`, undefined, undefined, { init: refuseScreens });
  await clickJoin(ada);
  const grace = await people.join('Grace', room);
  await expectFullMesh([ada, grace]);
  const before = await Promise.all([ada, grace].map(negotiationCounts));

  await ada.page.getByTestId('call-share').click();
  await expect(ada.page.getByTestId('share-notice')).toHaveText('Screen sharing was cancelled or not allowed. The call goes on as before.');
  await expect(ada.page.getByTestId('call-share')).toHaveAttribute('aria-pressed', 'false');
  await expect(grace.page.getByTestId('share-tile')).toHaveCount(0);
  // Nothing was renegotiated, no connection built, and the call goes on.
  expect(await Promise.all([ada, grace].map(negotiationCounts))).toEqual(before);
  await expectVideoFlowing(ada, 1);
  await expectVideoFlowing(grace, 1);
});
