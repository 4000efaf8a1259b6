// The browser feed of one viewer: each tag's browser-safe form (shared, made once), what the player
// cannot parse left out, and one timeline cue before the first audio/video frame.
import { describe, expect, it } from 'vitest';
import { decodeAmf0 } from '../../server/amf/amf0.js';
import { BrowserFeed, TIMELINE_CUE_NAME, wantsUntouched } from '../../server/hub/browser-feed.js';
import { MediaTag } from '../../server/hub/media-tag.js';
import { AAC_SEQ_44100, AVC_SEQ_320X240, aacFrame, avcKey, hex, METADATA_BODY } from './fixtures.js';

function collect(feed: BrowserFeed, tags: MediaTag[]): MediaTag[] {
  const out: MediaTag[] = [];
  for (const t of tags) feed.deliver(t, { send: (x) => out.push(x) });
  return out;
}

describe('BrowserFeed', () => {
  it('sends one timeline cue, at timestamp 0, just before the first audio/video frame', () => {
    const key = new MediaTag(9, 5040, avcKey(1), true, false);
    const out = collect(new BrowserFeed(), [
      new MediaTag(18, 0, METADATA_BODY, false, true),
      new MediaTag(9, 5040, AVC_SEQ_320X240, false, true),
      new MediaTag(8, 5040, AAC_SEQ_44100, false, true),
      key,
      new MediaTag(8, 5050, aacFrame(1), false, false),
    ]);
    expect(out.map((t) => t.type)).toEqual([18, 9, 8, 18, 9, 8]);
    const cue = out[3]!;
    expect(cue.timestamp).toBe(0);
    expect(decodeAmf0(cue.body)).toEqual(['onCuePoint', { name: TIMELINE_CUE_NAME, type: 'event', time: 0, parameters: { start: 5040 } }]);
    expect(out[4]).toBe(key); // unchanged tags are the very same shared object
  });

  it('leaves out what mpegts.js cannot parse and shares each rewritten tag between viewers', () => {
    const colorInfo = new MediaTag(9, 0, hex('94 61763031 0200 09 636f6c6f72496e666f 0300 0009'), false, false);
    const modex = new MediaTag(9, 40, hex('a7 02 000100 01 61763031 0a0b'), false, false);
    const a = collect(new BrowserFeed(), [colorInfo, modex]);
    const b = collect(new BrowserFeed(), [colorInfo, modex]);
    expect(a.filter((t) => t.type === 9).map((t) => t.body.toString('hex'))).toEqual(['a1617630310a0b']);
    expect(a[1]).toBe(b[1]);
  });

  it('?untouched=1 or true asks for the stream as published', () => {
    expect(wantsUntouched(new URLSearchParams('untouched=1'))).toBe(true);
    expect(wantsUntouched(new URLSearchParams('untouched=true'))).toBe(true);
    expect(wantsUntouched(new URLSearchParams('untouched=0'))).toBe(false);
    expect(wantsUntouched(new URLSearchParams(''))).toBe(false);
  });
});
