// LiveStream: what a joining viewer receives first (metadata, sequence headers, the GOP) and when.
import { describe, expect, it } from 'vitest';
import {
  AAC_SEQ_44100, AVC_SEQ_320X240, FakeSink, METADATA_BODY, aacFrame, avcInter, avcKey, hex, makeStream,
  startAv, BEGIN_AV, useFakeTimersEachTest,
} from './fixtures.js';

useFakeTimersEachTest();

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
