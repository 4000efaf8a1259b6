// Probe process (forked by run.ts), kept apart from the bulk load so that the load's event loop does not
// delay the probes' reads. Two kinds of probe viewers, both parsing the FLV with the gateway's FlvDemuxer:
//
// - latency probes join once the load is up and stay. Each received coded video frame is identified by
//   its payload id (sha1 of the payload, which neither server rewrites, unlike timestamps) and matched
//   to the publisher's send time of that payload: latency = receive time - send time on the machine-wide
//   monotonic clock. Frames sent before the probe joined (the GOP cache burst) are not latency samples.
//   The file loops, so a payload id recurs every loop; the newest send record is used, and a frame that
//   arrives before its record (records travel publisher → orchestrator → here) waits for it.
// - TTFF probes join one at a time during the window and measure request → first coded video frame.
//
// Usage (normally via fork): probe.ts --host H --port P[,P2,...] --path /APP/KEY.flv --protocol http|ws --loop-ms L
// (several ports: the multi-node bench; probes take them in turn)
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { FlvDemuxer } from '../server/media/flv.js';
import { exitWithParent, nowMs, payloadId, send, sleep, stats, type ProbeCmd, type ProbeMsg, type Protocol } from './common.js';
import { isVideoFrame } from './media.js';
import { Viewer } from './viewer.js';

const { values: opt } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    path: { type: 'string' },
    protocol: { type: 'string', default: 'http' },
    'loop-ms': { type: 'string', default: '20000' },
  },
});

const ports = opt.port!.split(',').map(Number);
let opened = 0;
const nextTarget = () => ({ host: opt.host!, port: ports[opened++ % ports.length]!, path: opt.path!, protocol: opt.protocol as Protocol });
const loopMs = Number(opt['loop-ms']);
const PENDING_MS = 3_000;

function emit(msg: ProbeMsg): void {
  send(msg);
}

const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();

// -- matching ----------------------------------------------------------------
const sendTimes = new Map<string, number>();
interface Pending {
  id: string;
  recv: number;
  joined: number;
}
let pending: Pending[] = [];
/** [send time, latency] */
const samples: [number, number][] = [];
let unmatched = 0;
let backlog = 0;
const errors = new Map<string, number>();

function noteError(e: string): void {
  errors.set(e, (errors.get(e) ?? 0) + 1);
}

function resolveFrame(sent: number, recv: number, joined: number): void {
  if (sent < joined) backlog++;
  else samples.push([sent, recv - sent]);
}

function usable(sent: number | undefined, recv: number): sent is number {
  // A record from the previous loop is half a loop (or more) old: wait for the current one.
  return sent !== undefined && sent <= recv + 0.5 && recv - sent < loopMs / 2;
}

function onFrame(id: string, recv: number, joined: number): void {
  const sent = sendTimes.get(id);
  if (usable(sent, recv)) resolveFrame(sent, recv, joined);
  else pending.push({ id, recv, joined });
}

function onRecords(recs: [string, number][]): void {
  for (const [id, t] of recs) sendTimes.set(id, t);
  if (pending.length === 0) return;
  const now = nowMs();
  const keep: Pending[] = [];
  for (const p of pending) {
    const sent = sendTimes.get(p.id);
    if (usable(sent, p.recv)) resolveFrame(sent, p.recv, p.joined);
    else if (now - p.recv > PENDING_MS) unmatched++;
    else keep.push(p);
  }
  pending = keep;
}

// -- probes --------------------------------------------------------------------
interface Probe {
  viewer: Viewer;
  joined: number;
}
const latencyProbes: Probe[] = [];
const byteMarks = new Map<string, { t: number; bytes: number }>();
const ttffSamples: number[] = [];
let ttffFailed = 0;
const ttffViewers = new Set<Viewer>();

function demuxInto(onTag: (tag: { type: number; payload: Buffer }, recv: number) => void): (buf: Buffer, s: number, e: number) => void {
  const demux = new FlvDemuxer({ maxTagBytes: 8 * 1024 * 1024 });
  let failed = false;
  return (buf, s, e) => {
    if (failed) return;
    const recv = nowMs();
    try {
      // The read buffer is reused after this call, and the demuxer keeps views: copy.
      for (const tag of demux.push(Buffer.from(buf.subarray(s, e)))) onTag(tag, recv);
    } catch (err) {
      failed = true;
      noteError(`FLV parse error: ${(err as Error).message}`);
    }
  };
}

