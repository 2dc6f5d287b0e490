import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { repoRoot } from './processes.js';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** The scenario whose server wrote it (reports from before this field were all the knee's). */
  scenario?: string;
  /** Sampled time the thread was busy (everything but "(idle)"). */
  totalMs: number;
  idleMs: number;
  top: { name: string; where: string; selfMs: number; share: number }[];
  /** Self time by package (node_modules) or source file, so hot layers stand out. */
  byModule: { module: string; selfMs: number; share: number }[];
  /**
   * The longest stretches the thread never went idle, longest first, each with the
   * packages or files that took most of it: what stalled the event loop, where the
   * totals above only say what cost the most overall.
   */
  stalls?: { ms: number; modules: { module: string; ms: number }[] }[];
}

function moduleOf(where: string, name: string): string {
  if (!where) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg) return pkg[1]!;
  if (where.startsWith('node:')) return 'node core';
  return where.replace(/:\d+$/, '');
}

/**
 * The newest main-thread .cpuprofile in `dir`. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (tsx's
 * module loader runs in a worker thread that writes a profile of its own).
 */
export function newestProfile(dir: string): string | undefined {
  try {
    return readdirSync(dir)
      .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  } catch {
    return undefined;
  }
}

/** Self time by function (name + file + line), heaviest first. */
export function summarizeProfile(path: string, limit = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const whereOf = (f: CpuProfileNode['callFrame']) => {
    const url = f.url.replace(/^file:\/\//, '');
    return url
      ? `${url.startsWith(repoRoot) ? relative(repoRoot, url) : url}:${f.lineNumber + 1}`
      : '';
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totals = new Map<string, { name: string; where: string; us: number }>();
  const modules = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const where = whereOf(f);
    const key = `${f.functionName}@${where}`;
    const t = totals.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    t.us += us;
    totals.set(key, t);
    const m = moduleOf(where, f.functionName);
    modules.set(m, (modules.get(m) ?? 0) + us);
  }
  const share = (us: number) => (us / Math.max(1, total)) * 100;
  const top = [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((t) => ({ name: t.name, where: t.where, selfMs: t.us / 1000, share: share(t.us) }));
  const byModule = [...modules.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([module, us]) => ({ module, selfMs: us / 1000, share: share(us) }));
  return {
    file: basename(path),
    totalMs: total / 1000,
    idleMs: idle / 1000,
    top,
    byModule,
    stalls: longestBusy(profile, (id) => {
      const f = byId.get(id)!.callFrame;
      return f.functionName === '(idle)' ? undefined : moduleOf(whereOf(f), f.functionName);
    }),
  };
}

/** Runs of samples with no idle one between them, longest first. */
function longestBusy(
  profile: CpuProfile,
  moduleOfSample: (id: number) => string | undefined,
  limit = 10,
): NonNullable<ProfileSummary['stalls']> {
  const runs: { us: number; modules: Map<string, number> }[] = [];
  let run: (typeof runs)[number] | undefined;
  profile.samples.forEach((id, i) => {
    const m = moduleOfSample(id);
    if (m === undefined) {
      run = undefined;
      return;
    }
    if (!run) runs.push((run = { us: 0, modules: new Map() }));
    const us = profile.timeDeltas[i] ?? 0;
    run.us += us;
    run.modules.set(m, (run.modules.get(m) ?? 0) + us);
  });
  return runs
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((r) => ({
      ms: r.us / 1000,
      modules: [...r.modules.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([module, us]) => ({ module, ms: us / 1000 })),
    }));
}
