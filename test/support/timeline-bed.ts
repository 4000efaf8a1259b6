// The timeline end-to-end tests' bed (timestamp-jumps, track-clocks-apart): one gateway per test file
// whose log lines are kept, a scratch folder, the publishers and viewers of each test stopped after it,
// and what those tests read back: the jump warnings logged and the discontinuity count in the metrics.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { testSource, type Proc, type SourceSpec } from './ffmpeg.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { memoryLog } from './memory-log.js';
import type { TestViewer } from './viewers.js';

const JUMP_WARNING = 'publisher timestamps jumped: timeline re-offset to continue smoothly';

export let gw: TestGateway;
export let tmp: string;
export const procs: Proc[] = [];
export const viewers: TestViewer[] = [];
let lines: string[] = [];

/** The source clip made, one gateway for the calling file, and every process and viewer stopped after each test. */
export function useTimelineBed(source: SourceSpec, tmpPrefix: string): void {
  afterEach(async () => {
    for (const v of viewers.splice(0)) v.close();
    await Promise.all(procs.splice(0).map((p) => p.stop()));
  });
  beforeAll(async () => {
    testSource(source);
    tmp = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    const captured = memoryLog();
    lines = captured.lines;
    gw = await startTestGateway({}, captured.log);
  });
  afterAll(async () => {
    await gw.close();
    rmSync(tmp, { recursive: true, force: true });
  });
}

/** The timeline's jump warnings (level warn) logged for `stream`. */
export function jumpWarnings(stream: string): Array<{ jumpMs: number; resumeAt: number }> {
  return lines
    .map((l) => JSON.parse(l) as { msg: string; stream?: string; jumpMs: number; resumeAt: number; level: number })
    .filter((l) => l.msg === JUMP_WARNING && l.stream === stream && l.level === 40);
}

export async function discontinuityMetric(): Promise<number> {
  const text = await (await fetch(gw.httpUrl('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith('gateway_timestamp_discontinuities_total '));
  return Number(line?.split(' ')[1] ?? NaN);
}
