// An Enhanced RTMP (E-RTMP v1/v2) publisher and a tiny RTMP player for tests, built from the
// gateway's own pure RTMP modules. Debian's ffmpeg 5.1 can neither publish nor read Enhanced RTMP,
// so the tests build the ExVideoTagHeader / ExAudioTagHeader bodies themselves (from elementary
// streams, see elementary.ts) and check what comes out byte for byte.
//
// Body layouts follow the veovera "Enhanced RTMP" v2 specification:
//   video: [IsExHeader(1) | FrameType(3) | PacketType(4)] FourCC(4) [SI24 CompositionTime: avc1/hvc1 CodedFrames] data
//   audio: [SoundFormat 9 (4) | PacketType(4)] FourCC(4) data
//   multitrack: [.. | Multitrack] [AvMultitrackType(4) | PacketType(4)] FourCC? { [FourCC] TrackId(8) [Size(24)] data }*
import net from 'node:net';
import { decodeAmf0, encodeAmf0 } from '../../server/amf/amf0.js';
import { EcmaArray, type AmfObject, type AmfValue } from '../../server/amf/types.js';
import { ChunkStreamReader, type RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { ChunkStreamWriter, type OutgoingMessage } from '../../server/rtmp/chunk-writer.js';
import { commandMessage, decodeCommand } from '../../server/rtmp/commands.js';
import { ClientHandshake } from '../../server/rtmp/handshake.js';
import { acknowledgement, Csid, MessageType, setChunkSize } from '../../server/rtmp/messages.js';
import type { OpusClip, VideoClip } from './elementary.js';

// ---- Enhanced RTMP message bodies ---------------------------------------------------------------

export const VideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
  MPEG2TSSequenceStart: 5,
  Multitrack: 6,
  ModEx: 7,
} as const;

export const AudioPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  MultichannelConfig: 4,
  Multitrack: 5,
  ModEx: 7,
} as const;

export const FrameType = { Key: 1, Inter: 2, Disposable: 3, GeneratedKey: 4, Command: 5 } as const;

export const AvMultitrackType = { OneTrack: 0, ManyTracks: 1, ManyTracksManyCodecs: 2 } as const;

export type VideoFourCc = 'avc1' | 'hvc1' | 'av01' | 'vp09' | 'vp08';
export type AudioFourCc = 'Opus' | 'fLaC' | 'ac-3' | 'ec-3' | 'mp4a' | '.mp3';

/** A FourCC as the uint32 E-RTMP puts in onMetaData's videocodecid/audiocodecid (e.g. 'av01' → 0x61763031). */
export function fourCcNumber(fourcc: string): number {
  if (fourcc.length !== 4) throw new Error(`FourCC ${JSON.stringify(fourcc)} is not 4 characters`);
  return Buffer.from(fourcc, 'latin1').readUInt32BE(0);
}

function fourCcBytes(fourcc: string): Buffer {
  if (fourcc.length !== 4) throw new Error(`FourCC ${JSON.stringify(fourcc)} is not 4 characters`);
  return Buffer.from(fourcc, 'latin1');
}

function si24(value: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeIntBE(value, 0, 3);
  return b;
}

function ui24(value: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUIntBE(value, 0, 3);
  return b;
}

/** Whether CodedFrames of this FourCC carry the SI24 composition time (E-RTMP: avc1 and hvc1 only). */
function hasCompositionTime(fourcc: string, packetType: number): boolean {
  return packetType === VideoPacketType.CodedFrames && (fourcc === 'avc1' || fourcc === 'hvc1');
}

export interface ExVideo {
  frameType: number;
  packetType: number;
  fourcc: VideoFourCc;
  data?: Buffer;
  /** SI24 composition time for avc1/hvc1 CodedFrames (default 0) */
  compositionTime?: number;
}

export function exVideoBody(v: ExVideo): Buffer {
  const parts = [Buffer.from([0x80 | (v.frameType << 4) | v.packetType]), fourCcBytes(v.fourcc)];
  if (hasCompositionTime(v.fourcc, v.packetType)) parts.push(si24(v.compositionTime ?? 0));
  if (v.data !== undefined) parts.push(v.data);
  return Buffer.concat(parts);
}

