// A minimal HTTP-FLV / WS-FLV viewer over a raw TCP socket, built so the load generator spends as little
// CPU per byte as possible: reads land in one shared buffer (net's `onread`, no allocation per read), and
// a small state machine walks the HTTP chunked framing or the WebSocket frame headers, jumping over the
// payload. What it counts is FLV bytes (the body, without chunk or frame headers), the same unit as the
// publisher's "expected" bytes. Probes pass `onPayload` to see the FLV bytes themselves.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { StreamTarget } from './common.js';

/** One read buffer for all bulk viewers of a process: JS is single-threaded and the callback is synchronous. */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export type ViewerState = 'connecting' | 'open' | 'closed';

export interface ViewerOptions {
  /** FLV body bytes as they arrive; the buffer is reused after the call returns, so copy what you keep */
  onPayload?: (buf: Buffer, start: number, end: number) => void;
  onOpen?: () => void;
  onClose?: (error: string | null) => void;
  /** give up on connect + response head after this long */
  connectTimeoutMs?: number;
  /** use a private read buffer (probes) instead of the shared one */
  privateBuffer?: boolean;
}

const enum P {
  Head,
  Identity,
  ChunkSize,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  WsHeader,
  WsPayload,
  Done,
}

const MAX_HEAD = 16 * 1024;

export class Viewer {
  readonly target: StreamTarget;
  state: ViewerState = 'connecting';
  /** FLV body bytes received */
  bytes = 0;
  error: string | null = null;
  readonly startedAt = performance.now();
  #socket: net.Socket;
  #opts: ViewerOptions;
  #p = P.Head;
  #head = '';
  #remaining = 0;
  #chunkSize = 0;
  #wsHdr = Buffer.alloc(14);
  #wsHdrHave = 0;
  #wsHdrNeed = 2;
  #wsOpcode = 0;
  #wsControl: Buffer[] = [];
  #wsKey = randomBytes(16).toString('base64');
  #timer: NodeJS.Timeout | null;

