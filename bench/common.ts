// Shared by every bench process: the clock, paths, the IPC message shapes and small statistics.
//
// One clock for all processes: process.hrtime() reads CLOCK_MONOTONIC, which on Linux is system-wide,
// so a send time taken in the publisher and a receive time taken in a probe are directly comparable.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');
export const CACHE_DIR = path.join(BENCH_DIR, '.cache');

/** Milliseconds on the machine-wide monotonic clock (fractional, ~µs resolution). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Identity of a video payload, the same in the publisher and the probes whatever the server did to timestamps. */
export function payloadId(payload: Buffer): string {
  return createHash('sha1').update(payload).digest('base64').slice(0, 16);
}

export type Protocol = 'http' | 'ws';
export type ServerKind = 'gateway' | 'nms';
/** How the tables name each server (RESULTS.md's rows are read back by this name too). */
export const SERVER_NAME: Record<ServerKind, string> = { gateway: 'gateway', nms: 'nms 4' };

/** Where viewers connect. */
export interface StreamTarget {
  host: string;
  port: number;
  /** `/APP/KEY.flv` */
  path: string;
  protocol: Protocol;
}

// ---------------------------------------------------------------------------
// IPC: publisher → orchestrator

/** One sent tag: type, FLV bytes on the wire to a viewer (payload + 15), send time, payload id (video only). */
export interface SentTag {
  ty: number;
  n: number;
  t: number;
  h: string | null;
  /** the RTMP timestamp it was sent with (ms), which the servers keep on their timelines */
  ts: number;
}

export type PublisherMsg =
  | { k: 'published'; t: number; loopMs: number; bytesPerLoop: number }
  | { k: 'tags'; tags: SentTag[] }
  | { k: 'stats'; maxLagMs: number; sent: number; loops: number }
  | { k: 'error'; message: string };

// orchestrator → load / probe processes

export type LoadCmd =
  | { k: 'ramp'; viewers: number; batch: number; batchPauseMs: number }
  | { k: 'mark'; id: string }
  | { k: 'report'; from: string; to: string }
  | { k: 'stop' };

export interface ViewerDelta {
  bytes: number;
  open: boolean;
}

export type LoadMsg =
  | { k: 'hello' }
  | { k: 'ramped'; opened: number; failed: number; ms: number; errors: string[] }
  | { k: 'mark'; id: string; t: number; bytes: number; open: number }
  | { k: 'report'; deltas: number[]; open: number; closed: number; failed: number; errors: string[] }
  | { k: 'error'; message: string };

export type ProbeCmd =
  | { k: 'records'; recs: [string, number][] }
  | { k: 'latency'; probes: number }
  | { k: 'ttff'; count: number; intervalMs: number }
  | { k: 'mark'; id: string }
  | { k: 'report'; from: string; to: string }
  | { k: 'stop' };

export interface ProbeReport {
  latency: Stats | null;
  samples: number;
  /** [send time, latency] of every sample in the window, for the raw JSON */
  raw: [number, number][];
  /** video frames received that could not be matched to a send record */
  unmatched: number;
  /** frames received from the GOP cache (sent before the probe joined): not latency samples */
  backlog: number;
  ttff: Stats | null;
  ttffSamples: number[];
  ttffFailed: number;
  /** bytes received by the latency probes inside the window */
  bytes: number;
  probesOpen: number;
  /** event-loop delay of the probe process itself, p99 and max (ms): the measurement's own noise floor */
  loopLagP99: number;
  loopLagMax: number;
  errors: string[];
}

export type ProbeMsg =
  | { k: 'hello' }
  | { k: 'latencyReady'; open: number }
  | { k: 'report'; report: ProbeReport }
  | { k: 'error'; message: string };

// ---------------------------------------------------------------------------
// statistics

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function stats(values: readonly number[]): Stats | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1]!, mean };
}

/** The middle value (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** For child processes: exit when the orchestrator goes away, so nothing outlives the bench. */
export function exitWithParent(onExit: () => void = () => {}): void {
  process.on('disconnect', () => {
    try {
      onExit();
    } finally {
      process.exit(0);
    }
  });
}

export function send(msg: unknown): void {
  if (process.send !== undefined && process.connected) process.send(msg);
}
