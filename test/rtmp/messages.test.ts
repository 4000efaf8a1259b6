// messages.ts: protocol control (§5.4), user control (§6.2 / §7.1.7) and
// aggregate (§7.1.6) messages.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import type { RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import {
  acknowledgement, Csid, MessageType, parseUserControl, readU32Payload, setChunkSize, setPeerBandwidth, splitAggregate,
  userControl, userControlAnswer, UserControlEvent, windowAckSize,
} from '../../server/rtmp/messages.js';
import { expectProtocolError, hex } from './fixtures.js';

const rtmp = (type: number, payload: Buffer, timestamp = 0, streamId = 0, csid = 4): RtmpMessage => ({
  csid, type, streamId, timestamp, payload,
});

describe('protocol control message encoders (§5.4)', () => {
  it('encodes Set Chunk Size as a 31-bit big-endian value on chunk stream 2, stream 0', () => {
    expect(setChunkSize(4096)).toEqual({ csid: 2, type: 1, streamId: 0, timestamp: 0, payload: hex('00001000') });
    // the top bit is reserved and must be zero
    expect(setChunkSize(0x80001000).payload).toEqual(hex('00001000'));
  });

  it('encodes Acknowledgement, Window Acknowledgement Size and Set Peer Bandwidth', () => {
    expect(acknowledgement(0x01020304)).toMatchObject({ csid: Csid.Control, type: MessageType.Acknowledgement, payload: hex('01020304') });
    expect(windowAckSize(2_500_000)).toMatchObject({ csid: 2, type: 5, streamId: 0, payload: hex('002625a0') });
    expect(setPeerBandwidth(2_500_000)).toMatchObject({
      csid: 2,
      type: 6,
      payload: hex(
        '002625a0', // window 2 500 000
        '02', //       limit type 2 (dynamic) by default
      ),
    });
    expect(setPeerBandwidth(1000, 0).payload).toEqual(hex('000003e8 00')); // hard limit
  });

  it('reads a 4-byte control payload and refuses a shorter one', () => {
    expect(readU32Payload(rtmp(5, hex('00001000')), 'Window Acknowledgement Size')).toBe(4096);
    expectProtocolError(() => readU32Payload(rtmp(5, hex('001000')), 'Window Acknowledgement Size'), 'message');
  });
});

