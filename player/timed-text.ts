// Text and cue points in the stream (FLV onTextData, onCuePoint, onCaptionInfo script tags), handed
// to the page when their timestamp PLAYS, not when they arrive: a tag arrives with the live edge,
// up to a buffer's length before its moment is on screen. The gateway adds each such tag's
// timestamp to its browser copy as `gatewayTimestamp` (server/media/browser-script.ts), since
// mpegts.js passes the values but not the tag's timestamp; the player maps the playhead to the same
// timeline (LatencyClock.timelineOf) and releases what is due.
import { TIMELINE_CUE_NAME } from './latency-clock.js';

export const TIMESTAMP_PROPERTY = 'gatewayTimestamp';

/** Tags waiting for their moment; a stream that floods data tags loses the oldest, never grows memory. */
export const MAX_PENDING = 256;

export interface TextEvent {
  text: string;
  /** language tag ('und' when the stream gave none) */
  lang: string;
  trackId: number | null;
  /** how long to show it; null: until the next text */
  durationMs: number | null;
  /** the tag's timestamp on the gateway's timeline, ms; null when the gateway did not say (shown on arrival) */
  timestamp: number | null;
}

export interface CuePointEvent {
  name: string;
  /** 'event' or 'navigation' by convention */
  type: string;
  /** the cue's own time, seconds, as the publisher set it */
  time: number | null;
  parameters: Record<string, unknown>;
  timestamp: number | null;
}

export interface CaptionInfoEvent {
  /** the tag's object as sent (e.g. { type: '708', data: base64 }) */
  info: Record<string, unknown>;
  timestamp: number | null;
}

export interface TimedEventMap {
  text: TextEvent;
  cuepoint: CuePointEvent;
  captioninfo: CaptionInfoEvent;
}
export type TimedEventType = keyof TimedEventMap;
export type TimedItem = { [K in TimedEventType]: { type: K; event: TimedEventMap[K] } }[TimedEventType];

function objectOf(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
const numberOr = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** mpegts.js's SCRIPTDATA_ARRIVED payload ({ name: value }) as a timed item; null for anything else. */
export function parseTimedData(scriptData: unknown): TimedItem | null {
  const d = objectOf(scriptData);
  if (d === null) return null;
  const [name] = Object.keys(d);
  const value = objectOf(name === undefined ? null : d[name]);
  if (value === null) return null;
  const { [TIMESTAMP_PROPERTY]: ts, ...rest } = value;
  const timestamp = numberOr(ts);
  if (name === 'onTextData') {
    if (typeof rest['text'] !== 'string') return null;
    const lang = rest['language'] ?? rest['lang'];
    return {
      type: 'text',
      event: { text: rest['text'], lang: typeof lang === 'string' ? lang : 'und', trackId: numberOr(rest['trackid']), durationMs: numberOr(rest['durationMs']), timestamp },
    };
  }
  if (name === 'onCuePoint') {
    if (typeof rest['name'] !== 'string' || rest['name'] === TIMELINE_CUE_NAME) return null;
    return {
      type: 'cuepoint',
      event: {
        name: rest['name'], type: typeof rest['type'] === 'string' ? rest['type'] : 'event', time: numberOr(rest['time']),
        parameters: objectOf(rest['parameters']) ?? {}, timestamp,
      },
    };
  }
  if (name === 'onCaptionInfo') return { type: 'captioninfo', event: { info: rest, timestamp } };
  return null;
}

/** Items in arrival order (which is timeline order: the gateway sends tags in order), released when due. */
export class TimedQueue {
  #pending: TimedItem[] = [];

  push(item: TimedItem): void {
    this.#pending.push(item);
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
  }

  /**
   * What is due at timeline position `position` (ms; null while the playhead's place on the
   * timeline is unknown). Items without a timestamp are due at once.
   */
  due(position: number | null): TimedItem[] {
    let n = 0;
    for (const item of this.#pending) {
      const ts = item.event.timestamp;
      if (ts !== null && (position === null || ts > position)) break;
      n++;
    }
    return n === 0 ? [] : this.#pending.splice(0, n);
  }

  clear(): void {
    this.#pending.length = 0;
  }

  get size(): number {
    return this.#pending.length;
  }
}

export type TimedListener<K extends TimedEventType> = (event: TimedEventMap[K]) => void;

/** Any number of listeners per event type; a listener's exception never reaches the player. */
export class TimedEvents {
  #listeners: { [K in TimedEventType]: Set<TimedListener<K>> } = { text: new Set(), cuepoint: new Set(), captioninfo: new Set() };

  on<K extends TimedEventType>(type: K, listener: TimedListener<K>): () => void {
    const set = this.#listeners[type] as Set<TimedListener<K>> | undefined;
    if (!set || typeof listener !== 'function') return () => {};
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(item: TimedItem): void {
    for (const listener of [...(this.#listeners[item.type] as Set<(e: unknown) => void>)]) {
      try {
        listener(item.event);
      } catch (e) {
        setTimeout(() => { throw e; }); // the page's bug, reported without breaking the player
      }
    }
  }

  clear(): void {
    for (const set of Object.values(this.#listeners)) set.clear();
  }
}

/**
 * The live player's part: the queue, the listeners, and the checks of the playhead, at every
 * presented frame (requestVideoFrameCallback) and on the element's timeupdate. Due by the element's
 * current playback position, as text tracks' cues are; `position` maps it to the gateway's timeline.
 */
export class TimedTextWatch {
  readonly queue = new TimedQueue();
  readonly events = new TimedEvents();
  readonly #video: HTMLVideoElement;
  readonly #position: (currentTime: number) => number | null;
  readonly #frameCallbacks: boolean;
  #frameCallback = 0;

  constructor(video: HTMLVideoElement, position: (currentTime: number) => number | null) {
    this.#video = video;
    this.#position = position;
    this.#frameCallbacks = typeof (video as Partial<HTMLVideoElement>).requestVideoFrameCallback === 'function';
    if (this.#frameCallbacks) this.#frameCallback = video.requestVideoFrameCallback(this.#onFrame);
    video.addEventListener('timeupdate', this.release);
  }

  /** mpegts.js script data: text and cue points wait for their moment. */
  scriptData(d: unknown): void {
    const item = parseTimedData(d);
    if (item) this.queue.push(item);
  }

  /** Hand over what is due now. */
  release = (): void => {
    if (this.queue.size === 0) return;
    for (const item of this.queue.due(this.#position(this.#video.currentTime || 0))) this.events.emit(item);
  };

  destroy(): void {
    this.#video.removeEventListener('timeupdate', this.release);
    if (this.#frameCallbacks) this.#video.cancelVideoFrameCallback(this.#frameCallback);
    this.queue.clear();
    this.events.clear();
  }

  #onFrame = (): void => {
    this.#frameCallback = this.#video.requestVideoFrameCallback(this.#onFrame);
    this.release();
  };
}
