import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AAC_SEQ_44100,
  AAC_SEQ_48000,
  AC3_FRAME_48K_51,
  AVC_SEQ_320X240,
  AVC_SEQ_OTHER,
  FakePublisher,
  FakeSink,
  HEVC_RECORD_720P,
  METADATA_BODY,
  aacFrame,
  avcInter,
  avcKey,
  hex,
  makeStream,
  startAv,
  VP9_KEYFRAME_320X180,
  VPCC_320X180,
} from './fixtures.js';

const BEGIN_AV = 'begin(audio=true,video=true)';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LiveStream join sequence', () => {
  it('starts a mid-GOP viewer with the header, onMetaData, both sequence headers, the cached GOP, then live tags', () => {
    const { stream } = makeStream();
    startAv(stream, 5000); // publisher clock starts at 5000
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 5050, aacFrame(2));
    stream.push(9, 5080, avcInter(3));
    expect(sink.log).toEqual([
      BEGIN_AV,
      'meta@0',
      'vcfg@0',
      'acfg@0',
      'K1@0',
      'a1@10',
      'P2@40',
      'a2@50',
      'P3@80',
    ]);
  });

  it('re-times the sequence headers of the join sequence to the cached keyframe, byte for byte', () => {
    const { stream } = makeStream();
    startAv(stream);
    stream.push(9, 2000, avcKey(3)); // a new GOP at 2000 ms
    stream.push(8, 2010, aacFrame(3));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@2000', 'acfg@2000', 'K3@2000', 'a3@2010']);
    const vcfg = sink.tags[1]!;
    expect(AVC_SEQ_320X240.length).toBe(45);
    expect(vcfg.flv.toString('hex')).toBe(
      Buffer.concat([
        hex('09 | 00002d | 0007d0 | 00 | 000000'), // video, 45 bytes, 2000 ms, ext 0, stream 0
        AVC_SEQ_320X240,
        hex('00000038'), // PreviousTagSize 11 + 45 = 56
      ]).toString('hex'),
    );
    const acfg = sink.tags[2]!;
    expect(acfg.flv.toString('hex')).toBe(
      hex('08 | 000004 | 0007d0 | 00 | 000000', 'af 00 1210', '0000000f').toString('hex'),
    );
    // the stored sequence header itself keeps its own time for the viewers that already had it
    expect(stream.videoConfig!.timestamp).toBe(0);
  });

  it('holds a viewer that arrives before the first keyframe and starts it exactly on that keyframe', () => {
    const { stream } = makeStream();
    const early = new FakeSink();
    stream.subscribe(early); // before anything at all
    stream.setMetadata(METADATA_BODY, { videocodecid: 7, audiocodecid: 10 });
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(8, 0, AAC_SEQ_44100);
    const late = new FakeSink();
    stream.subscribe(late); // after the sequence headers, still before a keyframe
    stream.push(8, 20, aacFrame(1));
    stream.push(9, 30, avcInter(9)); // a relay joined mid-GOP: undecodable, must not reach anyone
    expect(early.events).toEqual([]);
    expect(late.events).toEqual([]);
    expect(stream.waiting.size).toBe(2);
    stream.push(9, 80, avcKey(1));
    stream.push(8, 90, aacFrame(2));
    stream.push(9, 120, avcInter(2));
    // the timeline starts at the first frame, the audio one at 20
    for (const sink of [early, late]) {
      expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@60', 'acfg@60', 'K1@60', 'a2@70', 'P2@100']);
    }
    expect(stream.waiting.size).toBe(0);
    expect(stream.subscribers.size).toBe(2);
  });

  it('with the GOP cache disabled starts a new viewer on the next keyframe instead of the cached one', () => {
    const { stream } = makeStream({ gop: { maxBytes: 0, maxDurationMs: 60_000 } });
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 50, aacFrame(2));
    stream.push(9, 80, avcInter(3));
    expect(sink.events).toEqual([]);
    stream.push(9, 120, avcKey(4));
    stream.push(9, 160, avcInter(5));
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@120', 'acfg@120', 'K4@120', 'P5@160']);
  });

  it('waits for the next keyframe when the current GOP has outgrown the cache', () => {
    // two 26-byte video tags fit, a third does not
    const { stream } = makeStream({ gop: { maxBytes: 52, maxDurationMs: 60_000 } });
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, avcKey(1));
    stream.push(9, 40, avcInter(2));
    stream.push(9, 80, avcInter(3));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.events).toEqual([]);
    stream.push(9, 120, avcKey(4));
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'vcfg@120', 'K4@120']);
  });

  it('announces an audio-only stream as audio-only and starts its viewer without waiting for video', () => {
    const { stream } = makeStream();
    stream.setMetadata(METADATA_BODY, { audiocodecid: 10 });
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(8, 23, aacFrame(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 46, aacFrame(2));
    expect(sink.log).toEqual(['begin(audio=true,video=false)', 'meta@0', 'acfg@0', 'a2@23']);
    expect(stream.hasVideo).toBe(false);
  });

  it('starts a viewer waiting on an audio-only stream at its first audio frame', () => {
    const { stream } = makeStream();
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 1000, AAC_SEQ_44100);
    expect(sink.events).toEqual([]);
    stream.push(8, 1023, aacFrame(1));
    expect(sink.log).toEqual(['begin(audio=true,video=false)', 'acfg@0', 'a1@0']);
  });

  it('announces a video-only stream without an audio track', () => {
    const { stream } = makeStream();
    stream.setMetadata(METADATA_BODY, { videocodecid: 7 });
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'meta@0', 'vcfg@0', 'K1@0']);
  });

  it('announces an audio track that onMetaData promises even before its first audio tag', () => {
    const { stream } = makeStream();
    stream.setMetadata(METADATA_BODY, { videocodecid: 7, audiocodecid: 10 });
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.events[0]).toEqual({ kind: 'begin', hasAudio: true, hasVideo: true });
  });

  it('waits for the video that onMetaData announces even when audio arrives first', () => {
    const { stream } = makeStream();
    stream.setMetadata(METADATA_BODY, { videocodecid: 7, audiocodecid: 10 });
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(8, 23, aacFrame(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 46, aacFrame(2));
    expect(sink.events).toEqual([]);
    stream.push(9, 50, AVC_SEQ_320X240);
    stream.push(9, 50, avcKey(1));
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@27', 'acfg@27', 'K1@27']);
  });

  it('announces both tracks from the tags seen when there is no onMetaData', () => {
    const { stream } = makeStream();
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual([BEGIN_AV, 'vcfg@0', 'acfg@0', 'K1@0']);
  });
});

