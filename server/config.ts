// One configuration schema, three sources: command-line flags win over
// RTMP_GATEWAY_* environment variables, which win over a JSON config file.
// Every value is validated at start with a message that names the option.
import { readFileSync } from 'node:fs';
import { DEFAULT_AMF_LIMITS } from './amf/types.js';
import { DEFAULT_CHUNK_READER_LIMITS } from './rtmp/chunk-reader.js';
import { isAutoRecordEntry } from './record/recorder.js';
import { parseRelayRule } from './relay/relays.js';

type Kind = 'port' | 'int' | 'string' | 'bool' | 'list';

interface OptionSpec {
  kind: Kind;
  default: number | string | boolean | string[];
  help: string;
  choices?: readonly string[];
  min?: number;
}

export const OPTIONS = {
  'rtmp-port': { kind: 'port', default: 1935, help: 'RTMP listen port' },
  'http-port': { kind: 'port', default: 8000, help: 'HTTP/WebSocket listen port (page, API, HTTP-FLV, WS-FLV)' },
  host: { kind: 'string', default: '0.0.0.0', help: 'address to listen on' },
  'rtmps-port': { kind: 'port', default: 0, help: 'RTMPS (RTMP over TLS) listen port; 0: off. Needs --tls-cert and --tls-key' },
  'tls-cert': { kind: 'string', default: '', help: 'PEM certificate (chain) file for RTMPS' },
  'tls-key': { kind: 'string', default: '', help: 'PEM private key file for RTMPS' },
  rtmpt: { kind: 'bool', default: true, help: 'answer RTMPT (RTMP tunnelled in HTTP POSTs: /open, /idle, /send, /close) on the HTTP port' },
  'rtmpt-idle-timeout-ms': { kind: 'int', default: 15_000, min: 100, help: 'an RTMPT session the client stops polling is closed after this' },
  'rtmpt-max-body-bytes': { kind: 'int', default: 4 * 1024 * 1024, min: 1024, help: 'largest RTMPT request body (413 beyond)' },
  'rtmpt-body-timeout-ms': { kind: 'int', default: 10_000, min: 100, help: 'an RTMPT request body not received within this gets 408' },
  rtmpe: { kind: 'bool', default: true, help: 'answer RTMPE (encrypted handshake, types 6 and 8) on the RTMP port; obfuscation, not security' },
  'log-level': {
    kind: 'string', default: 'info', help: 'log level',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  },
  'cors-origins': { kind: 'list', default: ['*'], help: 'comma-separated origins allowed to fetch streams and API; * for any' },
  'grace-ms': { kind: 'int', default: 0, min: 0, help: 'keep viewers this long waiting for a publisher that left to return (0: end at once)' },
  'duplicate-publish': {
    kind: 'string', default: 'refuse', choices: ['refuse', 'takeover'],
    help: 'what a second publisher on a live key gets: refused, or takes over',
  },
  'auth-secret': { kind: 'string', default: '', help: 'shared secret for signed URLs (?exp=&sig=); empty: signing off' },
  auth: {
    kind: 'string', default: 'both', choices: ['both', 'publish', 'play'],
    help: 'with --auth-secret: which actions need a signed URL',
  },
  'on-publish': { kind: 'string', default: '', help: 'webhook URL asked (JSON POST) before a publish; non-2xx or timeout refuses' },
  'on-play': { kind: 'string', default: '', help: 'webhook URL asked (JSON POST) before a play; non-2xx or timeout refuses' },
  'on-done': { kind: 'string', default: '', help: 'webhook URL told (JSON POST) when a publish or play session ends' },
  'hook-timeout-ms': { kind: 'int', default: 3_000, min: 1, help: 'webhook timeout' },
  'api-token': { kind: 'string', default: '', help: 'bearer token required by /api and /metrics (empty: open)' },
  'trusted-proxies': {
    kind: 'list', default: ['127.0.0.1', '::1'],
    help: 'addresses whose X-Forwarded-For is believed (comma-separated; empty list: never)',
  },
  push: {
    kind: 'list', default: [],
    help: 'push relays, comma-separated APP/KEY=rtmp://host/app/name (APP/*=rtmp://host/app appends the key)',
  },
  pull: { kind: 'list', default: [], help: 'static pull relays, comma-separated APP/KEY=rtmp://host/app/name' },
  'pull-on-demand': {
    kind: 'list', default: [],
    help: 'pull relays started by the first viewer, comma-separated APP/KEY=URL or APP/*=URL',
  },
  'relay-timeout-ms': { kind: 'int', default: 10_000, min: 100, help: 'a relay peer silent this long (no answer, or no media when pulling) is dropped and retried' },
  'rewind-seconds': { kind: 'int', default: 0, min: 0, help: 'keep this many seconds per stream so viewers can join behind live with ?rewind=SECONDS (0: off)' },
  'rewind-max-bytes': { kind: 'int', default: 256 * 1024 * 1024, min: 1024, help: 'memory bound of the rewind window per stream' },
  'write-merge-ms': {
    kind: 'int', default: 0, min: 0,
    help: 'hold viewer writes this many ms to merge them (fewer syscalls, more latency); 0: one write per publisher read',
  },
  'audio-hold-ms': {
    kind: 'int', default: 40, min: 0,
    help: 'audio-only writes wait up to this long to go out with the next video frame (fewer syscalls; video is never held); 0: off',
  },
  'gop-cache': { kind: 'bool', default: true, help: 'cache the last GOP so a new viewer starts on a keyframe at once' },
  'gop-max-bytes': { kind: 'int', default: 12 * 1024 * 1024, min: 0, help: 'GOP cache bound in bytes per stream' },
  'gop-max-ms': { kind: 'int', default: 20_000, min: 0, help: 'GOP cache bound in milliseconds per stream' },
  'slow-soft-bytes': { kind: 'int', default: 2 * 1024 * 1024, min: 1, help: 'unsent bytes after which a viewer skips to the next keyframe' },
  'slow-hard-bytes': { kind: 'int', default: 8 * 1024 * 1024, min: 1, help: 'unsent bytes after which a viewer is disconnected' },
  'slow-max-skip-ms': { kind: 'int', default: 15_000, min: 1, help: 'a viewer skipping frames this long is disconnected' },
  'handshake-timeout-ms': { kind: 'int', default: 5_000, min: 100, help: 'RTMP handshake deadline' },
  'idle-timeout-ms': { kind: 'int', default: 30_000, min: 100, help: 'RTMP connections must publish or play within this' },
  'publisher-timeout-ms': { kind: 'int', default: 15_000, min: 100, help: 'a publisher silent this long is dropped and its key freed' },
  'max-connections': { kind: 'int', default: 5_000, min: 1, help: 'RTMP connections at most' },
  'max-connections-per-address': { kind: 'int', default: 200, min: 1, help: 'RTMP connections at most from one address' },
  'max-message-bytes': { kind: 'int', default: DEFAULT_CHUNK_READER_LIMITS.maxMessageBytes, min: 1024, help: 'largest RTMP message accepted' },
  'amf-max-depth': { kind: 'int', default: DEFAULT_AMF_LIMITS.maxDepth, min: 2, help: 'deepest AMF nesting accepted in commands and metadata' },
  'amf-max-string-bytes': { kind: 'int', default: DEFAULT_AMF_LIMITS.maxStringBytes, min: 256, help: 'longest AMF string accepted' },
  'http-headers-timeout-ms': { kind: 'int', default: 10_000, min: 500, help: 'an HTTP request whose headers take longer is dropped (slowloris)' },
  'max-http-connections': { kind: 'int', default: 10_000, min: 1, help: 'HTTP/WebSocket connections at most' },
  'max-streams': { kind: 'int', default: 1_000, min: 1, help: 'live streams at most' },
  'max-viewers-per-stream': { kind: 'int', default: 10_000, min: 1, help: 'viewers at most per stream' },
  'record-dir': {
    kind: 'string', default: 'recordings',
    help: 'directory for recordings, relative to the working directory; files are APP/KEY/YYYYMMDD-HHMMSS[-N].flv (UTC)',
  },
  record: {
    kind: 'list', default: [],
    help: 'streams recorded as soon as they are published: comma-separated APP/KEY or APP/*, or all (empty: none)',
  },
  'record-max-bytes': {
    kind: 'int', default: 512 * 1024 * 1024, min: 1024 * 1024,
    help: 'a recording moves to a new file at the next keyframe once its file has this many bytes',
  },
  'record-max-seconds': {
    kind: 'int', default: 3600, min: 1,
    help: 'a recording moves to a new file at the next keyframe once its file is this many seconds long',
  },
  workers: { kind: 'string', default: '1', help: 'worker processes sharing the ports (Node cluster); auto: one per CPU; 1: a single process' },
  'cluster-redis': { kind: 'string', default: '', help: 'redis://HOST:PORT of the registry shared by several nodes (empty: one node)' },
  'cluster-advertise': { kind: 'string', default: '', help: 'base URL other nodes use to pull from this one (default http://HOSTNAME:HTTP_PORT)' },
  'cluster-secret': { kind: 'string', default: '', help: 'authenticates internal links between workers and nodes (required with --cluster-redis)' },
  'cluster-ttl-ms': { kind: 'int', default: 5_000, min: 1_000, help: 'a stream or node that stops refreshing its registry entry is forgotten after this' },
  'hls-part-ms': { kind: 'int', default: 300, min: 100, help: 'LL-HLS part target (EXT-X-PART-INF PART-TARGET) in ms' },
  'hls-segment-ms': { kind: 'int', default: 1_000, min: 100, help: 'HLS segments end at the first keyframe after this many ms' },
  'hls-segment-max-ms': { kind: 'int', default: 10_000, min: 100, help: 'an HLS segment without a keyframe for this long is cut anyway (bounds the open segment)' },
  'hls-segments': { kind: 'int', default: 8, min: 2, help: 'HLS segments kept in memory and listed per stream' },
  'hls-max-bytes': { kind: 'int', default: 48 * 1024 * 1024, min: 1024 * 1024, help: 'memory bound of the kept HLS segments per stream' },
  'hls-idle-ms': { kind: 'int', default: 30_000, min: 100, help: 'a stream\'s HLS muxer stops after this long without an HLS request' },
  'hls-session-idle-ms': { kind: 'int', default: 15_000, min: 100, help: 'an HLS viewer without a request for this long has left (viewer counts, on-done)' },
  'hls-max-waits': { kind: 'int', default: 10_000, min: 1, help: 'HLS requests that may wait (blocking playlist reload, preload hints) per stream' },
  'hls-max-sessions': { kind: 'int', default: 100_000, min: 1, help: 'HLS viewer sessions tracked per stream; further clients are served but not counted' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
type ValueOf<K extends Kind> = K extends 'port' | 'int' ? number : K extends 'bool' ? boolean : K extends 'list' ? string[] : string;
export type Config = { -readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]['kind']> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function envName(option: string): string {
  return `RTMP_GATEWAY_${option.toUpperCase().replace(/-/g, '_')}`;
}

function coerce(name: OptionName, raw: unknown, source: string): Config[OptionName] {
  const spec: OptionSpec = OPTIONS[name];
  const where = `${source}: ${name}`;
  switch (spec.kind) {
    case 'port':
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${where} must be a whole number, got ${JSON.stringify(raw)}`);
      if (spec.kind === 'port' && (n < 0 || n > 65535)) throw new ConfigError(`${where} must be a port from 0 to 65535, got ${n}`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${where} must be at least ${spec.min}, got ${n}`);
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(raw)}`);
    case 'list': {
      const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (list === null || !list.every((x) => typeof x === 'string')) {
        throw new ConfigError(`${where} must be a comma-separated list, got ${JSON.stringify(raw)}`);
      }
      return list.map((x: string) => x.trim()).filter((x: string) => x !== '');
    }
    case 'string': {
      if (typeof raw !== 'string') throw new ConfigError(`${where} must be a string`);
      if (raw === '' && spec.default !== '') throw new ConfigError(`${where} must not be empty`);
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        throw new ConfigError(`${where} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      return raw;
    }
  }
}

