// Load process (forked by run.ts): opens N bulk viewers in batches and only counts their FLV bytes.
// The orchestrator asks for byte snapshots ("marks") at the start and end of the measurement window and
// then for the per-viewer deltas between two marks.
//
// Usage (normally via fork): load.ts --host H --port P[,P2,...] --path /APP/KEY.flv --protocol http|ws
// (several ports: the multi-node bench; viewer i goes to port i mod their number)
import { parseArgs } from 'node:util';
import { exitWithParent, nowMs, send, sleep, type LoadCmd, type LoadMsg, type Protocol } from './common.js';
import { Viewer } from './viewer.js';

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    path: { type: 'string' },
    protocol: { type: 'string', default: 'http' },
  },
});

const ports = opt.port!.split(',').map(Number);
const targetFor = (i: number) => ({ host: opt.host!, port: ports[i % ports.length]!, path: opt.path!, protocol: opt.protocol as Protocol });
const viewers: Viewer[] = [];
const marks = new Map<string, Float64Array>();
const errors = new Map<string, number>();
let failed = 0;

function emit(msg: LoadMsg): void {
  send(msg);
}

function noteError(e: string | null): void {
  if (e === null) return;
  const key = e.replace(/\d+/g, 'N').slice(0, 120);
  errors.set(key, (errors.get(key) ?? 0) + 1);
}

function errorList(): string[] {
  return [...errors].map(([e, n]) => `${n}× ${e}`);
}

async function ramp(n: number, batch: number, pauseMs: number): Promise<void> {
  const t0 = nowMs();
  let opened = 0;
  for (let start = 0; start < n; start += batch) {
    const size = Math.min(batch, n - start);
    const waits: Promise<void>[] = [];
    for (let j = 0; j < size; j++) {
      waits.push(
        new Promise<void>((resolve) => {
          const v = new Viewer(targetFor(viewers.length), {
            onOpen: () => {
              opened++;
              resolve();
            },
            onClose: (err) => {
              if (v.bytes === 0) failed++;
              noteError(err ?? (v.bytes === 0 ? 'closed by the server before any data' : null));
              resolve();
            },
          });
          viewers.push(v);
        }),
      );
    }
    await Promise.all(waits);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  emit({ k: 'ramped', opened, failed, ms: nowMs() - t0, errors: errorList() });
}

exitWithParent(() => {
  for (const v of viewers) v.close();
});

process.on('message', (cmd: LoadCmd) => {
  switch (cmd.k) {
    case 'ramp':
      ramp(cmd.viewers, cmd.batch, cmd.batchPauseMs).catch((err: unknown) => emit({ k: 'error', message: String(err) }));
      break;
    case 'mark': {
      const t = nowMs();
      const snap = new Float64Array(viewers.length);
      let bytes = 0;
      let open = 0;
      for (let i = 0; i < viewers.length; i++) {
        const v = viewers[i]!;
        snap[i] = v.bytes;
        bytes += v.bytes;
        if (v.state === 'open') open++;
      }
      marks.set(cmd.id, snap);
      emit({ k: 'mark', id: cmd.id, t, bytes, open });
      break;
    }
    case 'report': {
      const a = marks.get(cmd.from);
      const b = marks.get(cmd.to);
      const deltas: number[] = [];
      if (a !== undefined && b !== undefined) for (let i = 0; i < b.length; i++) deltas.push(b[i]! - (a[i] ?? 0));
      let open = 0;
      let closed = 0;
      for (const v of viewers) {
        if (v.state === 'open') open++;
        else if (v.state === 'closed' && v.bytes > 0) {
          closed++;
          if (v.error === null) noteError('closed by the server after data');
        }
      }
      emit({ k: 'report', deltas, open, closed, failed, errors: errorList() });
      break;
    }
    case 'stop':
      for (const v of viewers) v.close();
      setTimeout(() => process.exit(0), 20);
      break;
  }
});

emit({ k: 'hello' });
