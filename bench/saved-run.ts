// What one bench invocation leaves behind: the saved JSON of its runs and its block in RESULTS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR, ROOT } from './common.js';
import { SOURCE, sourceArgs } from './media.js';
import type { Plan } from './options.js';
import { formatProfile, type ProfileSummary } from './profile-summary.js';
import { comparisonTable, machineDescription, nodesTable, resultsTable, targetsTable, RESULTS_FILE, type RunResult } from './report.js';
import { mergeRunIntoFile, ResultsBlockError } from './results-block.js';

export interface Saved {
  stamp: string;
  argv: string[];
  plan: Plan;
  results: RunResult[];
  broken: string[];
  profiles: { label: string; summary: ProfileSummary }[];
}

function renderTables(s: Saved): string {
  const out = [resultsTable(s.results), comparisonTable(s.results), targetsTable(s.results)];
  for (const p of s.profiles) out.push(`${p.label}\n${formatProfile(p.summary)}`);
  return out.join('\n\n');
}

function blockName(p: Plan): string {
  const base = p.cpuProf ? `profile-${p.protocols.join('-')}-${p.viewers.join('-')}` : p.smoke ? 'smoke' : 'results';
  // Worker and multi-node runs get blocks of their own: the 1-worker block stays next to them.
  return `${base}${(p.workers ?? 1) > 1 ? `-workers${p.workers}` : ''}${(p.nodes ?? 1) > 1 ? `-nodes${p.nodes}` : ''}`;
}

/** The RESULTS.md block of one invocation: command, machine, source, plan and the tables. */
export function renderBlock(s: Saved): string {
  const p = s.plan;
  const command = `npm run bench${s.argv.length > 0 ? ` -- ${s.argv.join(' ')}` : ''}`;
  return [
    `## Run of ${s.stamp}`,
    '',
    `Command: \`${command}\``,
    '',
    machineDescription(),
    '',
    `Source: ${SOURCE.width}x${SOURCE.height} ${SOURCE.fps} fps H.264 High (x264 veryfast, ${SOURCE.videoKbps} kbit/s, GOP ${SOURCE.gopFrames} frames = ${SOURCE.gopFrames / SOURCE.fps} s, no B-frames) + AAC-LC ${SOURCE.audioKbps} kbit/s stereo 44.1 kHz, ${SOURCE.seconds} s looped; made once with \`ffmpeg ${sourceArgs().join(' ')} OUT.flv\`.`,
    '',
    `Plan: viewers ${p.viewers.join(', ')};${(p.workers ?? 1) > 1 ? ` --workers ${p.workers};` : ''}${(p.nodes ?? 1) > 1 ? ` --nodes ${p.nodes};` : ''} protocols ${p.protocols.join(', ')}; ${p.seconds} s window after a ${p.settle} s settle; ${p.probes} latency probes on top of the bulk viewers; ${p.ttff} TTFF probes per run; repeat ${p.repeat}, interleaved ${p.servers.join(' → ')}.`,
    '',
    '### Per run',
    '',
    resultsTable(s.results),
    '',
    `### Side by side (${p.repeat > 1 ? 'medians over repeats; ' : ''}ratio = gateway / nms)`,
    '',
    comparisonTable(s.results),
    '',
    '### Targets (gateway)',
    '',
    targetsTable(s.results),
    ...(s.results.some((r) => r.nodes !== undefined) ? ['', `### Per node (${p.nodes} nodes${p.workers > 1 ? ` of ${p.workers} workers` : ''}, one Redis; node 1 holds the publish, the others pull it from node 1)`, '', nodesTable(s.results)] : []),
    ...(s.broken.length > 0 ? ['', '### Runs that failed', '', ...s.broken.map((b) => `- ${b}`)] : []),
    ...s.profiles.flatMap((x) => ['', `### CPU profile: ${x.label}`, '', formatProfile(x.summary)]),
  ].join('\n');
}

/** A path as the user would type it from the repository. */
const shown = (file: string): string => (path.relative(ROOT, file).startsWith('..') ? file : path.relative(ROOT, file));

/**
 * Merges the run into its block of `file` (see results-block.ts); false, with the file left as it was and
 * one clear line on stderr, when the block is not in the shape the merge writes.
 */
function writeRun(saved: Saved, file: string, jsonFile: string): boolean {
  const name = blockName(saved.plan);
  let text: string;
  try {
    text = mergeRunIntoFile(existsSync(file) ? readFileSync(file, 'utf8') : null, name, renderBlock(saved));
  } catch (err) {
    if (!(err instanceof ResultsBlockError)) throw err;
    const again = `npm run bench -- --report ${shown(jsonFile)} --write${file === RESULTS_FILE ? '' : ` --results ${shown(file)}`}`;
    console.error(`bench: ${shown(file)} left as it was: ${err.message}. Fix the block by hand, then \`${again}\` puts this run in.`);
    return false;
  }
  writeFileSync(file, text);
  console.log(`updated ${shown(file)} (block "${name}")`);
  return true;
}

/** --report FILE: render a saved run again (e.g. after a change to the tables) without running anything. */
export function reportOnly(file: string, write: boolean, resultsFile: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Saved;
  console.log(renderTables(saved));
  return write && !writeRun(saved, resultsFile, file) ? 1 : 0;
}

/**
 * Prints the tables, keeps the raw results in bench/.cache/results/ and, with --write, merges them into
 * `resultsFile`; false when that merge was refused.
 */
export function saveRun(saved: Saved, write: boolean, resultsFile: string): boolean {
  console.log(`\n${renderTables(saved)}`);
  mkdirSync(path.join(CACHE_DIR, 'results'), { recursive: true });
  const jsonFile = path.join(CACHE_DIR, 'results', `${saved.stamp.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonFile, JSON.stringify(saved, null, 2));
  console.log(`\nraw results: ${path.relative(ROOT, jsonFile)}`);
  return !write || writeRun(saved, resultsFile, jsonFile);
}
