// Shared by the recording tests: temp directories and reading a recorded FLV file back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAmf0 } from '../../server/amf/amf0.js';
import type { AmfObject } from '../../server/amf/types.js';
import { FlvDemuxer, type FlvTag } from '../../server/media/flv.js';
import { metadataEntries } from '../../server/record/flv-file-writer.js';
import { flvCheck } from '../support/flv-check.js';

export function tempDir(label: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gw-rec-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ReadBack {
  bytes: Buffer;
  header: { hasAudio: boolean; hasVideo: boolean } | null;
  tags: FlvTag[];
  /** bytes left over after the last complete tag (0 for a clean file) */
  pending: number;
  /** the decoded onMetaData object of the first tag */
  meta: AmfObject;
  /** flvCheck's problems (order, timestamps, keyframe first, …) */
  problems: string[];
}

/** Read a whole file with the project's FlvDemuxer (which throws on any corruption). */
export function readFlv(file: string): ReadBack {
  const bytes = readFileSync(file);
  const demux = new FlvDemuxer();
  const tags = demux.push(bytes);
  const check = flvCheck();
  check.push(bytes);
  const first = tags[0];
  let meta: AmfObject = {};
  if (first !== undefined && first.type === 18) {
    const values = decodeAmf0(first.payload);
    if (values[0] === 'onMetaData') meta = metadataEntries(values[1]) ?? {};
  }
  return { bytes, header: demux.header, tags, pending: demux.pendingBytes, meta, problems: check.problems() };
}

/** `<kind>@<ts>` labels, as in the hub tests: meta, data, vcfg, acfg, K<n>, P<n>, a<n>. */
export function labels(tags: FlvTag[]): string[] {
  return tags.map((t) => {
    const n = t.payload[t.payload.length - 1]!;
    const kind =
      t.type === 18 ? (t.payload.subarray(3, 13).toString('latin1') === 'onMetaData' ? 'meta' : 'data')
      : t.type === 9 ? (t.payload[1] === 0 ? 'vcfg' : (t.payload[0]! >> 4) === 1 ? `K${n}` : `P${n}`)
      : t.payload[1] === 0 ? 'acfg'
      : `a${n}`;
    return `${kind}@${t.timestamp}`;
  });
}
