// How often each page of a steady call makes the browser calls a call costs it most for (issue 14's
// client CPU): `RTCPeerConnection.getStats`, `RTCDataChannel.send`, `RTCRtpSender.getParameters`
// and `setParameters`, counted by wrapping them in an init script, window by window once every face
// is shown; and what each page's tiles show then (grade / speaking / kbit/s / round trip ms / loss).
// Written for docs/join-timeline.md; not part of `make bench`. Runs inside the network namespace
// with meshcall-server on 127.0.0.1:18180 serving the app:
//
// node bench/count-calls.mjs [--app http://127.0.0.1:18180] [--n 6] [--clip 320x240] [--windows 5000,10000,10000]
import { launch, lobby, joinAll, uniqueRoom, withTimeout } from './people.mjs';
import { smallVideoFlag } from '../chromium.mjs';

const opts = { app: 'http://127.0.0.1:18180', n: 6, clip: '320x240', windows: '5000,10000,10000' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) throw new Error(`unknown option --${k}`);
  opts[k] = typeof opts[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const CALLS = [['RTCPeerConnection', 'getStats'], ['RTCDataChannel', 'send'], ['RTCRtpSender', 'getParameters'], ['RTCRtpSender', 'setParameters']];
const counter = { content: `
  window.__calls = {};
  for (const [cls, name] of ${JSON.stringify(CALLS)}) {
    const proto = window[cls].prototype, orig = proto[name];
    window.__calls[name] = 0;
    proto[name] = function (...a) { window.__calls[name]++; return orig.apply(this, a); };
  }` };

const browser = await launch([smallVideoFlag(...opts.clip.split('x').map(Number))]);
try {
  const room = uniqueRoom('calls');
  const people = [];
  for (let i = 0; i < opts.n; i++) people.push(await lobby(browser, `${opts.app}/r/${room}`, `C${i + 1}`, [counter]));
  const shown = people.map((p) => p.page.evaluate((k) => window.__bench.facesShown(k), opts.n - 1));
  await joinAll(people);
  await withTimeout(Promise.all(shown), 60_000, `call of ${opts.n}`);
  const take = () => Promise.all(people.map((p) => p.page.evaluate(() => {
    const c = { ...window.__calls };
    for (const k in window.__calls) window.__calls[k] = 0;
    return c;
  })));
  await take();
  for (const ms of opts.windows.split(',').map(Number)) {
    await new Promise((r) => setTimeout(r, ms));
    const counts = await take();
    const per = (k) => counts.map((c) => (c[k] * 1000 / ms).toFixed(1)).join(', ');
    console.log(`${ms / 1000} s: per page and second: ${CALLS.map(([, k]) => `${k} ${per(k)}`).join('; ')}`);
    const tiles = await Promise.all(people.map((p) => p.page.evaluate(() => [...document.querySelectorAll('[data-testid=peer-tile]')]
      .map((t) => [t.querySelector('.quality')?.dataset.grade, t.dataset.speaking, t.querySelector('[data-testid=q-kbps]')?.textContent,
        t.querySelector('[data-testid=q-rtt]')?.textContent, t.querySelector('[data-testid=q-loss]')?.textContent].join('/')).join(' '))));
    tiles.forEach((t, i) => console.log(`  page ${i + 1} tiles: ${t}`));
  }
} finally {
  await browser.close();
}
