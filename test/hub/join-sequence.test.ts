import { describe, expect, it } from 'vitest';
import { JoinSequence } from '../../server/hub/join-sequence.js';
import { MediaTag } from '../../server/hub/media-tag.js';

const header = (type: 8 | 9 | 18, ts: number, ...bytes: number[]): MediaTag => new MediaTag(type, ts, Buffer.from(bytes), false, true);
const stamps = (tags: MediaTag[]): string[] => tags.map((t) => `${t.type}:${t.body.toString('hex')}@${t.timestamp}`);

describe('JoinSequence', () => {
  const metadata = header(18, 0, 0x02);
  const video = header(9, 100, 0x17, 0x00);
  const audio = header(8, 120, 0xaf, 0x00);

  it('puts metadata first at 0, then the plain and multitrack headers restamped to the start time', () => {
    const join = new JoinSequence();
    join.setTrack('video1', header(9, 300, 0x90, 0x01));
    expect(stamps(join.tagsAt(2000, metadata, video, audio))).toEqual(['18:02@0', '9:1700@2000', '8:af00@2000', '9:9001@2000']);
  });

  it('keeps a header already at the start time as it is, and serves the same array to every viewer joining there', () => {
    const join = new JoinSequence();
    const first = join.tagsAt(100, null, video, null);
    expect(first[0]).toBe(video);
    expect(join.tagsAt(100, null, video, null)).toBe(first);
    expect(join.tagsAt(133, null, video, null)).not.toBe(first);
  });

  it('builds again after invalidate or a new track header', () => {
    const join = new JoinSequence();
    const first = join.tagsAt(100, metadata, video, audio);
    join.invalidate();
    const second = join.tagsAt(100, metadata, video, audio);
    expect(second).not.toBe(first);
    join.setTrack('audio1', header(8, 0, 0x91));
    expect(stamps(join.tagsAt(100, metadata, video, audio))).toEqual(['18:02@0', '9:1700@100', '8:af00@100', '8:91@100']);
  });

  it('says a video track header changed only when a different one replaces it', () => {
    const join = new JoinSequence();
    expect(join.setTrack('video1', header(9, 0, 0x90, 0x01))).toBe(false);
    expect(join.setTrack('video1', header(9, 40, 0x90, 0x01))).toBe(false);
    expect(join.setTrack('video1', header(9, 80, 0x90, 0x02))).toBe(true);
    expect(join.setTrack('audio1', header(8, 0, 0x91))).toBe(false);
    expect(join.setTrack('audio1', header(8, 0, 0x92))).toBe(false);
  });
});
