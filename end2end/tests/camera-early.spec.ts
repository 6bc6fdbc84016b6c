import { clickJoin, expect, roomName, test } from './fixtures';

// A room link asks for the camera and microphone from index.html, while the app downloads and
// compiles, and the lobby shows what that request got (issue 14: the lobby costing no more than
// loading the page and starting the camera). Every request is recorded: when it was made (before
// the app had drawn anything or after), the stream it got.
function recordRequests() {
  const asks: { beforeApp: boolean; stream?: MediaStream; tracks?: MediaStreamTrack[] }[] = [];
  (window as unknown as { __asks: typeof asks }).__asks = asks;
  const md = navigator.mediaDevices;
  const ask = md.getUserMedia.bind(md);
  md.getUserMedia = (c?: MediaStreamConstraints) => {
    const entry: (typeof asks)[number] = { beforeApp: !document.querySelector('.topbar') };
    asks.push(entry);
    return ask(c).then((s) => {
      entry.stream = s;
      entry.tracks = s.getTracks();
      return s;
    });
  };
}

type Asks = { __asks: { beforeApp: boolean; stream?: MediaStream; tracks?: MediaStreamTrack[] }[] };

test('the camera is asked for once while the app loads, the lobby plays it, and a lobby after Leave asks again', async ({ people }) => {
  const ada = await people.open('Ada', `/r/${roomName('early')}`, undefined, undefined, { init: recordRequests });
  // The preview plays the stream of the one request, made before the app drew anything.
  await expect
    .poll(() =>
      ada.page.evaluate(() => {
        const asks = (window as unknown as Asks).__asks;
        const preview = document.querySelector<HTMLVideoElement>('[data-testid=preview]');
        return {
          asks: asks.length,
          early: asks[0]?.beforeApp,
          plays: !!preview && preview.videoWidth > 0 && preview.srcObject === asks[0]?.stream,
        };
      }),
    )
    .toEqual({ asks: 1, early: true, plays: true });
  await expect(ada.page.getByTestId('join')).toBeEnabled();

  // Join, Leave: the lobby is back with a camera of its own, asked for anew (the first request's
  // tracks went with the call).
  await clickJoin(ada);
  await expect(ada.page.getByTestId('self-tile')).toBeVisible();
  await ada.page.getByTestId('leave').click();
  await expect
    .poll(() =>
      ada.page.evaluate(() => {
        const asks = (window as unknown as Asks).__asks;
        const preview = document.querySelector<HTMLVideoElement>('[data-testid=preview]');
        const live = (s?: MediaStream) => !!s && s.getVideoTracks().some((t) => t.readyState === 'live');
        return {
          asks: asks.length,
          later: asks[1]?.beforeApp,
          plays: !!preview && preview.videoWidth > 0 && preview.srcObject === asks[1]?.stream && live(asks[1]?.stream),
        };
      }),
    )
    .toEqual({ asks: 2, later: false, plays: true });
  // The preview's play() cut short by the stream (it is often ready before the lobby is drawn
  // now) is no error.
  expect(ada.log.filter((l) => l.includes('[pageerror]'))).toEqual([]);
});

test('a room link with a damaged key shows the error and turns the camera it opened off again', async ({ people }) => {
  const carol = await people.open('Carol', `/r/${roomName('damaged')}#not a key`, undefined, undefined, { init: recordRequests });
  await expect(carol.page.getByTestId('error')).toContainText(/room key in this link is damaged/);
  // What the early request got is stopped: the camera's light goes off.
  await expect
    .poll(() =>
      carol.page.evaluate(() =>
        (window as unknown as Asks).__asks.map((a) => a.tracks?.map((t) => t.readyState).join(',') ?? 'pending'),
      ),
    )
    .toEqual(['ended,ended']);
});

test('a bad room name or another page asks for no camera at all', async ({ people }) => {
  const ada = await people.open('Ada', '/r/not%20a%20room', undefined, undefined, { init: recordRequests });
  await expect(ada.page.getByTestId('error')).toContainText(/not a valid room name/);
  const asked = () => ada.page.evaluate(() => (window as unknown as Asks).__asks.length);
  expect(await asked()).toBe(0);
  await ada.page.goto('/');
  await expect(ada.page.getByTestId('new-room')).toBeVisible();
  expect(await asked()).toBe(0);
});
