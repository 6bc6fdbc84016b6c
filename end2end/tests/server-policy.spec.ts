// The server's page policy in a real browser (issue 11): the release app runs under the
// Content-Security-Policy meshcall-server sends (no script, style or connection refused), and each
// page's own fetch of /config.json, which carries no Origin header, is answered rather than taken for
// another site's page or a rebound DNS name.
import { test, expect, expectFullMesh, roomName } from './fixtures';

test('the app runs under its content security policy and gets its own config', async ({ people }) => {
  const room = roomName('policy');
  const ada = await people.join('Ada', room);
  const bob = await people.join('Bob', room);
  await expectFullMesh([ada, bob]);

  const page = await ada.page.request.get(`/r/${room}`);
  const csp = page.headers()['content-security-policy'] ?? '';
  expect(csp, 'the page is served with its policy').toContain("'wasm-unsafe-eval'");
  expect(csp).toContain("frame-ancestors 'none'");

  for (const p of [ada, bob]) {
    // Chromium reports every blocked load or script on the console.
    const refused = p.log.filter((l) => /Content Security Policy|Refused to/i.test(l));
    expect(refused, `${p.name}: policy violations`).toEqual([]);
    const status = await p.page.evaluate(() => {
      const entry = performance.getEntriesByName(`${location.origin}/config.json`)[0] as
        | (PerformanceResourceTiming & { responseStatus?: number })
        | undefined;
      return entry?.responseStatus;
    });
    expect(status, `${p.name}: its own /config.json`).toBe(200);
  }
});
