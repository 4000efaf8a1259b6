// bench/results-block.ts: merging one bench run into its RESULTS.md block. Fixtures are small sections in
// the shape saved-run.ts writes (a few columns only); one test feeds the real renderer's output.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../bench/report.js';
import {
  EMPTY_RESULTS, findBlock, mergeRun, mergeRunIntoFile, parseSections, renderSections, replaceBlock, ResultsBlockError,
} from '../../bench/results-block.js';
import { renderBlock, type Saved } from '../../bench/saved-run.js';
import type { Plan } from '../../bench/options.js';

/** A full run of 03:59: both servers, WS-FLV, 500 and 1000 viewers. */
const FULL = `## Run of 2026-12-02T03:59:55.618Z

Command: \`npm run bench -- --protocols ws --viewers 500,1000 --write\`

- nproc: 2

Plan: viewers 500, 1000; protocols ws.

### Per run

| server | proto | viewers | CPU s/GB | latency p50 / p99 / max ms |
|---|---|---:|---:|---|
| gateway | ws | 500 | 1.46 | 6.5 / 28.8 / 38.8 |
| nms 4 | ws | 500 | 2.97 | 7.6 / 34.0 / 42.6 |
| gateway | ws | 1000 | 1.31 | 14.0 / 59.4 / 72.1 |
| nms 4 | ws | 1000 | 2.73 | 33.1 / 116.6 / 130.7 |

### Side by side (ratio = gateway / nms)

| proto | viewers | metric | gateway | nms 4 | gateway / nms |
|---|---:|---|---:|---:|---:|
| ws | 500 | CPU s/GB | 1.46 | 2.97 | 0.49 |
| ws | 1000 | CPU s/GB | 1.31 | 2.73 | 0.48 |

### Targets (gateway)

| proto | viewers | target | value | pass |
|---|---:|---|---|---|
| ws | 500 | CPU s/GB ≤ ½ nms | 1.46 vs 2.97 (×0.49) | yes |
| ws | 1000 | CPU s/GB ≤ ½ nms | 1.31 vs 2.73 (×0.48) | yes |`;

/** A quick check of 08:00 (both servers, 500 viewers only). */
const CHECK_500 = `## Run of 2026-12-02T08:00:00.000Z

Command: \`npm run bench -- --protocols ws --viewers 500 --write\`

### Per run

| server | proto | viewers | CPU s/GB | latency p50 / p99 / max ms |
|---|---|---:|---:|---|
| gateway | ws | 500 | 1.40 | 6.0 / 25.0 / 30.0 |
| nms 4 | ws | 500 | 3.10 | 8.0 / 35.0 / 44.0 |

### Side by side (ratio = gateway / nms)

| proto | viewers | metric | gateway | nms 4 | gateway / nms |
|---|---:|---|---:|---:|---:|
| ws | 500 | CPU s/GB | 1.40 | 3.10 | 0.45 |`;

/** A gateway-only check of 08:10 at 1000 viewers. */
const GATEWAY_1000 = `## Run of 2026-12-02T08:10:00.000Z

Command: \`npm run bench -- --servers gateway --protocols ws --viewers 1000 --write\`

### Per run

| server | proto | viewers | CPU s/GB | latency p50 / p99 / max ms |
|---|---|---:|---:|---|
| gateway | ws | 1000 | 1.20 | 12.0 / 50.0 / 60.0 |

### Side by side (ratio = gateway / nms)

(no configuration ran on both servers)`;

const HAND = '# Benchmark results\n\nHand-written: how to run, caveats.\n\n';
const AFTER = '\n\n## Workers\n\nMore hand-written text, then another block.\n\n<!-- bench:smoke:start -->\nsmoke\n<!-- bench:smoke:end -->\n';
const fileWith = (body: string): string => `${HAND}<!-- bench:results:start -->\n${body}\n<!-- bench:results:end -->${AFTER}`;

