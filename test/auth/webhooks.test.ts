import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAccessPolicy } from '../../server/auth/access.js';
import { callHook, notifyHook, type HookEvent } from '../../server/auth/webhooks.js';
import { silentLogger, type Logger } from '../../server/log.js';

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

interface HookServer {
  url: string;
  received: Received[];
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** A hook endpoint on 127.0.0.1:0 answering each POST with `status`, or never (status null). */
async function hookServer(status: number | null): Promise<HookServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(text) });
      if (status !== null) res.writeHead(status, { 'content-type': 'text/plain' }).end('answer body');
      // else: never answer
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook?x=1`, received };
}

/** A loopback URL nothing listens on (a port just freed). */
async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

const EVENT: HookEvent = {
  action: 'publish',
  app: 'live',
  key: 'cam1',
  stream: 'live/cam1',
  clientIp: '203.0.113.7',
  protocol: 'rtmp',
  query: { token: 'abc' },
};

describe('callHook', () => {
  it('allows (null) on a 200 answer, after POSTing the event as JSON to the URL', async () => {
    const hook = await hookServer(200);
    expect(await callHook(hook.url, EVENT, 2000)).toBeNull();
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]).toEqual({ method: 'POST', url: '/hook?x=1', contentType: 'application/json', body: EVENT });
  });

  it('allows on any 2xx answer', async () => {
    const hook = await hookServer(204);
    expect(await callHook(hook.url, EVENT, 2000)).toBeNull();
  });

  it('refuses on a 403 answer with a reason naming the status', async () => {
    const hook = await hookServer(403);
    const denied = await callHook(hook.url, EVENT, 2000);
    expect(denied).toMatch(/403/);
  });

  it('refuses on a 500 answer', async () => {
    const hook = await hookServer(500);
    expect(await callHook(hook.url, EVENT, 2000)).toMatch(/500/);
  });

  it('refuses a 302 answer rather than following it to a page that answers 200', async () => {
    const target = await hookServer(200);
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(302, { location: target.url }).end());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await callHook(`http://127.0.0.1:${port}/hook`, EVENT, 2000)).toMatch(/302/);
    expect(target.received).toHaveLength(0);
  });

  it('refuses with "timed out" when the hook never answers within the configured timeout', async () => {
    const hook = await hookServer(null);
    const denied = await callHook(hook.url, EVENT, 200);
    expect(denied).toMatch(/timed out/);
    expect(denied).toMatch(/200 ms/);
    expect(hook.received).toHaveLength(1);
  });

  it('refuses (never throws) when the connection is refused', async () => {
    const denied = await callHook(await deadUrl(), EVENT, 2000);
    expect(denied).not.toBeNull();
    expect(denied).toMatch(/^webhook failed/);
  });
});

describe('notifyHook', () => {
  function recordingLogger(): { log: Logger; warn: ReturnType<typeof vi.fn> } {
    const warn = vi.fn();
    return { log: { warn } as unknown as Logger, warn };
  }

  it('posts the done event and logs nothing when the hook accepts', async () => {
    const hook = await hookServer(200);
    const { log, warn } = recordingLogger();
    const done: HookEvent = { ...EVENT, action: 'done', ended: 'publish', reason: 'publisher left', bytes: 1234 };
    notifyHook(hook.url, done, 2000, log);
    await vi.waitFor(() => expect(hook.received).toHaveLength(1));
    expect(hook.received[0]!.body).toEqual(done);
    // Give the answer time to be read; a success must not be logged as a failure.
    await new Promise((r) => setTimeout(r, 50));
    expect(warn).not.toHaveBeenCalled();
  });

  it('returns at once and logs one warning later, with the stream and the error, when the hook is unreachable', async () => {
    const { log, warn } = recordingLogger();
    const url = await deadUrl();
    notifyHook(url, { ...EVENT, action: 'done' }, 500, log);
    // Fire and forget: the caller (a closing session) is not held up while the hook fails.
    expect(warn).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    expect(warn.mock.calls[0]![0]).toMatchObject({ hook: 'on-done', stream: 'live/cam1', err: expect.stringMatching(/\S/) });
  });
});

describe('the event the access policy sends', () => {
  it('has action, app, key, stream, clientIp, protocol and the query as an object', async () => {
    const hook = await hookServer(200);
    const decide = createAccessPolicy({
      secret: null,
      signed: new Set(),
      onPublish: null,
      onPlay: hook.url,
      hookTimeoutMs: 2000,
      log: silentLogger(),
    })!;
    const verdict = await decide({
      action: 'play',
      app: 'live',
      key: 'cam1',
      query: new URLSearchParams('token=abc&user=u1'),
      address: '198.51.100.4',
      protocol: 'ws',
    });
    expect(verdict).toBeNull();
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.contentType).toBe('application/json');
    expect(hook.received[0]!.body).toEqual({
      action: 'play',
      app: 'live',
      key: 'cam1',
      stream: 'live/cam1',
      clientIp: '198.51.100.4',
      protocol: 'ws',
      query: { token: 'abc', user: 'u1' },
    });
  });
});
