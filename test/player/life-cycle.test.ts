import { describe, expect, it } from 'vitest';
import { isConnected, LIVE_TRANSITIONS, nextState, type LiveEvent, type LiveState } from '../../player/life-cycle.js';

const STATES = Object.keys(LIVE_TRANSITIONS) as LiveState[];
const EVENTS: LiveEvent[] = [
  'load-library', 'library-failed', 'start-failed', 'connect', 'no-mse', 'playing', 'waiting', 'data-resumed',
  'engine-paused', 'autoplay-blocked', 'connection-lost', 'stream-ended', 'retry-scheduled', 'not-live',
  'codec-unsupported', 'access-denied', 'hidden-overflow', 'destroy',
];

describe('the live life-cycle table', () => {
  it('has a row for every state, and every target is a state of the table', () => {
    expect(STATES).toHaveLength(14);
    for (const s of STATES) {
      for (const to of Object.values(LIVE_TRANSITIONS[s])) expect(STATES).toContain(to);
    }
  });

  it('ends in destroyed, from every state, and nothing leaves it', () => {
    for (const s of STATES.filter((x) => x !== 'destroyed')) expect(nextState(s, 'destroy')).toBe('destroyed');
    for (const e of EVENTS) expect(nextState('destroyed', e)).toBeNull();
  });

  it('starts a connection from every living state (retry, reconnect(), setRewind())', () => {
    for (const s of STATES.filter((x) => x !== 'destroyed')) expect(nextState(s, 'connect')).toBe('connecting');
  });

  it('counts events of the element and of mpegts.js only while a connection runs', () => {
    const connected = STATES.filter(isConnected);
    expect(connected.sort()).toEqual(['blocked', 'buffering', 'connecting', 'paused', 'playing']);
    for (const s of STATES.filter((x) => !isConnected(x))) {
      for (const e of ['playing', 'connection-lost', 'stream-ended', 'access-denied', 'autoplay-blocked'] as LiveEvent[]) {
        expect(nextState(s, e), `${s} x ${e}`).toBeNull();
      }
    }
  });

  it.each<[LiveState, LiveEvent, LiveState | null]>([
    ['connecting', 'playing', 'playing'],
    ['connecting', 'waiting', null], // no picture yet: still connecting, not buffering
    ['playing', 'waiting', 'buffering'],
    ['buffering', 'data-resumed', 'playing'],
    ['playing', 'data-resumed', null],
    ['buffering', 'playing', 'playing'],
    ['playing', 'engine-paused', 'paused'],
    ['buffering', 'engine-paused', 'paused'],
    ['connecting', 'engine-paused', null], // nothing played yet: there is nothing to resume
    ['paused', 'playing', 'playing'], // the resume worked
    ['paused', 'autoplay-blocked', 'blocked'], // even muted, the browser refuses
    ['paused', 'connection-lost', 'reconnecting'], // the watchdog gave up on the resume
    ['blocked', 'playing', 'playing'], // the viewer clicked
    ['playing', 'connection-lost', 'reconnecting'],
    ['playing', 'stream-ended', 'offline'],
    ['offline', 'not-live', 'offline'],
    ['offline', 'retry-scheduled', 'reconnecting'],
    ['reconnecting', 'retry-scheduled', 'reconnecting'],
    ['connecting', 'not-live', 'offline'], // a 404
    ['connecting', 'access-denied', 'forbidden'],
    ['playing', 'codec-unsupported', 'unsupported'],
    ['loading', 'library-failed', 'error'],
    ['error', 'retry-scheduled', 'reconnecting'],
    ['playing', 'hidden-overflow', 'suspended'],
    ['suspended', 'hidden-overflow', null],
    ['suspended', 'connection-lost', null], // no connection to lose
    ['unsupported', 'playing', null],
    ['idle', 'load-library', 'loading'],
    ['forbidden', 'retry-scheduled', null], // it retries slowly by itself, without a backoff message
  ])('%s x %s -> %s', (from, event, to) => {
    expect(nextState(from, event)).toBe(to);
  });

  it('reaches every state from idle', () => {
    const seen = new Set<LiveState>(['idle']);
    const queue: LiveState[] = ['idle'];
    while (queue.length) {
      const s = queue.shift()!;
      for (const e of EVENTS) {
        const to = nextState(s, e);
        if (to && !seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    expect([...seen].sort()).toEqual([...STATES].sort());
  });
});
