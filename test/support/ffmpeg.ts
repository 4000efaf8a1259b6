// Real ffmpeg publishers and players for integration tests. Test media is
// encoded once per machine into a cache and then published with `-c copy`,
// so tests spend CPU on the gateway, not on x264.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CACHE_DIR = path.join(root, 'test-artifacts', 'cache');
export const ARTIFACTS_DIR = path.join(root, 'test-artifacts');

export interface SourceSpec {
  width: number;
  height: number;
  fps: number;
  /** keyframe interval in frames */
  gop: number;
  seconds: number;
  audio: boolean;
  video?: boolean;
}

export const SOURCE_720P: SourceSpec = { width: 1280, height: 720, fps: 30, gop: 30, seconds: 6, audio: true };

/** Encode (once) an H.264 + AAC FLV test source and return its path. */
export function testSource(spec: SourceSpec = SOURCE_720P): string {
  const video = spec.video !== false;
  const name = `src-${video ? `${spec.width}x${spec.height}-${spec.fps}-g${spec.gop}` : 'novideo'}-${spec.seconds}s${spec.audio ? '-aac' : ''}.flv`;
  const file = path.join(CACHE_DIR, name);
  if (existsSync(file)) return file;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`);
  if (spec.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  args.push('-t', String(spec.seconds));
  if (video) {
    args.push('-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
      '-g', String(spec.gop), '-keyint_min', String(spec.gop), '-sc_threshold', '0', '-b:v', '2500k', '-bf', '0');
  }
  if (spec.audio) args.push('-c:a', 'aac', '-b:a', '128k', '-ac', '2');
  args.push('-f', 'flv', tmp);
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the test source: ${r.stderr}`);
  renameSync(tmp, file);
  return file;
}

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function run(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Publish the cached source in a loop at real-time pace. */
export function publish(url: string, source = testSource(), extra: string[] = []): Proc {
  return run('ffmpeg', [
    '-hide_banner', '-loglevel', 'warning', '-re', '-stream_loop', '-1', '-i', source,
    '-c', 'copy', ...extra, '-f', 'flv', url,
  ]);
}

export interface ProbeResult {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string }[];
}

export function ffprobe(url: string, extra: string[] = []): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', ...extra, url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      if (code !== 0) reject(new Error(`ffprobe exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as ProbeResult);
    });
  });
}
