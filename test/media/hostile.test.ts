import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../server/errors.js';
import { parseAacAudioSpecificConfig } from '../../server/media/aac.js';
import { parseAudioTagHeader } from '../../server/media/audio.js';
import { parseAv1CodecConfig } from '../../server/media/av1.js';
import { parseAvcDecoderConfig, parseAvcSps } from '../../server/media/avc.js';
import { FlvDemuxer, flvFileHeader } from '../../server/media/flv.js';
import { parseHevcDecoderConfig, parseHevcSps } from '../../server/media/hevc.js';
import { parseOpusHead } from '../../server/media/opus.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import * as fx from './fixtures.js';

/** Runs `fn`; a returned value or a ProtocolError is fine, anything else fails the property. */
function valueOrProtocolError<T>(fn: () => T, check?: (v: T) => void): void {
  let value: T;
  try {
    value = fn();
  } catch (err) {
    if (err instanceof ProtocolError) return;
    throw err;
  }
  check?.(value);
}

interface Sized {
  width: number;
  height: number;
}
const sane = (c: Sized) => {
  expect(Number.isInteger(c.width) && c.width > 0 && c.width <= 65536).toBe(true);
  expect(Number.isInteger(c.height) && c.height > 0 && c.height <= 65536).toBe(true);
};
const offsetInside = (payload: Buffer) => (h: { dataOffset: number }) => {
  expect(h.dataOffset).toBeGreaterThanOrEqual(1);
  expect(h.dataOffset).toBeLessThanOrEqual(payload.length);
};

const parsers: [string, (b: Buffer) => void, Buffer[]][] = [
  ['parseVideoTagHeader', (b) => valueOrProtocolError(() => parseVideoTagHeader(b), offsetInside(b)), [fx.AVC_TAG_720P, fx.hex('97 02 0003e8 01 61766331 000000'), fx.hex('96 21 61763031 00 000005')]],
  ['parseAudioTagHeader', (b) => valueOrProtocolError(() => parseAudioTagHeader(b), offsetInside(b)), [fx.AAC_TAG_44100, fx.hex('95 20 6d703461 01 000002 1190')]],
  ['parseAvcDecoderConfig', (b) => valueOrProtocolError(() => parseAvcDecoderConfig(b), sane), [fx.AVC_RECORD_720P, fx.AVC_RECORD_1080I, fx.AVC_RECORD_444, fx.AVC_RECORD_320X240]],
  ['parseAvcSps', (b) => valueOrProtocolError(() => parseAvcSps(b), sane), [fx.AVC_RECORD_1080P.subarray(8, 8 + 27)]],
  ['parseHevcDecoderConfig', (b) => valueOrProtocolError(() => parseHevcDecoderConfig(b), sane), [fx.HEVC_RECORD_720P, fx.HEVC_RECORD_1080P_MAIN10, fx.HEVC_RECORD_854X480]],
  ['parseHevcSps', (b) => valueOrProtocolError(() => parseHevcSps(b), sane), [fx.HEVC_RECORD_720P.subarray(57, 57 + 43)]],
  ['parseAv1CodecConfig', (b) => valueOrProtocolError(() => parseAv1CodecConfig(b), sane), [fx.AV1_RECORD_320X240]],
  ['parseAacAudioSpecificConfig', (b) => valueOrProtocolError(() => parseAacAudioSpecificConfig(b), (c) => {
    expect(c.sampleRate).toBeGreaterThan(0);
    expect(c.channels).toBeGreaterThanOrEqual(0);
  }), [fx.ASC_LC_48000_FFMPEG, fx.ASC_HE_AAC_IMPLICIT, fx.ASC_HE_AAC_V2_EXPLICIT]],
  ['parseOpusHead', (b) => valueOrProtocolError(() => parseOpusHead(b)), [fx.hex('4f70757348656164 01 02 3801 44ac0000 0000 00')]],
];

/** Byte edits (overwrite, insert, delete) applied to a real fixture reach much deeper than pure noise. */
const editsArb = fc.array(
  fc.record({ kind: fc.constantFrom('set', 'insert', 'delete'), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  { minLength: 1, maxLength: 6 },
);
function mutate(seed: Buffer, edits: { kind: string; at: number; value: number }[]): Buffer {
  const bytes = [...seed];
  for (const e of edits) {
    const at = e.at % (bytes.length + 1);
    if (e.kind === 'set' && at < bytes.length) bytes[at] = e.value;
    else if (e.kind === 'insert') bytes.splice(at, 0, e.value);
    else bytes.splice(at, 1);
  }
  return Buffer.from(bytes);
}

describe('hostile input', () => {
  it.each(parsers)('%s returns a value or throws ProtocolError for random bytes', (_name, parse) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (a) => parse(Buffer.from(a))),
      { numRuns: 10_000 },
    );
  });

  it.each(parsers)('%s returns a value or throws ProtocolError for mutated real fixtures', (_name, parse, seeds) => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds), editsArb, (seed, edits) => parse(mutate(seed, edits))),
      { numRuns: 10_000 },
    );
  });

  it.each(parsers)('%s handles every truncation of its fixtures', (_name, parse, seeds) => {
    for (const seed of seeds) for (let n = 0; n <= seed.length; n++) parse(seed.subarray(0, n));
  });

  it('FlvDemuxer yields tags or ProtocolError for random bytes after a valid header, in random splits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 8 }), (a, cuts) => {
        const d = new FlvDemuxer({ maxTagBytes: 4096 });
        const all = Buffer.concat([flvFileHeader(true, true), Buffer.from(a)]);
        const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
        let prev = 0;
        try {
          for (const p of [...points, all.length]) {
            for (const t of d.push(all.subarray(prev, p))) expect(t.payload.length).toBeLessThanOrEqual(4096);
            prev = p;
          }
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('FlvDemuxer yields tags or ProtocolError for entirely random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (a) => valueOrProtocolError(() => new FlvDemuxer().push(Buffer.from(a)))),
      { numRuns: 10_000 },
    );
  });
});