export function exAudioBody(packetType: number, fourcc: AudioFourCc, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([0x90 | packetType]), fourCcBytes(fourcc), data]);
}

/** E-RTMP v2 ModEx prefix with a TimestampOffsetNano (ModExType 0, UI24 ns) before the real packet type. */
export function exVideoModExBody(v: ExVideo, nanoseconds: number): Buffer {
  const parts = [
    Buffer.from([0x80 | (v.frameType << 4) | VideoPacketType.ModEx, 3 - 1]), // modExDataSize - 1
    ui24(nanoseconds),
    Buffer.from([(0 << 4) | v.packetType]), // ModExType TimestampOffsetNano, then the packet type
    fourCcBytes(v.fourcc),
  ];
  if (hasCompositionTime(v.fourcc, v.packetType)) parts.push(si24(v.compositionTime ?? 0));
  if (v.data !== undefined) parts.push(v.data);
  return Buffer.concat(parts);
}

export interface Track<F extends string> {
  trackId: number;
  /** only for ManyTracksManyCodecs */
  fourcc?: F;
  data: Buffer;
  compositionTime?: number;
}

function multitrackTracks<F extends string>(
  multitrackType: number, fourcc: F | undefined, tracks: Track<F>[], withCts: (f: string) => boolean,
): Buffer[] {
  const parts: Buffer[] = [];
  if (multitrackType !== AvMultitrackType.ManyTracksManyCodecs) parts.push(fourCcBytes(fourcc!));
  for (const t of tracks) {
    const f = multitrackType === AvMultitrackType.ManyTracksManyCodecs ? t.fourcc! : fourcc!;
    if (multitrackType === AvMultitrackType.ManyTracksManyCodecs) parts.push(fourCcBytes(f));
    parts.push(Buffer.from([t.trackId]));
    const body = withCts(f) ? Buffer.concat([si24(t.compositionTime ?? 0), t.data]) : t.data;
    if (multitrackType !== AvMultitrackType.OneTrack) parts.push(ui24(body.length));
    parts.push(body);
  }
  return parts;
}

/** Video Multitrack message (E-RTMP v2): every track shares `packetType`. */
export function exVideoMultitrackBody(m: {
  frameType: number;
  multitrackType: number;
  packetType: number;
  fourcc?: VideoFourCc;
  tracks: Track<VideoFourCc>[];
}): Buffer {
  return Buffer.concat([
    Buffer.from([0x80 | (m.frameType << 4) | VideoPacketType.Multitrack, (m.multitrackType << 4) | m.packetType]),
    ...multitrackTracks(m.multitrackType, m.fourcc, m.tracks, (f) => hasCompositionTime(f, m.packetType)),
  ]);
}

/** Audio Multitrack message (E-RTMP v2). */
export function exAudioMultitrackBody(m: {
  multitrackType: number;
  packetType: number;
  fourcc?: AudioFourCc;
  tracks: Track<AudioFourCc>[];
}): Buffer {
  return Buffer.concat([
    Buffer.from([0x90 | AudioPacketType.Multitrack, (m.multitrackType << 4) | m.packetType]),
    ...multitrackTracks(m.multitrackType, m.fourcc, m.tracks, () => false),
  ]);
}

// ---- timed messages from clips ------------------------------------------------------------------

export interface TimedMessage {
  type: 8 | 9 | 18;
  timestamp: number;
  payload: Buffer;
}

export function videoFourCc(clip: VideoClip): VideoFourCc {
  return clip.codec === 'av1' ? 'av01' : 'hvc1';
}

export function videoSequenceStart(clip: VideoClip, timestamp = 0): TimedMessage {
  const payload = exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceStart, fourcc: videoFourCc(clip), data: clip.config });
  return { type: 9, timestamp, payload };
}

