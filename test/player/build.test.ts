// `npm run build` makes both forms of the player: the classic script the gateway serves, which
// defines window.LiveGateway with the embedding API, and the ES module with type declarations
// that `import { createPlayer } from 'rtmp-flv-gateway/player'` resolves to.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildClassicScripts, buildModule } from '../../scripts/build-player.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Run a classic script as a browser would: loaded from `src`, with window === globalThis. */
function runClassic(files: string[], src: string): Record<string, unknown> {
  const context = vm.createContext({
    URL,
    location: { href: 'http://site.test/page.html' },
    document: { currentScript: { src }, getElementsByTagName: () => [] },
  });
  for (const f of files) vm.runInContext(readFileSync(path.join(ROOT, 'web', f), 'utf8'), context, { filename: f });
  return context.LiveGateway as Record<string, unknown>;
}

describe('the player build', () => {
  beforeAll(async () => {
    await buildClassicScripts();
    await buildModule();
  }, 120_000);

  it('web/player.js defines window.LiveGateway with the embedding API, resolved against its own URL', () => {
    const LG = runClassic(['player.js'], 'http://gw.test/prefix/player.js');
    expect(Object.keys(LG).sort()).toEqual([
      'apiUrl', 'baseUrl', 'buildUrls', 'checkSupport', 'createPlayer', 'defaults', 'describeCodec', 'hlsUrl',
      'loadMpegts', 'mpegtsConfig', 'normalizeProto', 'normalizeRequestedProto', 'normalizeRewind', 'normalizeStream', 'version',
    ]);
    const requested = LG.normalizeRequestedProto as (p: unknown) => string | null;
    expect(['auto', 'LL-HLS', 'wss', 'http-flv', 'rtmp'].map(requested)).toEqual(['auto', 'hls', 'ws', 'http', null]);
    expect(LG.baseUrl).toBe('http://gw.test/prefix/');
    const buildUrls = LG.buildUrls as (s: string, o?: object) => { http: string; ws: string };
    expect(buildUrls('live/cam 1', { params: { sig: 'a b' } })).toEqual({
      http: 'http://gw.test/prefix/live/cam%201.flv?sig=a+b',
      ws: 'ws://gw.test/prefix/live/cam%201.flv?sig=a+b',
    });
    expect((LG.apiUrl as () => string)()).toBe('http://gw.test/prefix/api/streams');
    const hlsUrl = LG.hlsUrl as (s: string, o?: object) => string;
    expect(hlsUrl('live/cam 1', { params: { sig: 'a b' } })).toBe('http://gw.test/prefix/live/cam%201/index.m3u8?sig=a+b');
  });

  it('web/recording-player.js adds the recording API to it', () => {
    const LG = runClassic(['player.js', 'recording-player.js'], 'http://gw.test/player.js');
    for (const k of ['createRecordingPlayer', 'parseRecording', 'recordingUrl', 'recordingsApiUrl']) expect(typeof LG[k]).toBe('function');
    const recordingUrl = LG.recordingUrl as (n: string, o?: object) => string | null;
    expect(recordingUrl('live/cam1/20250101-120000.flv', { download: true })).toBe('http://gw.test/recordings/live/cam1/20250101-120000.flv?download');
    expect(recordingUrl('../etc/passwd')).toBeNull();
  });

  it('the ES module resolves through the package exports and declares its types', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      "const m = await import('rtmp-flv-gateway/player'); console.log(Object.keys(m).sort().join(','));"], { cwd: ROOT, encoding: 'utf8' });
    const names = out.trim().split(',');
    for (const n of ['createPlayer', 'createRecordingPlayer', 'checkSupport', 'buildUrls', 'nextState', 'LIVE_TRANSITIONS']) expect(names).toContain(n);
    const dts = readFileSync(path.join(ROOT, 'dist/player/index.d.ts'), 'utf8');
    expect(dts).toMatch(/export declare function createPlayer\(video: HTMLVideoElement, options: LivePlayerOptions\): LivePlayer;/);
    // mpegts.js stays a dependency of the module, not bundled into it
    expect(readFileSync(path.join(ROOT, 'dist/player/index.js'), 'utf8')).toMatch(/import\("mpegts\.js"\)/);
  });
});
