// Publisher process (forked by run.ts): a small RTMP client built from the gateway's own protocol modules.
// connect → createStream → publish, then the cached FLV's tags at real-time pace, looping with continuous
// timestamps. Every sent tag is reported to the orchestrator with its send time (the shared monotonic
// clock) and, for video, its payload id, which is how the probes compute latency.
//
// Usage (normally via fork): publisher.ts --host H --port P --app A --key K --file F
import net from 'node:net';
import { parseArgs } from 'node:util';
import { decodeAmf0 } from '../server/amf/amf0.js';
import type { AmfValue } from '../server/amf/types.js';
import { ChunkStreamReader, type RtmpMessage } from '../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../server/rtmp/chunk-writer.js';
import { commandMessage } from '../server/rtmp/commands.js';
import { ClientHandshake } from '../server/rtmp/handshake.js';
import { Csid, MessageType, parseUserControl, setChunkSize, UserControlEvent, userControl } from '../server/rtmp/messages.js';
import { TAG_HEADER_BYTES, TAG_TRAILER_BYTES, TAG_VIDEO } from '../server/media/flv.js';
import { encodeAmf0 } from '../server/amf/amf0.js';
import { exitWithParent, nowMs, send, type PublisherMsg, type SentTag } from './common.js';
import { loadSource } from './media.js';

const CHUNK_SIZE = 4096;

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    app: { type: 'string', default: 'live' },
    key: { type: 'string', default: 'bench' },
    file: { type: 'string' },
  },
});

function emit(msg: PublisherMsg): void {
  send(msg);
}

function fail(message: string): never {
  emit({ k: 'error', message });
  process.stderr.write(`publisher: ${message}\n`);
  setTimeout(() => process.exit(1), 50);
  throw new Error(message);
}

if (opt.port === undefined || opt.file === undefined) fail('--port and --file are required');
const host = opt.host!;
const port = Number(opt.port);
const app = opt.app!;
const key = opt.key!;
const media = loadSource(opt.file!);

const socket = net.connect({ host, port });
socket.setNoDelay(true);
let stopped = false;
const stop = (): void => {
  stopped = true;
  socket.destroy();
};
exitWithParent(stop);
process.on('message', (m: { k?: string }) => {
  if (m?.k === 'stop') {
    stop();
    setTimeout(() => process.exit(0), 20);
  }
});

const writer = new ChunkStreamWriter();
const write = (msg: OutgoingMessage): boolean => socket.write(writer.encode(msg));

// -- replies -----------------------------------------------------------------
type Waiter = (values: AmfValue[], msg: RtmpMessage) => boolean;
const waiters: Waiter[] = [];
function waitFor(pred: Waiter, what: string, timeoutMs = 10_000): Promise<AmfValue[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    waiters.push((values, msg) => {
      if (!pred(values, msg)) return false;
      clearTimeout(t);
      resolve(values);
      return true;
    });
  });
}

const reader = new ChunkStreamReader((msg) => {
  if (msg.type === MessageType.UserControl) {
    const uc = parseUserControl(msg.payload);
    if (uc.event === 'ping-request') write(userControl(UserControlEvent.PingResponse, uc.timestamp));
    return;
  }
  if (msg.type !== MessageType.CommandAmf0) return;
  const values = decodeAmf0(msg.payload);
  if (values[0] === '_error' || (values[0] === 'onStatus' && isError(values[3]))) {
    fail(`server refused: ${JSON.stringify(values.slice(3))}`);
  }
  for (let i = 0; i < waiters.length; i++) {
    if (waiters[i]!(values, msg)) {
      waiters.splice(i, 1);
      return;
    }
  }
});

function isError(info: AmfValue | undefined): boolean {
  return typeof info === 'object' && info !== null && (info as Record<string, unknown>)['level'] === 'error';
}

