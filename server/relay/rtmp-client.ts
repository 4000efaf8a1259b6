// An RTMP client connection (RTMP 1.0 spec §7.2 from the client side), for
// relays: publish a stream to another server, or play one from it. It reuses
// the pure handshake, chunk and command modules; this file owns the socket.
import net from 'node:net';
import tls from 'node:tls';
import { decodeAmf0, decodeAmf3CommandPayload } from '../amf/amf0.js';
import { ProtocolError } from '../errors.js';
import type { WriteBatch } from '../hub/write-batch.js';
import type { Logger } from '../log.js';
import { ChunkStreamReader, type RtmpMessage } from '../rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../rtmp/chunk-writer.js';
import { commandMessage, decodeCommand } from '../rtmp/commands.js';
import { OUT_CHUNK_SIZE, type RtmpMediaPort } from '../rtmp/media-output.js';
import { ClientHandshake } from '../rtmp/handshake.js';
import {
  acknowledgement, MessageType, userControlAnswer, readU32Payload, setChunkSize, splitAggregate, userControl,
  UserControlEvent,
} from '../rtmp/messages.js';

export interface RtmpUrl {
  secure: boolean;
  host: string;
  port: number;
  app: string;
  /** stream name with its query, as sent in publish/play */
  name: string;
  tcUrl: string;
}

