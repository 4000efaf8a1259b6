// A real nginx for tests, started on loopback ports from a config written to a
// temporary prefix. Used as an RTMP peer (libnginx-mod-rtmp) and as a reverse proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const RTMP_MODULE = ['/usr/lib/nginx/modules/ngx_rtmp_module.so', '/usr/share/nginx/modules/ngx_rtmp_module.so'].find(
  (p) => existsSync(p),
);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  prefix: string;
  stop(): Promise<void>;
  log(): string;
}

/** Start nginx with `body` as the config after the process-wide directives; waits until `waitPort` accepts. */
export async function startNginx(body: string, waitPort: number, opts: { rtmp?: boolean; modules?: string[] } = {}): Promise<Nginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'gw-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  mkdirSync(path.join(prefix, 'temp'));
  const modules = [...(opts.rtmp === true ? [RTMP_MODULE] : []), ...(opts.modules ?? [])];
  const load = modules.map((m) => `load_module ${m};\n`).join('');
  const conf = `${load}daemon off;
master_process off;
worker_processes 1;
error_log ${prefix}/logs/error.log info;
pid ${prefix}/nginx.pid;
events { worker_connections 1024; }
${body}
`;
  writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  let err = '';
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitFor(`nginx on port ${waitPort}${err ? `: ${err}` : ''}`, () =>
    child.exitCode !== null
      ? Promise.reject(new Error(`nginx exited: ${err}`))
      : new Promise<boolean>((resolve) => {
          const s = net.connect(waitPort, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        }),
  );
  return {
    prefix,
    log: () => err,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shipped site config with the test's ports in place of 80 and 8000, and the HLS cache under nginx's prefix. */
export function deployedSite(listenPort: number, gatewayPort: number): string {
  const site = readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');
  const out = site
    .replace(/listen 80;/, `listen 127.0.0.1:${listenPort};`)
    .replace(/server 127\.0\.0\.1:8000;/, `server 127.0.0.1:${gatewayPort};`)
    .replace(/proxy_cache_path \/var\/cache\/nginx\//, 'proxy_cache_path temp/');
  if (!out.includes(`server 127.0.0.1:${gatewayPort};`) || !out.includes(`listen 127.0.0.1:${listenPort};`)) throw new Error('deploy/nginx.conf no longer has the expected listen/upstream lines');
  return out;
}

export async function startProxy(gatewayHttpPort: number): Promise<{ nginx: Nginx; base: string }> {
  const port = await freePort();
  const nginx = await startNginx(
    `http {
  access_log off;
  client_body_temp_path temp/body;
  proxy_temp_path temp/proxy;
  fastcgi_temp_path temp/fastcgi;
  uwsgi_temp_path temp/uwsgi;
  scgi_temp_path temp/scgi;
  ${deployedSite(port, gatewayHttpPort)}
}`,
    port,
  );
  return { nginx, base: `127.0.0.1:${port}/live-gateway` };
}
