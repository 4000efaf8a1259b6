// RTMPT with `--workers 2`: every tunnel request may come on a new TCP
// connection and so reach either worker. A proxy that opens a new connection
// for every request (as a proxy without upstream keep-alive does) sits between
// a real ffmpeg and the gateway, so the primary's round robin hands requests of
// one session to both workers; the worker without the session sends them on.
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, publish, run, type Proc } from '../support/ffmpeg.js';
import { waitFor } from '../support/wait.js';
import { lowRateSource, startNode, type Node } from './processes.js';

const SLOW_TEST_MS = 120_000;

interface StreamsApi {
  streams: { name: string; publisher: { protocol: string } | null }[];
}

/** Forwards each request on a connection of its own to the gateway. */
function startNoKeepAliveProxy(target: number): Promise<{ port: number; requests: () => number; close(): void }> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' }, agent: false }, (answer) => {
      // The client's own connection stays open: ffmpeg's rtmpt sends every request on it.
      const { connection: _c, 'keep-alive': _k, ...headers } = answer.headers;
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: (server.address() as AddressInfo).port,
      requests: () => requests,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    }));
  });
}

async function forwarded(node: Node): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_rtmpt_forwarded_requests_total'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('RTMPT with --workers 2', () => {
  let node: Node;
  let proxy: Awaited<ReturnType<typeof startNoKeepAliveProxy>>;
  const procs: Proc[] = [];

  beforeAll(async () => {
    node = await startNode(['--workers', '2', '--slow-max-skip-ms', '600000'], { readyLines: 2 });
    proxy = await startNoKeepAliveProxy(node.httpPort);
  }, SLOW_TEST_MS);

  afterAll(async () => {
    if (process.env['CLUSTER_TEST_LOG'] !== undefined) process.stderr.write(node?.output() ?? '');
    await Promise.all(procs.map((p) => p.stop()));
    proxy?.close();
    await node?.kill('SIGTERM');
  }, SLOW_TEST_MS);

  it('ffmpeg publishes over rtmpt:// with requests landing on both workers; the stream plays over HTTP-FLV', async () => {
    procs.push(publish(`rtmpt://127.0.0.1:${proxy.port}/live/tunnel`, lowRateSource()));
    const live = await waitFor('tunnelled stream live', async () => {
      const s = await node.api<StreamsApi>('/api/streams');
      return s.streams.find((x) => x.name === 'live/tunnel' && x.publisher !== null);
    }, 60_000, 250);
    expect(live.publisher?.protocol).toBe('rtmpt');
    const probed = await ffprobe(`${node.url}/live/tunnel.flv`);
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // Every request came on a new connection: about half reached the worker without the session.
    // The publisher keeps sending: its requests pile up while it runs.
    await waitFor('the publisher\'s requests through the proxy', () => proxy.requests() > 20);
    expect(await waitFor('forwarded requests counted', async () => ((await forwarded(node)) > 10 ? forwarded(node) : undefined))).toBeGreaterThan(10);
  }, SLOW_TEST_MS);

  it('ffmpeg plays over rtmpt:// with requests landing on both workers', async () => {
    procs.push(publish(`rtmp://127.0.0.1:${node.rtmpPort}/live/plain`, lowRateSource()));
    await waitFor('plain stream live', async () => {
      const s = await node.api<StreamsApi>('/api/streams');
      return s.streams.find((x) => x.name === 'live/plain' && x.publisher !== null);
    }, 60_000, 250);
    const before = await forwarded(node);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'rtmpt-workers-')), 'played.flv');
    const player = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', `rtmpt://127.0.0.1:${proxy.port}/live/plain`, '-t', '3', '-c', 'copy', '-f', 'flv', out]);
    procs.push(player);
    expect(await player.exited).toBe(0);
    const probed = await ffprobe(out);
    expect(probed.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(await waitFor('the player\'s requests were forwarded too', async () => {
      const n = await forwarded(node);
      return n > before ? n - before : undefined;
    })).toBeGreaterThan(0);
  }, SLOW_TEST_MS);
});
