// Which codecs this browser's Media Source (or Apple's ManagedMediaSource, the only one iPhones
// have) can take, and human names for codec strings.
import type { MpegtsMediaInfo } from './mpegts-api.js';

interface MediaSourceClass {
  isTypeSupported(type: string): boolean;
}

/** MediaSource, or ManagedMediaSource where only that exists (iOS 17.1+), or null. */
export function mseClass(): MediaSourceClass | null {
  const g = globalThis as { MediaSource?: MediaSourceClass; ManagedMediaSource?: MediaSourceClass; WebKitMediaSource?: MediaSourceClass };
  return g.MediaSource ?? g.ManagedMediaSource ?? g.WebKitMediaSource ?? null;
}

/** True when the page has ManagedMediaSource but no MediaSource: the iPhone path. */
export function onlyManagedMediaSource(): boolean {
  const g = globalThis as { MediaSource?: unknown; ManagedMediaSource?: unknown };
  return typeof g.ManagedMediaSource === 'function' && typeof g.MediaSource !== 'function';
}

export function isTypeSupported(mime: string): boolean {
  const ms = mseClass();
  try {
    return !!ms && ms.isTypeSupported(mime);
  } catch {
    return false;
  }
}

const AVC_PROFILES: Record<string, string> = {
  baseline: '4200', constrainedbaseline: '42e0', main: '4d40', extended: '5800',
  high: '6400', high10: '6e00', high422: '7a00', high444: 'f400', high444predictive: 'f400',
};

