// Starting the servers under test as separate processes on free loopback ports, and every child
// process's lifecycle: each one is registered so that it is killed on exit, Ctrl-C or a fatal error.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CACHE_DIR, ROOT, sleep, type ServerKind } from './common.js';

// -- child registry ------------------------------------------------------------
const children = new Set<ChildProcess>();
let niceness = 0;

/** Scheduling priority for every child started from now on (and this process): see --nice. */
export function setNiceness(n: number): void {
  niceness = n;
  if (n !== 0) os.setPriority(n);
}

function track(child: ChildProcess): ChildProcess {
  if (niceness !== 0 && child.pid !== undefined) {
    try {
      os.setPriority(child.pid, niceness);
    } catch {
      /* not allowed: keep the default priority */
    }
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
}

let installed = false;
/** Kill every registered child when this process ends, however it ends. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`. Resolves when the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

// -- ports -----------------------------------------------------------------------
/** A port the OS says is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function waitListening(ports: number[], child: ChildProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
      }
      if (await canConnect(port)) break;
      if (Date.now() > deadline) throw new Error(`${what} did not listen on port ${port} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

// -- servers -----------------------------------------------------------------------
export interface RunningServer {
  kind: ServerKind;
  child: ChildProcess;
  pid: number;
  rtmpPort: number;
  httpPort: number;
  /** the command line, for RESULTS.md */
  command: string;
  log: string;
}

export interface ServerOptions {
  /** directory for `node --cpu-prof` output (gateway only) */
  cpuProfDir?: string;
  /** gateway: --workers N (1: a single process, as before) */
  workers?: number;
  /** gateway: a node of a cluster sharing this Redis (the multi-node bench) */
  cluster?: { redisUrl: string; secret: string };
  label: string;
}

const LOG_DIR = path.join(CACHE_DIR, 'logs');

function logFile(label: string): { fd: number; file: string } {
  mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${label}.log`);
  return { fd: openSync(file, 'w'), file };
}

/**
 * The gateway as `node --import tsx server/main.ts …`: the same code `npx tsx server/main.ts` runs, but as a
 * single process, so /proc/PID is the server itself (npx and the tsx CLI would each add a wrapper process).
 */
export async function startGateway(opts: ServerOptions): Promise<RunningServer> {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const nodeArgs = opts.cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const args = [
    ...nodeArgs, '--import', 'tsx', 'server/main.ts',
    '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--host', '127.0.0.1', '--log-level', 'warn',
    ...(opts.workers !== undefined && opts.workers > 1 ? ['--workers', String(opts.workers)] : []),
    ...(opts.cluster !== undefined
      ? ['--cluster-redis', opts.cluster.redisUrl, '--cluster-secret', opts.cluster.secret, '--cluster-advertise', `http://127.0.0.1:${httpPort}`]
      : []),
  ];
  const log = logFile(opts.label);
  const child = track(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', log.fd, log.fd] }));
  closeSync(log.fd);
  const server: RunningServer = {
    kind: 'gateway', child, pid: child.pid!, rtmpPort, httpPort,
    command: `node ${args.join(' ')}`, log: log.file,
  };
  // Workers start (and compile through tsx) in parallel: on a busy machine that takes a while.
  await waitListening([rtmpPort, httpPort], child, 90_000, 'gateway');
  return server;
}

/**
 * node-media-server 4.x through its own bin/app.js, with a config file of ours: loopback only, no
 * RTMPS/HTTPS, no web admin or JWT API, no recording. Its secrets are set so that app.js does not
 * rewrite the config file. Everything else (logging included) is as shipped.
 */
export async function startNms(opts: ServerOptions): Promise<RunningServer> {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const dir = path.join(CACHE_DIR, 'nms');
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        bind: '127.0.0.1',
        notify: { url: '' },
        store: { path: './data', maxHistory: 10000 },
        auth: { play: false, publish: false, secret: 'bench-not-a-secret' },
        rtmp: { port: rtmpPort },
        http: { port: httpPort },
        webadmin: { enable: false },
        record: { auto: false, path: './record' },
      },
      null,
      4,
    ),
  );
  const bin = path.join('node_modules', 'node-media-server', 'bin', 'app.js');
  const args = [bin, '-c', path.relative(ROOT, config), '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)];
  const log = logFile(opts.label);
  const child = track(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', log.fd, log.fd] }));
  closeSync(log.fd);
  const server: RunningServer = {
    kind: 'nms', child, pid: child.pid!, rtmpPort, httpPort,
    command: `node ${args.join(' ')}`, log: log.file,
  };
  await waitListening([rtmpPort, httpPort], child, 30_000, 'node-media-server');
  return server;
}

/** redis-server on a free loopback port, nothing saved to disk (the multi-node bench's registry). */
export async function startRedis(label: string): Promise<{ child: ChildProcess; url: string; command: string }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const log = logFile(label);
  const child = track(spawn('redis-server', args, { cwd: ROOT, stdio: ['ignore', log.fd, log.fd] }));
  closeSync(log.fd);
  await waitListening([port], child, 10_000, 'redis-server');
  return { child, url: `redis://127.0.0.1:${port}`, command: `redis-server ${args.join(' ')}` };
}

export function startServer(kind: ServerKind, opts: ServerOptions): Promise<RunningServer> {
  return kind === 'gateway' ? startGateway(opts) : startNms(opts);
}

/** Fork a bench TypeScript module as a child with IPC (run through tsx like everything else). */
export function forkBench(module: string, args: string[], label: string): ChildProcess {
  const log = logFile(label);
  const child = track(
    fork(path.join(ROOT, 'bench', module), args, {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', log.fd, log.fd, 'ipc'],
    }),
  );
  closeSync(log.fd);
  return child;
}
