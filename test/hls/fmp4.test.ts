// fMP4 box writer: ISO/IEC 14496-12 moof/mfhd/traf/tfhd/tfdt/trun/mdat and the init segment's
// moov tree, as annotated byte fixtures, then the round trip against an independent reader.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fragment, initSegment, NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS, type TrackInfo } from '../../server/hls/fmp4.js';
import { child, children, readBoxes, readFragments } from './mp4-reader.js';

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/[^0-9a-f]/gi, ''), 'hex');

// An AVCDecoderConfigurationRecord (High@3.1, 4-byte NAL lengths) and an AAC-LC 44.1 kHz stereo ASC.
const AVCC = hex('01 64 00 1f ff e1 0004 67640 01f e1 0004 68ee3cb0'.replace(/ /g, ''));
const ASC = hex('1210');
const VIDEO: TrackInfo = { id: 1, kind: 'video', codec: 'avc', timescale: 90_000, config: AVCC, width: 1280, height: 720 };
const AUDIO: TrackInfo = { id: 2, kind: 'audio', codec: 'aac', timescale: 44_100, config: ASC, channels: 2, sampleRate: 44_100 };

describe('fragment (one LL-HLS part)', () => {
  it('writes moof(mfhd, traf(tfhd, tfdt v1, trun v1)) and mdat with the samples back to back', () => {
    const out = fragment(7, [
      {
        track: VIDEO,
        baseDts: 0x1234,
        samples: [
          { dts: 0x1234, duration: 3000, cto: 0, keyframe: true, data: hex('aabb') },
          { dts: 0x1234 + 3000, duration: 3000, cto: -3000, keyframe: false, data: hex('cc') },
        ],
      },
    ]);
    expect(out).toEqual(
      hex(
        '00000078 6d6f6f66', //                moof, 120 bytes
        '00000010 6d666864 00000000 00000007', // mfhd v0, sequence 7
        '00000060 74726166', //                traf, 96 bytes
        '00000010 74666864 00020000 00000001', // tfhd flags default-base-is-moof, track 1
        '00000014 74666474 01000000 0000000000001234', // tfdt v1, baseMediaDecodeTime 0x1234
        '00000034 7472756e 01000f01', //       trun v1: data-offset, duration, size, flags, cto
        '00000002 00000080', //                2 samples, data at 128 = moof + mdat header
        '00000bb8 00000002 02000000 00000000', // 3000 ticks, 2 bytes, sync, cto 0
        '00000bb8 00000001 01010000 fffff448', // 3000 ticks, 1 byte, non-sync, cto -3000
        '0000000b 6d646174 aabbcc', //          mdat
      ),
    );
  });

  it('puts a second track after the first in mdat, each trun pointing at its own bytes', () => {
    const out = fragment(1, [
      { track: VIDEO, baseDts: 90, samples: [{ dts: 90, duration: 3000, cto: 0, keyframe: true, data: hex('0102') }] },
      { track: AUDIO, baseDts: 44, samples: [{ dts: 44, duration: 1024, cto: 0, keyframe: true, data: hex('0304') }] },
    ]);
    const [f] = readFragments(out);
    expect(f!.samples.map((s) => [s.trackId, s.dts, s.data.toString('hex'), s.flags])).toEqual([
      [1, 90, '0102', SYNC_SAMPLE_FLAGS],
      [2, 44, '0304', SYNC_SAMPLE_FLAGS],
    ]);
  });

  it('leaves out a track with no samples in this part', () => {
    const out = fragment(3, [
      { track: VIDEO, baseDts: 0, samples: [] },
      { track: AUDIO, baseDts: 0, samples: [{ dts: 0, duration: 1024, cto: 0, keyframe: true, data: hex('ff') }] },
    ]);
    const moof = readBoxes(out)[0]!;
    expect(children(moof, 'traf')).toHaveLength(1);
    expect(child(moof, ['traf', 'tfhd']).body.readUInt32BE(4)).toBe(2);
  });

  it('round-trips any samples: sizes, bytes, decode times, durations, offsets and sync flags', () => {
    const sample = fc.record({
      duration: fc.integer({ min: 0, max: 100_000 }),
      cto: fc.integer({ min: -50_000, max: 50_000 }),
      keyframe: fc.boolean(),
      data: fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.array(sample, { minLength: 1, maxLength: 20 }), fc.array(sample, { maxLength: 20 }), (base, vs, as) => {
        const withDts = (list: typeof vs) => {
          let t = base;
          return list.map((s) => ({ ...s, dts: (t += s.duration) - s.duration }));
        };
        const video = withDts(vs);
        const audio = withDts(as).map((s) => ({ ...s, cto: 0 }));
        const out = fragment(9, [
          { track: VIDEO, baseDts: base, samples: video },
          { track: AUDIO, baseDts: base, samples: audio },
        ]);
        const [f] = readFragments(out);
        const expected = [
          ...video.map((s) => ({ trackId: 1, dts: s.dts, duration: s.duration, cto: s.cto, flags: s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS, data: s.data })),
          ...audio.map((s) => ({ trackId: 2, dts: s.dts, duration: s.duration, cto: 0, flags: SYNC_SAMPLE_FLAGS, data: s.data })),
        ];
        expect(f!.sequence).toBe(9);
        expect(f!.samples).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('initSegment', () => {
  const init = initSegment([VIDEO, AUDIO]);
  const [ftyp, moov] = readBoxes(init);

  it('starts with ftyp iso6 (CMAF-compatible brands) then one moov', () => {
    expect(readBoxes(init).map((b) => b.type)).toEqual(['ftyp', 'moov']);
    expect(ftyp!.body.toString('latin1')).toBe('iso6\0\0\0\0iso6cmfcmp41isomdash');
  });

  it('mvhd names the next free track id and mvex has one trex per track', () => {
    const mvhd = child(moov!, ['mvhd']).body;
    expect(mvhd.readUInt32BE(4 + 8)).toBe(1000); // timescale
    expect(mvhd.readUInt32BE(mvhd.length - 4)).toBe(3);
    const trex = children(child(moov!, ['mvex']), 'trex').map((b) => [b.body.readUInt32BE(4), b.body.readUInt32BE(8)]);
    expect(trex).toEqual([[1, 1], [2, 1]]);
  });

  it('the video trak has tkhd 1280x720, mdhd 90 kHz, a vide handler and avc1 with the avcC record verbatim', () => {
    const trak = children(moov!, 'trak')[0]!;
    const tkhd = child(trak, ['tkhd']).body;
    expect(tkhd.readUInt32BE(4 + 8)).toBe(1); // track_ID
    expect(tkhd.readUInt32BE(tkhd.length - 8) / 0x10000).toBe(1280);
    expect(tkhd.readUInt32BE(tkhd.length - 4) / 0x10000).toBe(720);
    expect(child(trak, ['mdia', 'mdhd']).body.readUInt32BE(12)).toBe(90_000);
    expect(child(trak, ['mdia', 'hdlr']).body.toString('latin1', 8, 12)).toBe('vide');
    const stsd = child(trak, ['mdia', 'minf', 'stbl', 'stsd']).body;
    const [avc1] = readBoxes(stsd, 8);
    expect(avc1!.type).toBe('avc1');
    expect(avc1!.body.readUInt16BE(24)).toBe(1280);
    expect(avc1!.body.readUInt16BE(26)).toBe(720);
    const [avcC] = readBoxes(avc1!.body, 78);
    expect(avcC).toMatchObject({ type: 'avcC' });
    expect(avcC!.body).toEqual(AVCC);
  });

  it('the audio trak has mp4a 2 ch 44.1 kHz and an esds carrying the AudioSpecificConfig', () => {
    const trak = children(moov!, 'trak')[1]!;
    expect(child(trak, ['mdia', 'hdlr']).body.toString('latin1', 8, 12)).toBe('soun');
    const stsd = child(trak, ['mdia', 'minf', 'stbl', 'stsd']).body;
    const [mp4a] = readBoxes(stsd, 8);
    expect(mp4a!.type).toBe('mp4a');
    expect(mp4a!.body.readUInt16BE(16)).toBe(2);
    expect(mp4a!.body.readUInt32BE(24) / 0x10000).toBe(44_100);
    const [esds] = readBoxes(mp4a!.body, 28);
    expect(esds!.body).toEqual(
      hex(
        '00000000', //                     version 0, flags 0
        '03 19 0002 00', //                ES_Descriptor, 25 bytes: ES_ID 2, no flags
        '04 11 40 15 000000 00000000 00000000', // DecoderConfig: MPEG-4 Audio, audio stream, no rates
        '05 02 1210', //                   DecoderSpecificInfo: the ASC
        '06 01 02', //                     SLConfig: predefined 2 (MP4)
      ),
    );
  });

  it('an HEVC track is hvc1/hvcC and an Opus track Opus/dOps', () => {
    const hvcc = hex('01 01 60000000 b0000000 0000 5d f000 fcfd f8f8 0000 0f 00');
    const dops = hex('00 02 0138 0000bb80 0000 00');
    const init2 = initSegment([
      { ...VIDEO, codec: 'hevc', config: hvcc },
      { ...AUDIO, codec: 'opus', config: dops, timescale: 48_000, sampleRate: 48_000 },
    ]);
    const traks = children(readBoxes(init2)[1]!, 'trak');
    const entry = (i: number) => readBoxes(child(traks[i]!, ['mdia', 'minf', 'stbl', 'stsd']).body, 8)[0]!;
    expect(entry(0).type).toBe('hvc1');
    expect(readBoxes(entry(0).body, 78)[0]).toMatchObject({ type: 'hvcC', body: hvcc });
    expect(entry(1).type).toBe('Opus');
    expect(readBoxes(entry(1).body, 28)[0]).toMatchObject({ type: 'dOps', body: dops });
  });

  it('an Opus track has an edit list that starts PreSkip samples into the media; other tracks have none', () => {
    const dops = hex('00 02 0138 0000bb80 0000 00'); // PreSkip 0x0138 = 312
    const init2 = initSegment([VIDEO, { ...AUDIO, codec: 'opus', config: dops, timescale: 48_000, sampleRate: 48_000 }]);
    const traks = children(readBoxes(init2)[1]!, 'trak');
    expect(readBoxes(traks[0]!.body).map((b) => b.type)).toEqual(['tkhd', 'mdia']);
    expect(readBoxes(traks[1]!.body).map((b) => b.type)).toEqual(['tkhd', 'edts', 'mdia']);
    const edts = readBoxes(traks[1]!.body)[1]!;
    expect(edts.size).toBe(36);
    expect(edts.body).toEqual(
      hex(
        '0000001c 656c7374 00000000', //   elst, 28 bytes, version 0, flags 0
        '00000001', //                     one edit
        '00000000', //                     segment_duration 0: all of the media (fragments still to come)
        '00000138', //                     media_time 312: the priming samples are not presented
        '0001 0000', //                    media_rate 1.0
      ),
    );
    const aac = initSegment([AUDIO]);
    expect(readBoxes(children(readBoxes(aac)[1]!, 'trak')[0]!.body).map((b) => b.type)).toEqual(['tkhd', 'mdia']);
  });

  it('Opus carries its 80 ms pre-roll as a roll group: sgpd + an empty sbgp in stbl, and an sbgp in each fragment', () => {
    const dops = hex('00 02 0138 0000bb80 0000 00');
    const opus: TrackInfo = { ...AUDIO, codec: 'opus', config: dops, timescale: 48_000, sampleRate: 48_000 };
    const stbl = child(children(readBoxes(initSegment([opus]))[1]!, 'trak')[0]!, ['mdia', 'minf', 'stbl']);
    const boxes = readBoxes(stbl.body);
    expect(boxes.map((b) => b.type)).toEqual(['stsd', 'stts', 'stsc', 'stsz', 'stco', 'sgpd', 'sbgp']);
    //                      version 1 | 'roll'    | default_length 2 | 1 entry | roll_distance -4
    expect(boxes[5]!.body).toEqual(hex('01000000', '726f6c6c', '00000002', '00000001', 'fffc'));
    expect(boxes[6]!.body).toEqual(hex('00000000', '726f6c6c', '00000000'));
    const samples = [0, 1, 2].map((i) => ({ dts: i * 960, duration: 960, cto: 0, keyframe: true, data: Buffer.from([0xfc, i]) }));
    const frag = fragment(7, [{ track: VIDEO, baseDts: 0, samples: [{ dts: 0, duration: 3000, cto: 0, keyframe: true, data: Buffer.from([0x65]) }] }, { track: opus, baseDts: 0, samples }]);
    const trafs = children(readBoxes(frag)[0]!, 'traf');
    expect(readBoxes(trafs[0]!.body).map((b) => b.type)).toEqual(['tfhd', 'tfdt', 'trun']);
    const sbgp = readBoxes(trafs[1]!.body)[3]!;
    // 'roll': one run of 3 samples in group 1 (the moov's sgpd entry)
    expect(sbgp).toMatchObject({ type: 'sbgp', body: hex('00000000', '726f6c6c', '00000001', '00000003', '00000001') });
    // the data offsets still point at each sample
    expect(readFragments(frag)[0]!.samples.map((x) => x.data)).toEqual([Buffer.from([0x65]), ...samples.map((x) => x.data)]);
  });
});
