import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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
  totalMs: number;
  top: { name: string; where: string; selfMs: number; share: number }[];
}

/** The newest .cpuprofile in `dir`. */
export function newestProfile(dir: string): string | undefined {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
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
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    total += us;
    const url = f.url.replace(/^file:\/\//, '');
    const where = url
      ? `${url.startsWith(repoRoot) ? relative(repoRoot, url) : url}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName}@${where}`;
    const t = totals.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    t.us += us;
    totals.set(key, t);
  }
  const top = [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((t) => ({
      name: t.name,
      where: t.where,
      selfMs: t.us / 1000,
      share: (t.us / Math.max(1, total)) * 100,
    }));
  return { file: relative(repoRoot, path), totalMs: total / 1000, top };
}
