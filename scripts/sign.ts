// `npm run sign -- --action play --stream live/cam1 --ttl 3600 [--public-host HOST]`
// prints signed URLs. The secret and ports come from the same flags,
// environment and config file as the gateway (--auth-secret, --config, …).
import { ConfigError, loadConfig } from '../server/config.js';
import { signedQuery, type SignedAction } from '../server/auth/signature.js';
import { isSafeName } from '../server/names.js';

function fail(message: string): never {
  process.stderr.write(`sign: ${message}\n`);
  process.exit(2);
}

const own = new Map<string, string>();
const rest: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const name = a.replace(/^--/, '').split('=')[0]!;
  if (['action', 'stream', 'ttl', 'public-host'].includes(name)) {
    const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    if (v === undefined) fail(`--${name} needs a value`);
    own.set(name, v);
  } else {
    rest.push(a);
  }
}
let config;
try {
  config = loadConfig(rest).config;
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const action = own.get('action') ?? 'play';
if (action !== 'play' && action !== 'publish') fail('--action must be play or publish');
const stream = own.get('stream') ?? fail('--stream APP/KEY is required');
const [app, key, extra] = stream.split('/');
if (app === undefined || key === undefined || extra !== undefined || !isSafeName(app) || !isSafeName(key)) {
  fail(`--stream must be APP/KEY with safe names, got ${JSON.stringify(stream)}`);
}
const ttl = Number(own.get('ttl') ?? '3600');
if (!Number.isSafeInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
const secret = config['auth-secret'];
if (secret === '') fail('no secret: pass --auth-secret, RTMP_GATEWAY_AUTH_SECRET or a --config file with auth-secret');
const host = own.get('public-host') ?? 'localhost';
const q = signedQuery(secret, action as SignedAction, stream, ttl);
const rtmp = `rtmp://${host}:${config['rtmp-port']}`;
const web = `http://${host}:${config['http-port']}`;
const lines =
  action === 'publish'
    ? [
        `publish URL:  ${rtmp}/${app}/${key}?${q}`,
        `OBS server:   ${rtmp}/${app}`,
        `OBS key:      ${key}?${q}`,
      ]
    : [
        `HTTP-FLV:     ${web}/${app}/${key}.flv?${q}`,
        `WS-FLV:       ws://${host}:${config['http-port']}/${app}/${key}.flv?${q}`,
        `RTMP play:    ${rtmp}/${app}/${key}?${q}`,
        `demo page:    ${web}/?stream=${app}/${key}&${q}`,
        `embed page:   ${web}/embed.html?stream=${app}/${key}&${q}`,
      ];
process.stdout.write(`${lines.join('\n')}\n(valid for ${ttl} s)\n`);
