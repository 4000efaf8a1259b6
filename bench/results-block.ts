// The generated blocks of bench/RESULTS.md, pure (no file system): finding a block between its markers,
// and merging one run into a block that keeps one section per run.
//
// A block holds a section per run (`## Run of DATE`, as saved-run.ts renders it: command, machine, plan,
// tables). For each row key — server × protocol × viewer count — only the newest run that measured it
// keeps its row; older runs keep every other row, under their own command, date and machine, so a quick
// check of one configuration does not wipe the figures of a fuller run. An older section that lost rows
// says which and to which run; one that lost them all goes. Side-by-side, target and per-node rows are
// computed from the per-run rows of their own run, so an older section drops them for each configuration
// it lost a row of, rather than keep comparing a replaced figure. Text that is not in the shape written
// here is an error, never a guess: the hand-written text around the markers must survive any merge.
import { SERVER_NAME, type ServerKind } from './common.js';

export class ResultsBlockError extends Error {
  override name = 'ResultsBlockError';
}

/** What a RESULTS.md that does not exist yet starts as. */
export const EMPTY_RESULTS = '# Benchmark results\n';

const startMarker = (name: string): string => `<!-- bench:${name}:start -->`;
const endMarker = (name: string): string => `<!-- bench:${name}:end -->`;

function occurrences(text: string, needle: string): number[] {
  const at: number[] = [];
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) at.push(i);
  return at;
}

/** The text between block `name`'s markers, or null when the file has no such block. */
export function findBlock(text: string, name: string): string | null {
  const starts = occurrences(text, startMarker(name));
  const ends = occurrences(text, endMarker(name));
  if (starts.length === 0 && ends.length === 0) return null;
  if (starts.length !== 1 || ends.length !== 1 || ends[0]! < starts[0]!) {
    throw new ResultsBlockError(
      `block "${name}": expected one ${startMarker(name)} followed by one ${endMarker(name)}, found ${starts.length} start and ${ends.length} end marker(s)${starts.length === 1 && ends.length === 1 ? ' in the wrong order' : ''}`,
    );
  }
  return text.slice(starts[0]! + startMarker(name).length, ends[0]!);
}

/** `text` with block `name` holding `body`; a missing block is appended; the text around it is kept as is. */
export function replaceBlock(text: string, name: string, body: string): string {
  const whole = `${startMarker(name)}\n${body.trim()}\n${endMarker(name)}`;
  if (findBlock(text, name) === null) return `${text.trimEnd()}\n\n${whole}\n`;
  const a = text.indexOf(startMarker(name));
  const b = text.indexOf(endMarker(name)) + endMarker(name).length;
  return text.slice(0, a) + whole + text.slice(b);
}

// -- sections ---------------------------------------------------------------------------

/** What a part of a section holds, and so how the merge trims it. */
type PartKind =
  /** the per-run table: one row per server × protocol × viewers (× repeat) */
  | 'runs'
  /** tables with a row per protocol × viewers, computed from the runs table */
  | 'derived'
  /** `- SERVER PROTO N viewers: why` */
  | 'failed'
  /** one server × protocol × viewers, kept or dropped whole */
  | 'profile';

interface Part {
  title: string;
  kind: PartKind;
  lines: string[];
  /** 'profile' parts: the run they profiled */
  key?: string;
}

export interface Section {
  stamp: string;
  /** command, machine, source, plan and notes, verbatim */
  preamble: string[];
  parts: Part[];
}

const RUN_HEADING = /^## Run of (\S+)\s*$/;
const PART_KINDS: [RegExp, PartKind][] = [
  [/^Per run$/, 'runs'],
  [/^Side by side\b/, 'derived'],
  [/^Targets\b/, 'derived'],
  [/^Per node\b/, 'derived'],
  [/^Runs that failed$/, 'failed'],
  [/^CPU profile: /, 'profile'],
];
const SERVER_BY_NAME = new Map<string, ServerKind>(
  (Object.entries(SERVER_NAME) as [ServerKind, string][]).flatMap(([kind, shown]) => [[kind, kind], [shown, kind]]),
);
const RUN_LABEL = /^(\S+) (http|ws) (\d+) viewers$/;

const configOf = (key: string): string => key.slice(key.indexOf(' ') + 1);

const cells = (row: string): string[] => row.split('|').slice(1, -1).map((c) => c.trim());
const SEPARATOR = /^\|\s*:?-/;
/** Table rows of a part: lines starting with '|' that are neither a header (the line before a `|---`) nor the `|---`. */
const isDataRow = (lines: string[], i: number): boolean =>
  lines[i]!.startsWith('|') && !SEPARATOR.test(lines[i]!) && !SEPARATOR.test(lines[i + 1] ?? '');

