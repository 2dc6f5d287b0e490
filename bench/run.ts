/**
 * `npm run bench` — carechat against a raw WebSocket relay, side by side, on this machine.
 *
 *   npm run bench                      every scenario at the issue's sizes, the soak included (long)
 *   npm run bench -- --quick           a ~2-minute subset for CI smoke runs (no thresholds, no soak)
 *   npm run bench -- --soak-minutes 5  a shorter soak than the issue's 30 minutes
 *   npm run bench -- --scenario knee   one scenario (repeatable; comma lists work too)
 *   npm run bench -- --profile         node --cpu-prof on carechat during the knee and uploads runs
 *   npm run bench -- --sql-stats       time carechat's SQLite statements (preloaded wrapper)
 *   npm run bench -- --ref HEAD        measure a commit instead of the working tree (a snapshot
 *                                      of it in a temporary directory, so edits in progress
 *                                      elsewhere in the tree cannot break or skew the run)
 *
 *   npm run bench -- --render <json>   write a run's Markdown and chart again from its JSON
 *
 * Results: bench/results/bench-<time>.{json,md}, knee-latency-<time>.svg, latest.* copies.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fullPlan, quickPlan } from './lib/plan.js';
import { Generator, repoRoot, startRelay, type RelayProcess } from './lib/processes.js';
import { machine } from './lib/proc.js';
import type { Harness, ScenarioOutcome } from './lib/harness.js';
import { chart, kneeSteps, markdown, type Report } from './lib/report.js';
import { newestProfile, summarizeProfile } from './lib/profile.js';
import { capacity } from './scenarios/capacity.js';
import { crash } from './scenarios/crash.js';
import { floor } from './scenarios/floor.js';
import { history } from './scenarios/history.js';
import { knee } from './scenarios/knee.js';
import { polling } from './scenarios/polling.js';
import { soak } from './scenarios/soak.js';
import { steady } from './scenarios/steady.js';
import { twoProcesses } from './scenarios/two-processes.js';
import { uploads } from './scenarios/uploads.js';

const scenarios = {
  floor,
  knee,
  steady,
  capacity,
  history,
  polling,
  uploads,
  crash,
  'two-processes': twoProcesses,
  soak,
} as const;
type ScenarioName = keyof typeof scenarios;
const names = Object.keys(scenarios) as ScenarioName[];
/** The soak takes half an hour: the full run has it, the quick subset does not. */
const quickNames = names.filter((n) => n !== 'soak');

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      'sql-stats': { type: 'boolean', default: false },
      ref: { type: 'string' },
      'soak-minutes': { type: 'string' },
      render: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      `usage: npm run bench -- [--quick] [--scenario ${names.join('|')}] [--profile] [--sql-stats] [--soak-minutes N] [--ref <commit>] [--render <json>]\n`,
    );
    process.exit(0);
  }
  const chosen = (values.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  for (const s of chosen) {
    if (!names.includes(s as ScenarioName)) {
      process.stderr.write(`unknown scenario "${s}"; choose from ${names.join(', ')}\n`);
      process.exit(2);
    }
  }
  const soakMinutes =
    values['soak-minutes'] === undefined ? undefined : Number(values['soak-minutes']);
  if (soakMinutes !== undefined && !(soakMinutes > 0 && soakMinutes <= 24 * 60)) {
    process.stderr.write('--soak-minutes must be a number of minutes between 0 and 1440\n');
    process.exit(2);
  }
  return {
    quick: values.quick,
    soakMinutes,
    profile: values.profile,
    ref: values.ref,
    render: values.render,
    sqlStats: values['sql-stats'],
    run: chosen.length > 0 ? (chosen as ScenarioName[]) : values.quick ? quickNames : names,
  };
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.render) return render(opts.render);
  if (opts.ref) return runFromSnapshot(opts.ref);
  const resultsDir = process.env.BENCH_RESULTS_DIR ?? join(repoRoot, 'bench', 'results');
  const profileDir = opts.profile ? join(resultsDir, 'profiles') : undefined;
  mkdirSync(profileDir ?? resultsDir, { recursive: true });
  const started = new Date();
  const log = (line: string) =>
    process.stdout.write(
      `[${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`,
    );
  const report: Report = {
    startedAt: started.toISOString(),
    finishedAt: '',
    quick: opts.quick,
    command:
      process.env.BENCH_COMMAND ??
      `npm run bench --${process.argv
        .slice(2)
        .map((a) => ` ${a}`)
        .join('')}`,
    machine: machine(),
    source: process.env.BENCH_SOURCE ?? workingTreeSource(),
    scenarios: [],
  };
  log(`${report.machine.cores} cores, ${report.machine.cpuModel}, Node ${report.machine.node}`);
  log(`measuring ${report.source}`);

  let relay: RelayProcess | undefined;
  const gen = Generator.start();
  try {
    relay = await startRelay();
    const base = opts.quick ? quickPlan : fullPlan;
    const h: Harness = {
      plan:
        opts.soakMinutes === undefined
          ? base
          : { ...base, soak: { ...base.soak, durationMs: opts.soakMinutes * 60_000 } },
      gen,
      relay,
      resultsDir,
      profileDir,
      sqlStats: opts.sqlStats ? new Map() : undefined,
      log,
    };
    for (const name of opts.run) {
      const t = performance.now();
      log(`${name}: start`);
      let outcome: ScenarioOutcome;
      try {
        outcome = { name, seconds: 0, ...(await scenarios[name](h)) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log(`${name}: FAILED ${message}`);
        outcome = { name, seconds: 0, rows: [], data: null, error: message };
      }
      const sql = h.sqlStats?.get(name);
      if (sql) outcome.sql = sql.slice(0, 15);
      outcome.seconds = Math.round((performance.now() - t) / 100) / 10;
      report.scenarios.push(outcome);
      log(`${name}: done in ${outcome.seconds} s`);
    }
  } finally {
    await gen.stop();
    await relay?.stop();
  }

  // The last profiled scenario's: each writes its own file, and the newest is summarized.
  const profiled = opts.run.filter((n) => n === 'knee' || n === 'uploads').pop();
  if (profileDir && profiled) {
    const file = newestProfile(profileDir);
    if (file) report.profile = { ...summarizeProfile(file), scenario: profiled };
  }
  report.finishedAt = new Date().toISOString();
  writeReport(report, resultsDir, true);
}

