// The browser form of timed script tags: onTextData, onCuePoint and onCaptionInfo carry their own
// timestamp (mpegts.js does not pass it to the page); every other body is left alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAmf0, encodeAmf0 } from '../../server/amf/amf0.js';
import { MediaTag } from '../../server/hub/media-tag.js';
import { browserTimedScript, TIMESTAMP_PROPERTY } from '../../server/media/browser-script.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('browserTimedScript', () => {
  it('adds gatewayTimestamp to an onTextData object (byte fixture)', () => {
    // "onTextData", { text: "hi" }
    const body = hex('02 000a 6f6e5465787444617461  03 0004 74657874 02 0002 6869  000009');
    const out = browserTimedScript(body, 1234);
    expect(out.toString('hex')).toBe(
      hex('02 000a 6f6e5465787444617461  03 0004 74657874 02 0002 6869' +
        ' 0010 67617465776179 54696d657374616d70 00 4093480000000000  000009').toString('hex'),
    );
    expect(decodeAmf0(out)).toEqual(['onTextData', { text: 'hi', [TIMESTAMP_PROPERTY]: 1234 }]);
  });

  it.each(['onCuePoint', 'onCaptionInfo'])('adds it to %s, keeping every other property', (name) => {
    const value = { name: 'chapter', time: 1.5, parameters: { title: 'Two' } };
    expect(decodeAmf0(browserTimedScript(encodeAmf0([name, value]), 200))).toEqual([name, { ...value, gatewayTimestamp: 200 }]);
  });

  it('leaves onMetaData, other names, non-object values and undecodable bodies as the very same Buffer', () => {
    const bodies = [
      encodeAmf0(['onMetaData', { width: 320 }]),
      encodeAmf0(['@setDataFrame', 'onTextData', { text: 'x' }]),
      encodeAmf0(['onTextData', 'not an object']),
      encodeAmf0(['onCuePoint', [1, 2]]),
      hex('02 000a 6f6e5465787444617461 03 0004'), // truncated
      hex(''),
    ];
    for (const b of bodies) expect(browserTimedScript(b, 5)).toBe(b);
  });

  it('is what a browser viewer of a data tag gets, made once per tag', () => {
    const tag = new MediaTag(18, 4321, encodeAmf0(['onTextData', { text: 'x' }]), false, false);
    expect(tag.browser).toBe(tag.browser);
    expect(decodeAmf0(tag.browser!.body)).toEqual(['onTextData', { text: 'x', gatewayTimestamp: 4321 }]);
    expect(tag.browser!.timestamp).toBe(4321);
  });

  it('never throws on hostile bodies, and what it returns still decodes whenever the input did', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (bytes, ts) => {
        const body = Buffer.concat([hex('02 000a 6f6e5465787444617461'), Buffer.from(bytes)]);
        const out = browserTimedScript(body, ts);
        let decodes = true;
        try {
          decodeAmf0(body);
        } catch {
          decodes = false;
        }
        if (!decodes) expect(out).toBe(body);
        else expect(decodeAmf0(out)[0]).toBe('onTextData');
      }),
      { numRuns: 500 },
    );
  });
});
