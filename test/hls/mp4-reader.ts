// A small independent reader of the fMP4 the gateway writes, for tests: walks boxes, and reads each
// fragment's samples back (tfdt, trun, mdat) so they can be compared with the FLV tags they carry.
export interface Box {
  type: string;
  start: number;
  size: number;
  /** the box body (after size and type) */
  body: Buffer;
}

export function readBoxes(buf: Buffer, start = 0, end = buf.length): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o < end) {
    if (end - o < 8) throw new Error(`truncated box header at ${o}`);
    const size = buf.readUInt32BE(o);
    const type = buf.toString('latin1', o + 4, o + 8);
    if (size < 8 || o + size > end) throw new Error(`box ${type} at ${o} has bad size ${size}`);
    out.push({ type, start: o, size, body: buf.subarray(o + 8, o + size) });
    o += size;
  }
  return out;
}

export function child(box: Box | Buffer, path: string[]): Box {
  let body = Buffer.isBuffer(box) ? box : box.body;
  let found: Box | undefined;
  for (const type of path) {
    found = readBoxes(body).find((b) => b.type === type);
    if (found === undefined) throw new Error(`no ${type} in ${path.join('/')}`);
    body = found.body;
  }
  return found!;
}

export function children(box: Box, type: string): Box[] {
  return readBoxes(box.body).filter((b) => b.type === type);
}

export interface ReadSample {
  trackId: number;
  dts: number;
  duration: number;
  cto: number;
  flags: number;
  data: Buffer;
}

/** Every sample of every moof+mdat pair in buf (a part or a whole segment). */
export function readFragments(buf: Buffer): { sequence: number; samples: ReadSample[] }[] {
  const boxes = readBoxes(buf);
  const out: { sequence: number; samples: ReadSample[] }[] = [];
  for (let i = 0; i < boxes.length; i++) {
    const moof = boxes[i]!;
    if (moof.type !== 'moof') continue;
    const mdat = boxes[i + 1];
    if (mdat?.type !== 'mdat') throw new Error('moof without mdat');
    const sequence = child(moof, ['mfhd']).body.readUInt32BE(4);
    const samples: ReadSample[] = [];
    for (const traf of children(moof, 'traf')) {
      const tfhd = child(traf, ['tfhd']).body;
      const flags = tfhd.readUInt32BE(0) & 0xffffff;
      if ((flags & 0x020000) === 0) throw new Error('tfhd without default-base-is-moof');
      const trackId = tfhd.readUInt32BE(4);
      const tfdt = child(traf, ['tfdt']).body;
      let dts = tfdt[0] === 1 ? Number(tfdt.readBigUInt64BE(4)) : tfdt.readUInt32BE(4);
      const trun = child(traf, ['trun']).body;
      const tflags = trun.readUInt32BE(0) & 0xffffff;
      const count = trun.readUInt32BE(4);
      let o = 8;
      let offset = 0;
      if (tflags & 0x1) {
        offset = trun.readInt32BE(o);
        o += 4;
      }
      if (tflags & 0x4) o += 4;
      let pos = moof.start + offset;
      for (let n = 0; n < count; n++) {
        const duration = tflags & 0x100 ? trun.readUInt32BE((o += 4) - 4) : 0;
        const size = tflags & 0x200 ? trun.readUInt32BE((o += 4) - 4) : 0;
        const sflags = tflags & 0x400 ? trun.readUInt32BE((o += 4) - 4) : 0;
        const cto = tflags & 0x800 ? trun.readInt32BE((o += 4) - 4) : 0;
        if (pos < mdat.start + 8 || pos + size > mdat.start + mdat.size) throw new Error('sample outside mdat');
        samples.push({ trackId, dts, duration, cto, flags: sflags, data: buf.subarray(pos, pos + size) });
        pos += size;
        dts += duration;
      }
    }
    out.push({ sequence, samples });
  }
  return out;
}