function openLatencyProbe(): Promise<void> {
  return new Promise((resolve) => {
    const joined = nowMs();
    const viewer = new Viewer(nextTarget(), {
      privateBuffer: true,
      onPayload: demuxInto((tag, recv) => {
        if (isVideoFrame(tag)) onFrame(payloadId(tag.payload), recv, joined);
      }),
      onOpen: () => resolve(),
      onClose: (err) => {
        noteError(`latency probe closed: ${err ?? 'by the server'}`);
        resolve();
      },
    });
    latencyProbes.push({ viewer, joined });
  });
}

function openTtffProbe(): Promise<void> {
  return new Promise((resolve) => {
    const start = nowMs();
    let done = false;
    const finish = (ms: number | null, why?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ms !== null) ttffSamples.push(ms);
      else {
        ttffFailed++;
        noteError(`TTFF probe: ${why}`);
      }
      // Stay a moment, then leave: each TTFF probe is a short visit.
      setTimeout(() => {
        viewer.close();
        ttffViewers.delete(viewer);
      }, 200);
      resolve();
    };
    const viewer = new Viewer(nextTarget(), {
      privateBuffer: true,
      onPayload: demuxInto((tag, recv) => {
        if (isVideoFrame(tag)) finish(recv - start);
      }),
      onClose: (err) => finish(null, err ?? 'closed before the first frame'),
    });
    ttffViewers.add(viewer);
    const timer = setTimeout(() => finish(null, 'no video frame within 5 s'), 5_000);
  });
}

async function ttffSeries(count: number, intervalMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const t0 = nowMs();
    await openTtffProbe();
    await sleep(Math.max(0, intervalMs - (nowMs() - t0)));
  }
}

function probeBytes(): number {
  let n = 0;
  for (const p of latencyProbes) n += p.viewer.bytes;
  return n;
}

exitWithParent(() => {
  for (const p of latencyProbes) p.viewer.close();
  for (const v of ttffViewers) v.close();
});

process.on('message', (cmd: ProbeCmd) => {
  switch (cmd.k) {
    case 'records':
      onRecords(cmd.recs);
      break;
    case 'latency':
      (async () => {
        for (let i = 0; i < cmd.probes; i++) await openLatencyProbe();
        emit({ k: 'latencyReady', open: latencyProbes.filter((p) => p.viewer.state === 'open').length });
      })().catch((err: unknown) => emit({ k: 'error', message: String(err) }));
      break;
    case 'ttff':
      ttffSeries(cmd.count, cmd.intervalMs).catch((err: unknown) => emit({ k: 'error', message: String(err) }));
      break;
    case 'mark':
      if (cmd.id === 'start') lag.reset();
      byteMarks.set(cmd.id, { t: nowMs(), bytes: probeBytes() });
      break;
    case 'report': {
      const a = byteMarks.get(cmd.from);
      const b = byteMarks.get(cmd.to);
      const from = a?.t ?? 0;
      const to = b?.t ?? nowMs();
      const inWindow = samples.filter(([t]) => t >= from && t <= to);
      const lat = inWindow.map(([, l]) => l);
      emit({
        k: 'report',
        report: {
          latency: stats(lat),
          samples: lat.length,
          raw: inWindow.map(([t, l]) => [Math.round(t * 1000) / 1000, Math.round(l * 1000) / 1000]),
          unmatched: unmatched + pending.filter((p) => nowMs() - p.recv > PENDING_MS).length,
          backlog,
          ttff: stats(ttffSamples),
          ttffSamples: [...ttffSamples],
          ttffFailed,
          bytes: (b?.bytes ?? 0) - (a?.bytes ?? 0),
          probesOpen: latencyProbes.filter((p) => p.viewer.state === 'open').length,
          loopLagP99: lag.percentile(99) / 1e6,
          loopLagMax: lag.max / 1e6,
          errors: [...errors].map(([e, n]) => `${n}× ${e}`),
        },
      });
      break;
    }
    case 'stop':
      for (const p of latencyProbes) p.viewer.close();
      for (const v of ttffViewers) v.close();
      setTimeout(() => process.exit(0), 20);
      break;
  }
});

emit({ k: 'hello' });
