// The one download-size measurement of issue 6: "gzipped bytes of everything the browser fetches for
// the room page". A cold-cache Chromium page opens /r/<room>, waits for the camera preview, joins,
// waits for the call view and for the network to go idle; every http(s) response it received then
// counts (the document, CSS, JS glue, wasm, /config.json and anything fetched later), each body
// compressed on its own with GNU `gzip -9 -n` (the same figure `gzip -9 -c FILE | wc -c` gives for a
// file of dist/). make bench (browser.mjs) and scripts/size.sh both use this code, so BENCHMARKS.md
// and README's table quote the same measurement.
//
// node end2end/bench/size.mjs --table target/size/browser.json   prints README's table from a run
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Bytes of `gzip -9 -n` of a buffer (GNU gzip, so anyone can check a file of dist/ by hand). */
export function gzipSize(body) {
  return execFileSync('gzip', ['-9', '-n', '-c'], { input: body, maxBuffer: 256 << 20 }).length;
}

/** Gzipped bytes of everything a cold-cache page fetches for a room page, from opening it to in a call. */
export async function measureRoomPage(browser, app, room) {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const wire = new Map();
    const urls = new Map();
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => { const u = urls.get(e.requestId); if (u) wire.set(u, (wire.get(u) ?? 0) + e.encodedDataLength); });
    const responses = [];
    page.on('response', (r) => { if (/^https?:/.test(r.url())) responses.push(r); });
    await page.goto(`${app}/r/${room}`, { waitUntil: 'networkidle' });
    await page.waitForFunction(() => { const v = document.querySelector('[data-testid=preview]'); return v && v.videoWidth > 0; }, null, { timeout: 30_000 });
    // Join too: whatever the page fetches only for the call (config, lazy pieces) counts.
    await page.locator('[data-testid=name-input]').fill('Size');
    await page.locator('[data-testid=join]').click();
    await page.locator('[data-testid=self-tile]').waitFor({ timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    const files = [];
    for (const r of responses) {
      const body = await r.body().catch(() => Buffer.alloc(0));
      const u = new URL(r.url());
      files.push({
        path: u.pathname, status: r.status(), type: r.headers()['content-type'] ?? '',
        encoding: r.headers()['content-encoding'] ?? 'identity', raw: body.length,
        gzip: gzipSize(body), wire: wire.get(r.url()) ?? null,
      });
    }
    const total = (k) => files.reduce((a, f) => a + (f[k] ?? 0), 0);
    return { method: 'gzip -9 -n of each response body', files, raw: total('raw'), gzip: total('gzip'), wire: total('wire') };
  } finally {
    await context.close().catch(() => {});
  }
}

const n = (x) => x.toLocaleString('en-US');

/** README's table: one row per response, hashes in file names shown as `*`. */
export function table(size) {
  const rows = [...size.files].sort((a, b) => b.gzip - a.gzip).map((f) => {
    const name = f.path.startsWith('/r/') ? '`/r/<room>` (index.html)' : `\`${f.path.replace(/-[0-9a-f]{16}(?=[._])/, '-*')}\``;
    return `| ${name} | ${n(f.raw)} | ${n(f.gzip)} |`;
  });
  return ['| response | bytes | gzip -9 |', '| --- | ---: | ---: |', ...rows,
    `| **total** | **${n(size.raw)}** | **${n(size.gzip)}** |`].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--table') {
  const run = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  if (!run.size) { console.error(`no size figure in ${process.argv[3]}: ${(run.failures ?? []).join('; ')}`); process.exit(1); }
  console.log(table(run.size));
}