/** The per-run rows of a block, as "SECTION STAMP | row". */
const runRows = (block: string): string[] =>
  parseSections(block, 'test').flatMap((s) =>
    s.parts.filter((p) => p.kind === 'runs').flatMap((p) => p.lines.filter((l) => /^\| (gateway|nms)/.test(l)).map((l) => `${s.stamp} ${l}`)),
  );

describe('mergeRun: a run replaces only the rows it measured', () => {
  it('replaces the rows of the same server, protocol and viewer count and keeps the others under their own run', () => {
    const merged = mergeRun(FULL, CHECK_500, 'results');
    expect(runRows(merged)).toEqual([
      '2026-12-02T08:00:00.000Z | gateway | ws | 500 | 1.40 | 6.0 / 25.0 / 30.0 |',
      '2026-12-02T08:00:00.000Z | nms 4 | ws | 500 | 3.10 | 8.0 / 35.0 / 44.0 |',
      '2026-12-02T03:59:55.618Z | gateway | ws | 1000 | 1.31 | 14.0 / 59.4 / 72.1 |',
      '2026-12-02T03:59:55.618Z | nms 4 | ws | 1000 | 2.73 | 33.1 / 116.6 / 130.7 |',
    ]);
    // The new run first, whole; the old one under its own command, saying what it lost and to which run.
    expect(merged.startsWith(CHECK_500)).toBe(true);
    const old = merged.slice(CHECK_500.length);
    expect(old).toContain('Command: `npm run bench -- --protocols ws --viewers 500,1000 --write`');
    expect(old).toContain('Rows since replaced by the run of 2026-12-02T08:00:00.000Z: gateway ws 500, nms ws 500');
    // Its comparison and targets at 500 compared the replaced rows: gone; those at 1000 stay.
    expect(old).not.toContain('| ws | 500 |');
    expect(old).toContain('| ws | 1000 | CPU s/GB | 1.31 | 2.73 | 0.48 |');
    expect(old).toContain('| ws | 1000 | CPU s/GB ≤ ½ nms | 1.31 vs 2.73 (×0.48) | yes |');
  });

  it('keeps the rows of a server the new run did not run, and drops only the comparisons they were in', () => {
    const merged = mergeRun(FULL, GATEWAY_1000, 'results');
    expect(runRows(merged)).toEqual([
      '2026-12-02T08:10:00.000Z | gateway | ws | 1000 | 1.20 | 12.0 / 50.0 / 60.0 |',
      '2026-12-02T03:59:55.618Z | gateway | ws | 500 | 1.46 | 6.5 / 28.8 / 38.8 |',
      '2026-12-02T03:59:55.618Z | nms 4 | ws | 500 | 2.97 | 7.6 / 34.0 / 42.6 |',
      '2026-12-02T03:59:55.618Z | nms 4 | ws | 1000 | 2.73 | 33.1 / 116.6 / 130.7 |',
    ]);
    expect(merged).toContain('Rows since replaced by the run of 2026-12-02T08:10:00.000Z: gateway ws 1000 ');
    expect(merged).toContain('| ws | 500 | CPU s/GB | 1.46 | 2.97 | 0.49 |');
    expect(merged).not.toContain('| ws | 1000 | CPU s/GB | 1.31');
  });

  it('adds the rows of a configuration no run measured yet and leaves the older section byte for byte', () => {
    const http = CHECK_500.replace('08:00:00', '08:20:00').replaceAll('| ws | 500 |', '| http | 500 |').replaceAll('| ws |', '| http |');
    const merged = mergeRun(FULL, http, 'results');
    expect(merged).toBe(`${http}\n\n${FULL}`);
  });

  it('drops an older run once every row of it is replaced, and keeps newest first over several merges', () => {
    const check1000 = CHECK_500.replace('08:00:00', '08:30:00').replaceAll('| ws | 500 |', '| ws | 1000 |');
    const merged = mergeRun(mergeRun(FULL, CHECK_500, 'results'), check1000, 'results');
    expect(parseSections(merged, 'test').map((s) => s.stamp)).toEqual(['2026-12-02T08:30:00.000Z', '2026-12-02T08:00:00.000Z']);
    expect(merged).not.toContain('03:59:55');
  });

  it('puts a run rendered again from its saved JSON (same date) in place of its old rendering', () => {
    const withFailure = `${FULL}\n\n### Runs that failed\n\n- gateway http 500 viewers: no data`;
    const again = withFailure.replace('| gateway | ws | 500 | 1.46 |', '| gateway | ws | 500 | 1.47 |');
    expect(mergeRun(withFailure, again, 'results')).toBe(again);
  });

  it('keeps the newest figure of each row whatever order the runs are written in', () => {
    const merged = mergeRun(FULL, CHECK_500, 'results');
    // An older run written after a newer one (--report OLD.json --write) does not bring back its replaced rows.
    expect(mergeRun(CHECK_500, FULL, 'results')).toBe(merged);
    expect(mergeRun(merged, FULL, 'results')).toBe(merged);
    expect(mergeRun(merged, CHECK_500, 'results')).toBe(merged);
  });

  it('says in an older run which rows each newer run replaced', () => {
    const merged = mergeRun(mergeRun(FULL, CHECK_500, 'results'), GATEWAY_1000, 'results');
    const old = merged.slice(merged.indexOf('## Run of 2026-12-02T03:59:55.618Z'));
    expect(old).toContain('\n\nRows since replaced by the run of 2026-12-02T08:00:00.000Z: gateway ws 500, nms ws 500 (with');
    expect(old).toContain('\n\nRows since replaced by the run of 2026-12-02T08:10:00.000Z: gateway ws 1000 (with');
    expect(runRows(old)).toEqual(['2026-12-02T03:59:55.618Z | nms 4 | ws | 1000 | 2.73 | 33.1 / 116.6 / 130.7 |']);
  });

  it('lets a measured run clear an older failure of it, but a failure does not replace an older figure', () => {
    const failed = (stamp: string, what: string): string =>
      `## Run of ${stamp}\n\n### Per run\n\n| server | proto | viewers | CPU s/GB |\n|---|---|---:|---:|\n\n### Runs that failed\n\n- ${what}: publisher did not start`;
    const merged = mergeRun(FULL, failed('2026-12-02T09:00:00.000Z', 'gateway ws 500 viewers'), 'results');
    expect(merged).toContain('- gateway ws 500 viewers: publisher did not start');
    expect(merged).toContain('| gateway | ws | 500 | 1.46 |');
    const cleared = mergeRun(failed('2026-12-02T02:00:00.000Z', 'nms ws 1000 viewers'), FULL, 'results');
    expect(cleared).toBe(FULL);
  });

  it('keeps a CPU profile with its run until a run of the same server, protocol and viewers replaces it', () => {
    const profiled = `${GATEWAY_1000.replace('08:10:00', '07:00:00')}\n\n### CPU profile: gateway ws 1000 viewers\n\n| # | function |\n|---|---|\n| 1 | writev |`;
    expect(mergeRun(profiled, CHECK_500, 'profile-ws-500')).toContain('### CPU profile: gateway ws 1000 viewers');
    expect(mergeRun(profiled, GATEWAY_1000, 'profile-ws-1000')).not.toContain('CPU profile');
  });
});

