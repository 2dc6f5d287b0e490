import {
  carechatEndpoint,
  fmt,
  ratioOf,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { ProcRecorder } from '../lib/proc.js';
import type { ConnectResult, LoadResult } from '../lib/protocol.js';
import { summarize } from '../lib/stats.js';
import { uploadFiles, uploadLoop, type UploadStats } from '../lib/upload-files.js';

/**
 * (9) Issue 13: large uploads must not stall delivery elsewhere. Steady traffic flows in
 * some rooms for a while alone, then as long again while a few other patients upload
 * photos and PDFs of about 10 MB, one after another, each in their own room. The traffic's
 * p99 with and without uploads is the figure.
 */
export async function uploads(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, rate, durationMs, uploaders, fileBytes } = h.plan.uploads;
  h.log(`uploads: making files of about ${fmt.mib(fileBytes)}`);
  const files = await uploadFiles(fileBytes);
  return withCarechat(
    h,
    'uploads',
    { pairs: pairs + uploaders },
    async ({ server, seed }) => {
      const conn = await h.gen.request<ConnectResult>(
        {
          op: 'connect',
          target: 'carechat',
          endpoint: carechatEndpoint(server),
          pairs,
          concurrency: 50,
          maxFailures: 50,
          timeLimitMs: 120_000,
        },
        180_000,
      );
      const load = (ms: number) =>
        h.gen.request<LoadResult>(
          { op: 'load', target: 'carechat', rate, durationMs: ms, drainMs: 10_000 },
          ms + 70_000,
        );
      await load(h.plan.quick ? 1_000 : 5_000);
      let rec = new ProcRecorder(server.pid).start();
      const alone = await load(durationMs);
      const aloneCpu = rec.stop();
      const stats: UploadStats = { uploads: 0, aborted: 0, bytes: 0, statuses: {}, ms: [] };
      let stop = false;
      const abort = new AbortController();
      const loops = seed.pairs
        .slice(pairs, pairs + uploaders)
        .map((p) =>
          uploadLoop(server.origin, p.patient, p.roomId, files, () => stop, abort.signal, stats),
        );
      rec = new ProcRecorder(server.pid).start();
      const started = performance.now();
      const during = await load(durationMs).finally(() => {
        stop = true;
      });
      // Uploads still running get a grace period, then are cut off: the window is over. A
      // quick run waits too, so that it proves at least one upload goes through.
      const grace = setTimeout(() => abort.abort(), h.plan.quick ? 15_000 : 30_000);
      await Promise.all(loops);
      clearTimeout(grace);
      const seconds = (performance.now() - started) / 1000;
      const duringCpu = rec.stop();
      const up = summarize(stats.ms);
      h.log(
        `uploads: p99 alone ${alone.latency.p99} with uploads ${during.latency.p99}; ${stats.uploads} uploads ${JSON.stringify(stats.statuses)}`,
      );
      const ok = (r: LoadResult) => r.lost === 0 && r.duplicated === 0;
      const refused = Object.entries(stats.statuses).filter(([s]) => s !== '201');
      return {
        data: {
          connections: conn,
          alone,
          during,
          uploads: { ...stats, ms: up },
          files: files.map((f) => ({ name: f.name, bytes: f.bytes.length })),
          aloneCpu,
          duringCpu,
        },
        rows: [
          {
            scenario: 'uploads',
            figure: `other traffic p50 / p99 without uploads (${fmt.n(pairs * 2)} connections, ${fmt.n(rate)} msgs/s, ${durationMs / 1000} s)`,
            carechat: `${fmt.ms(alone.latency.p50)} / ${fmt.ms(alone.latency.p99)}`,
            relay: '–',
            target: '',
            pass: null,
          },
          {
            scenario: 'uploads',
            figure: `… while ${uploaders} user${uploaders === 1 ? '' : 's'} upload ${files.map((f) => `${f.name} ${fmt.mib(f.bytes.length)}`).join(' and ')} in turn`,
            carechat: `${fmt.ms(during.latency.p50)} / ${fmt.ms(during.latency.p99)} (${fmt.ratio(ratioOf(during.latency.p99, alone.latency.p99) ?? Infinity)} of without)`,
            relay: '–',
            target: 'p99 < 50 ms, no loss',
            pass: ok(alone) && ok(during) && during.latency.p99 < 50,
            issue: 'uploading a 10 MB file does not stall delivery in other rooms (issue 13)',
          },
          {
            scenario: 'uploads',
            figure: 'uploads stored (cut off at the end); MiB/s; each upload p50 / p99; refused',
            carechat: `${fmt.n(stats.uploads)} (${fmt.n(stats.aborted)}); ${(stats.bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s; ${fmt.ms(up.p50)} / ${fmt.ms(up.p99)}; ${refused.length ? refused.map(([s, n]) => `${n}× ${s}`).join(', ') : 'none'}`,
            relay: '–',
            target: 'none refused',
            pass: stats.uploads > 0 && refused.length === 0,
          },
          {
            scenario: 'uploads',
            figure: 'server CPU (cores) without → with uploads',
            carechat: `${aloneCpu.cpuCores.toFixed(2)} → ${duringCpu.cpuCores.toFixed(2)}`,
            relay: '–',
            target: '',
            pass: null,
          },
        ],
      };
    },
    // The daily quota would stop a benchmark that uploads for minutes; the per-file limit stays.
    { env: { ATTACHMENT_DAILY_MB: '1000000' }, profile: h.profileDir !== undefined },
  );
}