export function videoSequenceEnd(clip: VideoClip, timestamp: number): TimedMessage {
  return { type: 9, timestamp, payload: exVideoBody({ frameType: FrameType.Key, packetType: VideoPacketType.SequenceEnd, fourcc: videoFourCc(clip) }) };
}

/**
 * The clip's frames as CodedFrames, shifted by offsetMs. For hvc1, `codedFramesX(i)` picks which
 * frames use CodedFramesX (no composition time) instead of CodedFrames with an SI24 0.
 */
export function videoFrameMessages(clip: VideoClip, opts: { offsetMs?: number; codedFramesX?: (i: number) => boolean } = {}): TimedMessage[] {
  const fourcc = videoFourCc(clip);
  const offset = opts.offsetMs ?? 0;
  return clip.frames.map((f, i) => {
    const x = fourcc === 'hvc1' && (opts.codedFramesX?.(i) ?? false);
    const payload = exVideoBody({
      frameType: f.keyframe ? FrameType.Key : FrameType.Inter,
      packetType: x ? VideoPacketType.CodedFramesX : VideoPacketType.CodedFrames,
      fourcc,
      data: f.data,
    });
    return { type: 9, timestamp: f.timestamp + offset, payload };
  });
}

export function opusSequenceStart(clip: OpusClip, timestamp = 0): TimedMessage {
  return { type: 8, timestamp, payload: exAudioBody(AudioPacketType.SequenceStart, 'Opus', clip.head) };
}

export function opusFrameMessages(clip: OpusClip, offsetMs = 0): TimedMessage[] {
  return clip.packets.map((p) => ({ type: 8, timestamp: p.timestamp + offsetMs, payload: exAudioBody(AudioPacketType.CodedFrames, 'Opus', p.data) }));
}

/** Merge by timestamp; at equal timestamps video goes first, and each list keeps its order. */
export function interleave(...lists: TimedMessage[][]): TimedMessage[] {
  const rank = (m: TimedMessage): number => (m.type === 9 ? 0 : m.type === 8 ? 1 : 2);
  return lists.flat().map((m, i) => ({ m, i })).sort((a, b) => a.m.timestamp - b.m.timestamp || rank(a.m) - rank(b.m) || a.i - b.i).map((x) => x.m);
}

// ---- RTMP client core ---------------------------------------------------------------------------

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
class RtmpClientConnection {
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

// ---- publisher ----------------------------------------------------------------------------------

export interface PublisherOptions {
  /** E-RTMP v2 connect capability list (default av01, hvc1, vp09, Opus) */
  fourCcList?: string[];
  /** the onMetaData object sent with @setDataFrame (as an ECMA array); omitted when null */
  metadata?: AmfObject | null;
}

export interface SendOptions {
  /** 1 = real time, 2 = twice as fast…; Infinity (default) = as fast as the socket takes it */
  speed?: number;
}

export class EnhancedPublisher {
  readonly streamId: number;
  /** every audio/video/data message written, in order */
  readonly sent: TimedMessage[] = [];
  #conn: RtmpClientConnection;
  #loops = new Set<{ stop: () => Promise<void> }>();

  private constructor(conn: RtmpClientConnection, streamId: number) {
    this.#conn = conn;
    this.streamId = streamId;
  }

  /** Connect, createStream, publish (waits for NetStream.Publish.Start) and send @setDataFrame onMetaData. */
  static async publish(url: string, opts: PublisherOptions = {}): Promise<EnhancedPublisher> {
    const conn = await RtmpClientConnection.open(url);
    try {
      await conn.connect({ fourCcList: opts.fourCcList ?? ['av01', 'hvc1', 'vp09', 'Opus'] });
      const streamId = await conn.createStream();
      await conn.streamCommand(['publish', 0, null, conn.target.key, 'live'], streamId, (c) => c.startsWith('NetStream.Publish.'));
      const pub = new EnhancedPublisher(conn, streamId);
      if (opts.metadata !== null && opts.metadata !== undefined) {
        conn.write({
          csid: Csid.Data,
          type: MessageType.DataAmf0,
          streamId,
          timestamp: 0,
          payload: encodeAmf0(['@setDataFrame', 'onMetaData', new EcmaArray(opts.metadata)]),
        });
      }
      return pub;
    } catch (err) {
      conn.socket.destroy();
      throw err;
    }
  }

