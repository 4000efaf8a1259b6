// commands.ts: decoding NetConnection / NetStream commands (RTMP 1.0 spec §7.2)
// from AMF0 bytes, building replies, and stream-name validation.
import { isSafeName } from '../../server/names.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAmf0 } from '../../server/amf/amf0.js';
import { ProtocolError } from '../../server/errors.js';
import {
  commandMessage, dataMessage, decodeCommand, error, onStatus, result, splitQuery, status,
} from '../../server/rtmp/commands.js';
import { expectProtocolError, hex } from './fixtures.js';

// AMF0 bodies as ffmpeg sends them. Numbers are IEEE-754 doubles: 1 = 3ff0…, 2 = 4000…, 3 = 4008…, 4 = 4010…,
// 5 = 4014…, 6 = 4018…, -2000 = c09f40….
const CONNECT = hex(
  '02 0007 636f6e6e656374', //                    string "connect"
  '00 3ff0000000000000', //                        number 1 (transaction id)
  '03', //                                         object
  '0003 617070 02 0004 6c697665', //               "app": "live"
  '0004 74797065 02 000a 6e6f6e70726976617465', // "type": "nonprivate"
  '0005 746355726c 02 0015 72746d703a2f2f6c6f63616c686f73742f6c697665', // "tcUrl": "rtmp://localhost/live"
  '0000 09', //                                    object end
);
const CREATE_STREAM = hex(
  '02 000c 63726561746553747265616d', // "createStream"
  '00 4010000000000000', //               transaction 4
  '05', //                                null command object
);
const PUBLISH = hex(
  '02 0007 7075626c697368', //   "publish"
  '00 4014000000000000', //      transaction 5
  '05', //                       null
  '02 0004 63616d31', //         stream name "cam1"
  '02 0004 6c697665', //         publish type "live"
);
const PLAY = hex(
  '02 0004 706c6179', //         "play"
  '00 4018000000000000', //      transaction 6
  '05', //                       null
  '02 000c 63616d313f746f6b656e3d78', // "cam1?token=x"
  '00 c09f400000000000', //      start -2000
);
const FC_PUBLISH = hex(
  '02 0009 46435075626c697368', // "FCPublish"
  '00 4008000000000000', //        transaction 3
  '05', //                         null
  '02 0004 63616d31', //           "cam1"
);
const DELETE_STREAM = hex(
  '02 000c 64656c65746553747265616d', // "deleteStream"
  '00 4018000000000000', //               transaction 6
  '05', //                                null
  '00 3ff0000000000000', //               stream id 1
);

