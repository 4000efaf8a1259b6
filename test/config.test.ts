import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, OPTIONS, defaultConfig, envName, helpText, loadConfig, type OptionName } from '../server/config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gateway-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `text` to a fresh file and returns its path. */
function configFile(text: string): string {
  const file = path.join(dir, `config-${files++}.json`);
  writeFileSync(file, text);
  return file;
}

/** The ConfigError that loading throws; fails the test when nothing (or something else) is thrown. */
function configError(argv: string[], env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('defaults', () => {
  it('gives every option its documented default when no source sets anything', () => {
    const { config, help, printConfig } = loadConfig([], {});
    expect(help).toBe(false);
    expect(printConfig).toBe(false);
    for (const name of Object.keys(OPTIONS) as OptionName[]) expect(config[name], name).toEqual(OPTIONS[name].default);
    expect(config).toMatchObject({
      'rtmp-port': 1935,
      'http-port': 8000,
      host: '0.0.0.0',
      'cors-origins': ['*'],
      'duplicate-publish': 'refuse',
      'auth-secret': '',
      auth: 'both',
      'hook-timeout-ms': 3000,
      'trusted-proxies': ['127.0.0.1', '::1'],
      'gop-cache': true,
    });
  });

  it('defaultConfig() is the same as loading with no flags and an empty environment', () => {
    expect(defaultConfig()).toEqual(loadConfig([], {}).config);
  });

  it('does not read process.env when an explicit environment is given', () => {
    process.env['RTMP_GATEWAY_RTMP_PORT'] = '4444';
    try {
      expect(loadConfig([], {}).config['rtmp-port']).toBe(1935);
    } finally {
      delete process.env['RTMP_GATEWAY_RTMP_PORT'];
    }
  });
});

describe('sources and precedence', () => {
  it('a flag beats the environment, which beats the config file, for the same key set in all three', () => {
    const file = configFile(JSON.stringify({ 'rtmp-port': 1111, host: '10.0.0.1', 'grace-ms': 100 }));
    const env = { RTMP_GATEWAY_RTMP_PORT: '2222', RTMP_GATEWAY_HOST: '10.0.0.2' };
    const all = loadConfig(['--config', file, '--rtmp-port', '3333'], env).config;
    expect(all['rtmp-port']).toBe(3333); // flag over env and file
    expect(all.host).toBe('10.0.0.2'); // env over file
    expect(all['grace-ms']).toBe(100); // file over default
    // Taking the winning source away reveals the next one.
    expect(loadConfig(['--config', file], env).config['rtmp-port']).toBe(2222);
    expect(loadConfig(['--config', file], {}).config['rtmp-port']).toBe(1111);
  });

  it('takes the config file from RTMP_GATEWAY_CONFIG, and --config overrides that path', () => {
    const a = configFile(JSON.stringify({ 'http-port': 8111 }));
    const b = configFile(JSON.stringify({ 'http-port': 8222 }));
    expect(loadConfig([], { RTMP_GATEWAY_CONFIG: a }).config['http-port']).toBe(8111);
    expect(loadConfig(['--config', b], { RTMP_GATEWAY_CONFIG: a }).config['http-port']).toBe(8222);
    expect(loadConfig([`--config=${b}`], {}).config['http-port']).toBe(8222);
  });

  it('accepts both --name=value and --name value', () => {
    expect(loadConfig(['--http-port=9001'], {}).config['http-port']).toBe(9001);
    expect(loadConfig(['--http-port', '9002'], {}).config['http-port']).toBe(9002);
    // A value may itself contain '=': only the first one splits.
    expect(loadConfig(['--auth-secret=a=b'], {}).config['auth-secret']).toBe('a=b');
  });

  it('derives environment names as RTMP_GATEWAY_ plus the upper-cased option with underscores', () => {
    expect(envName('max-connections-per-address')).toBe('RTMP_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS');
    expect(loadConfig([], { RTMP_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: '7' }).config['max-connections-per-address']).toBe(7);
  });

  it('parses lists from comma-separated strings (trimmed, empties dropped) and from JSON arrays', () => {
    expect(loadConfig(['--cors-origins', 'https://a.example, https://b.example,'], {}).config['cors-origins']).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
    const file = configFile(JSON.stringify({ 'trusted-proxies': ['10.0.0.1', '10.0.0.2'] }));
    expect(loadConfig(['--config', file], {}).config['trusted-proxies']).toEqual(['10.0.0.1', '10.0.0.2']);
    // An empty list is allowed: it means "trust no proxy".
    expect(loadConfig([], { RTMP_GATEWAY_TRUSTED_PROXIES: '' }).config['trusted-proxies']).toEqual([]);
  });

  it('parses booleans: a bare flag is true, and =false, a following false, env 0 and JSON false turn it off', () => {
    expect(loadConfig(['--gop-cache'], { RTMP_GATEWAY_GOP_CACHE: 'false' }).config['gop-cache']).toBe(true);
    expect(loadConfig(['--gop-cache=false'], {}).config['gop-cache']).toBe(false);
    expect(loadConfig(['--gop-cache', 'false'], {}).config['gop-cache']).toBe(false);
    expect(loadConfig(['--gop-cache', '--grace-ms', '5'], {}).config).toMatchObject({ 'gop-cache': true, 'grace-ms': 5 });
    expect(loadConfig([], { RTMP_GATEWAY_GOP_CACHE: '0' }).config['gop-cache']).toBe(false);
    expect(loadConfig(['--config', configFile('{"gop-cache": false}')], {}).config['gop-cache']).toBe(false);
  });

  it('detects --help and -h, and --print-config, without treating them as options', () => {
    expect(loadConfig(['--help'], {}).help).toBe(true);
    expect(loadConfig(['-h'], {}).help).toBe(true);
    expect(loadConfig(['--rtmp-port', '1', '--help'], {})).toMatchObject({ help: true, printConfig: false });
    expect(loadConfig(['--print-config'], {})).toMatchObject({ help: false, printConfig: true });
  });
});

describe('validation errors name the option and where the bad value came from', () => {
  it('refuses an unknown flag, with or without a value, and a stray positional argument', () => {
    expect(configError(['--bogus', '1']).message).toMatch(/unknown option --bogus/);
    expect(configError(['--bogus=1']).message).toMatch(/unknown option --bogus/);
    expect(configError(['--bogus']).message).toMatch(/unknown option --bogus/);
    // The unknown flag must not swallow the next flag as its value and hide it.
    expect(configError(['--bogus', '--rtmp-port', '1']).message).toMatch(/unknown option --bogus/);
    expect(configError(['rtmp-port']).message).toMatch(/unexpected argument "rtmp-port"/);
  });

  it('refuses a flag that needs a value but has none', () => {
    expect(configError(['--rtmp-port']).message).toMatch(/--rtmp-port needs a value/);
  });

  it('refuses an unknown key in the config file, naming the file and the key', () => {
    const file = configFile(JSON.stringify({ 'rtmp-prot': 1935 }));
    const msg = configError(['--config', file]).message;
    expect(msg).toContain(file);
    expect(msg).toMatch(/unknown key "rtmp-prot"/);
  });

  it.each([
    ['70000', /must be a port from 0 to 65535, got 70000/],
    ['-1', /must be a port from 0 to 65535, got -1/],
    ['abc', /must be a whole number, got "abc"/],
    ['80.5', /must be a whole number/],
    ['', /must be a whole number/],
  ])('refuses port %j from every source', (bad, why) => {
    const flag = configError(['--rtmp-port', bad]).message;
    expect(flag).toMatch(/^--rtmp-port: /);
    expect(flag).toMatch(why);
    const env = configError([], { RTMP_GATEWAY_RTMP_PORT: bad }).message;
    expect(env).toMatch(/^environment RTMP_GATEWAY_RTMP_PORT: rtmp-port /);
    expect(env).toMatch(why);
    const file = configFile(JSON.stringify({ 'rtmp-port': bad }));
    const fromFile = configError(['--config', file]).message;
    expect(fromFile).toContain(`config file ${file}: rtmp-port `);
    expect(fromFile).toMatch(why);
  });

  it('refuses non-integer JSON numbers and non-numbers for whole-number options', () => {
    expect(configError(['--config', configFile('{"http-port": 1.5}')]).message).toMatch(/http-port must be a whole number/);
    expect(configError(['--config', configFile('{"http-port": 65536}')]).message).toMatch(/http-port must be a port/);
    expect(configError(['--config', configFile('{"grace-ms": true}')]).message).toMatch(/grace-ms must be a whole number/);
  });

  it('refuses values below an option minimum', () => {
    expect(configError(['--hook-timeout-ms', '0']).message).toMatch(/--hook-timeout-ms: hook-timeout-ms must be at least 1, got 0/);
    expect(configError([], { RTMP_GATEWAY_GRACE_MS: '-5' }).message).toMatch(/RTMP_GATEWAY_GRACE_MS: grace-ms must be at least 0/);
    expect(configError(['--max-message-bytes=1023']).message).toMatch(/max-message-bytes must be at least 1024, got 1023/);
    expect(configError(['--config', configFile('{"handshake-timeout-ms": 99}')]).message).toMatch(
      /config file .*: handshake-timeout-ms must be at least 100, got 99/,
    );
  });

  it('refuses a value outside an option choices, listing the allowed ones', () => {
    const msg = configError(['--duplicate-publish', 'replace']).message;
    expect(msg).toMatch(/--duplicate-publish: duplicate-publish must be one of refuse, takeover, got "replace"/);
    expect(configError([], { RTMP_GATEWAY_AUTH: 'none' }).message).toMatch(/RTMP_GATEWAY_AUTH: auth must be one of both, publish, play/);
    expect(configError(['--log-level=loud']).message).toMatch(/log-level must be one of .*silent/);
  });

  it('refuses an empty value for a string option that has a non-empty default', () => {
    expect(configError(['--host=']).message).toMatch(/--host: host must not be empty/);
  });

  it('refuses bad booleans and wrongly typed JSON values', () => {
    expect(configError([], { RTMP_GATEWAY_GOP_CACHE: 'yes' }).message).toMatch(/RTMP_GATEWAY_GOP_CACHE: gop-cache must be true or false/);
    expect(configError(['--config', configFile('{"host": 5}')]).message).toMatch(/config file .*: host must be a string/);
    expect(configError(['--config', configFile('{"cors-origins": [1]}')]).message).toMatch(/cors-origins must be a comma-separated list/);
  });

  it('refuses a malformed JSON file, naming the file', () => {
    const file = configFile('{"rtmp-port": 1935,');
    const msg = configError(['--config', file]).message;
    expect(msg).toMatch(/^config file /);
    expect(msg).toContain(file);
  });

  it('refuses a missing config file, naming the file', () => {
    const file = path.join(dir, 'does-not-exist.json');
    expect(configError(['--config', file]).message).toContain(`config file ${file}`);
  });

  it.each([['[1, 2]'], ['"text"'], ['42'], ['null']])('refuses a JSON file holding %s rather than an object', (text) => {
    const file = configFile(text);
    expect(configError(['--config', file]).message).toBe(`config file ${file}: must hold a JSON object`);
  });

  it('requires webhook URLs to be http or https', () => {
    for (const hook of ['on-publish', 'on-play', 'on-done']) {
      expect(configError([`--${hook}`, 'ftp://hooks.example/x']).message).toMatch(new RegExp(`${hook} must be an http\\(s\\) URL`));
      expect(configError([`--${hook}`, 'hooks.example/x']).message).toMatch(new RegExp(`${hook} must be an http\\(s\\) URL`));
    }
    expect(configError([], { RTMP_GATEWAY_ON_PLAY: 'http://a b' }).message).toMatch(/on-play must be an http\(s\) URL/);
    const ok = loadConfig(['--on-publish', 'http://127.0.0.1:9/p', '--on-play=https://hooks.example/play'], {}).config;
    expect(ok).toMatchObject({ 'on-publish': 'http://127.0.0.1:9/p', 'on-play': 'https://hooks.example/play', 'on-done': '' });
  });

  it('refuses slow-hard-bytes below slow-soft-bytes, even when they come from different sources', () => {
    expect(configError(['--slow-soft-bytes', '2000', '--slow-hard-bytes', '1999']).message).toMatch(
      /slow-hard-bytes must be at least slow-soft-bytes/,
    );
    // The default hard limit (8 MiB) is below a soft limit raised to 9 MiB.
    expect(configError([], { RTMP_GATEWAY_SLOW_SOFT_BYTES: String(9 * 1024 * 1024) }).message).toMatch(/slow-hard-bytes/);
    expect(loadConfig(['--slow-soft-bytes', '2000', '--slow-hard-bytes', '2000'], {}).config['slow-hard-bytes']).toBe(2000);
  });
});

describe('helpText', () => {
  it('lists every option with its flag, its environment variable and its default', () => {
    const text = helpText();
    for (const [name, spec] of Object.entries(OPTIONS)) {
      expect(text, name).toContain(`--${name} `);
      expect(text, name).toContain(`env ${envName(name)},`);
      const def = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
      expect(text, name).toContain(`env ${envName(name)}, default ${def}`);
    }
    expect(text).toContain('--config FILE');
    expect(text).toContain('RTMP_GATEWAY_CONFIG');
    expect(text).toContain('--help');
  });

  it('shows the allowed choices of options that have them', () => {
    expect(helpText()).toContain('(refuse|takeover)');
    expect(helpText()).toContain('(both|publish|play)');
  });
});
