import {
  fileBytes,
  fmt,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import type { BenchPair, HttpProbe, HttpResult } from '../lib/protocol.js';

// A fixed-seed generator, so every run asks for the same pages.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function pagesOf(pairs: readonly BenchPair[], n: number, next: () => number): HttpProbe[] {
  return Array.from({ length: n }, () => {
    const p = pairs[Math.floor(next() * pairs.length)]!;
    const before = 51 + Math.floor(next() * Math.max(1, p.lastSeq - 50));
    const user = next() < 0.5 ? p.patient : p.practitioner;
    return { path: `/api/rooms/${p.roomId}/messages?before=${before}&limit=50`, token: user.token };
  });
}

/** (5) A 50-message page and the room list, with 1,000,000 messages stored. */
export async function history(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { rooms, practitioners, perRoom, requests } = h.plan.history;
  return withCarechat(
    h,
    'history',
    { pairs: rooms, practitioners, messagesPerRoom: perRoom },
    async ({ server, dbPath, seedSeconds, seed }) => {
      const next = random(42);
      const warmup = Math.min(100, Math.floor(requests / 10));
      const probe = (list: HttpProbe[]) =>
        h.gen.request<HttpResult>(
          { op: 'http', baseUrl: server.origin, requests: list, warmup },
          600_000,
        );
      const page = await probe(pagesOf(seed.pairs, requests + warmup, next));
      const byPractitioner = new Map(seed.pairs.map((p) => [p.practitioner.id, p.practitioner]));
      const practitionerList = [...byPractitioner.values()];
      const practitionerRooms = await probe(
        Array.from({ length: requests + warmup }, () => ({
          path: '/api/rooms',
          token: practitionerList[Math.floor(next() * practitionerList.length)]!.token,
        })),
      );
      const patientRooms = await probe(
        Array.from({ length: requests + warmup }, () => ({
          path: '/api/rooms',
          token: seed.pairs[Math.floor(next() * seed.pairs.length)]!.patient.token,
        })),
      );
      const stored = rooms * perRoom;
      h.log(
        `history: page p99 ${page.latency.p99} (${JSON.stringify(page.statuses)}), room list p99 ${practitionerRooms.latency.p99} / ${patientRooms.latency.p99}`,
      );
      const ok = (r: HttpResult) => Object.keys(r.statuses).every((s) => s === '200');
      const roomsEach = Math.round(rooms / practitioners);
      return {
        data: {
          stored,
          seedSeconds,
          databaseBytes: fileBytes(dbPath),
          page,
          practitionerRooms,
          patientRooms,
        },
        rows: [
          {
            scenario: 'history',
            figure: `50-message page, p50 / p99 (${fmt.n(stored)} messages stored; HTTP over loopback)`,
            carechat: `${fmt.ms(page.latency.p50)} / ${fmt.ms(page.latency.p99)}`,
            relay: '–',
            target: 'p99 < 5 ms',
            pass: ok(page) && page.latency.p99 < 5,
          },
          {
            scenario: 'history',
            figure: `room list of a practitioner (${roomsEach} rooms), p50 / p99`,
            carechat: `${fmt.ms(practitionerRooms.latency.p50)} / ${fmt.ms(practitionerRooms.latency.p99)}`,
            relay: '–',
            target: 'p99 < 3 ms',
            pass: ok(practitionerRooms) && practitionerRooms.latency.p99 < 3,
            issue: `room list p99, practitioner with ${roomsEach} rooms`,
          },
          {
            scenario: 'history',
            figure: 'room list of a patient (1 room), p50 / p99',
            carechat: `${fmt.ms(patientRooms.latency.p50)} / ${fmt.ms(patientRooms.latency.p99)}`,
            relay: '–',
            target: 'p99 < 5 ms',
            pass: ok(patientRooms) && patientRooms.latency.p99 < 5,
          },
        ],
      };
    },
  );
}
