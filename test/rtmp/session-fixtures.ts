// What the RtmpSession tests share: the media payloads an encoder sends, a fresh hub per test, and a
// scripted client (TestClient) driven through ffmpeg's publish and play sequences.
import { afterEach, beforeEach, expect } from 'vitest';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import { EcmaArray, type AmfObject, type AmfValue } from '../../server/amf/types.js';
import { Hub, type HubOptions } from '../../server/hub/hub.js';
import { silentLogger } from '../../server/log.js';
import type { RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import type { OutgoingMessage } from '../../server/rtmp/chunk-writer.js';
import { MessageType, parseUserControl, setChunkSize } from '../../server/rtmp/messages.js';
import { AVC_TAG_720P } from '../media/fixtures.js';
import { flush, hex, TestClient } from './fixtures.js';
import { defaultWriteBatch, hubOptions } from '../hub/fixtures.js';

// ---------------------------------------------------------------------------
// Media payloads (FLV tag bodies, as an encoder sends them in RTMP audio/video messages)

/** `17 00 000000` + the AVCDecoderConfigurationRecord of a 1280x720 High@3.1 stream (captured from ffmpeg). */
export const AVC_SEQUENCE_HEADER = AVC_TAG_720P;
export const AVC_KEYFRAME = hex(
  '17', //          FrameType 1 (key) | CodecID 7 (AVC)
  '01', //          AVCPacketType 1 (NALUs)
  '000000', //      CompositionTime 0
  '00000005', //    NAL length 5
  '6588840033', //  NAL type 5 (IDR slice)
);
export const AVC_INTER = hex(
  '27', //          FrameType 2 (inter) | CodecID 7
  '01 000000', //   NALUs, CompositionTime 0
  '00000004 419a0010', // NAL type 1 (non-IDR slice)
);
export const AAC_SEQUENCE_HEADER = hex(
  'af', //          SoundFormat 10 (AAC), 44 kHz, 16-bit, stereo
  '00', //          AACPacketType 0 (sequence header)
  '1210', //        AudioSpecificConfig: AAC-LC, 44100 Hz, 2 channels
);
export const AAC_FRAME = hex('af', '01', '21004990'); // AACPacketType 1 (raw), a frame

export const METADATA: AmfObject = { width: 1280, height: 720, videocodecid: 7, audiocodecid: 10, framerate: 30 };

export let hub: Hub;
export const log = silentLogger();

export function newHub(options: Partial<HubOptions> = {}): Hub {
  hub.close();
  hub = new Hub(hubOptions(options), log, defaultWriteBatch());
  return hub;
}

/** A fresh hub for every test of the calling file, closed after it; `hub` follows it (a live binding). */
export function useSessionHub(): void {
  beforeEach(() => {
    hub = new Hub(hubOptions(), log, defaultWriteBatch());
  });
  afterEach(() => {
    hub.close();
  });
}

// ---------------------------------------------------------------------------
// Helpers

export function amfValues(m: RtmpMessage): AmfValue[] {
  return TestClient.values(m);
}

/** A one-line description of a server message, so whole conversations can be compared as lists. */
function label(m: RtmpMessage): string {
  switch (m.type) {
    case MessageType.SetChunkSize:
      return `SetChunkSize ${m.payload.readUInt32BE(0)}`;
    case MessageType.Acknowledgement:
      return `Ack ${m.payload.readUInt32BE(0)}`;
    case MessageType.WindowAckSize:
      return `WindowAckSize ${m.payload.readUInt32BE(0)}`;
    case MessageType.SetPeerBandwidth:
      return `SetPeerBandwidth ${m.payload.readUInt32BE(0)} ${m.payload[4]}`;
    case MessageType.UserControl: {
      const ev = parseUserControl(m.payload);
      const value = 'streamId' in ev ? ev.streamId : 'timestamp' in ev ? ev.timestamp : ev.type;
      return `UserControl ${ev.event} ${value}`;
    }
    case MessageType.Audio:
      return 'audio';
    case MessageType.Video:
      return 'video';
    case MessageType.DataAmf0: {
      const v = amfValues(m);
      const info = v[1] as AmfObject | undefined;
      return v[0] === 'onStatus' ? `data onStatus ${String(info?.['code'])}` : `data ${String(v[0])}`;
    }
    case MessageType.CommandAmf0:
    case MessageType.CommandAmf3: {
      const v = amfValues(m);
      const info = v[3];
      const code = typeof info === 'object' && info !== null && 'code' in info ? ` ${String((info as AmfObject)['code'])}` : '';
      return `${String(v[0])} ${String(v[1])}${code}`;
    }
    default:
      return `type ${m.type}`;
  }
}

export const labels = (msgs: RtmpMessage[]): string[] => msgs.map(label);

/** Handshake, Set Chunk Size 4096 (as ffmpeg does) and connect; returns the client with the connect replies read. */
export function connected(app = 'live'): TestClient {
  const c = new TestClient({ hub, log });
  c.handshake();
  c.send(setChunkSize(4096));
  c.writer.setChunkSize(4096);
  c.connect(app);
  c.poll();
  return c;
}

/** The rest of ffmpeg's publish sequence after connect; stream id 1. */
export async function publishing(key = 'cam1', app = 'live'): Promise<TestClient> {
  const c = connected(app);
  c.command('releaseStream', [key]);
  c.command('FCPublish', [key]);
  c.command('createStream', []);
  c.command('publish', [key, 'live'], 1);
  await flush();
  c.poll();
  expect(c.session.role).toBe('publishing');
  return c;
}

export function media(c: TestClient, type: 8 | 9, timestamp: number, payload: Buffer): void {
  c.send(mediaMessage(type, timestamp, payload));
}

function metadataMessage(): OutgoingMessage {
  return {
    csid: 5,
    type: MessageType.DataAmf0,
    streamId: 1,
    timestamp: 0,
    payload: encodeAmf0(['@setDataFrame', 'onMetaData', new EcmaArray(METADATA)]),
  };
}

export function metadata(c: TestClient): void {
  c.send(metadataMessage());
}

export const mediaMessage = (type: 8 | 9, timestamp: number, payload: Buffer): OutgoingMessage => ({
  csid: type === 8 ? 4 : 6, type, streamId: 1, timestamp, payload,
});

/** Metadata, both sequence headers, a keyframe, an audio frame and an inter frame. */
export function gopMessages(): OutgoingMessage[] {
  return [
    metadataMessage(),
    mediaMessage(9, 0, AVC_SEQUENCE_HEADER),
    mediaMessage(8, 0, AAC_SEQUENCE_HEADER),
    mediaMessage(9, 0, AVC_KEYFRAME),
    mediaMessage(8, 23, AAC_FRAME),
    mediaMessage(9, 33, AVC_INTER),
  ];
}

export function sendGop(c: TestClient): void {
  for (const m of gopMessages()) c.send(m);
}

export async function player(key = 'cam1'): Promise<{ c: TestClient; replies: RtmpMessage[] }> {
  const c = connected();
  c.command('createStream', []);
  c.command('getStreamLength', [key]);
  c.poll();
  c.command('play', [key, -2000], 1);
  await flush();
  return { c, replies: c.poll() };
}
