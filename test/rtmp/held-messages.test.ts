// Media held behind a publish whose access check is still running: handed back in arrival order,
// once, and bounded in bytes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { HELD_BYTES_LIMIT, HeldMessages } from '../../server/rtmp/held-messages.js';
import { ProtocolError } from '../../server/errors.js';

const media = (bytes: number, timestamp = 0): RtmpMessage => ({ csid: 6, type: 9, streamId: 1, timestamp, payload: Buffer.alloc(bytes) });

describe('HeldMessages', () => {
  it('hands back what it holds in arrival order, once', () => {
    const held = new HeldMessages();
    const a = media(10, 0);
    const b = media(20, 40);
    held.hold(a);
    held.hold(b);
    expect(held.bytes).toBe(30);
    expect(held.takeAll()).toEqual([a, b]);
    expect(held.takeAll()).toEqual([]);
    expect(held.bytes).toBe(0);
  });

  it('refuses with a limit error the message that takes it over its byte limit, and only that one', () => {
    const held = new HeldMessages(100);
    held.hold(media(60));
    held.hold(media(40));
    let error: unknown = null;
    try {
      held.hold(media(1));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('limit');
    expect(held.takeAll()).toHaveLength(2);
  });

  it('never keeps more than its limit, whatever the sizes (default: 4 MiB)', () => {
    expect(new HeldMessages().limitBytes).toBe(HELD_BYTES_LIMIT);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 400 }), { maxLength: 40 }), (sizes) => {
        const held = new HeldMessages(1000);
        for (const size of sizes) {
          try {
            held.hold(media(size));
          } catch {
            break;
          }
        }
        const kept = held.takeAll().reduce((n, m) => n + m.payload.length, 0);
        expect(kept).toBeLessThanOrEqual(1000);
      }),
    );
  });
});
