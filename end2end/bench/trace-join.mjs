// Traces the joiner's page from its Join click to the first face (one person already in the call;
// meshcall and the floor alternately) with Chromium's own tracing, and prints per join: the click
// task's length, when the signaling WebSocket was made and when its opening handshake went out,
// when the server's IdAssigned arrived, the first face, and the main thread's busy time. Written
// for docs/join-timeline.md; not part of `make bench`. Runs inside the network namespace with
// meshcall-server listening on 127.0.0.1:18180 (it serves the floor on 18199 itself):
//
// node bench/trace-join.mjs [runs=4] [variants=meshcall,floor] [--keep /tmp/dir: write the traces]
//   [--server-log FILE: meshcall-server's log; prints when the server took the join in]
//
// The page records its WebSocket's opening handshake ("WebSocketSendHandshakeRequest") when its
// main thread hears of it, which a busy page does late: only the server's own log says when the
// handshake arrived.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, lobby, roomUrl, serveFloor, uniqueRoom } from './people.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? args.splice(args.indexOf(name), 2)[1] : null);
const keep = option('--keep');
const serverLog = option('--server-log');
const runs = Number(args[0] ?? 4);
const variants = (args[1] ?? 'meshcall,floor').split(',');
const where = { app: 'http://127.0.0.1:18180', floor: 'http://127.0.0.1:18199', signaling: 'ws://127.0.0.1:18180/ws/' };
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'toplevel', 'blink.user_timing', 'loading'];
const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'meshcall-trace-'));
const floor = await serveFloor(18199);
const browser = await launch([]);

/** The traced page's renderer main thread, from the trace's own list of its frames. */
function analyse(events, meta) {
  const pids = new Set(events.filter((e) => e.name === 'TracingStartedInBrowser').flatMap((e) => (e.args.data.frames ?? []).map((f) => f.processId)));
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain' && pids.has(e.pid)).map((e) => `${e.pid}:${e.tid}`));
  const onMain = events.filter((e) => main.has(`${e.pid}:${e.tid}`));
  const click = onMain.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'click');
  const at = (name) => events.find((e) => e.name === name && e.ts >= click.ts);
  const ms = (e) => (e ? ((e.ts - click.ts) / 1000).toFixed(0) : '?');
  const faceUs = click.ts + (meta.face - meta.joinAt) * 1000;
  const busy = onMain.filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.ts >= click.ts && e.ts <= faceUs).reduce((a, e) => a + (e.dur ?? 0), 0) / 1000;
  const server = meta.serverAt ? `server took it in +${(meta.serverAt - meta.joinAt).toFixed(0)}, ` : '';
  return `click task ${(click.dur / 1000).toFixed(0)} ms, socket made +${ms(at('WebSocketCreate'))}, ${server}page saw its handshake sent +${ms(at('WebSocketSendHandshakeRequest'))}, ` +
    `IdAssigned +${(meta.idAt - meta.joinAt).toFixed(0)}, first face +${(meta.face - meta.joinAt).toFixed(0)} ms; main thread busy ${busy.toFixed(0)} ms of it`;
}

try {
  for (let i = 0; i < runs; i++) {
    for (const v of variants) {
      const room = uniqueRoom('trace');
      const a = await lobby(browser, roomUrl(where, v, room), 'Ada');
      await a.page.locator('[data-testid=join]').click();
      await a.page.waitForFunction(() => (window.__bench.receivedKinds.IdAssigned ?? 0) >= 1);
      const b = await lobby(browser, roomUrl(where, v, room), 'Bo');
      const face = b.page.evaluate(() => window.__bench.facesShown(1));
      const file = path.join(dir, `${v}-${i}.json`);
      await browser.startTracing(b.page, { path: file, categories: CATEGORIES });
      await b.page.locator('[data-testid=join]').click();
      const first = await face;
      await browser.stopTracing();
      const meta = await b.page.evaluate(() => ({ joinAt: window.__bench.joinAt, idAt: window.__bench.idAt }));
      const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
      // The server logs each join (UTC, microseconds); the joiner is the room's second person.
      if (serverLog) {
        const joins = fs.readFileSync(serverLog, 'utf8').split('\n').filter((l) => l.includes(' join room=') && l.includes('peers=2'));
        if (joins.length) meta.serverAt = Date.parse(joins[joins.length - 1].slice(0, 27));
      }
      console.log(`${v} #${i + 1}: ${analyse(trace.traceEvents ?? trace, { ...meta, face: first })}`);
      await a.context.close();
      await b.context.close();
    }
  }
} finally {
  await browser.close();
  floor.close();
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
}
