// LiveStream: codecs, Enhanced RTMP multitrack video, one serialization per tag and sequence header changes.
import { describe, expect, it } from 'vitest';
import {
  AAC_SEQ_44100, AAC_SEQ_48000, AC3_FRAME_48K_51, AVC_SEQ_320X240, AVC_SEQ_OTHER, FakeSink, HEVC_RECORD_720P,
  aacFrame, avcInter, avcKey, hex, makeStream, startAv, VP9_KEYFRAME_320X180, VPCC_320X180, BEGIN_AV,
  useFakeTimersEachTest,
} from './fixtures.js';

useFakeTimersEachTest();

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
