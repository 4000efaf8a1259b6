// Real processes for the cluster tests: redis-server on a free loopback port,
// gateway nodes spawned from server/main.ts (through tsx), and nginx with the
// shipped deploy/nginx-cluster.conf, its addresses and ports replaced.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from '../support/ffmpeg.js';
import { freePort, startNginx, type Nginx } from '../support/nginx.js';
import { waitFor } from '../support/wait.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface Redis {
  port: number;
  url: string;
  /** stop it (its data is gone: --save '' --appendonly no) */
  stop(): Promise<void>;
  /** start it again on the same port, empty */
  restart(): Promise<void>;
  cli(...args: string[]): Promise<string>;
}

export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis on ${port}`, () => canConnect(port));
  };
  const cli = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const c = spawn('redis-cli', ['-p', String(port), ...args]);
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('error', reject);
      c.on('exit', () => resolve(out.trim()));
    });
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli,
    async stop() {
      if (child === null) return;
      const c = child;
      child = null;
      c.kill('SIGKILL');
      await exited(c);
    },
    restart: start,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Node {
  httpPort: number;
  rtmpPort: number;
  /** the node's advertised internal URL, its id in the registry */
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
  api<T>(p: string): Promise<T>;
}

/** A gateway process from server/main.ts with `flags`; resolves once it logged its ready line. */
export async function startNode(flags: string[], opts: { readyLines?: number } = {}): Promise<Node> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${httpPort}`;
  if (flags.includes('--cluster-redis')) flags = [...flags, '--cluster-advertise', url];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--host', '127.0.0.1', '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), ...flags],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const want = opts.readyLines ?? 1;
  await waitFor(
    `gateway on ${httpPort} ready`,
    () => {
      if (child.exitCode !== null) throw new Error(`gateway exited: ${out}`);
      return (out.match(/"msg":"ready: /g) ?? []).length >= want;
    },
    60_000,
  ).catch((err: unknown) => {
    // Never ready: nobody will stop it later. Its workers end with their primary's IPC link.
    child.kill('SIGKILL');
    throw err;
  });
  return {
    httpPort,
    rtmpPort,
    url,
    child,
    output: () => out,
    async kill(signal) {
      child.kill(signal);
      await exited(child);
    },
    async api<T>(p: string): Promise<T> {
      const r = await fetch(`${url}${p}`);
      return (await r.json()) as T;
    },
  };
}

export function clusterFlags(redis: Redis, secret: string, ttlMs = 3_000): string[] {
  return ['--cluster-redis', redis.url, '--cluster-secret', secret, '--cluster-ttl-ms', String(ttlMs), '--log-level', 'info'];
}

/** deploy/nginx-cluster.conf with the test's nodes and ports in place of the example addresses. */
export function deployedClusterConf(httpListen: number, rtmpListen: number, nodes: { httpPort: number; rtmpPort: number }[]): string {
  let conf = readFileSync(path.join(root, 'deploy/nginx-cluster.conf'), 'utf8');
  const httpServers = nodes.map((n) => `server 127.0.0.1:${n.httpPort} max_fails=1 fail_timeout=5s;`).join('\n        ');
  const rtmpServers = nodes.map((n) => `server 127.0.0.1:${n.rtmpPort} max_fails=1 fail_timeout=5s;`).join('\n        ');
  const before = conf;
  // Every HTTP upstream (viewers by stream, RTMPT by client) lists the same nodes.
  conf = conf.replace(/(server 10\.0\.0\.1\d:8000 [^\n]*\n\s*)+/g, `${httpServers}\n        `);
  conf = conf.replace(/(server 10\.0\.0\.1\d:1935 [^\n]*\n\s*)+/, `${rtmpServers}\n    `);
  conf = conf.replace('listen 80;', `listen 127.0.0.1:${httpListen};`).replace('listen 1935;', `listen 127.0.0.1:${rtmpListen};`);
  if (conf === before || /server 10\.0\.0\./.test(conf) || !conf.includes(`listen 127.0.0.1:${rtmpListen};`)) {
    throw new Error('deploy/nginx-cluster.conf no longer has the expected server/listen lines');
  }
  // Temp paths inside the test's prefix.
  return conf.replace(
    /^http \{\n/m,
    'http {\n    access_log off;\n    client_body_temp_path temp/body;\n    proxy_temp_path temp/proxy;\n    fastcgi_temp_path temp/fastcgi;\n    uwsgi_temp_path temp/uwsgi;\n    scgi_temp_path temp/scgi;\n',
  );
}

export async function startClusterNginx(nodes: { httpPort: number; rtmpPort: number }[]): Promise<{ nginx: Nginx; http: string; rtmp: string }> {
  const [httpListen, rtmpListen] = [await freePort(), await freePort()];
  const nginx = await startNginx(deployedClusterConf(httpListen, rtmpListen, nodes), httpListen, { modules: [STREAM_MODULE] });
  return { nginx, http: `127.0.0.1:${httpListen}`, rtmp: `127.0.0.1:${rtmpListen}` };
}

/**
 * A 320x180 H.264 + AAC source at about 300 kbit/s (encoded once, cached): hundreds of test
 * viewers in one test process can keep up with it on a busy machine.
 */
export function lowRateSource(): string {
  const file = path.join(CACHE_DIR, 'src-cluster-320x180-25-g25-300k-6s-aac.flv');
  if (existsSync(file)) return file;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const r = spawnSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '6',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
    '-b:v', '300k', '-bf', '0', '-c:a', 'aac', '-b:a', '64k', '-ac', '2', '-f', 'flv', tmp,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make the low-rate source: ${r.stderr}`);
  renameSync(tmp, file);
  return file;
}
