// What an mpegts.js ERROR event means for a player, and how to log it.
import type { MpegtsErrorInfo, MpegtsLib } from './mpegts-api.js';

export type ErrorKind =
  | 'forbidden' // HTTP 401/403: a bad or expired signed link
  | 'gone' // HTTP 404/410: not published (live) or deleted (recording)
  | 'codec' // mpegts.js cannot demux this codec or container
  | 'mse' // Media Source refused something: unsupported codecs, or a transient failure
  | 'other';

export function classifyError(lib: MpegtsLib, detail: string, info: MpegtsErrorInfo): ErrorKind {
  const ED = lib.ErrorDetails;
  if (detail === ED.NETWORK_STATUS_CODE_INVALID && (info.code === 401 || info.code === 403)) return 'forbidden';
  if (detail === ED.NETWORK_STATUS_CODE_INVALID && (info.code === 404 || info.code === 410)) return 'gone';
  if (detail === ED.MEDIA_CODEC_UNSUPPORTED || detail === ED.MEDIA_FORMAT_UNSUPPORTED) return 'codec';
  if (detail === ED.MEDIA_MSE_ERROR) return 'mse';
  return 'other';
}

export function errorMessage(info: MpegtsErrorInfo): string {
  return info.msg || info.message || '';
}

/** "NetworkError / Exception: socket closed (1006)" */
export function errorDetail(type: string, detail: string, info: MpegtsErrorInfo): string {
  const msg = errorMessage(info);
  return `${type} / ${detail}${msg ? ': ' + msg : ''}${info.code ? ` (${info.code})` : ''}`;
}