/** `ws 500`: what identifies a row of the derived tables; throws with `where` when it is not one. */
function configKey(protocol: string, viewers: string, where: string): string {
  if ((protocol !== 'http' && protocol !== 'ws') || !/^\d+$/.test(viewers)) {
    throw new ResultsBlockError(`${where}: expected PROTOCOL VIEWERS (http/ws, a number), found "${protocol} ${viewers}"`);
  }
  return `${protocol} ${Number(viewers)}`;
}

/** `gateway ws 500`: what identifies a per-run row, a failed run or a profile across runs. */
function keyOf(server: string, protocol: string, viewers: string, where: string): string {
  const kind = SERVER_BY_NAME.get(server);
  if (kind === undefined) throw new ResultsBlockError(`${where}: unknown server "${server}" (expected ${[...SERVER_BY_NAME.keys()].join(', ')})`);
  return `${kind} ${configKey(protocol, viewers, where)}`;
}

/** The key of every row (runs, failed, profile parts) or every configuration (derived parts) in a part, with its line index. */
function lineKeys(part: Part, where: string): Map<number, string> {
  const keys = new Map<number, string>();
  part.lines.forEach((line, i) => {
    if (part.kind === 'failed' && line.startsWith('- ')) {
      const m = /^- (\S+) (\S+) (\S+) viewers: /.exec(line);
      if (m === null) throw new ResultsBlockError(`${where}, "${part.title}": "${line}" is not "- SERVER PROTOCOL N viewers: why"`);
      keys.set(i, keyOf(m[1]!, m[2]!, m[3]!, `${where}, "${part.title}"`));
    } else if ((part.kind === 'runs' || part.kind === 'derived') && isDataRow(part.lines, i)) {
      const c = cells(line);
      const at = `${where}, "${part.title}" row "${line.slice(0, 60)}"`;
      if (part.kind === 'runs') keys.set(i, keyOf(c[0] ?? '', c[1] ?? '', c[2] ?? '', at));
      else keys.set(i, configKey(c[0] ?? '', c[1] ?? '', at));
    }
  });
  return keys;
}

/** The sections of a block's text, in order; throws on anything else. `what` names the block in errors. */
export function parseSections(body: string, what: string): Section[] {
  const lines = body.split('\n');
  const sections: Section[] = [];
  let part: Part | null = null;
  for (const [n, line] of lines.entries()) {
    const where = `${what}, line ${n + 1} of the block`;
    const run = RUN_HEADING.exec(line);
    if (run !== null) {
      if (Number.isNaN(Date.parse(run[1]!))) throw new ResultsBlockError(`${where}: "${line}" does not carry an ISO date`);
      sections.push({ stamp: run[1]!, preamble: [], parts: [] });
      part = null;
      continue;
    }
    const section = sections.at(-1);
    if (section === undefined) {
      if (line.trim() !== '') throw new ResultsBlockError(`${where}: expected "## Run of DATE" first, found "${line.slice(0, 60)}"`);
      continue;
    }
    if (line.startsWith('### ')) {
      const title = line.slice(4).trim();
      const kind = PART_KINDS.find(([re]) => re.test(title))?.[1];
      if (kind === undefined) throw new ResultsBlockError(`${where}: unknown part "${line}" (expected ${PART_KINDS.map(([re]) => re.source).join(', ')})`);
      part = { title, kind, lines: [] };
      if (kind === 'profile') {
        const m = RUN_LABEL.exec(title.slice('CPU profile: '.length));
        part.key = keyOf(m?.[1] ?? '', m?.[2] ?? '', m?.[3] ?? '', `${where}, "${line}"`);
      }
      section.parts.push(part);
      continue;
    }
    if (line.startsWith('#')) throw new ResultsBlockError(`${where}: heading "${line}" inside a run's section`);
    if (part === null) section.preamble.push(line);
    else part.lines.push(line);
  }
  for (const s of sections) {
    const runs = s.parts.filter((p) => p.kind === 'runs');
    if (runs.length !== 1) throw new ResultsBlockError(`${what}, run of ${s.stamp}: expected one "### Per run" table, found ${runs.length}`);
    for (const p of s.parts) lineKeys(p, `${what}, run of ${s.stamp}`);
  }
  return sections;
}

const trimEnd = (lines: string[]): string[] => {
  const out = [...lines];
  while (out.length > 0 && out.at(-1)!.trim() === '') out.pop();
  return out;
};

