import { describe, expect, it } from 'vitest';
import { encodeAmf0 } from '../../server/amf/amf0.js';
import { MediaTag } from '../../server/hub/media-tag.js';
import { ChunkStreamReader, type RtmpMessage } from '../../server/rtmp/chunk-reader.js';
import { MessageType, splitAggregate } from '../../server/rtmp/messages.js';
import { encodeTagForRtmp, OUT_CHUNK_SIZE } from '../../server/rtmp/media-output.js';

function decode(buf: Buffer): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  const reader = new ChunkStreamReader((m) => out.push({ ...m, payload: Buffer.from(m.payload) }));
  reader.push(Buffer.from([0x02, 0, 0, 0, 0, 0, 4, MessageType.SetChunkSize, 0, 0, 0, 0, 0, 0, (OUT_CHUNK_SIZE >> 8) & 0xff, 0]));
  reader.push(buf);
  return out.filter((m) => m.type !== MessageType.SetChunkSize);
}

describe('RTMP play encoding of tags', () => {
  it('sends media and onMetaData as plain messages', () => {
    const video = new MediaTag(9, 40, Buffer.from([0x17, 1, 0, 0, 0, 9, 9]), true, false);
    const meta = new MediaTag(18, 0, encodeAmf0(['onMetaData', { width: 2 }]), false, true);
    for (const tag of [video, meta]) {
      const [msg] = decode(encodeTagForRtmp(tag, 1));
      expect(msg).toMatchObject({ type: tag.type, timestamp: tag.timestamp, streamId: 1 });
      expect(msg!.payload.equals(tag.body)).toBe(true);
    }
  });

  it('sends timed script data as an aggregate holding its FLV tag, which splits back into the data message', () => {
    const body = encodeAmf0(['onTextData', { text: 'hi', language: 'en' }]);
    const tag = new MediaTag(18, 123_456, body, false, false);
    const [msg] = decode(encodeTagForRtmp(tag, 3));
    expect(msg).toMatchObject({ type: MessageType.Aggregate, timestamp: 123_456, streamId: 3 });
    expect(msg!.payload.equals(tag.flv)).toBe(true);
    const [sub, ...rest] = splitAggregate(msg!);
    expect(rest).toEqual([]);
    expect(sub).toMatchObject({ type: MessageType.DataAmf0, timestamp: 123_456, streamId: 3 });
    expect(sub!.payload.equals(body)).toBe(true);
  });
});
