// Validates an FLV byte stream the way a strict player would, for tests.
import { FlvDemuxer, type FlvTag } from '../../server/media/flv.js';
import { parseVideoTagHeader } from '../../server/media/video.js';
import { parseAudioTagHeader } from '../../server/media/audio.js';

export interface FlvCheck {
  header: { hasAudio: boolean; hasVideo: boolean } | null;
  tags: FlvTag[];
  /** set when the byte stream was corrupt; problems() reports it */
  error: Error | null;
  /** push more bytes; throws on corruption (bad signature, PreviousTagSize, …) */
  push(chunk: Buffer): void;
  firstVideoFrame(): FlvTag | undefined;
  videoFrames(): FlvTag[];
  /** problems found in tag order and timestamps */
  problems(): string[];
}

export function flvCheck(): FlvCheck {
  const demux = new FlvDemuxer();
  const tags: FlvTag[] = [];
  const isVideoFrame = (t: FlvTag): boolean => {
    if (t.type !== 9) return false;
    const h = parseVideoTagHeader(t.payload);
    return h.packetType === 'coded-frames';
  };
  return {
    get header() {
      return demux.header;
    },
    tags,
    error: null,
    push(chunk) {
      for (const t of demux.push(chunk)) tags.push(t);
    },
    firstVideoFrame: () => tags.find(isVideoFrame),
    videoFrames: () => tags.filter(isVideoFrame),
    problems() {
      const out: string[] = this.error === null ? [] : [`corrupt FLV: ${this.error.message}`];
      const last: Record<number, number> = {};
      let sawVideoConfig = false;
      let sawAudioConfig = false;
      let firstFrameChecked = false;
      tags.forEach((t, i) => {
        if (t.type === 8 || t.type === 9) {
          const prev = last[t.type];
          if (prev !== undefined && t.timestamp < prev) out.push(`tag ${i}: type ${t.type} timestamp ${t.timestamp} < ${prev}`);
          last[t.type] = t.timestamp;
        }
        if (t.type === 9) {
          const h = parseVideoTagHeader(t.payload);
          if (h.packetType === 'sequence-start') sawVideoConfig = true;
          else if (h.packetType === 'coded-frames') {
            if (!sawVideoConfig) out.push(`tag ${i}: video frame before the video sequence header`);
            if (!firstFrameChecked && !h.keyframe) out.push(`tag ${i}: first video frame is not a keyframe`);
            firstFrameChecked = true;
          }
        }
        if (t.type === 8) {
          const h = parseAudioTagHeader(t.payload);
          if (h.packetType === 'sequence-start') sawAudioConfig = true;
          else if (h.codec === 'aac' && !sawAudioConfig) out.push(`tag ${i}: AAC frame before the audio sequence header`);
        }
      });
      if (tags[0] !== undefined && !(tags[0].type === 18)) out.push('first tag is not onMetaData');
      return out;
    },
  };
}