describe('LiveStream codecs', () => {
  const fourcc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

  it('reports VP9 size from its first keyframe and AC-3 rate and channels from its frames', () => {
    const { stream } = makeStream();
    stream.push(9, 0, Buffer.concat([hex('90', fourcc('vp09')), VPCC_320X180]));
    expect(stream.video).toMatchObject({ codec: 'VP9', profile: '0', level: 1.1, width: 0, height: 0 });
    stream.push(9, 0, Buffer.concat([hex('91', fourcc('vp09')), VP9_KEYFRAME_320X180]));
    stream.push(8, 10, Buffer.concat([hex('91', fourcc('ac-3')), AC3_FRAME_48K_51]));
    expect(stream.video).toMatchObject({ codec: 'VP9', profile: '0', level: 1.1, width: 320, height: 180 });
    expect(stream.audio).toMatchObject({ codec: 'AC-3', sampleRate: 48000, channels: 6 });
  });

  it('keeps Enhanced RTMP hvc1 and Opus sequence headers and starts viewers on an enhanced keyframe', () => {
    const { stream } = makeStream();
    const hvcSeq = Buffer.concat([hex('90', fourcc('hvc1')), HEVC_RECORD_720P]); // IsExHeader | key | SequenceStart
    const opusSeq = hex('90', fourcc('Opus'), fourcc('OpusHead'), '01 02 3801 80bb0000 0000 00'); // SequenceStart, OpusHead
    stream.push(9, 0, hvcSeq);
    stream.push(8, 0, opusSeq);
    stream.push(9, 0, hex('a3', fourcc('hvc1'), '00000003 0201', '05')); // inter, CodedFramesX: before any keyframe
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.events).toEqual([]);
    stream.push(9, 40, hex('93', fourcc('hvc1'), '00000003 2601', '06')); // key, CodedFramesX, IDR_W_RADL
    stream.push(8, 50, hex('91', fourcc('Opus'), 'fc', '07')); // CodedFrames
    expect(sink.log).toEqual([BEGIN_AV, 'vcfg@40', 'acfg@40', 'K6@40', 'a7@50']);
    expect(sink.tags[0]!.body.equals(hvcSeq)).toBe(true);
    expect(sink.tags[1]!.body.equals(opusSeq)).toBe(true);
    expect(stream.video).toMatchObject({ codec: 'H.265', width: 1280, height: 720 });
    expect(stream.audio?.codec).toBe('Opus');
  });

  it('keeps a legacy codec-id-12 HEVC sequence header and starts a GOP on its keyframe', () => {
    const { stream } = makeStream();
    const seq = Buffer.concat([hex('1c 00 000000'), HEVC_RECORD_720P]); // key | HEVC (12), sequence header
    stream.push(9, 0, seq);
    stream.push(9, 0, hex('1c 01 000000 00000003 2601', '01')); // key | HEVC, NALU
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'vcfg@0', 'K1@0']);
    expect(stream.video).toMatchObject({ codec: 'H.265', width: 1280, height: 720 });
  });

  it('still treats a sequence header the parser rejects as the stream\'s sequence header', () => {
    const { stream } = makeStream();
    const bad = hex('17 00 000000', '02 ff'); // AVC sequence header with configurationVersion 2
    stream.push(9, 0, bad);
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'vcfg@0', 'K1@0']);
    expect(sink.tags[0]!.body.equals(bad)).toBe(true);
    expect(stream.video).toMatchObject({ codec: 'H.264', width: 0, height: 0 });
  });
});