/** The JSON, the Markdown and the knee chart, each stamped with the run's start time. */
function writeReport(report: Report, dir: string, latest: boolean): void {
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const md = markdown(report);
  const files: [string, string][] = [
    [`bench-${stamp}.json`, JSON.stringify(report, null, 2)],
    [`bench-${stamp}.md`, md],
  ];
  const steps = kneeSteps(report);
  if (steps.length > 0) files.push([`knee-latency-${stamp}.svg`, chart(steps)]);
  for (const [name, text] of files) {
    writeFileSync(join(dir, name), text);
    if (latest) writeFileSync(join(dir, name.replace(stamp, 'latest').replace('bench-', '')), text);
  }
  process.stdout.write(`\n${md}\nWritten to ${files.map(([n]) => join(dir, n)).join(', ')}\n`);
}

/** Writes the Markdown and the chart again from a run's JSON (after a change to the report). */
function render(path: string): void {
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  writeReport(report, dirname(path), false);
}

function workingTreeSource(): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src').length > 0;
    return `working tree at ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'working tree';
  }
}

/**
 * Re-runs the harness from a snapshot of `ref` (its src/ and configuration, this bench/,
 * the installed node_modules), so seeding, migrations and the server all come from one
 * commit. Results still land in this tree's bench/results.
 */
async function runFromSnapshot(ref: string): Promise<void> {
  const commit = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--verify', `${ref}^{commit}`], {
    encoding: 'utf8',
  }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'carechat-bench-src-'));
  try {
    execFileSync('sh', [
      '-c',
      'git -C "$0" archive --format=tar "$1" src package.json tsconfig.json | tar -x -C "$2"',
      repoRoot,
      commit,
      dir,
    ]);
    cpSync(join(repoRoot, 'bench'), join(dir, 'bench'), {
      recursive: true,
      filter: (path) => !path.startsWith(join(repoRoot, 'bench', 'results')),
    });
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    const args = process.argv
      .slice(2)
      .filter((a, i, all) => a !== '--ref' && all[i - 1] !== '--ref' && !a.startsWith('--ref='));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(dir, 'bench', 'run.ts'), ...args],
      {
        cwd: dir,
        stdio: 'inherit',
        env: {
          ...process.env,
          BENCH_RESULTS_DIR: join(repoRoot, 'bench', 'results'),
          BENCH_SOURCE: `commit ${commit.slice(0, 12)} (${ref})`,
          BENCH_COMMAND: `npm run bench --${process.argv
            .slice(2)
            .map((a) => ` ${a}`)
            .join('')}`,
        },
      },
    );
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) process.exitCode = code ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