  get closed(): Promise<void> {
    return this.#conn.closed;
  }

  /** Write one message now. */
  write(m: TimedMessage): boolean {
    this.sent.push(m);
    const csid = m.type === 8 ? Csid.Audio : m.type === 9 ? Csid.Video : Csid.Data;
    return this.#conn.write({ csid, type: m.type, streamId: this.streamId, timestamp: m.timestamp, payload: m.payload });
  }

  /**
   * Send messages in order. With a finite speed, each goes out when (its timestamp − the first one's)
   * / speed has elapsed since the call; otherwise as fast as the socket drains.
   */
  async send(messages: TimedMessage[], opts: SendOptions = {}, shouldStop: () => boolean = () => false): Promise<void> {
    const speed = opts.speed ?? Infinity;
    const start = performance.now();
    const base = messages[0]?.timestamp ?? 0;
    for (const m of messages) {
      if (shouldStop()) return;
      if (Number.isFinite(speed)) {
        const wait = start + (m.timestamp - base) / speed - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        if (shouldStop()) return;
      }
      if (!this.write(m)) await this.#conn.drain();
    }
  }

  /**
   * Repeat `messages` (timestamps within [0, periodMs)) back to back in real time, shifted by
   * firstOffsetMs + n·periodMs, until stop() — for a player that needs a stream that keeps going.
   */
  loop(messages: TimedMessage[], periodMs: number, firstOffsetMs = 0): { stop: () => Promise<void>; done: Promise<void> } {
    let stopped = false;
    const run = async (): Promise<void> => {
      const start = performance.now();
      for (let n = 0; !stopped; n++) {
        const offset = firstOffsetMs + n * periodMs;
        for (const m of messages) {
          if (stopped) return;
          const wait = start + n * periodMs + m.timestamp - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
          if (stopped) return;
          if (!this.write({ ...m, timestamp: m.timestamp + offset })) await this.#conn.drain();
        }
      }
    };
    const done = run().catch(() => {});
    const handle = {
      done,
      stop: async () => {
        stopped = true;
        await done;
        this.#loops.delete(handle);
      },
    };
    this.#loops.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#loops].map((l) => l.stop()));
    await this.#conn.close();
  }
}

// ---- player -------------------------------------------------------------------------------------

/** An RTMP player that records every audio, video and data message it receives. */
export class RtmpPlayer {
  readonly messages: RtmpMessage[] = [];
  #conn: RtmpClientConnection;

  private constructor(conn: RtmpClientConnection) {
    this.#conn = conn;
  }

  /** Connect, createStream and play; resolves at NetStream.Play.Start. */
  static async play(url: string): Promise<RtmpPlayer> {
    const conn = await RtmpClientConnection.open(url);
    try {
      const player = new RtmpPlayer(conn);
      conn.onMedia = (m) => player.messages.push(m);
      await conn.connect({ fpad: false, capabilities: 15, audioCodecs: 0x0fff, videoCodecs: 0xff, fourCcList: ['av01', 'hvc1', 'vp09', 'Opus'] });
      const streamId = await conn.createStream();
      await conn.streamCommand(['play', 0, null, conn.target.key, -1000], streamId, (c) => c.startsWith('NetStream.Play.') && c !== 'NetStream.Play.Reset');
      return player;
    } catch (err) {
      conn.socket.destroy();
      throw err;
    }
  }

  /** onStatus infos received so far */
  get statuses(): AmfObject[] {
    return this.#conn.statuses;
  }

  get closed(): Promise<void> {
    return this.#conn.closed;
  }

  /** Audio and video messages only. */
  media(): RtmpMessage[] {
    return this.messages.filter((m) => m.type === 8 || m.type === 9);
  }

  async close(): Promise<void> {
    await this.#conn.close();
  }
}
