// Probe: does one page's getUserMedia / track.stop() stall the camera of the other pages of the
// same browser (one shared fake capture device)? Each page holds a camera track playing in a
// <video>; every presented frame time is recorded (requestVideoFrameCallback). Page 1 then does
// one action at a time, and the longest gap in the others' frames around it is printed.
// It answered no (docs/join-timeline.md): at most 84 ms, one frame of the clip, for every action.
// Inside the namespace, no server needed:
//   scripts/netns.sh sh -c 'cd end2end && node bench/probe-camera.mjs'
import http from 'node:http';
import { smallVideoFlag } from '../chromium.mjs';
import { launch } from './people.mjs';

const N = 3;
const server = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>p</title><body></body>'));
await new Promise((r) => server.listen(18197, '127.0.0.1', r));
const browser = await launch([smallVideoFlag()]);
const pages = [];
for (let i = 0; i < N; i++) {
  const ctx = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  await page.goto('http://127.0.0.1:18197/');
  await page.evaluate(async () => {
    window.frames_ = [];
    window.watch = (stream) => {
      const v = document.createElement('video');
      v.muted = true; v.autoplay = true; v.srcObject = stream; document.body.append(v);
      const tick = (now, meta) => { window.frames_.push(performance.timeOrigin + now); v.requestVideoFrameCallback(tick); };
      v.requestVideoFrameCallback(tick);
      return v;
    };
    window.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    window.video = window.watch(window.stream);
  });
  pages.push(page);
}
await new Promise((r) => setTimeout(r, 2000));
const actions = {
  'gum again (keep old)': async () => { window.extra = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); },
  'stop extra': async () => { window.extra.getTracks().forEach((t) => t.stop()); },
  'stop video then gum': async () => { window.stream.getVideoTracks()[0].stop(); window.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); window.video.srcObject = window.stream; },
  'stop all then gum': async () => { window.stream.getTracks().forEach((t) => t.stop()); window.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); window.video.srcObject = window.stream; },
  'gum 160x120 constraints': async () => { window.extra = await navigator.mediaDevices.getUserMedia({ video: { width: 160, height: 120 } }); },
  'stop extra 2': async () => { window.extra.getTracks().forEach((t) => t.stop()); },
  'audiocontext open/close': async () => { const c = new AudioContext(); c.createMediaStreamSource(window.stream); await new Promise((r) => setTimeout(r, 100)); await c.close(); },
  'remove video, new video': async () => { window.video.remove(); window.video = window.watch(window.stream); },
  'new RTCPeerConnection addTrack+offer': async () => { const pc = new RTCPeerConnection(); window.stream.getTracks().forEach((t) => pc.addTrack(t, window.stream)); await pc.setLocalDescription(); window.pcs = [...(window.pcs ?? []), pc]; },
};
for (const [name, fn] of Object.entries(actions)) {
  const t = await pages[0].evaluate(async (src) => { const f = eval(`(${src})`); const t0 = performance.timeOrigin + performance.now(); await f(); return [t0, performance.timeOrigin + performance.now()]; }, fn.toString());
  await new Promise((r) => setTimeout(r, 1500));
  const gaps = await Promise.all(pages.map((p) => p.evaluate(([a, b]) => {
    const fs = window.frames_.filter((x) => x > a - 500 && x < b + 1400);
    let g = 0; for (let i = 1; i < fs.length; i++) g = Math.max(g, fs[i] - fs[i - 1]);
    const first = window.frames_.find((x) => x > a);
    return `${Math.round(g)} (first after ${first ? Math.round(first - a) : '-'})`;
  }, t)));
  console.log(`${name.padEnd(40)} took ${Math.round(t[1] - t[0])} ms; longest frame gap per page (ms): ${gaps.join(' | ')}`);
}
await browser.close();
server.close();
