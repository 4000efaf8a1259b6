// Timed text injected by an operator: the request body is validated here and
// turned into the AMF0 body of an `onTextData` script tag, the message FLV and
// RTMP players already know from publishers that carry subtitles.
import { encodeAmf0 } from '../amf/amf0.js';

export interface TextCue {
  text: string;
  /** BCP 47 tag; 'und' when the caller gave none */
  lang: string;
  /** how long the text should stay up; absent: until the next cue */
  durationMs?: number;
}

export const TEXT_CUE_LIMITS = {
  /** characters of text; a caption, not a document */
  maxTextChars: 1_000,
  /** request body bytes accepted by the API before parsing */
  maxBodyBytes: 8 * 1024,
  maxDurationMs: 60 * 60 * 1000,
};

const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$/;
const KNOWN_FIELDS = new Set(['text', 'lang', 'durationMs']);

/** A valid cue, or a message saying exactly what is wrong with the body. */
export function parseTextCue(body: unknown): { ok: true; cue: TextCue } | { ok: false; message: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'the body must be a JSON object: { "text": "…", "lang"?: "en", "durationMs"?: 3000 }' };
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) return { ok: false, message: `unknown field ${JSON.stringify(unknown[0]!.slice(0, 40))}` };
  const { text, lang, durationMs } = fields;
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, message: '"text" must be a non-empty string' };
  if (text.length > TEXT_CUE_LIMITS.maxTextChars) {
    return { ok: false, message: `"text" is longer than ${TEXT_CUE_LIMITS.maxTextChars} characters` };
  }
  if (lang !== undefined && (typeof lang !== 'string' || !LANG.test(lang))) {
    return { ok: false, message: '"lang" must be a language tag such as "en" or "pt-BR"' };
  }
  if (
    durationMs !== undefined &&
    (typeof durationMs !== 'number' || !Number.isInteger(durationMs) || durationMs <= 0 || durationMs > TEXT_CUE_LIMITS.maxDurationMs)
  ) {
    return { ok: false, message: `"durationMs" must be a whole number of milliseconds from 1 to ${TEXT_CUE_LIMITS.maxDurationMs}` };
  }
  return { ok: true, cue: { text, lang: lang ?? 'und', ...(durationMs !== undefined ? { durationMs } : {}) } };
}

/** `"onTextData", { text, language, trackid[, durationMs] }` in AMF0, as an FLV script tag body. */
export function textDataBody(cue: TextCue): Buffer {
  return encodeAmf0([
    'onTextData',
    {
      text: cue.text,
      language: cue.lang,
      trackid: 1,
      ...(cue.durationMs !== undefined ? { durationMs: cue.durationMs } : {}),
    },
  ]);
}
