// Hostile input, AMF0 and AMF3 decoding.
// Run control, the captured publish and the mutations: harness.ts.
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { decodeAmf0, decodeAmf3CommandPayload, encodeAmf0 } from '../../../server/amf/amf0.js';
import { decodeAmf3, encodeAmf3 } from '../../../server/amf/amf3.js';
import type { AmfValue } from '../../../server/amf/types.js';
import { ProtocolError } from '../../../server/errors.js';
import {
  property, valueOrProtocolError, commandPayloads, dataPayloads, connectCommand, mutationsArb, mutate,
} from './harness.js';

describe('hostile input: property fuzzing', () => {
  // Beyond "a value or a ProtocolError" (test/media/hostile.test.ts's check for the media parsers): what the
  // decoder accepted from hostile bytes is a value the encoder writes and the decoder reads back unchanged,
  // so nothing half-built (a cyclic reference, a hole, a wrong type) gets past it into the hub.
  const amf0RoundTrips = (values: AmfValue[]): void => {
    expect(decodeAmf0(encodeAmf0(values))).toEqual(values);
  };
  const amf3RoundTrips = (value: AmfValue): void => {
    expect(decodeAmf3(encodeAmf3(value)).value).toEqual(value);
  };

  property(
    'AMF0 decoding of random bytes yields an amf ProtocolError or values that round-trip through the encoder',
    10_000,
    fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
      const r = valueOrProtocolError(() => decodeAmf0(Buffer.from(raw)));
      if (r instanceof ProtocolError) expect(r.code).toBe('amf');
      else amf0RoundTrips(r);
    }),
  );

  property(
    'AMF0 decoding of mutated real commands and metadata yields an amf ProtocolError or values that round-trip',
    10_000,
    fc.property(fc.constantFrom(...commandPayloads, ...dataPayloads), mutationsArb, (seed, mutations) => {
      const r = valueOrProtocolError(() => decodeAmf0(mutate(seed, mutations)));
      if (r instanceof ProtocolError) expect(r.code).toBe('amf');
      else amf0RoundTrips(r);
    }),
  );

  const amf3Seeds = [
    ...dataPayloads.map((p) => encodeAmf3(decodeAmf0(p)[2] as AmfValue)),
    ...commandPayloads.map((p) => Buffer.concat([Buffer.from([0]), p])),
    // AMF0 switching to AMF3 mid-body (0x11), as AMF3 clients send
    Buffer.concat([Buffer.from([0]), encodeAmf0(['connect', 1]), Buffer.from([0x11]), encodeAmf3(decodeAmf0(connectCommand.msg.payload)[2] as AmfValue)]),
  ];
  property(
    'AMF3 decoding of random bytes yields an amf ProtocolError or a value that round-trips through the encoder',
    10_000,
    fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
      const b = Buffer.from(raw);
      const value = valueOrProtocolError(() => decodeAmf3(b).value);
      if (value instanceof ProtocolError) expect(value.code).toBe('amf');
      else amf3RoundTrips(value);
      const command = valueOrProtocolError(() => decodeAmf3CommandPayload(b));
      if (command instanceof ProtocolError) expect(command.code).toBe('amf');
    }),
  );

  property(
    'AMF3 decoding of mutated real values and AMF3 command bodies yields an amf ProtocolError or a value that round-trips',
    10_000,
    fc.property(fc.constantFrom(...amf3Seeds), mutationsArb, (seed, mutations) => {
      const b = mutate(seed, mutations);
      const value = valueOrProtocolError(() => decodeAmf3(b).value);
      if (value instanceof ProtocolError) expect(value.code).toBe('amf');
      else amf3RoundTrips(value);
      const command = valueOrProtocolError(() => decodeAmf3CommandPayload(b));
      if (command instanceof ProtocolError) expect(command.code).toBe('amf');
    }),
  );

});
