// The RTMP client core the test publisher and player share: handshake, chunking both ways, commands with transaction ids.
import net from 'node:net';
import { decodeAmf0 } from '../../../server/amf/amf0.js';
import type { AmfObject, AmfValue } from '../../../server/amf/types.js';
import { ChunkStreamReader, type RtmpMessage } from '../../../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../../../server/rtmp/chunk-writer.js';
import { commandMessage, decodeCommand } from '../../../server/rtmp/commands.js';
import { ClientHandshake } from '../../../server/rtmp/handshake.js';
import { acknowledgement, MessageType, setChunkSize } from '../../../server/rtmp/messages.js';

export interface RtmpTarget {
  host: string;
  port: number;
  app: string;
  key: string;
  tcUrl: string;
}

export function parseRtmpUrl(url: string): RtmpTarget {
  const u = new URL(url);
  if (u.protocol !== 'rtmp:') throw new Error(`not an rtmp:// URL: ${url}`);
  const [app, ...rest] = u.pathname.replace(/^\//, '').split('/');
  if (!app || rest.length === 0) throw new Error(`RTMP URL needs /APP/KEY: ${url}`);
  return { host: u.hostname, port: Number(u.port || 1935), app, key: rest.join('/') + u.search, tcUrl: `rtmp://${u.host}/${app}` };
}

const OUT_CHUNK_SIZE = 4096;

/** One RTMP client connection: handshake, chunking both ways, commands with transaction ids. */
export class RtmpClientConnection {
  readonly socket: net.Socket;
  readonly target: RtmpTarget;
  /** rejects when the socket closes; resolves never (use `closed`) */
  readonly closed: Promise<void>;
  /** NetStream onStatus infos received, in order */
  readonly statuses: AmfObject[] = [];
  onMedia: ((msg: RtmpMessage) => void) | null = null;
  #writer = new ChunkStreamWriter();
  #reader: ChunkStreamReader;
  #pending = new Map<number, { resolve: (v: AmfValue[]) => void; reject: (e: Error) => void }>();
  #statusWaiters: { match: (code: string) => boolean; resolve: (info: AmfObject) => void; reject: (e: Error) => void }[] = [];
  #nextTxn = 1;
  #window = 0;
  #acked = 0;
  #error: Error | null = null;

  private constructor(socket: net.Socket, target: RtmpTarget) {
    this.socket = socket;
    this.target = target;
    this.#reader = new ChunkStreamReader((m) => this.#onMessage(m));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => this.#fail(new Error('RTMP connection closed')));
    socket.on('error', (e) => this.#fail(e));
  }

  static async open(url: string): Promise<RtmpClientConnection> {
    const target = parseRtmpUrl(url);
    const socket = net.connect(target.port, target.host);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const conn = new RtmpClientConnection(socket, target);
    await conn.#handshake();
    return conn;
  }

  #handshake(): Promise<void> {
    const hs = new ClientHandshake();
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        try {
          const r = hs.push(chunk);
          if (r.send !== null) this.socket.write(r.send);
          if (!r.done) return;
          this.socket.off('data', onData);
          this.socket.on('data', (d: Buffer) => this.#receive(d));
          if (r.rest !== null) this.#receive(r.rest);
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      };
      this.socket.on('data', onData);
      this.socket.once('close', () => reject(new Error('connection closed during the handshake')));
      this.socket.write(hs.start());
    });
  }

  #receive(d: Buffer): void {
    try {
      this.#reader.push(d);
    } catch (err) {
      this.#fail(err as Error);
      this.socket.destroy();
      return;
    }
    if (this.#window > 0 && this.#reader.bytesReceived - this.#acked >= this.#window) {
      this.#acked = this.#reader.bytesReceived;
      this.write(acknowledgement(this.#reader.bytesReceived));
    }
  }

  #fail(err: Error): void {
    this.#error ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    for (const w of this.#statusWaiters.splice(0)) w.reject(err);
  }

  #onMessage(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.WindowAckSize:
        this.#window = msg.payload.readUInt32BE(0);
        return;
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3: {
        const cmd = decodeCommand(msg.type, msg.payload);
        const values = decodeAmf0(msg.type === MessageType.CommandAmf3 ? msg.payload.subarray(1) : msg.payload);
        if (cmd.name === 'reply' && (cmd.method === '_result' || cmd.method === '_error')) {
          const p = this.#pending.get(cmd.txn);
          this.#pending.delete(cmd.txn);
          if (cmd.method === '_result') p?.resolve(values);
          else p?.reject(new Error(`${cmd.method}: ${JSON.stringify(values[3])}`));
        } else if (cmd.name === 'reply' && cmd.method === 'onStatus') {
          const info = (values[3] ?? {}) as AmfObject;
          this.statuses.push(info);
          const code = String(info['code'] ?? '');
          for (const w of [...this.#statusWaiters]) {
            if (!w.match(code)) continue;
            this.#statusWaiters.splice(this.#statusWaiters.indexOf(w), 1);
            if (info['level'] === 'error') w.reject(new Error(`${code}: ${String(info['description'])}`));
            else w.resolve(info);
          }
        }
        return;
      }
      case MessageType.Audio:
      case MessageType.Video:
      case MessageType.DataAmf0:
        this.onMedia?.(msg);
        return;
      default:
        return;
    }
  }

  /** Encode and write one message; false when the socket buffer is full (wait for 'drain'). */
  write(msg: OutgoingMessage): boolean {
    return this.socket.write(this.#writer.encode(msg));
  }

  async drain(): Promise<void> {
    if (!this.socket.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const onClose = (): void => reject(this.#error ?? new Error('RTMP connection closed'));
      this.socket.once('drain', () => {
        this.socket.off('close', onClose);
        resolve();
      });
      this.socket.once('close', onClose);
    });
  }

  setOutChunkSize(size: number): void {
    this.write(setChunkSize(size));
    this.#writer.setChunkSize(size);
  }

  /** Send a command with a fresh transaction id and wait for its _result. */
  call(name: string, object: AmfValue, args: AmfValue[] = [], streamId = 0): Promise<AmfValue[]> {
    if (this.#error !== null) return Promise.reject(this.#error);
    const txn = this.#nextTxn++;
    const reply = new Promise<AmfValue[]>((resolve, reject) => this.#pending.set(txn, { resolve, reject }));
    this.write(commandMessage([name, txn, object, ...args], streamId));
    return reply;
  }

  /** Send a NetStream command (transaction 0) and wait for an onStatus whose code matches. */
  streamCommand(values: AmfValue[], streamId: number, match: (code: string) => boolean): Promise<AmfObject> {
    if (this.#error !== null) return Promise.reject(this.#error);
    const status = new Promise<AmfObject>((resolve, reject) => this.#statusWaiters.push({ match, resolve, reject }));
    this.write(commandMessage(values, streamId));
    return status;
  }

  async connect(extra: AmfObject = {}): Promise<void> {
    this.setOutChunkSize(OUT_CHUNK_SIZE);
    await this.call('connect', {
      app: this.target.app,
      type: 'nonprivate',
      flashVer: 'FMLE/3.0 (compatible; gateway-tests)',
      tcUrl: this.target.tcUrl,
      ...extra,
    });
  }

  async createStream(): Promise<number> {
    const r = await this.call('createStream', null);
    const id = r[3];
    if (typeof id !== 'number') throw new Error(`createStream answered ${JSON.stringify(r)}`);
    return id;
  }

  async close(): Promise<void> {
    if (!this.socket.destroyed) this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 2_000);
    await this.closed;
    clearTimeout(t);
  }
}
