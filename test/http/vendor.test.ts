// The player's libraries come from the gateway itself (no CDN): mpegts.js, and hls.js for LL-HLS pages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const require = createRequire(import.meta.url);
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('/vendor', () => {
  it.each([
    ['mpegts.js', 'mpegts.js/dist/mpegts.js'],
    ['hls.js', 'hls.js/dist/hls.js'],
  ])('serves %s from the installed package, as JavaScript', async (file, pkg) => {
    const res = await fetch(gw.httpUrl(`/vendor/${file}`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toBe(readFileSync(require.resolve(pkg), 'utf8'));
  });

  it("does not serve the rest of hls.js's package", async () => {
    expect((await fetch(gw.httpUrl('/vendor/hls-demo.js'))).status).toBe(404);
    expect((await fetch(gw.httpUrl('/vendor/hls.light.js'))).status).toBe(404);
  });
});
