// One person on a small uplink, for the throttled-uplink spec and the uplink benchmark (issue 12): a
// network namespace of its own for that person's Chromium, joined to the suite's namespace by a veth
// pair whose far end gets a token bucket (`tc qdisc ... tbf`) on its egress, i.e. on everything that
// person sends. Inside one namespace all traffic between local addresses runs over `lo`, so one
// person can only be shaped from another namespace; netem is not on this machine, tbf is.
// Only inside the private namespace of scripts/netns.sh (it makes links and routes).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_PATH } from './chromium.mjs';

/** The suite's side of the veth pair and the slow person's. */
export const HERE = '10.77.1.1';
export const THERE = '10.77.1.2';

const run = (cmd, ...args) => execFileSync(cmd, args, { stdio: 'pipe' });

/** Opens the namespace and the veth pair (s0 here, s1 there), unthrottled; `wrapper` is where to
 * write the script that starts Chromium inside it (Playwright's `executablePath`). Returns
 * { chromium, throttle(kbit), unthrottle(), close() }. One at a time per suite namespace. */
export async function openSlowLink(wrapper) {
  // The namespace lives as long as this process.
  const holder = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  const ns = `/proc/${holder.pid}/ns/net`;
  const ours = fs.readlinkSync('/proc/self/ns/net');
  const ready = () => { try { return fs.readlinkSync(ns) !== ours; } catch { return false; } };
  for (let i = 0; !ready(); i++) {
    if (i >= 100) { holder.kill(); throw new Error('no network namespace of its own after 5 s'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const inside = (...args) => run('nsenter', `--net=${ns}`, ...args);
  try {
    // Left over when a run was killed before its cleanup: its namespace is gone, its end is not.
    try { run('ip', 'link', 'del', 's0'); } catch { /* none: the usual case */ }
    run('ip', 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 's1');
    run('ip', 'link', 'set', 's1', 'netns', String(holder.pid));
    run('ip', 'addr', 'add', `${HERE}/24`, 'dev', 's0');
    run('ip', 'link', 'set', 's0', 'up');
    inside('ip', 'link', 'set', 'lo', 'up');
    inside('ip', 'addr', 'add', `${THERE}/24`, 'dev', 's1');
    inside('ip', 'link', 'set', 's1', 'up');
    inside('ip', 'route', 'add', 'default', 'via', HERE);
  } catch (e) {
    close();
    throw e;
  }
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec nsenter --net=${ns} ${CHROMIUM_PATH} "$@"\n`, { mode: 0o755 });
  function close() {
    try { run('ip', 'link', 'del', 's0'); } catch { /* gone with the namespace */ }
    holder.kill();
  }
  return {
    chromium: wrapper,
    /** Everything the person sends leaves through s1: a token bucket there is their uplink. */
    throttle: (kbit) => inside('tc', 'qdisc', 'replace', 'dev', 's1', 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', '16kb', 'latency', '200ms'),
    unthrottle: () => inside('tc', 'qdisc', 'del', 'dev', 's1', 'root'),
    close,
  };
}

/** A clip of noise (new every frame) with a moving bar, 15 fps, looped by Chromium's fake camera: it
 * compresses badly, so each video sender uses all the bitrate it may. The flag that makes Chromium use
 * it (written once per machine and size). */
export function noisyVideoFlag(w = 320, h = 240) {
  const frames = 15;
  const file = path.join(os.tmpdir(), `meshcall-noise-${w}x${h}.y4m`);
  if (!fs.existsSync(file)) {
    const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F15:1 Ip A1:1 C420jpeg\n`)];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    for (let f = 0; f < frames; f++) {
      const y = Buffer.alloc(w * h);
      for (let r = 0; r < h; r++)
        for (let c = 0; c < w; c++) y[r * w + c] = (c + f * 8) % 80 < 16 ? 235 : 40 + (random() >> 1);
      parts.push(Buffer.from('FRAME\n'), y, Buffer.alloc((w * h) / 2, 128));
    }
    // Written aside and renamed, so a browser started meanwhile never reads half a clip.
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat(parts));
    fs.renameSync(tmp, file);
  }
  return `--use-file-for-fake-video-capture=${file}`;
}

/** Runs in a page: per connection of `pcs` that is up (connected, or disconnected for the moment: its
 * figures then show the gap), its index and the address the other end sends from; audio samples
 * received and concealed, video frames decoded and the width of the last, freezes, bytes received and sent. */
async function flowsInPage(pcs) {
  const out = [];
  for (const [index, pc] of pcs.entries()) {
    if (pc.connectionState !== 'connected' && pc.connectionState !== 'disconnected') continue;
    const stats = await pc.getStats();
    const f = { index, peer: '?', audioSamples: 0, audioConcealed: 0, frames: 0, freezes: 0, bytes: 0, sent: 0,
      encoded: 0, videoSent: 0, limitation: '', targetBps: 0, availableBps: 0, width: 0 };
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    stats.forEach((r) => {
      if (r.type === 'transport') {
        f.sent += r.bytesSent ?? 0;
        const pair = byId.get(r.selectedCandidatePairId);
        if (pair) f.peer = byId.get(pair.remoteCandidateId)?.address ?? '?';
        f.availableBps = pair?.availableOutgoingBitrate ?? 0;
      }
      // What our video sender does on this connection, and what holds it back (cpu, bandwidth).
      if (r.type === 'outbound-rtp' && r.kind === 'video') {
        f.encoded += r.framesEncoded ?? 0;
        f.videoSent += r.bytesSent ?? 0;
        f.targetBps += r.targetBitrate ?? 0;
        f.limitation = r.qualityLimitationReason ?? '';
      }
      if (r.type !== 'inbound-rtp') return;
      f.bytes += r.bytesReceived ?? 0;
      if (r.kind === 'audio') {
        f.audioSamples += r.totalSamplesReceived ?? 0;
        f.audioConcealed += r.concealedSamples ?? 0;
      } else {
        f.frames += r.framesDecoded ?? 0;
        f.freezes += r.freezeCount ?? 0;
        f.width = Math.max(f.width, r.frameWidth ?? 0);
      }
    });
    // The limits our video sender carries on this connection (setParameters), if any.
    const sender = pc.getSenders().find((x) => x.track?.kind === 'video');
    const encoding = sender?.getParameters().encodings?.[0];
    f.maxBitrate = encoding?.maxBitrate ?? null;
    f.scale = encoding?.scaleResolutionDownBy ?? null;
    // When these figures were read: a busy page answers late, so rates divide by this, not by
    // the time the caller meant to wait.
    f.at = Date.now();
    out.push(f);
  }
  return out;
}

/** `flowsInPage` on `page`, whose connections the expression `pcs` names. */
export const readFlows = (page, pcs) => page.evaluate(`(${flowsInPage})(${pcs})`);

/** What each flow did between two readings of `flowsInPage` (matched by connection index), and over
 * how many milliseconds (`ms`). */
export function flowDelta(before, after) {
  return after.map((a) => {
    const b = before.find((x) => x.index === a.index) ?? {};
    const d = { index: a.index, peer: a.peer, limitation: a.limitation, targetBps: a.targetBps, availableBps: a.availableBps,
      maxBitrate: a.maxBitrate, scale: a.scale, width: a.width,
      ms: Math.max(1, a.at - (b.at ?? a.at)) };
    for (const k of ['audioSamples', 'audioConcealed', 'frames', 'freezes', 'bytes', 'sent', 'encoded', 'videoSent']) d[k] = a[k] - (b[k] ?? 0);
    return d;
  });
}
