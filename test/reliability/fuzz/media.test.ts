// Hostile input, media: the FLV demuxer, video/audio tag headers and AVC/HEVC/AAC configuration parsers.
// Run control, the captured publish and the mutations: harness.ts.
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { ProtocolError } from '../../../server/errors.js';
import { classifyAudio, classifyVideo } from '../../../server/hub/track-info.js';
import { parseAacAudioSpecificConfig } from '../../../server/media/aac.js';
import { parseAudioTagHeader } from '../../../server/media/audio.js';
import { parseAvcDecoderConfig } from '../../../server/media/avc.js';
import { FlvDemuxer } from '../../../server/media/flv.js';
import { parseHevcDecoderConfig } from '../../../server/media/hevc.js';
import { parseVideoTagHeader } from '../../../server/media/video.js';
import {
  property, valueOrProtocolError, MESSAGES, videoConfig, audioConfig, keyframe, FLV, mutationsArb, mutate,
  cutsArb, pieces,
} from './harness.js';

describe('hostile input: property fuzzing', () => {
  property(
    'the FLV demuxer reads mutated FLV of real media, in any split, into bounded tags or an flv ProtocolError',
    5_000,
    fc.property(mutationsArb, cutsArb, (mutations, cuts) => {
      const data = mutate(FLV, mutations);
      const d = new FlvDemuxer({ maxTagBytes: 32 * 1024 });
      let pushed = 0;
      const r = valueOrProtocolError(() => {
        for (const p of pieces(data, cuts)) {
          for (const t of d.push(p)) expect(t.payload.length).toBeLessThanOrEqual(32 * 1024);
          pushed += p.length;
          expect(d.pendingBytes).toBeLessThanOrEqual(pushed);
        }
      });
      if (r instanceof ProtocolError) expect(r.code).toBe('flv');
    }),
  );

  property(
    'video tag and AVC/HEVC configuration parsers take mutated real sequence headers and keyframes to a value or a ProtocolError',
    10_000,
    fc.property(fc.constantFrom(videoConfig.msg.payload, keyframe.msg.payload.subarray(0, 64)), mutationsArb, (seed, mutations) => {
      const body = mutate(seed, mutations);
      // the hub's classifier must absorb every parser error itself: it runs on the publish path
      const c = classifyVideo(body);
      if (c.config !== undefined) {
        expect(Number.isInteger(c.config.width) && c.config.width >= 0 && c.config.width <= 65535).toBe(true);
        expect(Number.isInteger(c.config.height) && c.config.height >= 0 && c.config.height <= 65535).toBe(true);
      }
      const h = valueOrProtocolError(() => parseVideoTagHeader(body));
      if (!(h instanceof ProtocolError)) {
        expect(h.dataOffset).toBeLessThanOrEqual(body.length);
        valueOrProtocolError(() => parseAvcDecoderConfig(body.subarray(h.dataOffset)));
        valueOrProtocolError(() => parseHevcDecoderConfig(body.subarray(h.dataOffset)));
      }
    }),
  );

  property(
    'audio tag and AAC configuration parsers take mutated real sequence headers to a value or a ProtocolError',
    10_000,
    fc.property(fc.constantFrom(audioConfig.msg.payload, MESSAGES.find((m) => m.msg.type === 8 && m.msg.payload[1] === 1)!.msg.payload.subarray(0, 32)), mutationsArb, (seed, mutations) => {
      const body = mutate(seed, mutations);
      const c = classifyAudio(body);
      if (c.config !== undefined) expect(c.config.sampleRate).toBeGreaterThanOrEqual(0);
      const h = valueOrProtocolError(() => parseAudioTagHeader(body));
      if (!(h instanceof ProtocolError)) {
        expect(h.dataOffset).toBeLessThanOrEqual(body.length);
        valueOrProtocolError(() => parseAacAudioSpecificConfig(body.subarray(h.dataOffset)));
      }
    }),
  );

});
