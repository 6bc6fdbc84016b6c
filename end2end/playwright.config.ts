// The end-to-end suite: several headless Chromium pages (Debian's /usr/bin/chromium, never a downloaded
// one) in meshcall rooms served by the release `meshcall-server`. Run it through `make test` or
// `make e2e`: they start it inside a private network namespace with a veth pair, because WebRTC between
// pages needs a non-loopback interface (Chromium gathers no loopback ICE candidates).
//
// Pages load from http://127.0.0.1:<port>: loopback is a secure context, so getUserMedia exists, while
// ICE still connects over the veth addresses. (A page from http://10.77.0.1 is not a secure context:
// navigator.mediaDevices is undefined there unless Chromium gets --unsafely-treat-insecure-origin-as-secure.)
import { defineConfig } from '@playwright/test';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.mjs';
import { BASE_URL, PORT, SMALL_ROOM_LIMIT, SMALL_ROOM_PORT } from './env';

const server = process.env.MESHCALL_SERVER_BIN ?? '../target/release/meshcall-server';
const dist = process.env.MESHCALL_DIST ?? '../dist';

function serve(port: number, extra: string[] = []) {
  return {
    command: [server, '--addr', `127.0.0.1:${port}`, '--static-dir', dist, ...extra].join(' '),
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 2_000 },
  };
}

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // Generous per test (four pages joining on two busy cores); each assertion keeps its own tight limit.
  timeout: 180_000,
  expect: { timeout: 15_000 },
  // 2 cores: one worker; every test already runs 3-4 pages with live video.
  workers: 1,
  fullyParallel: false,
  // Flakiness must show, never be retried away.
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
  ],
  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    permissions: ['camera', 'microphone'],
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: [
    serve(PORT),
    serve(SMALL_ROOM_PORT, ['--max-peers-per-room', String(SMALL_ROOM_LIMIT)]),
  ],
});