describe('LiveStream with Enhanced RTMP multitrack video', () => {
  const fourcc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
  /** A one-track multitrack message (E-RTMP v2): b0 = IsExHeader | frame type | Multitrack, OneTrack | packet type, avc1, track id. */
  const oneTrack = (b0: string, packetType: string, track: number, data: Buffer): Buffer =>
    Buffer.concat([hex(b0, packetType, fourcc('avc1'), track.toString(16).padStart(2, '0')), data]);
  const seqStart = (track: number): Buffer => oneTrack('96', '00', track, AVC_SEQ_320X240.subarray(5)); // the record after the legacy header
  // key / inter CodedFrames: the SI24 composition time and NAL units of the legacy fixtures
  const key = (track: number, n: number): Buffer => oneTrack('96', '01', track, avcKey(n).subarray(2));
  const inter = (track: number, n: number): Buffer => oneTrack('a6', '01', track, avcInter(n).subarray(2));

  it('a stream whose video comes only as multitrack is ready at track 0\'s keyframe and starts viewers there', () => {
    const { stream } = makeStream();
    stream.push(9, 0, seqStart(0));
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(9, 0, key(0, 1));
    stream.push(8, 10, aacFrame(2));
    stream.push(9, 40, inter(0, 3));
    expect(stream.ready).toBe(true);
    expect(stream.videoFrames).toBe(2);
    expect(stream.video).toMatchObject({ codec: 'H.264', width: 320, height: 240 }); // from track 0's record
    const sink = new FakeSink();
    stream.subscribe(sink);
    // vcfg here is the multitrack sequence start, from the per-track configs of the join sequence
    expect(sink.log).toEqual([BEGIN_AV, 'acfg@0', 'vcfg@0', 'K1@0', 'a2@10', 'P3@40']);
    expect(sink.tags[1]!.body.equals(seqStart(0))).toBe(true);
  });

  it('a viewer that came before the first multitrack keyframe starts on it', () => {
    const { stream } = makeStream();
    stream.push(9, 0, seqStart(0));
    stream.push(9, 0, inter(0, 1)); // joined mid-GOP: no keyframe yet
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(stream.ready).toBe(false);
    expect(sink.events).toEqual([]);
    stream.push(9, 40, key(0, 2));
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'vcfg@40', 'K2@40']);
  });

  it('track 1\'s keyframes, sent as multitrack beside plain track 0 (as OBS does), do not restart the GOP', () => {
    const { stream } = makeStream();
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, seqStart(1));
    stream.push(9, 0, avcKey(1));
    stream.push(9, 5, key(1, 2)); // track 1's keyframe comes after track 0's
    stream.push(9, 40, avcInter(3));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual(['begin(audio=false,video=true)', 'vcfg@0', 'vcfg@0', 'K1@0', 'P2@5', 'P3@40']);
  });
});

