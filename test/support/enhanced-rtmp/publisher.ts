// The E-RTMP publisher (connect with a FourCC list, publish, send at a chosen speed, loop) and a recording RTMP player.
import { encodeAmf0 } from '../../../server/amf/amf0.js';
import { EcmaArray, type AmfObject } from '../../../server/amf/types.js';
import type { RtmpMessage } from '../../../server/rtmp/chunk-reader.js';
import { Csid, MessageType } from '../../../server/rtmp/messages.js';
import type { TimedMessage } from './timed-messages.js';
import { RtmpClientConnection } from './client-connection.js';

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
