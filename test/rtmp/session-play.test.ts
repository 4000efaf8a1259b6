// RtmpSession (RTMP 1.0 spec §7.2 NetConnection / NetStream commands) driven
// through a fake Transport by a scripted client: handshake with ClientHandshake,
// messages through a ChunkStreamWriter, replies parsed with a ChunkStreamReader.
import { describe, expect, it } from 'vitest';
import { commandMessage } from '../../server/rtmp/commands.js';
import { flush, TestClient } from './fixtures.js';
import {
  AVC_SEQUENCE_HEADER, AVC_KEYFRAME, AVC_INTER, AAC_SEQUENCE_HEADER, AAC_FRAME, METADATA, hub, log, newHub,
  amfValues, labels, connected, publishing, media, metadata, mediaMessage, sendGop, player, useSessionHub,
} from './session-fixtures.js';

useSessionHub();

describe('RtmpSession: playing', () => {
  it('sends StreamBegin, Play.Reset, Play.Start, |RtmpSampleAccess, then metadata, sequence headers and the GOP', async () => {
    const pub = await publishing();
    sendGop(pub);
    const { c, replies } = await player();
    expect(labels(replies)).toEqual([
      'UserControl stream-begin 1',
      'onStatus 0 NetStream.Play.Reset',
      'onStatus 0 NetStream.Play.Start',
      'data |RtmpSampleAccess',
      'data onMetaData', //  metadata
      'video', //            AVC sequence header
      'audio', //            AAC sequence header
      'video', //            keyframe
      'audio', //            GOP audio
      'video', //            inter frame
    ]);
    expect(c.session.role).toBe('playing');
    for (const m of replies.slice(1)) expect(m.streamId).toBe(1);
    const meta = amfValues(replies[4]!);
    expect(meta[0]).toBe('onMetaData');
    expect(meta[1]).toMatchObject(METADATA);
    expect(replies.slice(5).map((m) => m.payload)).toEqual([
      AVC_SEQUENCE_HEADER, AAC_SEQUENCE_HEADER, AVC_KEYFRAME, AAC_FRAME, AVC_INTER,
    ]);
    // The join sequence starts at the keyframe's time; the GOP keeps its spacing.
    const ts = replies.slice(5).map((m) => m.timestamp);
    expect(ts[0]).toBe(ts[2]);
    expect(ts[1]).toBe(ts[2]);
    expect([ts[3]! - ts[2]!, ts[4]! - ts[2]!]).toEqual([23, 33]);
  });

  it('forwards live media after the join, and tells the player when the publisher leaves', async () => {
    const pub = await publishing();
    sendGop(pub);
    const { c } = await player();
    media(pub, 9, 66, AVC_INTER);
    const live = c.poll();
    expect(labels(live)).toEqual(['video']);
    expect(live[0]!.payload).toEqual(AVC_INTER);
    pub.command('deleteStream', [1]);
    expect(labels(c.poll())).toEqual([
      'onStatus 0 NetStream.Play.UnpublishNotify',
      'UserControl stream-eof 1',
      'onStatus 0 NetStream.Play.Stop',
    ]);
    expect(c.transport.closeCalls).toBe(1);
    expect(c.session.role).toBe('closed');
  });

  it('waits for a keyframe before sending media to a player that joined early', async () => {
    const pub = await publishing();
    metadata(pub);
    media(pub, 9, 0, AVC_SEQUENCE_HEADER);
    const { replies, c } = await player();
    // Nothing, not even Play.Start, until the stream can start this player on a keyframe.
    expect(labels(replies)).toEqual([]);
    media(pub, 9, 40, AVC_KEYFRAME);
    expect(labels(c.poll())).toEqual([
      'UserControl stream-begin 1',
      'onStatus 0 NetStream.Play.Reset',
      'onStatus 0 NetStream.Play.Start',
      'data |RtmpSampleAccess',
      'data onMetaData',
      'video',
      'video',
    ]);
  });

  it('answers play of an unknown stream with NetStream.Play.StreamNotFound and closes', async () => {
    const { c, replies } = await player('nope');
    expect(labels(replies)).toEqual(['onStatus 0 NetStream.Play.StreamNotFound']);
    expect(replies[0]!.streamId).toBe(1);
    expect(c.transport.closeCalls).toBe(1);
    expect(c.session.closeReason).toMatch(/play refused/);
  });

  it('answers getStreamLength (an unknown method with a transaction id) with _error Call.Failed', () => {
    const c = connected();
    const txn = c.command('getStreamLength', ['cam1']);
    expect(labels(c.poll())).toEqual([`_error ${txn} NetConnection.Call.Failed`]);
    // with transaction id 0 nobody waits for an answer, so none is sent
    c.send(commandMessage(['setPeerInfo', 0, null, 'x']));
    expect(c.poll()).toEqual([]);
    expect(c.transport.closeCalls).toBe(0);
  });

  it('stops delivering to a player after deleteStream without closing the connection', async () => {
    const pub = await publishing();
    sendGop(pub);
    const { c } = await player();
    c.command('deleteStream', [1]);
    media(pub, 9, 66, AVC_INTER);
    expect(c.poll()).toEqual([]);
    expect(c.session.role).toBe('connected');
    expect(c.transport.closeCalls).toBe(0);
    expect(hub.get('live/cam1')!.subscribers.size).toBe(0);
  });
});

