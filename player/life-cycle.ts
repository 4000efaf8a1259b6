// The live player's connection life cycle as a table: state x event -> next state. Pure: the
// player looks an event up here first and only acts when the table allows the move, so "which
// events count in which state" is written once, here, and tested on its own.

export type LiveState =
  | 'idle'
  | 'loading' // mpegts.js is loading
  | 'connecting' // connection opened, waiting for the first frames
  | 'playing'
  | 'buffering' // the element waits for data
  | 'paused' // the browser paused the video by itself; the player is resuming it
  | 'reconnecting' // waiting out the backoff after a network or media error
  | 'offline' // the stream is not live (or may have ended): polling until it is
  | 'suspended' // paused in a background tab; reconnects when the tab is visible
  | 'blocked' // the browser refused to play even muted; waits for a click
  | 'unsupported' // this browser cannot decode the stream
  | 'forbidden' // 401/403: bad or expired signed link
  | 'error' // anything else (the player library failed to load or start)
  | 'destroyed';

export type LiveEvent =
  | 'load-library' // mpegts.js is not there yet
  | 'library-failed'
  | 'start-failed' // mpegts.js threw while creating the player
  | 'connect' // a new connection starts (first start, retry, reconnect(), setRewind())
  | 'no-mse' // no Media Source Extensions, or a protocol the browser cannot stream
  | 'playing' // the element plays
  | 'waiting' // the element ran out of data
  | 'data-resumed' // enough data again while buffering
  | 'engine-paused' // a pause the page did not ask for
  | 'autoplay-blocked' // play() refused even muted
  | 'connection-lost' // network or media error, or no data for too long
  | 'stream-ended' // the server closed the stream: checking whether it is still live
  | 'retry-scheduled' // backoff timer set
  | 'not-live' // api/streams or a 404 says the stream is not published
  | 'codec-unsupported'
  | 'access-denied'
  | 'hidden-overflow' // paused in a background tab with a growing buffer
  | 'destroy';

/** A connection is running in these states (events from mpegts.js and the element count). */
const CONNECTED: readonly LiveState[] = ['connecting', 'playing', 'buffering', 'paused', 'blocked'];
/** Every state but the end. */
const ALIVE: readonly LiveState[] = [
  'idle', 'loading', 'connecting', 'playing', 'buffering', 'paused', 'reconnecting',
  'offline', 'suspended', 'blocked', 'unsupported', 'forbidden', 'error',
];

type Row = Partial<Record<LiveEvent, LiveState>>;

function rows(): Record<LiveState, Row> {
  const t = {} as Record<LiveState, Row>;
  for (const s of [...ALIVE, 'destroyed'] as LiveState[]) t[s] = {};
  const allow = (from: readonly LiveState[], event: LiveEvent, to: LiveState): void => {
    for (const s of from) t[s][event] = to;
  };
  allow(ALIVE, 'load-library', 'loading');
  allow(['loading'], 'library-failed', 'error');
  allow(ALIVE, 'connect', 'connecting');
  allow(ALIVE, 'start-failed', 'error');
  allow(ALIVE, 'no-mse', 'unsupported');
  allow(CONNECTED, 'playing', 'playing');
  allow(['playing'], 'waiting', 'buffering');
  allow(['buffering'], 'data-resumed', 'playing');
  allow(['playing', 'buffering'], 'engine-paused', 'paused');
  allow(CONNECTED, 'autoplay-blocked', 'blocked');
  allow(CONNECTED, 'connection-lost', 'reconnecting');
  allow(CONNECTED, 'stream-ended', 'offline');
  allow(['reconnecting', 'offline', 'error'], 'retry-scheduled', 'reconnecting');
  allow([...CONNECTED, 'reconnecting', 'offline'], 'not-live', 'offline');
  allow([...CONNECTED, 'loading'], 'codec-unsupported', 'unsupported');
  allow(CONNECTED, 'access-denied', 'forbidden');
  allow(['playing', 'buffering', 'paused'], 'hidden-overflow', 'suspended');
  allow(ALIVE, 'destroy', 'destroyed');
  return t;
}

export const LIVE_TRANSITIONS: Readonly<Record<LiveState, Readonly<Row>>> = rows();

/** The next state, or null when the event does not count in this state (it is ignored). */
export function nextState(state: LiveState, event: LiveEvent): LiveState | null {
  return LIVE_TRANSITIONS[state][event] ?? null;
}

/** A connection is running: events from mpegts.js and the video element count. */
export function isConnected(state: LiveState): boolean {
  return CONNECTED.includes(state);
}