describe('user control messages (§7.1.7)', () => {
  it('encodes Stream Begin as event 0 and the stream id', () => {
    expect(userControl(UserControlEvent.StreamBegin, 1)).toEqual({
      csid: 2,
      type: 4,
      streamId: 0,
      timestamp: 0,
      payload: hex(
        '0000', //     event type 0 (Stream Begin)
        '00000001', // stream id 1
      ),
    });
  });

  it('encodes a Ping request and response with their timestamp', () => {
    expect(userControl(UserControlEvent.PingRequest, 0x12345678).payload).toEqual(hex('0006 12345678'));
    expect(userControl(UserControlEvent.PingResponse, 0xfffffffe).payload).toEqual(hex('0007 fffffffe'));
  });

  it('answers a Ping request with a Ping response of the same timestamp, and nothing else', () => {
    expect(userControlAnswer(hex('0006 12345678'))?.payload).toEqual(hex('0007 12345678'));
    expect(userControlAnswer(hex('0007 12345678'))).toBeNull();
    expect(userControlAnswer(hex('0000 00000001'))).toBeNull();
    expect(() => userControlAnswer(hex('0006 1234'))).toThrow(/shorter than 6 bytes/);
  });

  it('encodes Set Buffer Length with the stream id and the buffer length in milliseconds', () => {
    expect(userControl(UserControlEvent.SetBufferLength, 1, 3000).payload).toEqual(
      hex(
        '0003', //     event type 3
        '00000001', // stream id 1
        '00000bb8', // 3000 ms
      ),
    );
  });

  it('parses every defined event', () => {
    expect(parseUserControl(hex('0000 00000001'))).toEqual({ event: 'stream-begin', streamId: 1 });
    expect(parseUserControl(hex('0001 00000002'))).toEqual({ event: 'stream-eof', streamId: 2 });
    expect(parseUserControl(hex('0002 00000003'))).toEqual({ event: 'stream-dry', streamId: 3 });
    expect(parseUserControl(hex('0003 00000001 00000bb8'))).toEqual({ event: 'set-buffer-length', streamId: 1, bufferMs: 3000 });
    expect(parseUserControl(hex('0004 00000001'))).toEqual({ event: 'stream-is-recorded', streamId: 1 });
    expect(parseUserControl(hex('0006 12345678'))).toEqual({ event: 'ping-request', timestamp: 0x12345678 });
    expect(parseUserControl(hex('0007 ffffffff'))).toEqual({ event: 'ping-response', timestamp: 0xffffffff });
  });

  it('round-trips every encoder output through the parser', () => {
    for (const [event, value, extra] of [[0, 7], [1, 7], [2, 7], [4, 7], [6, 99], [7, 99], [3, 1, 500]] as const) {
      const parsed = parseUserControl(userControl(event, value, extra).payload);
      expect(parsed).toMatchObject(event === 6 || event === 7 ? { timestamp: value } : { streamId: value });
      if (extra !== undefined) expect(parsed).toMatchObject({ bufferMs: extra });
    }
  });

  it('reports unknown events without requiring a body', () => {
    expect(parseUserControl(hex('0020'))).toEqual({ event: 'unknown', type: 0x20 });
    expect(parseUserControl(hex('0005'))).toEqual({ event: 'unknown', type: 5 });
    // Flash Player's SWF verification request (event 26) carries no 4-byte value
    expect(parseUserControl(hex('001a 00'))).toEqual({ event: 'unknown', type: 26 });
  });

  it('refuses payloads too short for their event', () => {
    expectProtocolError(() => parseUserControl(hex('00')), 'message'); //                  no event type
    expectProtocolError(() => parseUserControl(hex('0000 000001')), 'message'); //         Stream Begin, 3-byte id
    expectProtocolError(() => parseUserControl(hex('0006')), 'message'); //                Ping request, no timestamp
    expectProtocolError(() => parseUserControl(hex('0003 00000001')), 'message'); //       Set Buffer Length, no length
    expectProtocolError(() => parseUserControl(hex('0003 00000001 000bb8')), 'message');
  });

  it('never throws anything but ProtocolError for any payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        try {
          parseUserControl(Buffer.from(bytes));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('splitAggregate (§7.1.6)', () => {
  // An aggregate of three FLV-tag-shaped sub-messages. The aggregate itself is at 1000 ms on stream 1;
  // the sub-messages say 100, 110 and 120 ms and stream 0 — both are overridden.
  const AGGREGATE = hex(
    // sub-message 1: AAC raw frame
    '08', //         type 8 (audio)
    '000003', //     body size 3
    '000064', //     timestamp 100 (lower 24 bits)
    '00', //         timestamp extension (upper 8 bits)
    '000000', //     stream id 0 (ignored)
    'af0112', //     body
    '0000000e', //   back pointer 11 + 3
    // sub-message 2: AVC inter frame
    '09 000005 00006e 00 000000', // video, size 5, timestamp 110
    '2701000000', //                 body
    '00000010', //                   back pointer 11 + 5
    // sub-message 3: AAC frame, the final back pointer missing
    '08 000002 000078 00 000000', // audio, size 2, timestamp 120
    'af01', //                       body, then the aggregate ends
  );
  const EXPECTED = [
    { csid: 4, type: 8, streamId: 1, timestamp: 1000, payload: hex('af0112') },
    { csid: 4, type: 9, streamId: 1, timestamp: 1010, payload: hex('2701000000') },
    { csid: 4, type: 8, streamId: 1, timestamp: 1020, payload: hex('af01') },
  ];

  it('splits audio and video sub-messages, rebasing timestamps on the aggregate and using its stream id', () => {
    expect(splitAggregate(rtmp(22, AGGREGATE, 1000, 1))).toEqual(EXPECTED);
  });

  it('accepts the final back pointer when it is present', () => {
    const withPointer = Buffer.concat([AGGREGATE, hex('0000000d')]); // 11 + 2
    expect(splitAggregate(rtmp(22, withPointer, 1000, 1))).toEqual(EXPECTED);
  });

  it('hands out sub-message bodies as views of the aggregate payload', () => {
    const payload = Buffer.from(new ArrayBuffer(AGGREGATE.length));
    AGGREGATE.copy(payload);
    const subs = splitAggregate(rtmp(22, payload, 1000, 1));
    expect(subs.map((s) => s.payload.buffer === payload.buffer)).toEqual([true, true, true]);
    expect(subs[0]!.payload.byteOffset).toBe(payload.byteOffset + 11);
  });

  it('uses the FLV timestamp extension byte and rebases across 2^24', () => {
    const agg = hex(
      '09 000001 ffffff 00 000000 17 0000000c', // video at 0x00ffffff
      '09 000001 000001 01 000000 27 0000000c', // video at 0x01000001 (extension byte 01): 2 ms later
    );
    const subs = splitAggregate(rtmp(22, agg, 50, 1));
    expect(subs.map((s) => s.timestamp)).toEqual([50, 52]);
  });

  it('wraps rebased timestamps modulo 2^32', () => {
    const agg = hex('08 000001 000010 00 000000 af 0000000c', '08 000001 000030 00 000000 af 0000000c'); // 16, 48
    expect(splitAggregate(rtmp(22, agg, 0xfffffff0, 1)).map((s) => s.timestamp)).toEqual([0xfffffff0, 0x10]);
  });

  it('carries data (type 18) sub-messages and returns nothing for an empty aggregate', () => {
    const agg = hex('12 000003 000000 00 000000 050505 0000000e');
    expect(splitAggregate(rtmp(22, agg, 0, 1))).toEqual([{ csid: 4, type: 18, streamId: 1, timestamp: 0, payload: hex('050505') }]);
    expect(splitAggregate(rtmp(22, Buffer.alloc(0)))).toEqual([]);
  });

  it('refuses sub-messages that are not audio, video or data', () => {
    expectProtocolError(() => splitAggregate(rtmp(22, hex('14 000001 000000 00 000000 05 0000000c'))), 'message');
  });

  it('refuses a truncated aggregate at every cut except inside or after a back pointer', () => {
    // Layout: sub 1 = [0, 14) + back pointer [14, 18); sub 2 = [18, 34) + [34, 38); sub 3 = [38, 51).
    for (let cut = 1; cut < AGGREGATE.length; cut++) {
      const payload = AGGREGATE.subarray(0, cut);
      const whole = cut >= 14 && cut <= 18 ? 1 : cut >= 34 && cut <= 38 ? 2 : 0;
      if (whole > 0) {
        // a missing or cut-short back pointer is tolerated: the complete sub-messages come out
        expect(splitAggregate(rtmp(22, payload, 1000, 1)), `cut at ${cut}`).toEqual(EXPECTED.slice(0, whole));
      } else {
        expectProtocolError(() => splitAggregate(rtmp(22, payload, 1000, 1)), 'message');
      }
    }
  });

  it('never throws anything but ProtocolError for any aggregate payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(0xffffffff), (bytes, ts) => {
        try {
          splitAggregate(rtmp(22, Buffer.from(bytes), ts, 1));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });
});