describe('mergeRunIntoFile: the text around the block', () => {
  it('keeps the hand-written text before and after the block, and other blocks, as they were', () => {
    const merged = mergeRunIntoFile(fileWith(FULL), 'results', CHECK_500);
    expect(merged.startsWith(`${HAND}<!-- bench:results:start -->\n${CHECK_500}\n\n## Run of 2026-12-02T03:59:55.618Z`)).toBe(true);
    expect(merged.endsWith(`<!-- bench:results:end -->${AFTER}`)).toBe(true);
  });

  it('appends the block to a file that has none yet, and starts a file that does not exist', () => {
    expect(mergeRunIntoFile(HAND, 'results', CHECK_500)).toBe(`${HAND.trimEnd()}\n\n<!-- bench:results:start -->\n${CHECK_500}\n<!-- bench:results:end -->\n`);
    expect(mergeRunIntoFile(null, 'smoke', CHECK_500)).toBe(`${EMPTY_RESULTS.trimEnd()}\n\n<!-- bench:smoke:start -->\n${CHECK_500}\n<!-- bench:smoke:end -->\n`);
  });

  it.each([
    ['a start marker without its end', `${HAND}<!-- bench:results:start -->\n${FULL}\n${AFTER}`, /1 start and 0 end marker/],
    ['the end marker before the start', `${HAND}<!-- bench:results:end -->\n${FULL}\n<!-- bench:results:start -->${AFTER}`, /wrong order/],
    ['two blocks of the same name', `${fileWith(FULL)}${fileWith(FULL)}`, /2 start and 2 end/],
    ['hand-written text inside the block', fileWith(`A note by hand.\n\n${FULL}`), /line 2 of the block: expected "## Run of DATE" first/],
    ['a part the merge does not know', fileWith(`${FULL}\n\n### Notes\n\nby hand`), /unknown part "### Notes"/],
    ['a row of an unknown server', fileWith(FULL.replace('| nms 4 | ws | 500 |', '| srs | ws | 500 |')), /unknown server "srs"/],
    ['a comparison row without a viewer count', fileWith(FULL.replace('| ws | 1000 | CPU s/GB | 1.31', '| ws | many | CPU s/GB | 1.31')), /found "ws many"/],
    ['a run without its per-run table', fileWith(GATEWAY_1000.replace('### Per run', '### Targets (gateway)')), /expected one "### Per run" table, found 0/],
    ['a run heading without a date', fileWith(FULL.replace('2026-12-02T03:59:55.618Z', 'yesterday')), /does not carry an ISO date/],
  ])('refuses %s with an error naming it, rather than guess', (_what, file, message) => {
    expect(() => mergeRunIntoFile(file, 'results', CHECK_500)).toThrow(ResultsBlockError);
    expect(() => mergeRunIntoFile(file, 'results', CHECK_500)).toThrow(message);
  });

  it('replaceBlock swaps a whole block (the e2e-latency table) and nothing else', () => {
    expect(replaceBlock(fileWith(FULL), 'results', 'new')).toBe(`${HAND}<!-- bench:results:start -->\nnew\n<!-- bench:results:end -->${AFTER}`);
    expect(findBlock(fileWith(FULL), 'results')).toBe(`\n${FULL}\n`);
    expect(findBlock(fileWith(FULL), 'profile-ws-500')).toBeNull();
  });
});

