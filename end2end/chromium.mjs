// The one Chromium setup every browser run of end2end/ uses: the suite (playwright.config.ts, the
// fault specs) and the benchmarks (bench/). Debian's /usr/bin/chromium, never a downloaded one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM_PATH = process.env.MESHCALL_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that work headless as root on this machine; the fake devices give a moving test pattern and
 * a beep, and the permission prompt is answered yes. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

/** No throttling of pages Chromium might consider in the background: in a benchmark every page of a
 * call is a person in front of a screen. */
export const NO_BACKGROUND_THROTTLING = [
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/** The fake camera as a clip of moving bars (a y4m file Chromium loops), 160x120 at 15 fps unless
 * asked: so thirty decoders fit on two cores. Written once per machine, size and rate; the flag that
 * makes Chromium use it. */
export function smallVideoFlag(w = 160, h = 120, fps = 15) {
  const frames = 30;
  const file = path.join(os.tmpdir(), `meshcall-${w}x${h}${fps === 15 ? '' : `-${fps}fps`}.y4m`);
  if (!fs.existsSync(file)) {
    const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`)];
    for (let f = 0; f < frames; f++) {
      const y = Buffer.alloc(w * h);
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) y[r * w + c] = (c + f * 5) % 40 < 20 ? 40 : 200;
      parts.push(Buffer.from('FRAME\n'), y, Buffer.alloc((w * h) / 2, 128));
    }
    // Written aside and renamed, so a browser started meanwhile never reads half a clip.
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat(parts));
    fs.renameSync(tmp, file);
  }
  return `--use-file-for-fake-video-capture=${file}`;
}

/** A microphone that hears nothing: a second of silence (a WAV Chromium loops), for the people a test
 * wants quiet while their microphone is on. Written once per machine; the flag that makes Chromium use
 * it instead of its beep. */
export function silentAudioFlag() {
  const file = path.join(os.tmpdir(), 'meshcall-silence-48k.wav');
  if (!fs.existsSync(file)) {
    const rate = 48_000, bytes = rate * 2;
    const head = Buffer.alloc(44);
    head.write('RIFF', 0);
    head.writeUInt32LE(36 + bytes, 4);
    head.write('WAVEfmt ', 8);
    head.writeUInt32LE(16, 16); // fmt chunk size
    head.writeUInt16LE(1, 20); // PCM
    head.writeUInt16LE(1, 22); // mono
    head.writeUInt32LE(rate, 24);
    head.writeUInt32LE(rate * 2, 28); // bytes per second
    head.writeUInt16LE(2, 32); // bytes per frame
    head.writeUInt16LE(16, 34); // bits per sample
    head.write('data', 36);
    head.writeUInt32LE(bytes, 40);
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat([head, Buffer.alloc(bytes)]));
    fs.renameSync(tmp, file);
  }
  return `--use-file-for-fake-audio-capture=${file}`;
}
