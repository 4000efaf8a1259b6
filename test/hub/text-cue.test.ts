import { describe, expect, it } from 'vitest';
import { decodeAmf0 } from '../../server/amf/amf0.js';
import { parseTextCue, TEXT_CUE_LIMITS, textDataBody } from '../../server/hub/text-cue.js';

describe('text cue validation', () => {
  it('accepts text with optional lang and durationMs, defaulting the language to und', () => {
    expect(parseTextCue({ text: 'Hello' })).toEqual({ ok: true, cue: { text: 'Hello', lang: 'und' } });
    expect(parseTextCue({ text: 'Olá', lang: 'pt-BR', durationMs: 2500 })).toEqual({
      ok: true,
      cue: { text: 'Olá', lang: 'pt-BR', durationMs: 2500 },
    });
  });

  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    ['text', /JSON object/],
    [{}, /"text" must be a non-empty string/],
    [{ text: '   ' }, /"text" must be a non-empty string/],
    [{ text: 5 }, /"text" must be a non-empty string/],
    [{ text: 'x'.repeat(TEXT_CUE_LIMITS.maxTextChars + 1) }, /longer than 1000/],
    [{ text: 'a', lang: 'english please' }, /"lang"/],
    [{ text: 'a', lang: 7 }, /"lang"/],
    [{ text: 'a', durationMs: 0 }, /"durationMs"/],
    [{ text: 'a', durationMs: 1.5 }, /"durationMs"/],
    [{ text: 'a', durationMs: '100' }, /"durationMs"/],
    [{ text: 'a', durationMs: TEXT_CUE_LIMITS.maxDurationMs + 1 }, /"durationMs"/],
    [{ text: 'a', colour: 'red' }, /unknown field "colour"/],
  ])('refuses %j', (body, message) => {
    const r = parseTextCue(body);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('onTextData body', () => {
  it('is AMF0 "onTextData" then an object with text, language and trackid, byte for byte', () => {
    const body = textDataBody({ text: 'Hi', lang: 'en' });
    const expected = Buffer.concat([
      Buffer.from([0x02, 0x00, 0x0a]), Buffer.from('onTextData'),
      Buffer.from([0x03]),
      Buffer.from([0x00, 0x04]), Buffer.from('text'), Buffer.from([0x02, 0x00, 0x02]), Buffer.from('Hi'),
      Buffer.from([0x00, 0x08]), Buffer.from('language'), Buffer.from([0x02, 0x00, 0x02]), Buffer.from('en'),
      Buffer.from([0x00, 0x07]), Buffer.from('trackid'), Buffer.from([0x00]), Buffer.from('3ff0000000000000', 'hex'),
      Buffer.from([0x00, 0x00, 0x09]),
    ]);
    expect(body.toString('hex')).toBe(expected.toString('hex'));
  });

  it('carries durationMs when given and round-trips unicode text', () => {
    expect(decodeAmf0(textDataBody({ text: 'ça va? 字幕', lang: 'fr', durationMs: 1200 }))).toEqual([
      'onTextData',
      { text: 'ça va? 字幕', language: 'fr', trackid: 1, durationMs: 1200 },
    ]);
  });
});