describe('decodeCommand', () => {
  it('decodes connect with its command object', () => {
    expect(decodeCommand(20, CONNECT)).toEqual({
      name: 'connect',
      txn: 1,
      object: { app: 'live', type: 'nonprivate', tcUrl: 'rtmp://localhost/live' },
      args: [],
    });
  });

  it('decodes a type-17 (AMF3) connect after its leading format byte', () => {
    const amf3 = Buffer.concat([hex('00'), CONNECT]); // format byte 0, then AMF0 values
    expect(decodeCommand(17, amf3)).toEqual(decodeCommand(20, CONNECT));
  });

  it('decodes createStream, publish, play, FCPublish and deleteStream', () => {
    expect(decodeCommand(20, CREATE_STREAM)).toEqual({ name: 'createStream', txn: 4 });
    expect(decodeCommand(20, PUBLISH)).toEqual({ name: 'publish', txn: 5, streamName: 'cam1', publishType: 'live' });
    expect(decodeCommand(20, PLAY)).toEqual({ name: 'play', txn: 6, streamName: 'cam1?token=x' });
    expect(decodeCommand(20, FC_PUBLISH)).toEqual({ name: 'FCPublish', txn: 3, streamName: 'cam1' });
    expect(decodeCommand(20, DELETE_STREAM)).toEqual({ name: 'deleteStream', txn: 6, streamId: 1 });
    expect(decodeCommand(17, Buffer.concat([hex('00'), PUBLISH]))).toEqual(decodeCommand(20, PUBLISH));
  });

  it('defaults the publish type to live when it is missing', () => {
    const publish = hex('02 0007 7075626c697368 00 4014000000000000 05 02 0004 63616d31'); // no type argument
    expect(decodeCommand(20, publish)).toMatchObject({ name: 'publish', streamName: 'cam1', publishType: 'live' });
  });

  it('classifies releaseStream, FCUnpublish, replies and unknown methods', () => {
    const release = commandMessage(['releaseStream', 2, null, 'cam1']).payload;
    expect(decodeCommand(20, release)).toEqual({ name: 'releaseStream', txn: 2, streamName: 'cam1' });
    expect(decodeCommand(20, commandMessage(['FCUnpublish', 7, null, 'cam1']).payload)).toMatchObject({ name: 'FCUnpublish' });
    expect(decodeCommand(20, commandMessage(['_result', 1, null, 1]).payload)).toEqual({ name: 'reply', txn: 1, method: '_result' });
    expect(decodeCommand(20, commandMessage(['closeStream', 0, null]).payload)).toEqual({ name: 'closeStream', txn: 0 });
    expect(decodeCommand(20, commandMessage(['getStreamLength', 8, null, 'cam1']).payload)).toEqual({
      name: 'other', txn: 8, method: 'getStreamLength', args: ['cam1'],
    });
  });

  it('refuses connect without a command object', () => {
    const noObject = hex('02 0007 636f6e6e656374 00 3ff0000000000000'); // "connect", 1 and nothing else
    expectProtocolError(() => decodeCommand(20, noObject), 'command');
    const nullObject = hex('02 0007 636f6e6e656374 00 3ff0000000000000 05'); // "connect", 1, null
    expectProtocolError(() => decodeCommand(20, nullObject), 'command');
  });

  it('refuses a command that does not start with a string', () => {
    expectProtocolError(() => decodeCommand(20, hex('00 3ff0000000000000')), 'command');
    expectProtocolError(() => decodeCommand(20, Buffer.alloc(0)), 'command');
  });

  it('turns every truncation of a command into a ProtocolError or a decoded command, never another error', () => {
    for (const body of [CONNECT, CREATE_STREAM, PUBLISH, PLAY, FC_PUBLISH, DELETE_STREAM]) {
      for (let cut = 0; cut < body.length; cut++) {
        try {
          decodeCommand(20, body.subarray(0, cut));
        } catch (err) {
          expect(err, `cut at ${cut}`).toBeInstanceOf(ProtocolError);
        }
      }
    }
  });

  it('never throws anything but ProtocolError for random bodies', () => {
    fc.assert(
      fc.property(fc.constantFrom(17, 20), fc.uint8Array({ maxLength: 64 }), (type, bytes) => {
        try {
          decodeCommand(type, Buffer.from(bytes));
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('reply builders', () => {
  it('builds an AMF0 command on chunk stream 3 whose body decodes back', () => {
    const m = result(1, { fmsVer: 'FMS/3,5,7,7009' }, status('status', 'NetConnection.Connect.Success', 'ok'));
    expect(m).toMatchObject({ csid: 3, type: 20, streamId: 0, timestamp: 0 });
    expect(decodeAmf0(m.payload)).toEqual([
      '_result', 1, { fmsVer: 'FMS/3,5,7,7009' }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'ok' },
    ]);
  });

  it('builds AMF3 (type 17) commands with a leading zero byte', () => {
    const m = onStatus(1, status('status', 'NetStream.Publish.Start', 'go'), true);
    expect(m.type).toBe(17);
    expect(m.streamId).toBe(1);
    expect(m.payload[0]).toBe(0);
    expect(decodeCommand(17, m.payload)).toEqual({ name: 'reply', txn: 0, method: 'onStatus' });
  });

  it('builds _error replies and data messages', () => {
    expect(decodeAmf0(error(9, status('error', 'NetConnection.Call.Failed', 'no')).payload)).toEqual([
      '_error', 9, null, { level: 'error', code: 'NetConnection.Call.Failed', description: 'no' },
    ]);
    const d = dataMessage(['|RtmpSampleAccess', true, true], 1);
    expect(d).toMatchObject({ csid: 5, type: 18, streamId: 1 });
    expect(d.payload).toEqual(
      hex(
        '02 0011 7c52746d7053616d706c65416363657373', // "|RtmpSampleAccess"
        '01 01', //                                     true
        '01 01', //                                     true
      ),
    );
  });
});

describe('stream names', () => {
  it('accepts plain keys with letters, digits, dash, underscore and dot', () => {
    for (const name of ['cam1', 'cam-1_a.b', 'A', '_x', '-', 'a'.repeat(128)]) expect(isSafeName(name), name).toBe(true);
  });

  it('refuses traversal, separators, empty, overlong, spaces, percent-encoding and non-ASCII', () => {
    for (const name of [
      '../x', 'a/b', '', 'a'.repeat(129), 'cam 1', ' cam1', '%2e%2e', 'caméra', 'кам', 'cam1\n', 'a..b', '.hidden', 'a\\b', 'cam\u00001',
    ]) {
      expect(isSafeName(name), JSON.stringify(name)).toBe(false);
    }
  });

  it('splits the query off a stream name', () => {
    const p = splitQuery('cam1?token=abc&x=1');
    expect(p?.name).toBe('cam1');
    expect(p?.query.get('token')).toBe('abc');
    expect(p?.query.get('x')).toBe('1');
    expect(splitQuery('cam-1_a.b')?.query.toString()).toBe('');
  });

  it('refuses unsafe names before the query', () => {
    for (const raw of ['../x?a=1', 'a/b', '', '?token=1', '%2e%2e?x', 'a'.repeat(129) + '?x=1']) {
      expect(splitQuery(raw), JSON.stringify(raw)).toBeNull();
    }
  });

  it('only ever accepts names made of the safe characters, at most 128 long, without ".."', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140, unit: 'binary' }), (name) => {
        if (isSafeName(name)) {
          expect(name).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
          expect(name.includes('..')).toBe(false);
          expect(name.startsWith('.')).toBe(false);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
