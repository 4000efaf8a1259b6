import { describe, expect, it } from 'vitest';
import { TypedEmitter } from '../server/typed-emitter.js';

interface Events {
  started: [name: string];
  counted: [n: number, of: number];
}

describe('TypedEmitter', () => {
  it('calls every listener of an event in the order they were added, with the arguments', () => {
    const e = new TypedEmitter<Events>();
    const calls: string[] = [];
    e.on('started', (name) => calls.push(`a:${name}`));
    e.on('started', (name) => calls.push(`b:${name}`));
    e.on('counted', (n, of) => calls.push(`c:${n}/${of}`));
    e.emit('started', 'x');
    e.emit('counted', 1, 2);
    expect(calls).toEqual(['a:x', 'b:x', 'c:1/2']);
  });

  it('off() removes only the listener given; once() hears one emit', () => {
    const e = new TypedEmitter<Events>();
    const calls: string[] = [];
    const a = (name: string): void => void calls.push(`a:${name}`);
    e.on('started', a);
    e.once('started', (name) => calls.push(`once:${name}`));
    e.on('started', (name) => calls.push(`b:${name}`));
    e.emit('started', '1');
    e.off('started', a);
    e.emit('started', '2');
    expect(calls).toEqual(['a:1', 'once:1', 'b:1', 'b:2']);
    expect(e.listenerCount('started')).toBe(1);
  });

  it('a listener added or removed during an emit changes the next emit, not this one', () => {
    const e = new TypedEmitter<Events>();
    const calls: string[] = [];
    const late = (name: string): void => void calls.push(`late:${name}`);
    const second = (name: string): void => void calls.push(`second:${name}`);
    e.on('started', (name) => {
      calls.push(`first:${name}`);
      e.off('started', second);
      e.on('started', late);
    });
    e.on('started', second);
    e.emit('started', '1');
    expect(calls).toEqual(['first:1', 'second:1']);
    calls.length = 0;
    e.emit('started', '2');
    expect(calls).toEqual(['first:2', 'late:2']);
  });

  it('removeAllListeners() silences one event or all of them', () => {
    const e = new TypedEmitter<Events>();
    let n = 0;
    e.on('started', () => n++);
    e.on('counted', () => n++);
    e.removeAllListeners('started');
    e.emit('started', 'x');
    e.emit('counted', 0, 0);
    expect(n).toBe(1);
    e.removeAllListeners();
    e.emit('counted', 0, 0);
    expect(n).toBe(1);
  });
});
