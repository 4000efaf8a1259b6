import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAccessPolicy, type AccessPolicyOptions, type AccessQuestion } from '../../server/auth/access.js';
import { signedQuery, type SignedAction } from '../../server/auth/signature.js';
import { silentLogger } from '../../server/log.js';

const SECRET = 's3cret';

interface Hook {
  url: string;
  /** bodies of the calls received so far */
  calls: Array<Record<string, unknown>>;
  /** the status the next calls are answered with */
  status: number;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function hook(status: number): Promise<Hook> {
  const h: Hook = { url: '', calls: [], status };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      h.calls.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(h.status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return h;
}

function policy(o: Partial<AccessPolicyOptions>) {
  return createAccessPolicy({
    secret: null,
    signed: new Set<SignedAction>(['publish', 'play']),
    onPublish: null,
    onPlay: null,
    hookTimeoutMs: 2000,
    log: silentLogger(),
    ...o,
  });
}

function ask(action: SignedAction, query = '', over: Partial<AccessQuestion> = {}): AccessQuestion {
  return { action, app: 'live', key: 'cam1', query: new URLSearchParams(query), address: '203.0.113.5', protocol: 'rtmp', ...over };
}

const signed = (action: SignedAction, stream = 'live/cam1') => signedQuery(SECRET, action, stream, 300);

describe('createAccessPolicy', () => {
  it('returns no policy at all when nothing is configured', () => {
    expect(policy({})).toBeUndefined();
    // A secret with no action to sign is nothing to check either.
    expect(policy({ secret: SECRET, signed: new Set() })).toBeUndefined();
  });

  describe('signature only', () => {
    const decide = policy({ secret: SECRET })!;

    it('allows correctly signed publish and play', async () => {
      expect(await decide(ask('publish', signed('publish')))).toBeNull();
      expect(await decide(ask('play', signed('play')))).toBeNull();
    });

    it('refuses unsigned, wrongly signed and cross-action requests', async () => {
      expect(await decide(ask('publish'))).toBe('missing exp or sig');
      expect(await decide(ask('publish', signed('publish', 'live/cam2')))).toBe('bad signature');
      expect(await decide(ask('publish', signed('play')))).toBe('bad signature');
    });

    it('signs app/key: the same query for another key is refused', async () => {
      expect(await decide(ask('play', signed('play'), { key: 'cam2' }))).toBe('bad signature');
    });
  });

  describe('webhook only', () => {
    it('asks the publish hook for publishes and lets its answer decide', async () => {
      const onPublish = await hook(200);
      const decide = policy({ onPublish: onPublish.url })!;
      expect(await decide(ask('publish'))).toBeNull();
      onPublish.status = 403;
      expect(await decide(ask('publish'))).toMatch(/403/);
      expect(onPublish.calls).toHaveLength(2);
      expect(onPublish.calls[0]).toMatchObject({ action: 'publish', stream: 'live/cam1', clientIp: '203.0.113.5', protocol: 'rtmp' });
    });

    it('does not ask the publish hook for a play when no play hook is set (and allows it)', async () => {
      const onPublish = await hook(403);
      const decide = policy({ onPublish: onPublish.url })!;
      expect(await decide(ask('play'))).toBeNull();
      expect(onPublish.calls).toHaveLength(0);
    });

    it('asks the play hook for plays only', async () => {
      const onPublish = await hook(200);
      const onPlay = await hook(403);
      const decide = policy({ onPublish: onPublish.url, onPlay: onPlay.url })!;
      expect(await decide(ask('play', '', { protocol: 'http' }))).toMatch(/403/);
      expect(onPlay.calls).toHaveLength(1);
      expect(onPlay.calls[0]).toMatchObject({ action: 'play', protocol: 'http' });
      expect(onPublish.calls).toHaveLength(0);
    });
  });

  describe('signature and webhook', () => {
    it('does not call the webhook when the signature fails', async () => {
      const onPublish = await hook(200);
      const decide = policy({ secret: SECRET, onPublish: onPublish.url })!;
      expect(await decide(ask('publish'))).toBe('missing exp or sig');
      expect(await decide(ask('publish', signed('play')))).toBe('bad signature');
      expect(onPublish.calls).toHaveLength(0);
    });

    it('calls the webhook once the signature passes, and the webhook can still refuse', async () => {
      const onPublish = await hook(200);
      const decide = policy({ secret: SECRET, onPublish: onPublish.url })!;
      const q = signed('publish');
      expect(await decide(ask('publish', q))).toBeNull();
      expect(onPublish.calls).toHaveLength(1);
      // The hook sees the signed query too.
      expect(onPublish.calls[0]!['query']).toEqual(Object.fromEntries(new URLSearchParams(q)));
      onPublish.status = 401;
      expect(await decide(ask('publish', q))).toMatch(/401/);
      expect(onPublish.calls).toHaveLength(2);
    });
  });

  describe('which actions need a signature', () => {
    it('with signed = {publish}, a play passes unsigned while a publish must be signed', async () => {
      const decide = policy({ secret: SECRET, signed: new Set(['publish']) })!;
      expect(await decide(ask('play'))).toBeNull();
      expect(await decide(ask('publish'))).toBe('missing exp or sig');
      expect(await decide(ask('publish', signed('publish')))).toBeNull();
    });

    it('with signed = {play}, a publish passes unsigned while a play must be signed', async () => {
      const decide = policy({ secret: SECRET, signed: new Set(['play']) })!;
      expect(await decide(ask('publish'))).toBeNull();
      expect(await decide(ask('play'))).toBe('missing exp or sig');
      expect(await decide(ask('play', signed('play')))).toBeNull();
    });

    it('with signed = {publish}, the play hook is still asked for plays', async () => {
      const onPlay = await hook(403);
      const decide = policy({ secret: SECRET, signed: new Set(['publish']), onPlay: onPlay.url })!;
      expect(await decide(ask('play'))).toMatch(/403/);
      expect(onPlay.calls).toHaveLength(1);
    });
  });

  describe('onRefused', () => {
    it('is told the action, protocol and reason of each refusal, and nothing of allowed requests', async () => {
      const onRefused = vi.fn();
      const onPlay = await hook(403);
      const decide = policy({ secret: SECRET, signed: new Set(['publish']), onPlay: onPlay.url, onRefused })!;
      await decide(ask('publish', '', { protocol: 'rtmp' }));
      await decide(ask('play', '', { protocol: 'ws' }));
      await decide(ask('publish', signed('publish')));
      expect(onRefused).toHaveBeenCalledTimes(2);
      expect(onRefused).toHaveBeenNthCalledWith(1, 'publish', 'rtmp', 'missing exp or sig');
      expect(onRefused.mock.calls[1]![0]).toBe('play');
      expect(onRefused.mock.calls[1]![1]).toBe('ws');
      expect(onRefused.mock.calls[1]![2]).toMatch(/403/);
    });

    it('logs a warning for each refusal', async () => {
      const log = silentLogger();
      const warn = vi.spyOn(log, 'warn');
      const decide = policy({ secret: SECRET, log })!;
      await decide(ask('play'));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatchObject({ action: 'play', stream: 'live/cam1', reason: 'missing exp or sig' });
    });
  });
});
