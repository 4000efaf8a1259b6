// A pino logger that keeps its JSON lines in memory, for tests that check what was logged.
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function memoryLog(): { log: pino.Logger; lines: string[]; messages: () => { msg: string; [k: string]: unknown }[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(l);
      cb();
    },
  });
  return {
    log: pino({ level: 'info' }, stream),
    lines,
    messages: () => lines.map((l) => JSON.parse(l) as { msg: string }),
  };
}