describe('RtmpSession: several sessions on one stream', () => {
  it('shares one chunk encoding of each tag between players on stream id 1, and both parse it', async () => {
    const pub = await publishing();
    sendGop(pub);
    const a = await player();
    const b = await player();
    expect(a.replies.map((m) => m.payload)).toEqual(b.replies.map((m) => m.payload));
    media(pub, 9, 66, AVC_INTER);
    const [fromA] = a.c.poll();
    const [fromB] = b.c.poll();
    expect(fromA!.payload).toEqual(AVC_INTER);
    expect(fromB).toEqual(fromA);
    // the very same bytes were written to both transports
    expect(a.c.transport.written.at(-1)).toEqual(b.c.transport.written.at(-1));
  });

  it('plays on whatever stream id the player created (not the shared id 1)', async () => {
    const pub = await publishing();
    sendGop(pub);
    const c = connected();
    c.command('createStream', []);
    c.command('createStream', []);
    const created = c.poll();
    expect(amfValues(created[1]!)[3]).toBe(2);
    c.command('play', ['cam1'], 2);
    await flush();
    const replies = c.poll();
    expect(labels(replies)[0]).toBe('UserControl stream-begin 2');
    const mediaMsgs = replies.filter((m) => m.type === 8 || m.type === 9);
    expect(mediaMsgs.length).toBe(5);
    for (const m of replies.slice(1)) expect(m.streamId).toBe(2);
  });

  it('lets a new publisher take the key over when the hub is configured to, closing the old one', async () => {
    newHub({ duplicatePublish: 'takeover' });
    const first = await publishing();
    const second = await publishing();
    expect(first.transport.closeCalls).toBe(1);
    expect(first.session.closeReason).toMatch(/taken over/);
    expect(hub.get('live/cam1')?.publisher?.id).toBe(second.session.id);
  });

  it('holds media that races a pending access check, then publishes it in order once allowed', async () => {
    let allow: (v: string | null) => void = () => {};
    const c = new TestClient({ hub, log, access: () => new Promise<string | null>((r) => (allow = r)) });
    c.handshake();
    c.connect();
    c.command('createStream', []);
    c.poll();
    c.raw(Buffer.concat([c.encodeCommand('publish', ['cam1', 'live'], 1), c.encode(mediaMessage(9, 0, AVC_SEQUENCE_HEADER))]));
    await flush();
    expect(c.session.closeReason).toBeNull();
    expect(hub.get('live/cam1')).toBeUndefined();
    allow(null);
    await flush();
    expect(labels(c.poll())).toEqual(['UserControl stream-begin 1', 'onStatus 0 NetStream.Publish.Start']);
    expect(hub.get('live/cam1')?.videoConfig).not.toBeNull(); // the racing sequence header was kept
  });

  it('does not publish when the connection closed while the access check was running', async () => {
    let allow: (v: string | null) => void = () => {};
    const c = new TestClient({ hub, log, access: () => new Promise<string | null>((r) => (allow = r)) });
    c.handshake();
    c.connect();
    c.command('publish', ['cam1', 'live'], 1);
    await flush();
    c.session.close('peer went away');
    allow(null);
    await flush();
    expect(hub.streams.size).toBe(0);
    expect(c.transport.closeCalls).toBe(1);
  });
});