const key = (name: unknown): string => String(name ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');

function avcCodec(profile: unknown, level: unknown): string {
  const p = AVC_PROFILES[key(profile)] ?? '4d40';
  let lv = Number(level);
  if (!Number.isFinite(lv) || lv <= 0) lv = 3.1;
  const idc = lv < 10 ? Math.round(lv * 10) : Math.round(lv);
  return 'avc1.' + p + (idc & 0xff).toString(16).padStart(2, '0');
}

export interface CodecInfo {
  label: string;
  mime: string | null;
  /** a second MIME type to try (MP3 goes either way) */
  alt?: string;
  /** mpegts.js can demux it */
  demux: boolean;
}

/** One track of an `api/streams` entry. */
export interface TrackDescription {
  codec?: string;
  profile?: string;
  level?: string | number;
  [k: string]: unknown;
}

function videoCodecInfo(v: TrackDescription): CodecInfo {
  const k = key(v.codec);
  if (k === 'h264' || k === 'avc' || k === 'avc1' || k === 'mpeg4avc') {
    return { label: 'H.264', mime: `video/mp4; codecs="${avcCodec(v.profile, v.level)}"`, demux: true };
  }
  if (k === 'h265' || k === 'hevc' || k === 'hvc1' || k === 'hev1') {
    return { label: 'H.265/HEVC', mime: 'video/mp4; codecs="hvc1.1.6.L93.B0"', demux: true };
  }
  if (k === 'av1' || k === 'av01') return { label: 'AV1', mime: 'video/mp4; codecs="av01.0.08M.08"', demux: true };
  return { label: v.codec || 'unknown', mime: null, demux: false };
}

function audioCodecInfo(a: TrackDescription): CodecInfo {
  const k = key(a.codec);
  const prof = key(a.profile);
  if (k === 'aac' || k === 'mp4a') {
    const oti = prof === 'hev2' || prof === 'heaacv2' ? '29' : prof === 'he' || prof === 'heaac' || prof === 'hev1' ? '5' : '2';
    return { label: 'AAC', mime: `audio/mp4; codecs="mp4a.40.${oti}"`, demux: true };
  }
  if (k === 'mp3' || k === 'mpeg' || k === 'mpeglayer3') {
    return { label: 'MP3', mime: 'audio/mpeg', alt: 'audio/mp4; codecs="mp3"', demux: true };
  }
  if (k === 'opus') return { label: 'Opus', mime: 'audio/mp4; codecs="opus"', demux: true };
  if (k === 'flac') return { label: 'FLAC', mime: 'audio/mp4; codecs="flac"', demux: true };
  return { label: a.codec || 'unknown', mime: null, demux: false };
}

export interface SupportReport {
  /** the video (or, for audio-only streams, the audio) can be decoded */
  ok: boolean;
  videoOk: boolean;
  audioOk: boolean;
  /** the browser has Media Source Extensions (MediaSource or ManagedMediaSource) */
  mse: boolean;
  message: string;
  /** false when only the audio can't be decoded: pass `hasAudio: false` to play the picture */
  hasAudio?: boolean;
  videoCodec?: CodecInfo;
  audioCodec?: CodecInfo;
}

/** Can this browser play a stream described by one entry of `api/streams`? */
export function checkSupport(info?: { video?: TrackDescription | null; audio?: TrackDescription | null } | null): SupportReport {
  const res: SupportReport = { ok: true, videoOk: true, audioOk: true, mse: !!mseClass(), message: '' };
  if (!res.mse) {
    res.ok = res.videoOk = res.audioOk = false;
    res.message = 'This browser has no Media Source Extensions, so it cannot play live FLV. ' +
      'Try a current Chrome, Edge, Firefox or Safari (iOS 17.1+).';
    return res;
  }
  const problems: string[] = [];
  if (info?.video) {
    const v = res.videoCodec = videoCodecInfo(info.video);
    if (!v.demux) {
      res.videoOk = false;
      problems.push(`video codec ${v.label} is not supported by the player (H.264, H.265 or AV1 needed)`);
    } else if (!isTypeSupported(v.mime!)) {
      res.videoOk = false;
      problems.push(`this browser cannot decode ${v.label} video`);
    }
  }
  if (info?.audio) {
    const a = res.audioCodec = audioCodecInfo(info.audio);
    if (!a.demux) {
      res.audioOk = false;
      problems.push(`audio codec ${a.label} is not supported by the player`);
    } else if (!isTypeSupported(a.mime!) && !(a.alt && isTypeSupported(a.alt))) {
      res.audioOk = false;
      problems.push(`this browser cannot decode ${a.label} audio`);
    }
  }
  if (info?.video) {
    res.ok = res.videoOk;
    if (res.videoOk && !res.audioOk) res.hasAudio = false;
  } else if (info?.audio) {
    res.ok = res.audioOk;
  }
  if (problems.length) {
    const msg = problems.join('; ');
    res.message = msg.charAt(0).toUpperCase() + msg.slice(1) + '.';
    if (res.ok && !res.audioOk) res.message += ' Playing the picture without sound.';
    else if (!res.ok && res.videoCodec && /265/.test(res.videoCodec.label)) {
      res.message += ' H.265 needs hardware decoding support (e.g. Safari, or Chrome/Edge on a GPU with HEVC); H.264 plays everywhere.';
    } else if (!res.ok) {
      res.message += ' Publish H.264 video with AAC audio for the widest browser support.';
    }
  }
  return res;
}

/** The codecs mpegts.js found in a stream, checked against what MSE accepts. */
export function streamCodecsSupported(mi: MpegtsMediaInfo): { videoOk: boolean; audioOk: boolean; video: string | null; audio: string | null } {
  const video = mi.hasVideo !== false ? mi.videoCodec ?? null : null;
  const audio = mi.hasAudio !== false ? mi.audioCodec ?? null : null;
  const videoOk = !video || isTypeSupported(`video/mp4; codecs="${video}"`);
  const audioOk = !audio || (/^mp3$/i.test(audio)
    ? isTypeSupported('audio/mpeg') || isTypeSupported('audio/mp4; codecs="mp3"')
    : isTypeSupported(`audio/mp4; codecs="${audio}"`));
  return { videoOk, audioOk, video, audio };
}

export interface StreamCodecVerdict {
  /** 'drop-audio': the picture plays but the sound cannot; 'unsupported': nothing useful plays */
  verdict: 'ok' | 'drop-audio' | 'unsupported';
  /** what to tell the viewer when it is not 'ok' */
  message: string;
}

/** Can the codecs mpegts.js found in a stream be played here, and what to say if not. */
export function judgeStreamCodecs(mi: MpegtsMediaInfo): StreamCodecVerdict {
  const s = streamCodecsSupported(mi);
  if (s.videoOk && s.audioOk) return { verdict: 'ok', message: '' };
  if (s.videoOk && s.video) {
    return { verdict: 'drop-audio', message: `This browser cannot decode ${describeCodec(s.audio)} audio (${s.audio}).` };
  }
  const what = s.videoOk ? `${describeCodec(s.audio)} audio (${s.audio})` : `${describeCodec(s.video)} video (${s.video})`;
  return { verdict: 'unsupported', message: `This browser cannot decode ${what}.` };
}

const AVC_PROFILE_NAMES: Record<number, string> = {
  66: 'Baseline', 77: 'Main', 88: 'Extended', 100: 'High', 110: 'High 10', 122: 'High 4:2:2', 244: 'High 4:4:4',
};

/** "avc1.64001f" -> "H.264 High L3.1", "mp4a.40.2" -> "AAC-LC" */
export function describeCodec(codec: string | null | undefined): string {
  if (!codec) return '';
  const m = /^avc[13]\.([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(codec);
  if (m) {
    const pi = parseInt(m[1]!, 16);
    const li = parseInt(m[3]!, 16);
    return `H.264 ${AVC_PROFILE_NAMES[pi] ?? 'profile ' + pi} L${li / 10}`;
  }
  if (/^(hvc1|hev1)/i.test(codec)) return 'H.265';
  if (/^av01/i.test(codec)) return 'AV1';
  if (/^mp4a\.40\.2$/i.test(codec)) return 'AAC-LC';
  if (/^mp4a\.40\.5$/i.test(codec)) return 'HE-AAC';
  if (/^mp4a\.40\.29$/i.test(codec)) return 'HE-AACv2';
  if (/^mp4a\.40/i.test(codec)) return 'AAC';
  if (/^mp3|^mp4a\.6b|^mp4a\.69/i.test(codec)) return 'MP3';
  if (/^opus/i.test(codec)) return 'Opus';
  if (/^flac/i.test(codec)) return 'FLAC';
  return codec;
}
