import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ); 100 on every Linux we run on. */
const CLK_TCK = 100;

export interface ProcSample {
  /** performance.now() of the sampling process when read. */
  at: number;
  /** utime + stime in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU seconds (user + system) and resident memory of one process, read from /proc. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return {
      at: performance.now(),
      cpuSeconds: (utime + stime) / CLK_TCK,
      rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    };
  } catch {
    return undefined;
  }
}

/** The soft limit on open files of a running process. */
export function openFileLimit(pid: number): number | undefined {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Periodic /proc samples of one process over a measured window. */
export class ProcRecorder {
  readonly samples: ProcSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly everyMs = 1000,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
    return this;
  }

  sample(): ProcSample | undefined {
    const s = sampleProc(this.pid);
    if (s) this.samples.push(s);
    return s;
  }

  stop(): WindowUsage {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return usageOf(this.samples);
  }
}

export interface WindowUsage {
  seconds: number;
  cpuSeconds: number;
  /** Share of one core over the window (1 = one core busy). */
  cpuCores: number;
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
  /** Least-squares slope of RSS over the window, bytes per minute. */
  rssSlopeBytesPerMin: number;
  /** The same over the second half only: growth that outlasts warm-up and heap sizing. */
  rssLateSlopeBytesPerMin: number;
}

export function usageOf(samples: readonly ProcSample[]): WindowUsage {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) {
    return {
      seconds: 0,
      cpuSeconds: 0,
      cpuCores: 0,
      rssStartBytes: 0,
      rssEndBytes: 0,
      rssMaxBytes: 0,
      rssSlopeBytesPerMin: 0,
      rssLateSlopeBytesPerMin: 0,
    };
  }
  const seconds = (last.at - first.at) / 1000;
  const cpuSeconds = last.cpuSeconds - first.cpuSeconds;
  return {
    seconds,
    cpuSeconds,
    cpuCores: seconds > 0 ? cpuSeconds / seconds : 0,
    rssStartBytes: first.rssBytes,
    rssEndBytes: last.rssBytes,
    rssMaxBytes: Math.max(...samples.map((s) => s.rssBytes)),
    rssSlopeBytesPerMin: slope(samples.map((s) => [(s.at - first.at) / 60_000, s.rssBytes])),
    rssLateSlopeBytesPerMin: slope(
      samples
        .slice(Math.floor(samples.length / 2))
        .map((s) => [(s.at - first.at) / 60_000, s.rssBytes]),
    ),
  };
}

function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const d = n * sxx - sx * sx;
  return d === 0 ? 0 : (n * sxy - sx * sy) / d;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGiB: number;
  loadAverageAtStart: number[];
  /** What one durable commit costs on the disk the databases live on. */
  fsyncMs: { p50: number; p99: number };
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    fsyncMs: fsyncCost(),
  };
}

/** 200 small write + fsync pairs in the temporary directory the databases use. */
function fsyncCost(): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), 'carechat-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const times: number[] = [];
  const page = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      writeSync(fd, page, 0, page.length, (i % 16) * 4096);
      fsyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.ceil(q * times.length) - 1]! * 1000) / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}
