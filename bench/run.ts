// Benchmark orchestrator: `npm run bench -- [options]`, see --help.
//
// For every configuration (viewers × protocol), the servers run the very same procedure one after the
// other, interleaved (gateway, nms, gateway, nms… with --repeat), each in a fresh process:
//   1. start the server on free loopback ports;
//   2. fork the publisher (bench/publisher.ts): RTMP publish of the cached 720p30 source at real-time pace;
//   3. fork the load process (bench/load.ts) and ramp N bulk viewers in batches;
//   4. fork the probe process (bench/probe.ts) and open the latency probes; let things settle;
//   5. measurement window (--seconds): server CPU from /proc/PID/stat and RSS from /proc/PID/status,
//      bytes per viewer, latency of every video frame at the probes, TTFF probes joining one by one;
//   6. stop everything, next run.
// This file: the loop over configurations (with reruns on a busy machine), the watchdog and the exit code;
// options.ts reads the command line, run-one.ts does one run, saved-run.ts writes the results.
import { ensureSource } from './media.js';
import { readOptions, usage } from './options.js';
import type { ProfileSummary } from './profile-summary.js';
import { nodeLine, runLine, type RunResult } from './report.js';
import { runOne, waitQuiet, type RunOutput } from './run-one.js';
import { reportOnly, saveRun, type Saved } from './saved-run.js';
import { installCleanup, killAll, setNiceness } from './servers.js';

const argv = process.argv.slice(2);
const { plan, report, write, resultsFile } = readOptions(argv);

// -- main -----------------------------------------------------------------------------
async function main(): Promise<number> {
  if (report !== undefined) return reportOnly(report, write, resultsFile);
  installCleanup();
  if (!Number.isInteger(plan.nice) || plan.nice < -20 || plan.nice > 19) usage('--nice must be a whole number from -20 to 19');
  if (plan.nice !== 0) setNiceness(plan.nice);
  const source = ensureSource();
  const runs = plan.viewers.length * plan.protocols.length * plan.repeat * plan.servers.length;
  const tries = plan.maxForeign > 0 ? 3 : 1;
  const budgetS = plan.viewers.reduce((a, v) => a + tries * (plan.seconds + plan.settle + 60 + plan.waitQuiet + v / 10) * plan.protocols.length * plan.repeat * plan.servers.length, 60);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${budgetS.toFixed(0)} s, giving up`);
    killAll();
    process.exit(3);
  }, budgetS * 1000);
  watchdog.unref();

  console.log(
    `bench: ${runs} runs — viewers ${plan.viewers.join(',')}, ${plan.protocols.join(',')}, servers ${plan.servers.join(',')}, ` +
      `${plan.seconds} s window, ${plan.probes} latency probes, ${plan.ttff} TTFF probes, repeat ${plan.repeat}${plan.cpuProf ? ', gateway under --cpu-prof' : ''}${plan.nice !== 0 ? `, nice ${plan.nice}` : ''}`,
  );
  const results: RunResult[] = [];
  const profiles: { label: string; summary: ProfileSummary }[] = [];
  const broken: string[] = [];
  for (const viewers of plan.viewers) {
    for (const protocol of plan.protocols) {
      for (let rep = 1; rep <= plan.repeat; rep++) {
        for (const server of plan.servers) {
          const t0 = Date.now();
          try {
            let out: RunOutput | null = null;
            for (let attempt = 1; attempt <= 3; attempt++) {
              if (plan.waitQuiet > 0) await waitQuiet(plan.waitQuiet);
              const o = await runOne(plan, { server, protocol, viewers, rep, source });
              if (out === null || o.result.foreignCpuPct < out.result.foreignCpuPct) out = o;
              if (plan.maxForeign === 0 || o.result.foreignCpuPct <= plan.maxForeign) break;
              console.log(`    (other processes used ${o.result.foreignCpuPct.toFixed(0)}% of a core during the window${attempt < 3 ? ': running it again' : ''})`);
            }
            if (plan.maxForeign > 0 && out!.result.foreignCpuPct > plan.maxForeign) {
              out!.result.errors.push(`other processes used ${out!.result.foreignCpuPct.toFixed(0)}% of a core during the window`);
            }
            out = out!;
            results.push(out.result);
            console.log(`${runLine(out.result)}  [${((Date.now() - t0) / 1000).toFixed(0)} s]`);
            for (const n of out.result.nodes ?? []) console.log(`    ${nodeLine(n)}`);
            for (const e of out.result.errors) console.log(`    note: ${e}`);
            if (out.profile !== null) profiles.push({ label: `${server} ${protocol} ${viewers} viewers`, summary: out.profile });
          } catch (err) {
            const msg = `${server} ${protocol} ${viewers} viewers: ${(err as Error).message}`;
            broken.push(msg);
            console.log(`FAILED ${msg}`);
          }
        }
      }
    }
  }
  clearTimeout(watchdog);

  const saved: Saved = { stamp: new Date().toISOString(), argv, plan, results, broken, profiles };
  const written = saveRun(saved, write, resultsFile);

  if (broken.length > 0) {
    console.error(`\nbench: ${broken.length} run(s) failed:\n  ${broken.join('\n  ')}`);
    return 1;
  }
  // Smoke criterion: every run of every server delivered data to the bulk viewers and the probes.
  const dry = results.filter((r) => !(r.deliveredMbps > 0) || r.latencySamples === 0 || r.ttff === null);
  if (dry.length > 0) {
    console.error(`\nbench: no data from ${dry.map((r) => `${r.server} ${r.protocol} ${r.viewers}`).join(', ')}`);
    return 1;
  }
  for (const s of plan.servers) {
    if (!results.some((r) => r.server === s)) {
      console.error(`bench: ${s} produced no result`);
      return 1;
    }
  }
  return written ? 0 : 1;
}

main().then(
  (code) => {
    killAll();
    process.exit(code);
  },
  (err: unknown) => {
    console.error(`bench: harness error: ${(err as Error).stack ?? String(err)}`);
    killAll();
    process.exit(2);
  },
);