  constructor(target: StreamTarget, opts: ViewerOptions = {}) {
    this.target = target;
    this.#opts = opts;
    const buffer = opts.privateBuffer === true ? Buffer.allocUnsafe(256 * 1024) : SHARED_READ_BUFFER;
    this.#socket = net.connect({
      host: target.host,
      port: target.port,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          this.#feed(buf as Buffer, 0, n);
          return true;
        },
      },
    });
    this.#socket.setNoDelay(true);
    this.#socket.on('connect', () => this.#socket.write(this.#request()));
    this.#socket.on('error', (err) => this.#close(err.message));
    this.#socket.on('close', () => this.#close(this.state === 'open' ? null : 'connection closed before the response'));
    const timeout = opts.connectTimeoutMs ?? 10_000;
    this.#timer = setTimeout(() => {
      if (this.state === 'connecting') this.#close(`no response within ${timeout} ms`);
    }, timeout);
  }

  close(): void {
    this.#socket.destroy();
    this.#close(null);
  }

  #request(): string {
    const { host, port, path } = this.target;
    if (this.target.protocol === 'http') {
      return `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
    }
    return (
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${this.#wsKey}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    );
  }

  #close(error: string | null): void {
    if (this.state === 'closed') return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.state = 'closed';
    this.error = error;
    this.#socket.destroy();
    this.#opts.onClose?.(error);
  }

  #open(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.state = 'open';
    this.#opts.onOpen?.();
  }

  #payload(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.bytes += end - start;
    this.#opts.onPayload?.(buf, start, end);
  }

  #feed(buf: Buffer, i: number, end: number): void {
    while (i < end) {
      switch (this.#p) {
        case P.Head: {
          // The head is short and comes once: latin1 text is fine here.
          const take = Math.min(end - i, MAX_HEAD - this.#head.length);
          const before = this.#head.length;
          this.#head += buf.toString('latin1', i, i + take);
          const at = this.#head.indexOf('\r\n\r\n');
          if (at < 0) {
            if (this.#head.length >= MAX_HEAD) return this.#close('response head too large');
            return;
          }
          i += at + 4 - before;
          if (!this.#parseHead()) return;
          break;
        }
        case P.Identity:
          this.#payload(buf, i, end);
          return;
        case P.ChunkSize: {
          const c = buf[i++]!;
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) this.#chunkSize = this.#chunkSize * 16 + d;
          else if (c === 13) this.#p = P.ChunkSizeLf;
          else if (c === 59 || c === 32 || c === 9) this.#p = P.ChunkExt;
          else return this.#close(`bad chunk size byte ${c}`);
          break;
        }
        case P.ChunkExt:
          if (buf[i++] === 13) this.#p = P.ChunkSizeLf;
          break;
        case P.ChunkSizeLf:
          if (buf[i++] !== 10) return this.#close('bad chunk size line');
          if (this.#chunkSize === 0) {
            this.#p = P.Done;
            return this.#close(null);
          }
          this.#remaining = this.#chunkSize;
          this.#chunkSize = 0;
          this.#p = P.ChunkData;
          break;
        case P.ChunkData: {
          const take = Math.min(this.#remaining, end - i);
          this.#payload(buf, i, i + take);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#p = P.ChunkDataCr;
          break;
        }
        case P.ChunkDataCr:
          if (buf[i++] !== 13) return this.#close('bad chunk trailer');
          this.#p = P.ChunkDataLf;
          break;
        case P.ChunkDataLf:
          if (buf[i++] !== 10) return this.#close('bad chunk trailer');
          this.#p = P.ChunkSize;
          break;
        case P.WsHeader: {
          this.#wsHdr[this.#wsHdrHave++] = buf[i++]!;
          if (this.#wsHdrHave === 2) {
            const len7 = this.#wsHdr[1]! & 0x7f;
            const masked = (this.#wsHdr[1]! & 0x80) !== 0;
            this.#wsHdrNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
          }
          if (this.#wsHdrHave < this.#wsHdrNeed) break;
          this.#startWsFrame();
          if (this.#remaining === 0) this.#endWsFrame();
          break;
        }
        case P.WsPayload: {
          const take = Math.min(this.#remaining, end - i);
          if (this.#wsOpcode <= 2) this.#payload(buf, i, i + take);
          else this.#wsControl.push(Buffer.from(buf.subarray(i, i + take)));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#endWsFrame();
          break;
        }
        case P.Done:
          return;
      }
    }
  }

  /** Returns false when the response was refused (the viewer is closed). */
  #parseHead(): boolean {
    const head = this.#head;
    this.#head = '';
    const statusLine = head.slice(0, head.indexOf('\r\n'));
    const code = Number(statusLine.split(' ')[1]);
    const want = this.target.protocol === 'http' ? 200 : 101;
    if (code !== want) {
      this.#close(`HTTP ${code} (${statusLine})`);
      return false;
    }
    if (this.target.protocol === 'ws') {
      this.#p = P.WsHeader;
    } else {
      const chunked = /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
      this.#p = chunked ? P.ChunkSize : P.Identity;
    }
    this.#open();
    return true;
  }

  #startWsFrame(): void {
    const h = this.#wsHdr;
    this.#wsOpcode = h[0]! & 0x0f;
    const len7 = h[1]! & 0x7f;
    this.#remaining = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? Number(h.readBigUInt64BE(2)) : len7;
    this.#wsControl = [];
    this.#p = P.WsPayload;
  }

  #endWsFrame(): void {
    this.#wsHdrHave = 0;
    this.#wsHdrNeed = 2;
    this.#p = P.WsHeader;
    if (this.#wsOpcode === 0x8) {
      this.#p = P.Done;
      this.#close(null);
    } else if (this.#wsOpcode === 0x9) {
      this.#pong(Buffer.concat(this.#wsControl));
    }
  }

  /** Client frames must be masked (RFC 6455 §5.3); a zero mask keeps the payload as is. */
  #pong(payload: Buffer): void {
    const n = Math.min(payload.length, 125);
    const frame = Buffer.alloc(6 + n);
    frame[0] = 0x8a;
    frame[1] = 0x80 | n;
    payload.copy(frame, 6, 0, n);
    this.#socket.write(frame);
  }
}
