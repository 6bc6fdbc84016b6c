// Video that fits the uplink (issue 12): each page divides one upload budget (2.5 Mbit/s by default,
// audio first) over the copies of its video it sends, with setParameters on the senders that exist.
// A fourth person joining shrinks what each of the first page's connections may send (maxBitrate, and
// the resolution: the encoder really sends smaller frames); when they leave it grows back. None of it
// renegotiates: the connections that were there keep their local descriptions, and no offer or answer
// is made when someone leaves.
import { test, expect, expectFullMesh, negotiationCounts, roomName, tileOf, type Person } from './fixtures';
import { inOwnBrowser, smallVideoFlag } from './faults-helpers';

// The app's own arithmetic (src/room/uplink.rs) for the default budget, counted on the wire: 70 kbit/s
// set aside per peer, the encoders asked for 90% of the rest: (2500 - n x 70) x 0.9 / n kbit/s.
const THREE = { maxBitrate: 1_062_000, scale: 1 }; // two others
const FOUR = { maxBitrate: 687_000, scale: 1.5 }; // three others
/** Chromium's fake camera is 640x480; scaled down by 1.5 it is 427 wide at most. */
const CAMERA_WIDTH = 640;
/** A screen on which every tile is wider than the camera: no page says it shows anyone smaller, so
 * only the number of people sets the limits (what a small tile does: src/room/tests/uplink.rs). */
const LARGE = { viewport: { width: 1920, height: 1200 } };

/** For each of the page's connected connections: its video sender's encoding limits, the width of the
 * frames it encodes now (getStats outbound-rtp), and its local description. */
function videoSenders(viewer: Person) {
  return viewer.page.evaluate(async () => {
    const pcs: RTCPeerConnection[] = (window as any).__meshcall?.peerConnections ?? [];
    const out = [];
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue;
      const t = pc.getTransceivers().find((x) => x.receiver.track.kind === 'video' && x.sender.track);
      const encoding = t?.sender.getParameters().encodings?.[0];
      let frameWidth = 0;
      if (t) {
        (await t.sender.getStats()).forEach((r: any) => {
          if (r.type === 'outbound-rtp' && r.frameWidth) frameWidth = r.frameWidth;
        });
      }
      out.push({
        index: pcs.indexOf(pc),
        maxBitrate: encoding?.maxBitrate ?? null,
        scale: encoding?.scaleResolutionDownBy ?? null,
        frameWidth,
        sdp: pc.localDescription?.sdp ?? null,
      });
    }
    return out;
  });
}

/** Every connected connection of `viewer` (there are `count`) carries `limit`, and encodes frames no
 * wider than the camera scaled down by it. */
async function expectLimits(viewer: Person, count: number, limit: { maxBitrate: number; scale: number }) {
  await expect
    .poll(
      async () => {
        const senders = await videoSenders(viewer);
        return senders.map((s) => ({
          maxBitrate: s.maxBitrate,
          scale: s.scale,
          // Chromium may lower the resolution further on its own (a busy CPU), never above the limit.
          narrow: s.frameWidth > 0 && s.frameWidth <= Math.ceil(CAMERA_WIDTH / limit.scale),
        }));
      },
      { message: `${viewer.name}: each connection's video limit and the frames it encodes`, timeout: 20_000 },
    )
    .toEqual(Array.from({ length: count }, () => ({ maxBitrate: limit.maxBitrate, scale: limit.scale, narrow: true })));
}

test('a fourth person shrinks what each connection sends, their leaving grows it back, nothing renegotiates', async ({ people }) => {
  const room = roomName('uplink');
  const ada = await people.join('Ada', room, LARGE);
  const grace = await people.join('Grace', room, LARGE);
  const linus = await people.join('Linus', room, LARGE);
  await expectFullMesh([ada, grace, linus]);
  await expectLimits(ada, 2, THREE);
  const before = await videoSenders(ada);

  const margaret = await people.join('Margaret', room, LARGE);
  await expectFullMesh([ada, grace, linus, margaret]);
  await expectLimits(ada, 3, FOUR);
  // The two connections that were there were not renegotiated for it.
  const during = await videoSenders(ada);
  for (const old of before) {
    expect(during.find((s) => s.index === old.index)?.sdp, `connection ${old.index}'s local description`).toBe(old.sdp);
  }

  const counts = await negotiationCounts(ada);
  await margaret.page.getByTestId('leave').click();
  await expect(tileOf(ada, 'Margaret')).toHaveCount(0, { timeout: 5_000 });
  await expectLimits(ada, 2, THREE);
  // Growing back made no offer or answer and no connection.
  expect(await negotiationCounts(ada)).toEqual(counts);
  await expectFullMesh([ada, grace, linus]);
});

test('someone who shows us in a small tile gets less, and what they leave goes to the others', async ({ people }) => {
  const room = roomName('uplink-tile');
  const ada = await people.join('Ada', room, LARGE);
  // A phone-sized window: each tile is about 300 device pixels wide, less than half the camera.
  const grace = await people.join('Grace', room, { viewport: { width: 640, height: 400 } });
  const linus = await people.join('Linus', room, LARGE);
  await expectFullMesh([ada, grace, linus]);
  // Ada sends to two: evenly that is 1,062 kbit/s each. Grace's small tile takes less; Linus gets what
  // she leaves (up to the 1,500 cap); together they stay within the budget.
  await expect
    .poll(
      async () => {
        const rates = (await videoSenders(ada)).map((s) => s.maxBitrate ?? 0).sort((a, b) => a - b);
        return {
          two: rates.length === 2,
          smallTileLess: rates[0] < THREE.maxBitrate,
          otherMore: rates[1] > THREE.maxBitrate,
          withinBudget: rates[0] + rates[1] <= 2 * THREE.maxBitrate,
        };
      },
      { message: "Ada's two video limits", timeout: 20_000 },
    )
    .toEqual({ two: true, smallTileLess: true, otherMore: true, withinBudget: true });
});

test('a camera smaller than 640 wide is sent whole where its share carries more, not shrunk as if it were 640', async ({ people }, testInfo) => {
  // Ada's camera gives 320x240 (a clip in a browser of her own). Sending to three, each copy carries
  // a picture 427 wide (FOUR: 640 scaled by 1.5); scaled by 1.5 anyway, hers went out 213 wide.
  await inOwnBrowser(testInfo, [smallVideoFlag(320, 240)], async (small) => {
    const room = roomName('uplink-small-camera');
    const ada = await small.join('Ada', room, LARGE);
    const others = [await people.join('Grace', room, LARGE), await people.join('Linus', room, LARGE), await people.join('Margaret', room, LARGE)];
    await expectFullMesh([ada, ...others]);
    await expect
      .poll(async () => (await videoSenders(ada)).map((s) => ({ maxBitrate: s.maxBitrate, scale: s.scale })), {
        message: "Ada's limits: the bitrate for three, her camera's own size",
        timeout: 20_000,
      })
      .toEqual(Array.from({ length: 3 }, () => ({ maxBitrate: FOUR.maxBitrate, scale: 1 })));
    // What the others see: her picture at the camera's 320 across.
    for (const viewer of others) {
      await expect
        .poll(() => tileOf(viewer, 'Ada').locator('video').evaluate((v: HTMLVideoElement) => v.videoWidth), {
          message: `${viewer.name}: the width of Ada's picture`,
          timeout: 20_000,
        })
        .toBe(320);
    }
  });
});
