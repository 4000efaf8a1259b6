// RtmpSession (RTMP 1.0 spec §7.2 NetConnection / NetStream commands) driven
// through a fake Transport by a scripted client: handshake with ClientHandshake,
// messages through a ChunkStreamWriter, replies parsed with a ChunkStreamReader.
import { describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import type { AmfObject } from '../../server/amf/types.js';
import { MessageType, setChunkSize } from '../../server/rtmp/messages.js';
import { flush, hex, TestClient } from './fixtures.js';
import {
  AVC_SEQUENCE_HEADER, AVC_KEYFRAME, AVC_INTER, AAC_FRAME, METADATA, hub, log, amfValues, labels, connected,
  publishing, media, gopMessages, sendGop, useSessionHub,
} from './session-fixtures.js';

useSessionHub();

describe('RtmpSession: ffmpeg publish sequence', () => {
  it('answers connect with Window Ack Size, Set Peer Bandwidth and Set Chunk Size, then _result Connect.Success', () => {
    const c = new TestClient({ hub, log });
    c.handshake();
    expect(c.session.role).toBe('connecting');
    const txn = c.connect('live');
    const replies = c.poll();
    expect(labels(replies)).toEqual([
      'WindowAckSize 2500000',
      'SetPeerBandwidth 2500000 2',
      'SetChunkSize 4096',
      `_result ${txn} NetConnection.Connect.Success`,
    ]);
    const result = amfValues(replies[3]!);
    expect(result[2]).toMatchObject({ fmsVer: expect.stringMatching(/^FMS\//), capabilities: 31 });
    expect(result[3]).toMatchObject({ level: 'status', objectEncoding: 0 });
    expect(replies[3]!.streamId).toBe(0);
    expect(c.session.role).toBe('connected');
    expect(c.session.app).toBe('live');
  });

  it('answers releaseStream, FCPublish (with onFCPublish) and createStream (stream id 1)', () => {
    const c = connected();
    const release = c.command('releaseStream', ['cam1']);
    expect(labels(c.poll())).toEqual([`_result ${release}`]);
    const fc = c.command('FCPublish', ['cam1']);
    const fcReplies = c.poll();
    expect(labels(fcReplies)).toEqual(['onFCPublish 0 NetStream.Publish.Start', `_result ${fc}`]);
    const create = c.command('createStream', []);
    const created = c.poll();
    expect(labels(created)).toEqual([`_result ${create}`]);
    expect(amfValues(created[0]!)).toEqual(['_result', create, null, 1]);
  });

  it('starts publishing with StreamBegin and onStatus NetStream.Publish.Start on the stream id', async () => {
    const c = connected();
    c.command('createStream', []);
    c.poll();
    c.command('publish', ['cam1', 'live'], 1);
    await flush();
    const replies = c.poll();
    expect(labels(replies)).toEqual(['UserControl stream-begin 1', 'onStatus 0 NetStream.Publish.Start']);
    expect(replies[1]!.streamId).toBe(1);
    expect(c.session.role).toBe('publishing');
    expect(hub.get('live/cam1')?.publisher?.id).toBe(c.session.id);
  });

  it('hands metadata and sequence headers to the hub', async () => {
    const c = await publishing();
    sendGop(c);
    const stream = hub.get('live/cam1')!;
    expect(stream.metadataObject).toMatchObject(METADATA);
    expect(stream.videoConfig?.body).toEqual(AVC_SEQUENCE_HEADER);
    expect(stream.video).toMatchObject({ codec: 'H.264', width: 1280, height: 720 });
    expect(stream.audio).toMatchObject({ codec: 'AAC', sampleRate: 44100, channels: 2 });
    expect(stream.gop.tags.map((t) => t.body)).toEqual([AVC_KEYFRAME, AAC_FRAME, AVC_INTER]);
    expect(c.session.closeReason).toBeNull();
  });

  it('keeps the whole onMetaData object even when it has a property named "entries"', async () => {
    // Regression: toPlainObject() once took any object with an object-valued "entries" property for an EcmaArray.
    const c = await publishing();
    c.send({
      csid: 5, type: 18, streamId: 1, timestamp: 0,
      payload: encodeAmf0(['@setDataFrame', 'onMetaData', { width: 640, entries: { chapter: 1 } }]),
    });
    expect(hub.get('live/cam1')!.metadataObject).toMatchObject({ width: 640 });
  });

  it('unpacks aggregate messages from the publisher into the hub', async () => {
    const c = await publishing();
    media(c, 9, 0, AVC_SEQUENCE_HEADER);
    const sub = (type: number, ts: number, body: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from([type]), //                                  type
        Buffer.from([body.length >> 16, body.length >> 8, body.length]), // size
        Buffer.from([ts >> 16, ts >> 8, ts, 0]), //             timestamp + extension
        hex('000000'), //                                        stream id
        body,
        Buffer.from([0, 0, 0, 11 + body.length]), //             back pointer
      ]);
    c.send({ csid: 6, type: MessageType.Aggregate, streamId: 1, timestamp: 40, payload: Buffer.concat([sub(9, 0, AVC_KEYFRAME), sub(9, 33, AVC_INTER)]) });
    const stream = hub.get('live/cam1')!;
    expect(stream.gop.tags.map((t) => t.body)).toEqual([AVC_KEYFRAME, AVC_INTER]);
    expect(stream.gop.tags[1]!.timestamp - stream.gop.tags[0]!.timestamp).toBe(33);
  });

  it('accepts the same conversation fed to the session one byte at a time, the handshake included', async () => {
    // Reference run: each message in its own receive().
    const whole = await publishing();
    sendGop(whole);
    whole.poll();
    const wholeReplies = labels(whole.received);
    whole.session.close('done');

    const c = new TestClient({ hub, log });
    c.handshake(true);
    const bytewise = (b: Buffer): void => {
      for (let i = 0; i < b.length; i++) c.raw(b.subarray(i, i + 1));
    };
    bytewise(c.encode(setChunkSize(4096)));
    c.writer.setChunkSize(4096);
    const txns: Buffer[] = [];
    txns.push(c.encodeCommand('connect', [], 0, { app: 'live', tcUrl: 'rtmp://127.0.0.1:1935/live' }));
    txns.push(c.encodeCommand('releaseStream', ['cam1']));
    txns.push(c.encodeCommand('FCPublish', ['cam1']));
    txns.push(c.encodeCommand('createStream', []));
    txns.push(c.encodeCommand('publish', ['cam1', 'live'], 1));
    bytewise(Buffer.concat(txns));
    await flush(); // publish completes asynchronously
    bytewise(Buffer.concat(gopMessages().map((m) => c.encode(m))));
    c.poll();
    expect(labels(c.received)).toEqual(wholeReplies);
    const stream = hub.get('live/cam1')!;
    expect(stream.gop.tags.map((t) => t.body)).toEqual([AVC_KEYFRAME, AAC_FRAME, AVC_INTER]);
    expect(stream.video).toMatchObject({ width: 1280, height: 720 });
    expect(stream.metadataObject).toMatchObject(METADATA);
  });

  it('ends publishing on deleteStream: the hub no longer lists the stream', async () => {
    const c = await publishing();
    sendGop(c);
    expect(hub.get('live/cam1')).toBeDefined();
    c.command('FCUnpublish', ['cam1']);
    c.command('deleteStream', [1]);
    expect(hub.get('live/cam1')).toBeUndefined();
    expect(c.session.role).toBe('connected');
    expect(c.transport.closeCalls).toBe(0);
  });

  it('ends publishing when the session closes', async () => {
    const c = await publishing();
    c.session.close('peer went away');
    expect(hub.get('live/cam1')).toBeUndefined();
    expect(c.transport.closeCalls).toBe(1);
    c.session.close('again');
    expect(c.transport.closeCalls).toBe(1);
    expect(c.session.closeReason).toBe('peer went away');
  });

  it('refuses a second publisher of the same key with NetStream.Publish.BadName and closes it', async () => {
    const first = await publishing('cam1');
    const second = connected();
    second.command('createStream', []);
    second.poll();
    second.command('publish', ['cam1', 'live'], 1);
    await flush();
    const replies = second.poll();
    expect(labels(replies)).toEqual(['onStatus 0 NetStream.Publish.BadName']);
    expect(replies[0]!.streamId).toBe(1);
    expect(second.transport.closeCalls).toBe(1);
    expect(second.session.role).toBe('closed');
    // the first publisher is untouched
    expect(first.session.role).toBe('publishing');
    expect(hub.get('live/cam1')?.publisher?.id).toBe(first.session.id);
  });

  it('refuses an unsafe stream key with BadName', async () => {
    const c = connected();
    c.command('publish', ['../etc', 'live'], 1);
    await flush();
    expect(labels(c.poll())).toEqual(['onStatus 0 NetStream.Publish.BadName']);
    expect(c.transport.closeCalls).toBe(1);
    expect(hub.streams.size).toBe(0);
  });

  it('asks the access check with the key and query, and refuses with its reason', async () => {
    const seen: unknown[] = [];
    const c = new TestClient({
      hub,
      log,
      access: (req) => {
        seen.push({ action: req.action, app: req.app, key: req.key, token: req.query.get('token') });
        return Promise.resolve(req.query.get('token') === 'good' ? null : 'bad token');
      },
    });
    c.handshake();
    c.connect();
    c.poll();
    c.command('publish', ['cam1?token=nope', 'live'], 1);
    await flush();
    const replies = c.poll();
    expect(labels(replies)).toEqual(['onStatus 0 NetStream.Publish.BadName']);
    expect((amfValues(replies[0]!)[3] as AmfObject)['description']).toBe('bad token');
    expect(seen).toEqual([{ action: 'publish', app: 'live', key: 'cam1', token: 'nope' }]);
    expect(c.transport.closeCalls).toBe(1);
  });
});
