// The internal link's authentication and the cluster flags' validation.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkInternal, CLUSTER_PEER_HEADER, CLUSTER_SECRET_HEADER, generateClusterSecret, secretMatches } from '../../server/cluster/link-auth.js';
import { ConfigError, loadConfig } from '../../server/config.js';

const req = (headers: Record<string, string | string[]>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('internal link authentication', () => {
  it('matches only the exact secret, whatever the lengths', () => {
    expect(secretMatches('s3cret', 's3cret')).toBe(true);
    expect(secretMatches('s3cre', 's3cret')).toBe(false);
    expect(secretMatches('s3cret-longer', 's3cret')).toBe(false);
    expect(secretMatches('', 's3cret')).toBe(false);
  });

  it('a request without the header is public; with it, internal and checked', () => {
    expect(checkInternal(req({}), 'k')).toEqual({ internal: false });
    expect(checkInternal(req({ [CLUSTER_SECRET_HEADER]: 'k', [CLUSTER_PEER_HEADER]: 'http://b:8000' }), 'k')).toEqual({
      internal: true, ok: true, peer: 'http://b:8000',
    });
    expect(checkInternal(req({ [CLUSTER_SECRET_HEADER]: 'nope' }), 'k')).toMatchObject({ internal: true, ok: false });
    // A repeated header arrives as an array: refused, never half-trusted.
    expect(checkInternal(req({ [CLUSTER_SECRET_HEADER]: ['k', 'k'] }), 'k')).toMatchObject({ internal: true, ok: false });
    // No secret configured: nothing is internal-trusted, not even an empty header.
    expect(checkInternal(req({ [CLUSTER_SECRET_HEADER]: '' }), '')).toMatchObject({ internal: true, ok: false });
  });

  it('generated secrets are long and differ', () => {
    const a = generateClusterSecret();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(generateClusterSecret()).not.toBe(a);
  });
});

describe('cluster flags', () => {
  it('default to one process and no cluster', () => {
    const c = loadConfig([], {}).config;
    expect(c.workers).toBe('1');
    expect(c['cluster-redis']).toBe('');
  });

  it('accept workers as a number or auto, and a Redis URL with a secret', () => {
    expect(loadConfig(['--workers', 'auto'], {}).config.workers).toBe('auto');
    expect(loadConfig(['--workers', '4'], {}).config.workers).toBe('4');
    const c = loadConfig(['--cluster-redis', 'redis://127.0.0.1:6379', '--cluster-secret', 'x', '--cluster-advertise', 'http://10.0.0.11:8000'], {}).config;
    expect(c['cluster-advertise']).toBe('http://10.0.0.11:8000');
  });

  it('refuse what cannot work, naming the option', () => {
    expect(() => loadConfig(['--workers', '0'], {})).toThrow(/workers/);
    expect(() => loadConfig(['--workers', 'many'], {})).toThrow(ConfigError);
    expect(() => loadConfig(['--cluster-redis', 'redis://127.0.0.1:6379'], {})).toThrow(/cluster-secret/);
    expect(() => loadConfig(['--cluster-redis', 'http://x', '--cluster-secret', 'x'], {})).toThrow(/redis:\/\//);
    expect(() => loadConfig(['--cluster-advertise', 'not a url'], {})).toThrow(/cluster-advertise/);
    // The primary registers the node under one URL, which a random port cannot give before the workers listen.
    expect(() => loadConfig(['--cluster-redis', 'redis://h:1', '--cluster-secret', 'x', '--workers', '2', '--http-port', '0'], {})).toThrow(/cluster-advertise/);
    expect(loadConfig(['--cluster-redis', 'redis://h:1', '--cluster-secret', 'x', '--workers', '2'], {}).config.workers).toBe('2');
  });
});
