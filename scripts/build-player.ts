// `npm run build:player`: the player's TypeScript (player/) into
//   web/player.js, web/recording-player.js  classic scripts the gateway serves (window.LiveGateway)
//   dist/player/index.js + *.d.ts            the ES module `rtmp-flv-gateway/player`
// The classic scripts are build output, not committed; the test suite builds them first too.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'player');

/** Old tablets and TVs run the classic script: transpile down for them. */
const CLASSIC_TARGET = ['es2018'];

const classic = (entry: string, out: string): BuildOptions => ({
  entryPoints: [path.join(SRC, entry)],
  outfile: path.join(ROOT, 'web', out),
  bundle: true,
  format: 'iife',
  target: CLASSIC_TARGET,
  legalComments: 'inline',
  logLevel: 'warning',
});

/** The two classic scripts under web/ (what the gateway serves and the browser tests load). */
export async function buildClassicScripts(): Promise<void> {
  await Promise.all([
    build(classic('classic-live.ts', 'player.js')),
    build(classic('classic-recording.ts', 'recording-player.js')),
  ]);
}

/** The ES module and its type declarations under dist/player/. */
export async function buildModule(): Promise<void> {
  await build({
    entryPoints: [path.join(SRC, 'index.ts')],
    outfile: path.join(ROOT, 'dist', 'player', 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    external: ['mpegts.js'],
    sourcemap: true,
    logLevel: 'warning',
  });
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(SRC, 'tsconfig.json')], { stdio: 'inherit' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildClassicScripts();
  await buildModule();
}
