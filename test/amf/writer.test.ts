// The walk both AMF writers share: sizes measured first, then written in the same order into one
// allocation. A toy encoding that writes one letter per step shows the walk itself.
import { describe, expect, it } from 'vitest';
import { type AmfValue, EcmaArray } from '../../server/amf/types.js';
import { type AmfEncoding, EncodePlan, encodeValues, measure, writeMarker } from '../../server/amf/writer.js';
import { expectAmfError } from './fixtures.js';

const letter = (c: string) => (out: Buffer, off: number) => writeMarker(out, off, c.charCodeAt(0));

/** One letter per value or container step; a string or key also writes its UTF-8 length as a digit. */
const TRACE: AmfEncoding = {
  format: 'TRACE',
  size: {
    number: () => 1,
    boolean: 1,
    undefined: 1,
    null: 1,
    date: 1,
    string: () => 2,
    bytes: () => 1,
    array: () => 1,
    object: () => 2,
    key: () => 2,
  },
  write: {
    number: letter('n'),
    boolean: (out, off, value) => writeMarker(out, off, value ? 0x54 : 0x46),
    undefined: letter('u'),
    null: letter('z'),
    date: letter('d'),
    string: (out, off, _value, n) => out.write(`s${n}`, off) + off,
    bytes: letter('y'),
    arrayStart: (out, off, length) => writeMarker(out, off, 0x30 + length),
    objectStart: (out, off, isEcmaArray) => writeMarker(out, off, isEcmaArray ? 0x28 : 0x7b),
    key: (out, off, _key, n) => out.write(`k${n}`, off) + off,
    objectEnd: letter('}'),
  },
};

describe('encodeValues', () => {
  it('walks values in order: containers as start, members (name then value) and end', () => {
    const values: AmfValue[] = [1, 'é', { ab: [true, null], c: undefined }, new EcmaArray({}), new Date(0), new Uint8Array(1)];
    expect(encodeValues(values, TRACE).toString('latin1')).toBe('ns2{k22Tzk1u}(}dy');
  });

  it('refuses a cyclic structure instead of recursing forever, but allows a shared one', () => {
    const shared = { x: 1 };
    expect(encodeValues([[shared, shared]], TRACE).toString('latin1')).toBe('2{k1n}{k1n}');
    const cyclic: AmfValue[] = [];
    cyclic.push(cyclic);
    expect(expectAmfError(() => encodeValues([cyclic], TRACE)).message).toMatch('cyclic');
  });

  it('names the format of a value it cannot encode', () => {
    expect(expectAmfError(() => encodeValues([(() => 1) as unknown as AmfValue], TRACE)).message).toBe('cannot encode a function as TRACE');
  });

  it('fails rather than hand back a buffer when an encoding writes other than it measured', () => {
    const lying: AmfEncoding = { ...TRACE, size: { ...TRACE.size, null: 2 } };
    expect(expectAmfError(() => encodeValues([null], lying)).message).toBe('TRACE encoder size mismatch (1 != 2)');
  });
});

describe('measure and EncodePlan', () => {
  it('measures each string once and hands the lengths back in the order the writer meets them', () => {
    const plan = new EncodePlan();
    expect(measure({ key: 'ab', k2: ['€'] }, plan, TRACE)).toBe(2 + 2 + 2 + 2 + 1 + 2);
    expect([plan.take(), plan.take(), plan.take(), plan.take()]).toEqual([3, 2, 2, 3]);
    expect(plan.path.size).toBe(0);
  });
});