export function renderSections(sections: Section[]): string {
  return sections
    .map((s) => [`## Run of ${s.stamp}`, ...s.preamble, ...s.parts.flatMap((p) => [`### ${p.title}`, ...p.lines])])
    .map((lines) => trimEnd(lines).join('\n'))
    .join('\n\n');
}

/** The row keys (server protocol viewers) of a section: its per-run rows and profiles, and its failed runs if asked. */
function rowKeys(s: Section, what: string, failed: boolean): Set<string> {
  const keys = new Set<string>();
  for (const p of s.parts) {
    if (p.kind === 'runs' || (failed && p.kind === 'failed')) for (const k of lineKeys(p, what).values()) keys.add(k);
    if (p.kind === 'profile') keys.add(p.key!);
  }
  return keys;
}

/**
 * `section` without the rows that newer runs measured (`takenBy`: row key → date of the newest run that
 * measured it), with a note saying which and by what; null when nothing of it is left.
 */
function without(section: Section, takenBy: Map<string, string>, what: string): Section | null {
  const lost = [...rowKeys(section, what, true)].filter((k) => takenBy.has(k));
  if (lost.length === 0) return section;
  // A failed run left no derived rows behind; a measured one did.
  const lostConfigs = new Set([...rowKeys(section, what, false)].filter((k) => takenBy.has(k)).map(configOf));
  const parts: Part[] = [];
  for (const p of section.parts) {
    if (p.kind === 'profile') {
      if (!takenBy.has(p.key!)) parts.push(p);
      continue;
    }
    const keys = lineKeys(p, what);
    const drop = (k: string): boolean => (p.kind === 'derived' ? lostConfigs.has(k) : takenBy.has(k));
    const lines = p.lines.filter((_, i) => !drop(keys.get(i) ?? ''));
    const rowsLeft = [...keys.values()].some((k) => !drop(k));
    // The runs table stays (its header) as long as the section does; a derived table or failed list
    // with none of its rows left goes; a part that never had rows ("no configuration ran on both servers") stays.
    if (p.kind === 'runs' || keys.size === 0 || rowsLeft) parts.push({ ...p, lines });
  }
  if (rowKeys({ ...section, parts }, what, true).size === 0) return null;
  const byRun = new Map<string, string[]>();
  for (const k of lost) byRun.set(takenBy.get(k)!, [...(byRun.get(takenBy.get(k)!) ?? []), k]);
  const derived = section.parts.some((p) => p.kind === 'derived') ? ' (with the side-by-side, target and per-node rows of those configurations)' : '';
  const notes = [...byRun].map(([stamp, keys]) => `Rows since replaced by the run of ${stamp}: ${keys.join(', ')}${derived}.`);
  return { ...section, preamble: [...trimEnd(section.preamble), ...notes.flatMap((n) => ['', n]), ''], parts };
}

/**
 * Block text with `incoming` (one run's section) merged into `existing` (the block's current text, or null
 * when the file has none). Sections newest first; for every server × protocol × viewers, the newest run
 * that measured it keeps its rows and the older runs lose theirs, whatever order the runs were written in
 * (`--report OLD.json --write` does not bring back replaced figures). A section of the same date as the
 * incoming one is the same run rendered before and gives way to it whole. `what` names the block in errors.
 */
export function mergeRun(existing: string | null, incoming: string, what: string): string {
  const [run, ...extra] = parseSections(incoming, `${what} (this run)`);
  if (run === undefined || extra.length > 0) throw new ResultsBlockError(`${what} (this run): expected exactly one "## Run of" section`);
  const older = (existing === null ? [] : parseSections(existing, what)).filter((s) => s.stamp !== run.stamp);
  const newestFirst = [run, ...older].sort((a, b) => Date.parse(b.stamp) - Date.parse(a.stamp));
  const takenBy = new Map<string, string>();
  const kept: Section[] = [];
  for (const s of newestFirst) {
    const left = without(s, takenBy, what);
    if (left !== null) kept.push(left);
    for (const k of rowKeys(s, what, false)) if (!takenBy.has(k)) takenBy.set(k, s.stamp);
  }
  return renderSections(kept);
}

/** RESULTS.md's text (or null when there is no file yet) with one run merged into its block `name`. */
export function mergeRunIntoFile(text: string | null, name: string, incoming: string): string {
  const file = text ?? EMPTY_RESULTS;
  return replaceBlock(file, name, mergeRun(findBlock(file, name), incoming, `block "${name}"`));
}