describe('LiveStream serializes each tag once', () => {
  it('writes the very same Buffer objects to every viewer, live tags and join sequence alike', () => {
    const { stream } = makeStream();
    startAv(stream);
    const a = new FakeSink('http');
    const b = new FakeSink('ws');
    const c = new FakeSink('rtmp');
    stream.subscribe(a);
    stream.subscribe(b);
    stream.subscribe(c);
    stream.push(8, 50, aacFrame(2));
    stream.push(9, 80, avcInter(3));
    stream.push(18, 90, hex('02 000a 6f6e4375655069696e74')); // a data message
    expect(a.tags).toHaveLength(9);
    for (const [i, tag] of a.tags.entries()) {
      expect(b.tags[i]!.flv).toBe(tag.flv);
      expect(c.tags[i]!.flv).toBe(tag.flv);
    }
  });

  it('re-times the join sequence once per GOP and gives every viewer joining that GOP the same Buffers', () => {
    const { stream } = makeStream();
    startAv(stream);
    stream.push(9, 2000, avcKey(3)); // sequence headers are at 0, the GOP starts at 2000
    const a = new FakeSink();
    const b = new FakeSink();
    stream.subscribe(a);
    stream.subscribe(b);
    expect(a.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@2000', 'acfg@2000', 'K3@2000']);
    for (const [i, tag] of a.tags.entries()) expect(b.tags[i]!.flv).toBe(tag.flv);
  });
});

describe('LiveStream sequence header changes', () => {
  it('sends a new video sequence header to current viewers at once and never gives new viewers frames from before it', () => {
    const { stream } = makeStream();
    startAv(stream);
    const current = new FakeSink();
    stream.subscribe(current);
    const mark = current.events.length;
    stream.push(9, 100, AVC_SEQ_OTHER); // resolution change
    expect(current.labelsFrom(mark)).toEqual(['vcfg@100']);
    expect(current.tags.at(-1)!.body.equals(AVC_SEQ_OTHER)).toBe(true);

    const newcomer = new FakeSink();
    stream.subscribe(newcomer);
    stream.push(8, 110, aacFrame(5));
    expect(newcomer.events).toEqual([]); // nothing from the old GOP
    stream.push(9, 200, avcKey(6));
    stream.push(9, 240, avcInter(7));
    expect(newcomer.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@200', 'acfg@200', 'K6@200', 'P7@240']);
    expect(newcomer.tags[1]!.body.equals(AVC_SEQ_OTHER)).toBe(true);
    expect(current.labelsFrom(mark)).toEqual(['vcfg@100', 'a5@110', 'K6@200', 'P7@240']);
    expect(stream.video?.codec).toBe('H.264');
  });

  it('never gives a new viewer audio frames coded before a changed audio sequence header', () => {
    const { stream } = makeStream();
    startAv(stream); // AAC 44.1 kHz, a1@10 cached in the GOP
    stream.push(8, 45, AAC_SEQ_48000); // the encoder switches to 48 kHz mid-GOP
    stream.push(8, 50, aacFrame(2));
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(9, 80, avcKey(3));
    stream.push(8, 90, aacFrame(4));
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@80', 'acfg@80', 'K3@80', 'a4@90']);
    expect(sink.tags[2]!.body.equals(AAC_SEQ_48000)).toBe(true);
    expect(stream.audio).toMatchObject({ sampleRate: 48000 });
  });

  it('keeps the GOP cache when an encoder repeats an identical audio sequence header', () => {
    const { stream } = makeStream();
    startAv(stream);
    stream.push(8, 45, AAC_SEQ_44100);
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@0', 'acfg@0', 'K1@0', 'a1@10', 'P2@40']);
  });

  it('delivers onMetaData sent mid-stream to current viewers at timestamp 0 and to new ones in the join sequence', () => {
    const { stream } = makeStream();
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    const mark = sink.events.length;
    const body2 = hex('02 000a', Buffer.from('onMetaData').toString('hex'), '03 0001 61 00 3ff0000000000000 0000 09'); // {a: 1}
    stream.setMetadata(body2, { a: 1 });
    expect(sink.labelsFrom(mark)).toEqual(['meta@0']);
    const late = new FakeSink();
    stream.subscribe(late);
    expect(late.tags[0]!.body.equals(body2)).toBe(true);
  });
});

describe('LiveStream timeline', () => {
  it('rebases the publisher clock to 0, keeps each track from going backwards, and writes exact FLV headers', () => {
    const { stream } = makeStream();
    stream.push(9, 90_000, AVC_SEQ_320X240); // relay whose clock is at 90 s
    stream.push(9, 90_000, avcKey(1));
    stream.push(8, 90_010, aacFrame(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    const mark = sink.events.length;
    stream.push(9, 90_033, avcInter(2));
    stream.push(9, 90_020, avcInter(3)); // backwards: clamped to 33
    stream.push(8, 90_005, aacFrame(2)); // backwards: clamped to 10
    stream.push(18, 90_050, hex('02 0003 616263')); // data message "abc"
    expect(sink.labelsFrom(mark)).toEqual(['P2@33', 'P3@33', 'a2@10', 'data@50']);
    expect(sink.tags.at(-3)!.flv.toString('hex')).toBe(
      hex(
        '09 | 00000b | 000021 | 00 | 000000', // video, 11 bytes, 33 ms, ext 0, stream 0
        '27 01 000000 00000002 4103', //      inter | AVC, NALU, cts 0, NAL length 2, marker 3
        '00000016', //                       PreviousTagSize 22
      ).toString('hex'),
    );
    expect(sink.tags.at(-1)!.flv.toString('hex')).toBe(
      hex('12 | 000006 | 000032 | 00 | 000000', '02 0003 616263', '00000011').toString('hex'),
    );
  });

  it('carries timestamps past 24 bits in the TimestampExtended byte', () => {
    const { stream } = makeStream();
    stream.push(9, 0, avcKey(1));
    const sink = new FakeSink();
    stream.subscribe(sink);
    vi.advanceTimersByTime(0x01000010);
    stream.push(9, 0x01000010, avcInter(2)); // 4 h 39 min in
    expect(sink.tags.at(-1)!.flv.subarray(0, 11).toString('hex')).toBe(
      hex('09 | 00000b | 000010 | 01 | 000000').toString('hex'),
    );
  });

  it('follows the publisher clock across the RTMP 32-bit timestamp wrap instead of freezing the timeline', () => {
    const { stream } = makeStream();
    stream.push(9, 0xffff_ff00, avcKey(1)); // a relayed source whose clock is 256 ms before the wrap
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.push(8, 0xffff_ff80, aacFrame(1));
    stream.push(9, 0x0000_0010, avcInter(2)); // 272 ms after the first tag, past the wrap
    stream.push(8, 0xffff_fff0, aacFrame(2)); // audio interleaved from just before the wrap
    stream.push(8, 0x0000_0020, aacFrame(3));
    stream.push(9, 0x0000_0030, avcInter(3));
    stream.push(18, 0x0000_0040, hex('02 0003 616263')); // a data message after the wrap
    expect(sink.log).toEqual([
      'begin(audio=false,video=true)',
      'K1@0',
      'a1@128',
      'P2@272',
      'a2@240',
      'a3@288',
      'P3@304',
      'data@320',
    ]);
  });

  it('delivers the time elapsed since the first tag for a steadily advancing clock that starts anywhere in 32 bits', () => {
    fc.assert(
      fc.property(
        // anywhere, or close enough before the wrap to cross it
        fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 0xffff_ffff - 400_000, max: 0xffff_ffff })),
        fc.array(fc.record({ type: fc.constantFrom<8 | 9>(8, 9), dt: fc.integer({ min: 0, max: 100_000 }) }), { maxLength: 40 }),
        (start, steps) => {
          const { stream } = makeStream();
          const sink = new FakeSink();
          stream.subscribe(sink);
          stream.push(9, start, avcKey(0));
          let elapsed = 0;
          for (const s of steps) {
            elapsed += s.dt;
            vi.advanceTimersByTime(s.dt); // a clock that advances with the wall clock is never a discontinuity
            stream.push(s.type, (start + elapsed) % 2 ** 32, s.type === 9 ? avcKey(1) : aacFrame(1));
          }
          let e = 0;
          expect(sink.tags.map((t) => t.timestamp)).toEqual([0, ...steps.map((s) => (e += s.dt))]);
        },
      ),
    );
  });

  it('keeps every track non-decreasing from 0 and continues past the old timeline after a return, whatever the clocks do', () => {
    const tagArb = fc.record({ type: fc.constantFrom<8 | 9>(8, 9), ts: fc.integer({ min: 0, max: 200_000 }) });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(tagArb, { maxLength: 30 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.record({ type: fc.constantFrom<8 | 9>(8, 9), dt: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 30 }),
        (firstTs, first, secondStart, second) => {
          const { stream } = makeStream({ graceMs: 1000 });
          const p1 = new FakePublisher('p1');
          const p2 = new FakePublisher('p2');
          const sink = new FakeSink();
          stream.subscribe(sink); // waits, then starts on the first message: a keyframe
          stream.attach(p1);
          stream.push(9, firstTs, avcKey(0));
          for (const t of first) stream.push(t.type, t.ts, t.type === 9 ? avcKey(1) : aacFrame(1));
          const before = sink.tags.length;
          stream.detach(p1);
          stream.attach(p2);
          // the returning publisher's clock is unrelated, but it does not go back before its first tag
          stream.push(9, secondStart, avcKey(2));
          for (const t of second) stream.push(t.type, secondStart + t.dt, t.type === 9 ? avcKey(3) : aacFrame(3));

          const tags = sink.tags;
          expect(tags).toHaveLength(2 + first.length + second.length);
          expect(tags[0]!.timestamp).toBe(0);
          const last = { 8: -1, 9: -1 } as Record<number, number>;
          for (const t of tags) {
            expect(t.timestamp).toBeGreaterThanOrEqual(last[t.type]!);
            last[t.type] = t.timestamp;
          }
          const maxBefore = Math.max(...tags.slice(0, before).map((t) => t.timestamp));
          for (const t of tags.slice(before)) expect(t.timestamp).toBeGreaterThan(maxBefore);
          expect(sink.ends).toEqual([]);
        },
      ),
    );
  });
});

describe('LiveStream publisher leaving', () => {
  it('without a grace period ends every viewer, waiting ones included, with reason unpublished', () => {
    const { stream, onEnd } = makeStream();
    const pub = new FakePublisher('p1');
    stream.attach(pub);
    stream.push(9, 0, AVC_SEQ_320X240);
    stream.push(9, 0, avcKey(1));
    const watching = new FakeSink();
    stream.subscribe(watching);
    stream.gop.clear(); // make the next viewer wait
    const waiting = new FakeSink();
    stream.subscribe(waiting);
    stream.detach(pub);
    expect(watching.ends).toEqual([{ reason: 'unpublished', detail: 'publisher ended the stream' }]);
    expect(waiting.ends).toEqual([{ reason: 'unpublished', detail: 'publisher ended the stream' }]);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
    expect(stream.subscribers.size + stream.waiting.size).toBe(0);
  });

  it('ignores a detach from a publisher that is no longer the current one', () => {
    const { stream, onEnd } = makeStream();
    const old = new FakePublisher('old');
    stream.attach(old);
    stream.attach(new FakePublisher('new'));
    stream.detach(old);
    expect(onEnd).not.toHaveBeenCalled();
    expect(stream.publisher?.id).toBe('new');
  });

  it('keeps viewers through the grace period and lets a returning publisher continue them on a later timeline', () => {
    const { stream, onEnd } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.detach(p1);
    expect(stream.state).toBe('idle');
    vi.advanceTimersByTime(4999);
    expect(sink.ends).toEqual([]);

    const p2 = new FakePublisher('p2');
    stream.attach(p2);
    expect(stream.state).toBe('live');
    expect(vi.getTimerCount()).toBe(0); // the grace timer is gone, not just ignored
    const mark = sink.events.length;
    stream.push(9, 0, AVC_SEQ_320X240); // the new encoder's clock restarts at 0
    stream.push(8, 0, AAC_SEQ_44100);
    stream.push(9, 0, avcKey(3));
    stream.push(8, 10, aacFrame(3));
    // headers stay at their track's position; the first frame comes one frame interval after the last one
    expect(sink.labelsFrom(mark)).toEqual(['vcfg@40', 'acfg@10', 'K3@80', 'a3@90']);
    vi.advanceTimersByTime(60_000);
    expect(sink.ends).toEqual([]);
    expect(onEnd).not.toHaveBeenCalled();
  });

  it('does not give a viewer joining after the return frames from the previous publisher', () => {
    const { stream } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    stream.subscribe(new FakeSink());
    stream.detach(p1);
    stream.attach(new FakePublisher('p2'));
    const sink = new FakeSink();
    stream.subscribe(sink);
    expect(sink.events).toEqual([]);
    stream.push(9, 0, avcKey(3));
    expect(sink.log).toEqual([BEGIN_AV, 'meta@0', 'vcfg@80', 'acfg@80', 'K3@80']);
  });

  it('ends the viewers once the grace period runs out without a return', () => {
    const { stream, onEnd } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.detach(p1);
    vi.advanceTimersByTime(5000);
    expect(sink.ends).toEqual([{ reason: 'unpublished', detail: 'publisher did not return' }]);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
  });

  it('ends at once despite a grace period when nobody is watching', () => {
    const { stream, onEnd } = makeStream({ graceMs: 5000 });
    const p1 = new FakePublisher('p1');
    stream.attach(p1);
    startAv(stream);
    stream.detach(p1);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(stream);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends each viewer once even when the stream is ended twice', () => {
    const { stream } = makeStream();
    startAv(stream);
    const sink = new FakeSink();
    stream.subscribe(sink);
    stream.end('kicked', 'by the API');
    stream.end('shutdown', 'server shutting down');
    expect(sink.ends).toEqual([{ reason: 'kicked', detail: 'by the API' }]);
  });
});

describe('LiveStream slow viewers', () => {
  it('lets a slow viewer skip and then disconnect without changing what a fast viewer receives', () => {
    const { stream } = makeStream();
    startAv(stream);
    const slow = new FakeSink('ws');
    const fast = new FakeSink('http');
    stream.subscribe(slow); // iterated first, so its removal happens mid-fan-out
    stream.subscribe(fast);
    const mark = { slow: slow.events.length, fast: fast.events.length };

    slow.bufferedBytes = 1001; // over softBytes
    stream.push(9, 80, avcInter(3));
    stream.push(8, 90, aacFrame(2));
    stream.push(9, 100, AVC_SEQ_320X240);
    stream.push(9, 120, avcKey(4)); // still over softBytes: skipped
    slow.bufferedBytes = 5001; // over hardBytes
    stream.push(9, 160, avcInter(5));
    stream.push(9, 200, avcInter(6));

    expect(slow.labelsFrom(mark.slow)).toEqual(['a2@90', 'vcfg@100']);
    expect(slow.ends.map((e) => e.reason)).toEqual(['slow']);
    expect(fast.labelsFrom(mark.fast)).toEqual(['P3@80', 'a2@90', 'vcfg@100', 'K4@120', 'P5@160', 'P6@200']);
    expect(stream.slowDisconnects).toBe(1);
    expect(stream.droppedTags).toBe(2);
    expect([...stream.subscribers].map((s) => s.sink)).toEqual([fast]);
  });

  it('counts the bytes of closed and connected viewers in totalBytesOut', () => {
    const { stream } = makeStream();
    startAv(stream);
    const a = new FakeSink();
    const b = new FakeSink();
    stream.subscribe(a);
    const subB = stream.subscribe(b);
    subB.close('closed', 'viewer left');
    stream.push(9, 80, avcInter(3));
    const bytes = (s: FakeSink): number => s.tags.reduce((n, t) => n + t.flv.length, 0);
    expect(stream.totalBytesOut).toBe(bytes(a) + bytes(b));
  });
});