const handshake = new ClientHandshake();
let handshaken = false;
let onHandshake: () => void = () => {};
socket.on('connect', () => socket.write(handshake.start()));
socket.on('data', (chunk: Buffer) => {
  try {
    if (!handshaken) {
      const r = handshake.push(chunk);
      if (r.send !== null) socket.write(r.send);
      if (!r.done) return;
      handshaken = true;
      onHandshake();
      if (r.rest !== null) reader.push(r.rest);
      return;
    }
    reader.push(chunk);
  } catch (err) {
    fail(`protocol error from server: ${(err as Error).message}`);
  }
});
socket.on('error', (err) => {
  if (!stopped) fail(`socket error: ${err.message}`);
});
socket.on('close', () => {
  if (!stopped) fail('server closed the publishing connection');
});

// -- publishing --------------------------------------------------------------
async function publish(): Promise<number> {
  await new Promise<void>((resolve) => (onHandshake = resolve));
  write(setChunkSize(CHUNK_SIZE));
  writer.setChunkSize(CHUNK_SIZE);
  const tcUrl = `rtmp://${host}:${port}/${app}`;
  write(commandMessage(['connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; rtmp-flv-gateway-bench)', tcUrl }]));
  await waitFor((v) => v[0] === '_result' && v[1] === 1, 'connect _result');
  write(commandMessage(['createStream', 2, null]));
  const created = await waitFor((v) => v[0] === '_result' && v[1] === 2, 'createStream _result');
  const streamId = typeof created[3] === 'number' ? created[3] : 1;
  write(commandMessage(['publish', 3, null, key, 'live'], streamId));
  await waitFor(
    (v) => v[0] === 'onStatus' && typeof v[3] === 'object' && v[3] !== null && (v[3] as Record<string, unknown>)['code'] === 'NetStream.Publish.Start',
    'NetStream.Publish.Start',
  );
  return streamId;
}

function mediaMessage(type: number, streamId: number, timestamp: number, payload: Buffer): OutgoingMessage {
  return { csid: type === TAG_VIDEO ? Csid.Video : Csid.Audio, type, streamId, timestamp, payload };
}

async function main(): Promise<void> {
  const streamId = await publish();
  if (media.metadata !== null) {
    write({
      csid: Csid.Data,
      type: MessageType.DataAmf0,
      streamId,
      timestamp: 0,
      payload: Buffer.concat([encodeAmf0(['@setDataFrame']), media.metadata]),
    });
  }
  if (media.videoConfig !== null) write(mediaMessage(TAG_VIDEO, streamId, 0, media.videoConfig.payload));
  if (media.audioConfig !== null) write(mediaMessage(media.audioConfig.type, streamId, 0, media.audioConfig.payload));
  emit({ k: 'published', t: nowMs(), loopMs: media.loopMs, bytesPerLoop: media.bytesPerLoop });

  const { frames, ids, loopMs } = media;
  const t0 = nowMs();
  let i = 0;
  let loop = 0;
  let sent = 0;
  let maxLagMs = 0;
  const pump = (): void => {
    if (stopped) return;
    const batch: SentTag[] = [];
    for (;;) {
      const f = frames[i]!;
      const ts = f.timestamp + loop * loopMs;
      const due = t0 + ts;
      const now = nowMs();
      if (due > now) break;
      maxLagMs = Math.max(maxLagMs, now - due);
      // The send time is taken just before the bytes are handed to the socket.
      const t = nowMs();
      write(mediaMessage(f.type, streamId, ts, f.payload));
      batch.push({ ty: f.type, n: TAG_HEADER_BYTES + f.payload.length + TAG_TRAILER_BYTES, t, h: ids[i]!, ts });
      sent++;
      if (++i === frames.length) {
        i = 0;
        loop++;
      }
    }
    if (batch.length > 0) emit({ k: 'tags', tags: batch });
    const next = t0 + frames[i]!.timestamp + loop * loopMs;
    setTimeout(pump, Math.max(0, next - nowMs()));
  };
  pump();
  setInterval(() => {
    emit({ k: 'stats', maxLagMs, sent, loops: loop });
    maxLagMs = 0;
  }, 1000).unref();
}

main().catch((err: unknown) => fail((err as Error).message));
