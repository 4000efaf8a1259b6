// Shared by the AMF tests: annotated hex fixtures, the two outcomes hostile bytes may have, and
// the arbitrary values the round-trip properties encode.
import fc from 'fast-check';
import { expect } from 'vitest';
import { type AmfObject, type AmfValue, EcmaArray } from '../../server/amf/types.js';
import { ProtocolError } from '../../server/errors.js';

/** Hex with `//` comments and any whitespace, so fixtures can be annotated byte by byte. */
export function hex(annotated: string): Buffer {
  const digits = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex fixture: ${digits}`);
  return Buffer.from(digits, 'hex');
}

/** Runs `fn`, which must throw ProtocolError('amf'), and returns that error. */
export function expectAmfError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('amf');
    return e as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

/** The only acceptable outcomes for hostile bytes: a value, or a ProtocolError('amf'). */
export function returnsOrRejects(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError) || e.code !== 'amf') throw e;
  }
}

/** Any value both formats carry, nested up to five deep, with member names from `key`; `extra` adds scalars. */
export function anyAmfValue(key: fc.Arbitrary<string>, ...extra: fc.Arbitrary<AmfValue>[]): fc.Arbitrary<AmfValue> {
  const scalar: fc.Arbitrary<AmfValue> = fc.oneof(
    fc.double(), // includes NaN, -0 and the infinities
    fc.integer(),
    ...extra,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.string({ unit: 'binary' }),
    fc.date({ noInvalidDate: true }),
    fc.uint8Array({ maxLength: 16 }),
  );
  return fc.letrec<{ value: AmfValue; array: AmfValue[]; object: AmfObject; ecma: EcmaArray }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 5 }, scalar, tie('array'), tie('object'), tie('ecma')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ecma: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }).map((e) => new EcmaArray(e)),
  })).value;
}

/**
 * What decoding hands back for an encoded value: ECMA arrays come back as plain objects, except
 * an empty one where `emptyEcmaArray` says otherwise (AMF3 sends it as an array with no parts).
 */
export function decodedForm(v: AmfValue, emptyEcmaArray?: AmfValue): AmfValue {
  if (v instanceof EcmaArray) {
    if (emptyEcmaArray !== undefined && Object.keys(v.entries).length === 0) return emptyEcmaArray;
    return decodedForm(v.entries, emptyEcmaArray);
  }
  if (Array.isArray(v)) return v.map((item) => decodedForm(item, emptyEcmaArray));
  if (v === null || typeof v !== 'object' || v instanceof Date || v instanceof Uint8Array) return v;
  const out: AmfObject = {};
  for (const k of Object.keys(v)) {
    Object.defineProperty(out, k, { value: decodedForm(v[k], emptyEcmaArray), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
