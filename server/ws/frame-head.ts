// Headers of unmasked binary WebSocket frames a server sends (RFC 6455 §5.2), for the three places
// a frame can have in a message (§5.4 Fragmentation): a whole message, the first fragment of one
// (opcode binary, FIN clear) or a later fragment (opcode continuation, FIN clear). A fragmented
// message ends with MESSAGE_END, an empty continuation frame with FIN set. Control frames (ping,
// pong, close) may come between the fragments of a message (§5.4), so the ws package can still
// answer pings on a socket that WS-FLV writes fragments to.
import type { WsFrameHeads } from '../hub/media-tag.js';

const FIN = 0x80;
const OPCODE_CONTINUATION = 0x0;
const OPCODE_BINARY = 0x2;

/** The final, empty fragment that ends a fragmented message. */
export const MESSAGE_END: Buffer = Buffer.from([FIN | OPCODE_CONTINUATION, 0]);

/** Bytes of a frame header for a payload of `n` bytes: 7-bit, 16-bit or 64-bit length (§5.2). */
function headLength(n: number): number {
  return n <= 125 ? 2 : n <= 0xffff ? 4 : 10;
}

function writeHead(out: Buffer, byte0: number, n: number): void {
  out[0] = byte0;
  if (n <= 125) {
    out[1] = n;
  } else if (n <= 0xffff) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
}

/** The three headers for a payload of `n` bytes, in one allocation. */
export function wsFrameHeads(n: number): WsFrameHeads {
  const h = headLength(n);
  const all = Buffer.allocUnsafe(3 * h);
  const whole = all.subarray(0, h);
  const first = all.subarray(h, 2 * h);
  const more = all.subarray(2 * h);
  writeHead(whole, FIN | OPCODE_BINARY, n);
  writeHead(first, OPCODE_BINARY, n);
  writeHead(more, OPCODE_CONTINUATION, n);
  return { whole, first, more };
}