function isOption(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

export interface ParsedArgs {
  config: Config;
  help: boolean;
  printConfig: boolean;
}

/** Parse `--name value` / `--name=value` flags, the environment and an optional `--config FILE`. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const flags = new Map<OptionName, string>();
  let file: string | undefined = env['RTMP_GATEWAY_CONFIG'];
  let help = false;
  let printConfig = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--print-config') {
      printConfig = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} (options start with --)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    // An unknown flag is reported as unknown before any value is looked for, so it neither swallows
    // the next argument nor, trailing, is reported as needing a value.
    if (name !== 'config' && !isOption(name)) throw new ConfigError(`unknown option --${name} (see --help)`);
    const isBool = name !== 'config' && OPTIONS[name as OptionName].kind === 'bool';
    if (value === undefined && !isBool) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    }
    // `--gop-cache false`: the `--name value` form works for a boolean too, when the value is
    // true/false/1/0.
    if (value === undefined && isBool && /^(true|false|1|0)$/.test(argv[i + 1] ?? '')) value = argv[++i];
    if (name === 'config') {
      file = value;
      continue;
    }
    if (!isOption(name)) throw new ConfigError(`unknown option --${name} (see --help)`);
    flags.set(name, value ?? 'true');
  }

  const config = {} as Record<OptionName, Config[OptionName]>;
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const d = OPTIONS[name].default;
    // A copy: a caller changing its config's lists must not change the table's defaults.
    config[name] = (Array.isArray(d) ? [...d] : d) as Config[OptionName];
  }
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${file}: must hold a JSON object`);
    }
    for (const [key, raw] of Object.entries(parsed)) {
      if (!isOption(key)) throw new ConfigError(`config file ${file}: unknown key ${JSON.stringify(key)}`);
      config[key] = coerce(key, raw, `config file ${file}`);
    }
  }
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const raw = env[envName(name)];
    if (raw !== undefined) config[name] = coerce(name, raw, `environment ${envName(name)}`);
  }
  for (const [name, raw] of flags) config[name] = coerce(name, raw, `--${name}`);
  const result = config as Config;
  if (result['rtmps-port'] !== 0 || result['tls-cert'] !== '' || result['tls-key'] !== '') {
    for (const f of ['tls-cert', 'tls-key'] as const) {
      if (result[f] === '') throw new ConfigError(`rtmps-port needs --${f}`);
      try {
        readFileSync(result[f]);
      } catch (err) {
        throw new ConfigError(`${f}: cannot read ${result[f]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    if (result['rtmps-port'] === 0) throw new ConfigError('tls-cert and tls-key are set but rtmps-port is 0 (off)');
  }
  for (const opt of ['push', 'pull', 'pull-on-demand'] as const) {
    for (const rule of result[opt]) {
      try {
        const parsed = parseRelayRule(rule);
        if (opt === 'pull' && parsed.key === '*') throw new Error('a static pull needs a concrete APP/KEY');
      } catch (err) {
        throw new ConfigError(`${opt}: ${(err as Error).message}`);
      }
    }
  }
  for (const hook of ['on-publish', 'on-play', 'on-done'] as const) {
    const url = result[hook];
    if (url !== '' && !/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError(`${hook} must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  for (const entry of result.record) {
    if (!isAutoRecordEntry(entry)) throw new ConfigError(`record: ${JSON.stringify(entry)} is not APP/KEY, APP/* or all`);
  }
  if (!/^(auto|[1-9]\d{0,2})$/.test(result.workers)) throw new ConfigError(`workers must be a number from 1 or auto, got ${JSON.stringify(result.workers)}`);
  if (result['cluster-redis'] !== '' && !/^rediss?:\/\/\S+$/.test(result['cluster-redis'])) throw new ConfigError('cluster-redis must be a redis:// URL');
  if (result['cluster-redis'] !== '' && result.workers !== '1' && result['cluster-advertise'] === '' && result['http-port'] === 0) {
    throw new ConfigError('workers with cluster-redis and a random http-port need --cluster-advertise');
  }
  if (result['cluster-redis'] !== '' && result['cluster-secret'] === '') throw new ConfigError('cluster-redis needs --cluster-secret');
  if (result['cluster-advertise'] !== '' && !/^https?:\/\/[^\s/]+\/?$/.test(result['cluster-advertise'])) throw new ConfigError('cluster-advertise must be http://HOST:PORT');
  if (result['slow-hard-bytes'] < result['slow-soft-bytes']) {
    throw new ConfigError('slow-hard-bytes must be at least slow-soft-bytes');
  }
  return { config: result, help, printConfig };
}

export function defaultConfig(): Config {
  return loadConfig([], {}).config;
}

export function helpText(): string {
  const lines = ['Usage: npm start -- [options]', '', 'Options (flag, environment variable, default):'];
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const def = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
    const choices = spec.choices !== undefined ? ` (${spec.choices.join('|')})` : '';
    lines.push(`  --${name.padEnd(28)} ${spec.help}${choices}`);
    lines.push(`  ${''.padEnd(30)} env ${envName(name)}, default ${def}`);
  }
  lines.push('  --config FILE                  JSON file with any of the options above (env RTMP_GATEWAY_CONFIG)');
  lines.push('  --print-config                 print the effective configuration as JSON and exit');
  lines.push('  --help                         this text');
  return lines.join('\n');
}
