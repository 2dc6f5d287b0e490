import type { AdminRoomWire } from '../../../shared/wire.js';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';

const CLOSED = {
  appointment_cancelled: 'appointment cancelled',
  appointment_declined: 'appointment declined',
  expired: 'expired',
} as const;

export function AdminRooms() {
  useDocumentTitle('Rooms');
  // Metadata only: who, which appointment, how many messages. Admins do not read bodies here.
  const list = useResource(
    (signal) => api<AdminRoomWire[]>('/api/admin/rooms?limit=200', { signal }),
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
                  <th scope="col">Appointment</th>
                  <th scope="col">Conversation</th>
                  <th scope="col">Messages</th>
                  <th scope="col">Last activity</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((r) => (
                  <tr key={r.id}>
                    <td data-label="Patient">{r.patient.name}</td>
                    <td data-label="Practitioner">{r.practitioner.name}</td>
                    <td data-label="Appointment">
                      {r.appointmentStartsAt ? formatDateTime(r.appointmentStartsAt) : '—'}
                      {r.appointmentStatus ? ` · ${r.appointmentStatus}` : ''}
                    </td>
                    <td data-label="Conversation">
                      {r.status === 'open'
                        ? 'Open'
                        : `Closed (${CLOSED[r.closedReason ?? 'expired']})`}
                    </td>
                    <td data-label="Messages">{r.messageCount}</td>
                    <td data-label="Last activity">{formatDateTime(r.lastActivityAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </section>
  );
}
