// LL-HLS media playlist rendering and the blocking-reload directives (draft-pantos-hls-rfc8216bis
// §4.4 and §6.2.5.2), on a segmenter state built by hand.
import { describe, expect, it } from 'vitest';
import {
  advancePartLimit, carriedQuery, hasPart, parseReloadDirective, renderPlaylist, targetDurationS, tooFarAhead,
} from '../../server/hls/playlist.js';
import type { Part, Segment } from '../../server/hls/segmenter.js';

const part = (msn: number, index: number, durationMs: number, independent = index === 0): Part => ({
  msn, index, durationMs, independent, data: Buffer.alloc(1),
});

function segments(): Segment[] {
  return [
    { msn: 5, epoch: '0a1b2c3d', discontinuity: 0, startMs: 5000, durationMs: 1000, complete: true, bytes: 4, parts: [part(5, 0, 267), part(5, 1, 266), part(5, 2, 267), part(5, 3, 200)] },
    { msn: 6, epoch: '0a1b2c3d', discontinuity: 0, startMs: 6000, durationMs: 533, complete: false, bytes: 2, parts: [part(6, 0, 267), part(6, 1, 266)] },
  ];
}

describe('renderPlaylist', () => {
  it('writes every LL-HLS tag, the parts, the segments, and the preload hint for the next part', () => {
    const text = renderPlaylist({
      epoch: '0a1b2c3d', segments: segments(), partTargetMs: 300, targetDurationS: 1, wallAtZero: Date.UTC(2026, 0, 1), query: '?exp=9&sig=ab',
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-TARGETDURATION:1',
        '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.900',
        '#EXT-X-PART-INF:PART-TARGET=0.300',
        '#EXT-X-MEDIA-SEQUENCE:5',
        '#EXT-X-MAP:URI="0a1b2c3d/init.mp4?exp=9&sig=ab"',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:05.000Z',
        '#EXT-X-PART:DURATION=0.267,URI="0a1b2c3d/part5.0.m4s?exp=9&sig=ab",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.266,URI="0a1b2c3d/part5.1.m4s?exp=9&sig=ab"',
        '#EXT-X-PART:DURATION=0.267,URI="0a1b2c3d/part5.2.m4s?exp=9&sig=ab"',
        '#EXT-X-PART:DURATION=0.200,URI="0a1b2c3d/part5.3.m4s?exp=9&sig=ab"',
        '#EXTINF:1.000,',
        '0a1b2c3d/seg5.m4s?exp=9&sig=ab',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:06.000Z',
        '#EXT-X-PART:DURATION=0.267,URI="0a1b2c3d/part6.0.m4s?exp=9&sig=ab",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.266,URI="0a1b2c3d/part6.1.m4s?exp=9&sig=ab"',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="0a1b2c3d/part6.2.m4s?exp=9&sig=ab"',
        '',
      ].join('\n'),
    );
  });

  it('starts a new period with EXT-X-DISCONTINUITY and its own EXT-X-MAP, and counts discontinuities that scrolled off', () => {
    const seg = (msn: number, epoch: string, discontinuity: number): Segment =>
      ({ msn, epoch, discontinuity, startMs: msn * 1000, durationMs: 1000, complete: true, bytes: 1, parts: [part(msn, 0, 300)] });
    const text = renderPlaylist({
      epoch: 'cccccccc', segments: [seg(7, 'bbbbbbbb', 1), seg(8, 'bbbbbbbb', 1), seg(9, 'cccccccc', 2)],
      partTargetMs: 300, targetDurationS: 1, wallAtZero: 0, query: '',
    }).split('\n');
    const at = (line: string) => text.indexOf(line);
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1');
    expect(text.filter((l) => l === '#EXT-X-DISCONTINUITY')).toHaveLength(1);
    expect(text.filter((l) => l.startsWith('#EXT-X-MAP'))).toEqual(['#EXT-X-MAP:URI="bbbbbbbb/init.mp4"', '#EXT-X-MAP:URI="cccccccc/init.mp4"']);
    // the old period's segments, then the discontinuity, the new init, and the new segment under its epoch
    expect(at('#EXT-X-MAP:URI="bbbbbbbb/init.mp4"')).toBeLessThan(at('bbbbbbbb/seg7.m4s'));
    expect(at('bbbbbbbb/seg8.m4s')).toBeLessThan(at('#EXT-X-DISCONTINUITY'));
    expect(at('#EXT-X-DISCONTINUITY') + 1).toBe(at('#EXT-X-MAP:URI="cccccccc/init.mp4"'));
    expect(at('#EXT-X-MAP:URI="cccccccc/init.mp4"')).toBeLessThan(at('#EXT-X-PART:DURATION=0.300,URI="cccccccc/part9.0.m4s",INDEPENDENT=YES'));
    expect(text).toContain('cccccccc/seg9.m4s');
    expect(text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="cccccccc/part10.0.m4s"');
    // No discontinuity before the first period: no EXT-X-DISCONTINUITY-SEQUENCE either (it is 0).
    const plain = renderPlaylist({ epoch: 'e', segments: [seg(0, 'e', 0)], partTargetMs: 300, targetDurationS: 1, wallAtZero: 0, query: '' });
    expect(plain).not.toMatch(/DISCONTINUITY/);
  });

  it('leaves out the parts of segments more than three target durations behind the end', () => {
    const segs: Segment[] = [];
    for (let m = 0; m < 6; m++) segs.push({ msn: m, epoch: 'e', discontinuity: 0, startMs: m * 1000, durationMs: 1000, complete: true, bytes: 1, parts: [part(m, 0, 300)] });
    const text = renderPlaylist({ epoch: 'e', segments: segs, partTargetMs: 300, targetDurationS: 1, wallAtZero: 0, query: '' });
    expect(text).not.toMatch(/part[01]\.0/);
    expect(text).toMatch(/part2\.0/);
    expect(text.match(/#EXTINF/g)).toHaveLength(6);
    expect(text).toMatch(/PRELOAD-HINT:TYPE=PART,URI="e\/part6\.0\.m4s"/);
  });
});

describe('blocking reload directives', () => {
  it('reads _HLS_msn and _HLS_part', () => {
    expect(parseReloadDirective(new URLSearchParams('_HLS_msn=6&_HLS_part=2'))).toEqual({ ok: true, msn: 6, part: 2 });
    expect(parseReloadDirective(new URLSearchParams('_HLS_msn=6'))).toEqual({ ok: true, msn: 6, part: null });
    expect(parseReloadDirective(new URLSearchParams('exp=1'))).toEqual({ ok: true, msn: null, part: null });
  });

  it.each(['_HLS_part=1', '_HLS_msn=-1', '_HLS_msn=abc', '_HLS_msn=1e3', '_HLS_msn=', '_HLS_msn=1&_HLS_part=x', '_HLS_msn=1&_HLS_msn=2', '_HLS_msn=99999999999'])(
    'refuses %s',
    (q) => {
      expect(parseReloadDirective(new URLSearchParams(q)).ok).toBe(false);
    },
  );

  it('a part is reached once it or any later part is in the playlist', () => {
    const s = segments();
    expect(hasPart(s, 6, 1)).toBe(true);
    expect(hasPart(s, 6, 2)).toBe(false);
    expect(hasPart(s, 5, 9)).toBe(true); // segment 5 ended with 4 parts; 6 is later
    expect(hasPart(s, 5, null)).toBe(true);
    expect(hasPart(s, 6, null)).toBe(false);
    expect(hasPart(s, 7, 0)).toBe(false);
  });

  it('more than two segments ahead, or parts beyond the Advance Part Limit, are too far', () => {
    const s = segments();
    expect(advancePartLimit(300)).toBe(10);
    expect(advancePartLimit(1500)).toBe(3);
    expect(tooFarAhead(s, 8, null, 300)).toBe(false);
    expect(tooFarAhead(s, 9, null, 300)).toBe(true);
    expect(tooFarAhead(s, 6, 12, 300)).toBe(false);
    expect(tooFarAhead(s, 6, 13, 300)).toBe(true);
    expect(tooFarAhead(s, 7, 11, 300)).toBe(true);
  });

  it('the delivery directives are not carried into URIs; everything else is', () => {
    expect(carriedQuery(new URLSearchParams('exp=1&_HLS_msn=3&sig=a%22b&_HLS_part=1'))).toBe('?exp=1&sig=a%22b');
    expect(carriedQuery(new URLSearchParams('_HLS_msn=3'))).toBe('');
  });

  it('the target duration covers the longest segment, rounded, and never drops below the minimum', () => {
    expect(targetDurationS(300, 1000, 0)).toBe(1);
    expect(targetDurationS(300, 1000, 4400)).toBe(4);
    expect(targetDurationS(300, 2000, 1000)).toBe(2);
  });
});
