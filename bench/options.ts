// The bench's command line: --help text, parsing and the plan every run follows.
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Protocol, ServerKind } from './common.js';
import { RESULTS_FILE } from './report.js';

export const HELP = `npm run bench -- [options]

  --viewers LIST     bulk viewer counts, comma-separated (default 100,500)
  --protocols LIST   http,ws (default both)
  --servers LIST     gateway,nms (default both)
  --workers N        run the gateway with --workers N (CPU adds up the primary and its workers; RSS
                     columns are the primary's only); default 1
  --nodes N          multi-node mode (gateway only): redis-server and N gateway processes in cluster
                     mode (--cluster-redis), the publisher on node 1, viewers and probes spread over
                     the nodes in turn; adds CPU s/GB per node (owner vs pulling nodes); default 1
  --seconds N        measurement window per run (default 15)
  --repeat N         runs per server and configuration, interleaved (default 1)
  --probes N         latency probe viewers, on top of the bulk viewers (default 4)
  --ttff N           time-to-first-frame probes per run, spread over the window (default 10)
  --batch N          viewers opened per ramp batch (default 50)
  --settle N         seconds between ramp and window (default 3)
  --wait-quiet N     before each run, wait up to N s for other processes to use < 25% of a core
                     (default 300, 0 with --smoke); the CPU others used during each window is reported
  --max-foreign P    rerun (up to 3 tries) a run during which other processes used more than P% of a
                     core (default 25, 0 = never rerun; off with --smoke)
  --nice=N           scheduling priority of the bench's own processes, e.g. --nice=-5 on a machine shared
                     with other work (negative values need root; default 0)
  --smoke            20 viewers, 5 s, both protocols and servers; exit 0 iff both servers delivered data
  --cpu-prof         run the gateway under node --cpu-prof and summarise the hottest functions
  --write            put the tables, machine and command into bench/RESULTS.md (the generated block
                     "results", or "profile-PROTOCOLS-VIEWERS" with --cpu-prof, "smoke" with --smoke;
                     "-workersN" / "-nodesN" appended with --workers / --nodes). Merges: this run's rows
                     replace those of the same server, protocol and viewer count; the other rows stay
                     under the command and date of the run that measured them
  --results FILE     the file --write updates (default bench/RESULTS.md), e.g. a copy to try it on
  --report FILE      print (and with --write, put into RESULTS.md) the tables of a saved run
                     (bench/.cache/results/*.json) without running anything
  --help`;

export interface Plan {
  smoke: boolean;
  viewers: number[];
  protocols: Protocol[];
  servers: ServerKind[];
  seconds: number;
  repeat: number;
  probes: number;
  ttff: number;
  batch: number;
  settle: number;
  waitQuiet: number;
  maxForeign: number;
  nice: number;
  cpuProf: boolean;
  workers: number;
  nodes: number;
}

export interface BenchOptions {
  plan: Plan;
  /** --report FILE: render a saved run instead of running. */
  report: string | undefined;
  write: boolean;
  /** --results FILE: where --write merges the tables */
  resultsFile: string;
}

export function usage(msg: string): never {
  console.error(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function list<T extends string>(raw: string | undefined, allowed: readonly T[], dflt: T[], what: string): T[] {
  if (raw === undefined) return dflt;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) usage(`unknown ${what} ${JSON.stringify(i)} (expected ${allowed.join(', ')})`);
  return items as T[];
}

function int(raw: string | undefined, dflt: number, what: string, min = 0): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) usage(`--${what} must be a whole number ≥ ${min}`);
  return n;
}

/** Parses the command line; prints --help or a usage error and exits the process itself. */
export function readOptions(argv: string[]): BenchOptions {
  const { values: cli } = parseArgs({
    args: argv,
    options: {
      viewers: { type: 'string' },
      protocols: { type: 'string' },
      servers: { type: 'string' },
      seconds: { type: 'string' },
      repeat: { type: 'string' },
      probes: { type: 'string' },
      ttff: { type: 'string' },
      batch: { type: 'string' },
      settle: { type: 'string' },
      'wait-quiet': { type: 'string' },
      'max-foreign': { type: 'string' },
      nice: { type: 'string' },
      workers: { type: 'string' },
      nodes: { type: 'string' },
      report: { type: 'string' },
      results: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (cli.help) {
    console.log(HELP);
    process.exit(0);
  }
  const smoke = cli.smoke;
  const plan: Plan = {
    smoke,
    viewers: cli.viewers !== undefined ? cli.viewers.split(',').map((v) => int(v.trim(), 0, 'viewers', 1)) : smoke ? [20] : [100, 500],
    protocols: list<Protocol>(cli.protocols, ['http', 'ws'], ['http', 'ws'], 'protocol'),
    servers: list<ServerKind>(cli.servers, ['gateway', 'nms'], ['gateway', 'nms'], 'server'),
    seconds: int(cli.seconds, smoke ? 5 : 15, 'seconds', 1),
    repeat: int(cli.repeat, 1, 'repeat', 1),
    probes: int(cli.probes, smoke ? 2 : 4, 'probes', 1),
    ttff: int(cli.ttff, smoke ? 3 : 10, 'ttff', 0),
    batch: int(cli.batch, 50, 'batch', 1),
    settle: int(cli.settle, smoke ? 1 : 3, 'settle', 0),
    waitQuiet: int(cli['wait-quiet'], smoke ? 0 : 300, 'wait-quiet', 0),
    maxForeign: int(cli['max-foreign'], smoke ? 0 : 25, 'max-foreign', 0),
    nice: cli.nice === undefined ? 0 : Number(cli.nice),
    cpuProf: cli['cpu-prof'],
    workers: int(cli.workers, 1, 'workers', 1),
    nodes: int(cli.nodes, 1, 'nodes', 1),
  };
  if (plan.nodes > 1 && plan.servers.includes('nms')) usage('--nodes is a gateway mode: add --servers gateway');
  return { plan, report: cli.report, write: cli.write, resultsFile: cli.results !== undefined ? path.resolve(cli.results) : RESULTS_FILE };
}
