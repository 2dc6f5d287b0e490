import { useState } from 'react';
import type { AppointmentStatus, AppointmentWire } from '../../../shared/wire.js';
import { Empty, ErrorState, Loading, PageHeader, StatusPill } from '../../components/ui.js';
import { api } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';

export function AdminAppointments() {
  useDocumentTitle('Appointments');
  const [status, setStatus] = useState<AppointmentStatus | ''>('');
  const list = useResource(
    (signal) =>
      api<AppointmentWire[]>(`/api/admin/appointments${status ? `?status=${status}` : ''}`, {
        signal,
      }),
    [status],
  );
  return (
    <section className="page">
      <PageHeader title="Appointments" subtitle="Every appointment in the practice." />
      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor="appt-status">Status</label>
          <select
            id="appt-status"
            value={status}
            onChange={(e) => setStatus(e.target.value as AppointmentStatus | '')}
          >
            <option value="">All</option>
            <option value="requested">Requested</option>
            <option value="accepted">Accepted</option>
            <option value="declined">Declined</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </div>
      </div>
      {list.loading && !list.data && <Loading label="Loading appointments…" />}
      {list.error && !list.data ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.data &&
        (list.data.length === 0 ? (
          <Empty title="No appointments." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Appointments</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Patient</th>
                  <th scope="col">Practitioner</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((a) => (
                  <tr key={a.id}>
                    <td data-label="When">{formatDateTime(a.startsAt)}</td>
                    <td data-label="Patient">{a.patient.name}</td>
                    <td data-label="Practitioner">{a.practitioner.name}</td>
                    <td data-label="Status">
                      <StatusPill status={a.status} />
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