describe('sections: the block read back', () => {
  it('renders a parsed block back to the same text', () => {
    for (const block of [FULL, CHECK_500, GATEWAY_1000, mergeRun(FULL, GATEWAY_1000, 'results')]) {
      expect(renderSections(parseSections(block, 'test'))).toBe(block);
    }
  });

  it('reads the block the bench itself renders', () => {
    const result = (server: 'gateway' | 'nms', viewers: number): RunResult => ({
      server, protocol: 'http', viewers, rep: 1, windowS: 12, opened: viewers, failed: 0, dropped: 0, streamMbps: 2.7,
      deliveredMbps: 2.7 * viewers, expectedMbps: 2.7 * viewers, ratio: 1, ratioMin: 1, starved: 0, cpuS: 3, cpuPct: 25,
      cpuPerGB: server === 'gateway' ? 1.2 : 3, latency: { n: 100, p50: 6, p99: 20, max: 30, mean: 8 }, latencySamples: 100, latencyRaw: [], unmatched: 0,
      ttff: { n: 10, p50: 5, p99: 9, max: 10, mean: 5 }, ttffFailed: 0, rssBaseMB: 100, rssSteadyMB: 120, rssPeakMB: 125, rssPer100MB: 4,
      loadCpuPct: 20, probeCpuPct: 2, publisherCpuPct: 3, publisherLagMs: 1, probeLagP99: 1, foreignCpuPct: 0, errors: [],
    });
    const plan = { viewers: [500], protocols: ['http'], servers: ['gateway', 'nms'], seconds: 12, settle: 3, probes: 4, ttff: 10, repeat: 1, workers: 1, nodes: 1 } as Plan;
    const saved: Saved = {
      stamp: '2026-12-02T09:00:00.000Z', argv: ['--protocols', 'http', '--viewers', '500', '--write'], plan,
      results: [result('gateway', 500), result('nms', 500)], broken: ['gateway http 1000 viewers: no data'], profiles: [],
    };
    const block = renderBlock(saved);
    const merged = mergeRun(FULL.replaceAll('| ws |', '| http |'), block, 'results');
    expect(runRows(merged).map((r) => r.split(' | ').slice(0, 4).join(' | '))).toEqual([
      '2026-12-02T09:00:00.000Z | gateway | http | 500',
      '2026-12-02T09:00:00.000Z | nms 4 | http | 500',
      '2026-12-02T03:59:55.618Z | gateway | http | 1000',
      '2026-12-02T03:59:55.618Z | nms 4 | http | 1000',
    ]);
    expect(merged).toContain('- gateway http 1000 viewers: no data');
  });

  it('keeps every row of the newer run and exactly the older rows it did not measure, in either order of writing (property)', () => {
    const key = fc.record({ server: fc.constantFrom('gateway', 'nms 4'), proto: fc.constantFrom('http', 'ws'), viewers: fc.constantFrom(20, 500, 1000) });
    const block = (stamp: string, keys: { server: string; proto: string; viewers: number }[]): string =>
      `## Run of ${stamp}\n\n### Per run\n\n| server | proto | viewers | CPU s/GB |\n|---|---|---:|---:|\n` +
      keys.map((k) => `| ${k.server} | ${k.proto} | ${k.viewers} | ${stamp.slice(11, 16)} |`).join('\n');
    const id = (k: { server: string; proto: string; viewers: number }): string => `| ${k.server} | ${k.proto} | ${k.viewers} |`;
    fc.assert(
      fc.property(fc.uniqueArray(key, { selector: id, minLength: 1 }), fc.uniqueArray(key, { selector: id, minLength: 1 }), (old, now) => {
        const merged = mergeRun(block('2026-12-02T01:00:00.000Z', old), block('2026-12-02T02:00:00.000Z', now), 'results');
        expect(mergeRun(block('2026-12-02T02:00:00.000Z', now), block('2026-12-02T01:00:00.000Z', old), 'results')).toBe(merged);
        const rows = runRows(merged);
        const expected = [
          ...now.map((k) => `2026-12-02T02:00:00.000Z ${id(k)} 02:00 |`),
          ...old.filter((k) => !now.some((n) => id(n) === id(k))).map((k) => `2026-12-02T01:00:00.000Z ${id(k)} 01:00 |`),
        ];
        expect(rows).toEqual(expected);
      }),
    );
  });

  it('either reads hostile block text or refuses it with a ResultsBlockError, never anything else (property)', () => {
    const piece = fc.constantFrom('## Run of 2026-12-02T01:00:00.000Z', '### Per run', '### Side by side', '### CPU profile: x', '| gateway | ws | 5 |', '|---|', '| ws | 5 |', '- nms ws 5 viewers: x', '#', '', 'text', '| | |');
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string()), { maxLength: 12 }), (lines) => {
        try {
          const merged = mergeRun(lines.join('\n'), CHECK_500, 'results');
          expect(merged.startsWith(CHECK_500)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ResultsBlockError);
        }
      }),
    );
  });
});