/** `rtmp[s]://host[:port]/app/name[?query]`; the app is the first path segment. */
export function parseRtmpUrl(url: string): RtmpUrl {
  const m = /^(rtmps?):\/\/([^/:?#]+|\[[^\]]+\])(?::(\d+))?\/([^/?#]+)\/([^#]+)$/.exec(url);
  if (m === null) throw new Error(`not an rtmp:// URL with an app and a stream name: ${url}`);
  const secure = m[1] === 'rtmps';
  const port = m[3] !== undefined ? Number(m[3]) : secure ? 443 : 1935;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { secure, host, port, app: m[4]!, name: m[5]!, tcUrl: `${m[1]}://${m[2]}:${port}/${m[4]}` };
}

export type ClientMode = 'publish' | 'play';

export interface RtmpClientEvents {
  /** publish: NetStream.Publish.Start arrived; play: NetStream.Play.Start arrived */
  ready(): void;
  /** play: a media or data message of the stream */
  message(msg: RtmpMessage): void;
  /** the connection is over; `reason` says why (once) */
  closed(reason: string): void;
}

const TXN_CONNECT = 1;
const TXN_CREATE_STREAM = 4;

export class RtmpClient implements RtmpMediaPort {
  readonly url: RtmpUrl;
  readonly mode: ClientMode;
  streamId = 0;
  #events: RtmpClientEvents;
  #log: Logger;
  #socket: net.Socket | null = null;
  #handshake = new ClientHandshake();
  #handshakeDone = false;
  #reader: ChunkStreamReader;
  #writer = new ChunkStreamWriter();
  #peerWindow = 0;
  #lastAck = 0;
  #closed = false;
  #ready = false;
  #timer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #lastMedia = 0;
  /** play: at least one audio or video message arrived */
  mediaReceived = false;

  /** the gateway's write batching: a pulled stream's reads fan out to viewers as one batch */
  #writeBatch: WriteBatch;

  constructor(
    url: string,
    mode: ClientMode,
    events: RtmpClientEvents,
    log: Logger,
    writeBatch: WriteBatch,
    readonly timeoutMs = 10_000,
  ) {
    this.#writeBatch = writeBatch;
    this.url = parseRtmpUrl(url);
    this.mode = mode;
    this.#events = events;
    this.#log = log;
    this.#reader = new ChunkStreamReader((m) => this.#onMessage(m));
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Bytes queued for the server but not yet sent. */
  get bufferedBytes(): number {
    return this.#socket?.writableLength ?? 0;
  }

  start(): void {
    const { host, port, secure } = this.url;
    const socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) === 0 ? host : undefined })
      : net.connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    // Until the server says the stream started, a silent server is a failure.
    this.#timer = setTimeout(() => this.close(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(this.#handshake.start()));
    socket.on('data', (chunk: Buffer) => this.#writeBatch.run(() => this.#receive(chunk)));
    socket.on('error', (err: NodeJS.ErrnoException) => this.close(`socket error: ${err.code ?? err.message}`));
    socket.on('close', () => this.close('connection closed by the server'));
  }

  /** Send an already chunk-encoded message (e.g. a shared media encoding). */
  writeEncoded(buf: Buffer): void {
    if (!this.#closed && this.#socket !== null) this.#socket.write(buf);
  }

  send(msg: OutgoingMessage): void {
    this.writeEncoded(this.#writer.encode(msg));
  }

  /**
   * A server may answer Play.Start for a stream nobody publishes (nginx-rtmp
   * does) or stall mid-stream; a player that gets no media is not connected.
   */
  #watchMedia(): void {
    this.#lastMedia = Date.now();
    this.#watchdog = setInterval(() => {
      if (Date.now() - this.#lastMedia > this.timeoutMs) this.close(`no media for ${this.timeoutMs} ms`);
    }, Math.min(1_000, this.timeoutMs));
    this.#watchdog.unref();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    this.#socket?.destroy();
    this.#events.closed(reason);
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      if (!this.#handshakeDone) {
        const r = this.#handshake.push(chunk);
        if (r.send !== null) this.#socket!.write(r.send);
        if (!r.done) return;
        this.#handshakeDone = true;
        this.#sendConnect();
        if (r.rest === null) return;
        chunk = r.rest;
      }
      this.#reader.push(chunk);
      if (this.#peerWindow > 0 && this.#reader.bytesReceived - this.#lastAck >= this.#peerWindow) {
        this.#lastAck = this.#reader.bytesReceived;
        this.send(acknowledgement(this.#reader.bytesReceived));
      }
    } catch (err) {
      this.close(err instanceof ProtocolError ? `${err.code} error from server: ${err.message}` : String(err));
    }
  }

  #sendConnect(): void {
    this.send(setChunkSize(OUT_CHUNK_SIZE));
    this.#writer.setChunkSize(OUT_CHUNK_SIZE);
    this.send(
      commandMessage([
        'connect',
        TXN_CONNECT,
        {
          app: this.url.app,
          type: 'nonprivate',
          flashVer: this.mode === 'publish' ? 'FMLE/3.0 (compatible; rtmp-flv-gateway)' : 'LNX 9,0,124,2',
          tcUrl: this.url.tcUrl,
          fpad: false,
          capabilities: 15,
          audioCodecs: 4071,
          videoCodecs: 252,
          videoFunction: 1,
        },
      ]),
    );
  }

  #onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.WindowAckSize:
        this.#peerWindow = readU32Payload(msg, 'Window Acknowledgement Size');
        return;
      case MessageType.UserControl: {
        const answer = userControlAnswer(msg.payload);
        if (answer !== null) this.send(answer);
        return;
      }
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        this.#onCommand(msg);
        return;
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        if (this.mode === 'play' && this.#ready) {
          // Only audio and video prove the stream is there: servers send data messages
          // (|RtmpSampleAccess, onStatus) even for a stream nobody publishes.
          if (msg.type === MessageType.Audio || msg.type === MessageType.Video) {
            this.mediaReceived = true;
            this.#lastMedia = Date.now();
          }
          this.#events.message(msg);
        }
        return;
      case MessageType.Aggregate:
        for (const sub of splitAggregate(msg)) this.#onMessage(sub);
        return;
      default:
        return;
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg.type, msg.payload);
    if (cmd.name === 'reply') {
      // decodeCommand keeps only the name and transaction; the result or status is the fourth value.
      const values = decodeCommandValues(msg);
      if (cmd.method === '_error') {
        this.close(`server refused ${cmd.txn === TXN_CONNECT ? 'connect' : `command ${cmd.txn}`}: ${describe(values[3])}`);
        return;
      }
      if (cmd.method === '_result' && cmd.txn === TXN_CONNECT) {
        if (this.mode === 'publish') {
          this.send(commandMessage(['releaseStream', 2, null, this.url.name]));
          this.send(commandMessage(['FCPublish', 3, null, this.url.name]));
        }
        this.send(commandMessage(['createStream', TXN_CREATE_STREAM, null]));
        return;
      }
      if (cmd.method === '_result' && cmd.txn === TXN_CREATE_STREAM) {
        this.streamId = typeof values[3] === 'number' ? values[3] : 1;
        if (this.mode === 'publish') {
          this.send(commandMessage(['publish', 5, null, this.url.name, 'live'], this.streamId));
        } else {
          this.send(commandMessage(['play', 5, null, this.url.name, -1000], this.streamId));
          this.send(userControl(UserControlEvent.SetBufferLength, this.streamId, 1000));
        }
        return;
      }
      if (cmd.method === 'onStatus') this.#onStatus(values[3]);
      return;
    }
  }

  #onStatus(info: unknown): void {
    const code = typeof info === 'object' && info !== null ? String((info as Record<string, unknown>)['code'] ?? '') : '';
    const level = typeof info === 'object' && info !== null ? String((info as Record<string, unknown>)['level'] ?? '') : '';
    if (code === 'NetStream.Publish.Start' || code === 'NetStream.Play.Start') {
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      if (!this.#ready) {
        this.#ready = true;
        if (this.mode === 'play') this.#watchMedia();
        this.#log.debug({ url: redact(this.url), code }, 'relay connection ready');
        this.#events.ready();
      }
      return;
    }
    if (code === 'NetStream.Play.UnpublishNotify' || code === 'NetStream.Play.Stop' || code === 'NetStream.Play.Complete') {
      this.close(`remote stream ended (${code})`);
      return;
    }
    if (level === 'error') this.close(`server answered ${code}`);
  }
}

function decodeCommandValues(msg: RtmpMessage): unknown[] {
  return msg.type === MessageType.CommandAmf3 ? decodeAmf3CommandPayload(msg.payload) : decodeAmf0(msg.payload);
}

function describe(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `${String(o['code'] ?? 'error')}${o['description'] !== undefined ? ` (${String(o['description'])})` : ''}`;
  }
  return String(v);
}

/** A URL for logs: the stream name's query may hold a secret. */
export function redact(url: RtmpUrl): string {
  return `${url.secure ? 'rtmps' : 'rtmp'}://${url.host}:${url.port}/${url.app}/${url.name.split('?')[0]}`;
}
