import type { Machine } from './proc.js';
import type { Row, ScenarioOutcome } from './harness.js';
import type { KneeStep } from '../scenarios/knee.js';
import type { ProfileSummary } from './profile.js';

export interface Report {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  command: string;
  machine: Machine;
  /** What was measured: the working tree, or a snapshot of one commit. */
  source: string;
  scenarios: ScenarioOutcome[];
  profile?: ProfileSummary | undefined;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');
const verdict = (p: boolean | null) => (p === null ? '' : p ? 'pass' : '**fail**');

export function markdown(report: Report): string {
  const m = report.machine;
  const lines = [
    `# carechat benchmark${report.quick ? ' (quick subset: figures are not comparable with targets)' : ''}`,
    '',
    `Machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}; load average at start ${m.loadAverageAtStart.join(' ')}; 4 KiB write + fsync in the temp directory p50 ${m.fsyncMs.p50} ms, p99 ${m.fsyncMs.p99} ms. Generator, carechat and the relay share the machine, over 127.0.0.1.`,
    '',
    `Run: \`${report.command}\` on ${report.source}, ${report.startedAt} → ${report.finishedAt}.`,
    '',
  ];
  const rows: Row[] = report.scenarios.flatMap((s) =>
    s.error
      ? [
          {
            scenario: s.name,
            figure: 'did not run',
            carechat: s.error.split('\n')[0]!.slice(0, 160),
            relay: '',
            target: '',
            pass: null,
          },
        ]
      : s.rows,
  );
  // A smoke run is too small and short to judge a target by.
  const judged = (r: Row) => (report.quick ? '' : verdict(r.pass));
  const headline = rows.filter((r) => r.issue);
  if (headline.length > 0) {
    lines.push(
      "## Issue 12's targets",
      '',
      '| scenario | figure | carechat | target | met? |',
      '|---|---|---|---|---|',
    );
    for (const r of headline) {
      lines.push(
        `| ${cell(r.issue!)} | ${cell(r.figure)} | ${cell(r.carechat)} | ${cell(r.target)} | ${report.quick ? '(quick run)' : verdict(r.pass)} |`,
      );
    }
    lines.push('', '## Every figure', '');
  }
  lines.push(
    '| scenario | figure | carechat | raw relay | carechat / relay | target | result |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`;
    lines.push(
      `| ${r.scenario} | ${cell(r.figure)} | ${cell(r.carechat)} | ${cell(r.relay)} | ${ratio} | ${cell(r.target)} | ${judged(r)} |`,
    );
  }
  const knee = kneeSteps(report);
  if (knee.length > 0) {
    lines.push(
      '',
      '## Knee, step by step',
      '',
      '| offered | target | sent | delivered | lost | dup | p50 | p99 | max | server CPU (cores) | server RSS | generator CPU (cores) | generator send lag max |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of knee) {
      const r = s.result;
      if (!r) {
        lines.push(`| ${s.rate}/s | ${s.target} | ${s.skipped ?? 'not run'} | | | | | | | | | | |`);
        continue;
      }
      lines.push(
        `| ${s.rate}/s | ${s.target} | ${r.sent} | ${r.delivered} | ${r.lost} | ${r.duplicated} | ${r.latency.p50} ms | ${r.latency.p99} ms | ${r.latency.max} ms | ${s.server?.cpuCores.toFixed(2) ?? ''} | ${((s.server?.rssMaxBytes ?? 0) / 2 ** 20).toFixed(0)} MiB | ${s.generator?.cpuCores.toFixed(2) ?? ''} | ${r.sendLagMaxMs} ms |`,
      );
    }
  }
  if (report.profile) {
    lines.push(
      '',
      `## Where carechat's CPU went in the ${report.profile.scenario ?? 'knee'} run (${report.profile.file}, ${report.profile.totalMs.toFixed(0)} ms busy, ${report.profile.idleMs.toFixed(0)} ms idle)`,
      '',
      '| self | share | function | where |',
      '|---|---|---|---|',
    );
    for (const f of report.profile.top) {
      lines.push(
        `| ${f.selfMs.toFixed(0)} ms | ${f.share.toFixed(1)}% | ${cell(f.name)} | ${cell(f.where)} |`,
      );
    }
    lines.push('', '| self | share | package or source file |', '|---|---|---|');
    for (const m of report.profile.byModule) {
      lines.push(`| ${m.selfMs.toFixed(0)} ms | ${m.share.toFixed(1)}% | ${cell(m.module)} |`);
    }
    const stalls = report.profile.stalls ?? [];
    if (stalls.length > 0) {
      lines.push(
        '',
        'The longest stretches without an idle sample (the event loop could not turn):',
        '',
        '| busy | mostly |',
        '|---|---|',
      );
      for (const s of stalls) {
        const parts = s.modules.map((m) => `${cell(m.module)} ${m.ms.toFixed(0)} ms`).join(', ');
        lines.push(`| ${s.ms.toFixed(0)} ms | ${parts} |`);
      }
    }
  }
  for (const s of report.scenarios.filter((x) => x.sql && x.sql.length > 0)) {
    lines.push(
      '',
      `## SQLite statements carechat ran in ${s.name} (--sql-stats)`,
      '',
      '| total | calls | per call | longest | prepares | statement |',
      '|---|---|---|---|---|---|',
    );
    for (const q of s.sql!) {
      const total = q.execMs + q.prepareMs;
      lines.push(
        `| ${total.toFixed(0)} ms | ${q.calls} | ${q.calls ? ((q.execMs / q.calls) * 1000).toFixed(0) : 0} µs | ${(q.maxMs ?? 0).toFixed(1)} ms | ${q.prepares} | \`${cell(q.sql.slice(0, 160))}\` |`,
      );
    }
  }
  lines.push(
    '',
    'Latency is measured from each message\'s scheduled send time (open loop) to its arrival at the recipient\'s socket; both ends live in the generator process. "Lost" counts messages that had not arrived when the drain window closed.',
    '',
  );
  return lines.join('\n');
}

export function kneeSteps(report: Report): KneeStep[] {
  const knee = report.scenarios.find((s) => s.name === 'knee' && !s.error);
  return (knee?.data as { steps?: KneeStep[] } | undefined)?.steps ?? [];
}

/** Latency p50 and p99 against offered rate, both axes logarithmic; hand-written SVG. */
export function chart(steps: readonly KneeStep[]): string {
  const W = 640;
  const H = 380;
  const pad = { l: 64, r: 150, t: 36, b: 48 };
  const done = steps.filter((s) => s.result && s.result.latency.count > 0);
  const rates = [...new Set(steps.map((s) => s.rate))].sort((a, b) => a - b);
  const lat = done.flatMap((s) => [s.result!.latency.p50, s.result!.latency.p99]);
  const minR = Math.min(...rates);
  const maxR = Math.max(...rates, minR * 2);
  const minL = Math.max(0.05, Math.min(...lat, 1) / 1.5);
  const maxL = Math.max(...lat, 10) * 1.5;
  const x = (r: number) =>
    pad.l +
    ((Math.log(r) - Math.log(minR)) / (Math.log(maxR) - Math.log(minR))) * (W - pad.l - pad.r);
  const y = (v: number) =>
    H -
    pad.b -
    ((Math.log(v) - Math.log(minL)) / (Math.log(maxL) - Math.log(minL))) * (H - pad.t - pad.b);
  const series = [
    { target: 'carechat', q: 'p50', color: '#1f77b4', dash: '' },
    { target: 'carechat', q: 'p99', color: '#1f77b4', dash: '6 4' },
    { target: 'relay', q: 'p50', color: '#d62728', dash: '' },
    { target: 'relay', q: 'p99', color: '#d62728', dash: '6 4' },
  ] as const;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${pad.l}" y="20" font-size="14" font-weight="bold">Delivery latency vs offered rate (log–log)</text>`,
  ];
  for (const r of rates) {
    parts.push(`<line x1="${x(r)}" y1="${pad.t}" x2="${x(r)}" y2="${H - pad.b}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x(r)}" y="${H - pad.b + 16}" text-anchor="middle">${r >= 1000 ? `${r / 1000}k` : r}</text>`,
    );
  }
  for (let v = 10 ** Math.floor(Math.log10(minL)); v <= maxL; v *= 10) {
    if (v < minL) continue;
    parts.push(`<line x1="${pad.l}" y1="${y(v)}" x2="${W - pad.r}" y2="${y(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v} ms</text>`);
  }
  parts.push(
    `<line x1="${pad.l}" y1="${y(50)}" x2="${W - pad.r}" y2="${y(50)}" stroke="#999" stroke-dasharray="2 3"/>`,
  );
  parts.push(
    `<text x="${W - pad.r - 4}" y="${y(50) - 4}" text-anchor="end" fill="#666">50 ms</text>`,
  );
  parts.push(
    `<text x="${(pad.l + W - pad.r) / 2}" y="${H - 10}" text-anchor="middle">offered rate (messages/s)</text>`,
  );
  series.forEach((s, i) => {
    const pts = done
      .filter((d) => d.target === s.target)
      .map(
        (d) => `${x(d.rate).toFixed(1)},${y(Math.max(minL, d.result!.latency[s.q])).toFixed(1)}`,
      );
    if (pts.length > 0) {
      parts.push(
        `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`,
      );
      for (const p of pts) {
        const [px, py] = p.split(',');
        parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
      }
    }
    const ly = pad.t + 10 + i * 20;
    parts.push(
      `<line x1="${W - pad.r + 12}" y1="${ly}" x2="${W - pad.r + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`,
    );
    parts.push(`<text x="${W - pad.r + 46}" y="${ly + 4}">${s.target} ${s.q}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
