import type { PersonWire } from '../../../shared/wire.js';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api, listFrom } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';

/** Metadata only: who, since when, how many messages. Admins do not read message bodies. */
interface AdminRoom {
  id: string;
  appointmentId?: string;
  patient?: Pick<PersonWire, 'id' | 'name'>;
  practitioner?: Pick<PersonWire, 'id' | 'name'>;
  lastSeq?: number;
  messageCount?: number;
  lastActivityAt?: string;
  createdAt?: string;
}

export function AdminRooms() {
  useDocumentTitle('Rooms');
  const list = useResource(
    async (signal) => listFrom<AdminRoom>(await api('/api/admin/rooms', { signal }), 'rooms'),
    [],
  );
  return (
    <section className="page">
      <PageHeader
        title="Rooms"
        subtitle="Conversations' metadata. Message contents are not shown here."
      />
      {list.loading && !list.data && <Loading label="Loading rooms…" />}
      {list.error && !list.data ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.data &&
        (list.data.length === 0 ? (
          <Empty title="No conversations yet." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Rooms</caption>
              <thead>
                <tr>
                  <th scope="col">Patient</th>
                  <th scope="col">Practitioner</th>
                  <th scope="col">Messages</th>
                  <th scope="col">Last activity</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((r) => (
                  <tr key={r.id}>
                    <td data-label="Patient">{r.patient?.name ?? '—'}</td>
                    <td data-label="Practitioner">{r.practitioner?.name ?? '—'}</td>
                    <td data-label="Messages">{r.messageCount ?? r.lastSeq ?? 0}</td>
                    <td data-label="Last activity">
                      {r.lastActivityAt ? formatDateTime(r.lastActivityAt) : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
