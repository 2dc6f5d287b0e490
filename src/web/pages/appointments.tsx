import { Link } from 'react-router-dom';
import type { AppointmentWire } from '../../shared/wire.js';
import { AppointmentList } from '../components/appointments.js';
import { ErrorState, Loading, PageHeader } from '../components/ui.js';
import { api } from '../lib/api.js';
import { useDocumentTitle, useLiveRefresh, useResource } from '../lib/hooks.js';
import { useSignedIn } from '../session.js';

export function AppointmentsPage() {
  const { user } = useSignedIn();
  useDocumentTitle('Appointments');
  const list = useResource(
    (signal) => api<AppointmentWire[]>('/api/appointments?scope=all', { signal }),
    [],
  );
  useLiveRefresh(['appointment'], list.reload);
  const now = Date.now();
  const all = list.data ?? [];
  const upcoming = all
    .filter(
      (a) =>
        new Date(a.startsAt).getTime() >= now &&
        a.status !== 'declined' &&
        a.status !== 'cancelled',
    )
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const other = all
    .filter((a) => !upcoming.includes(a))
    .sort((a, b) => b.startsAt.localeCompare(a.startsAt));

  return (
    <section className="page">
      <PageHeader
        title="Appointments"
        actions={
          user.role === 'patient' ? (
            <Link className="button button-primary" to="/appointments/new">
              Request an appointment
            </Link>
          ) : undefined
        }
      />
      {list.loading && !list.data && <Loading />}
      {list.error && !list.data ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.data && (
        <>
          <section className="panel" aria-labelledby="appt-upcoming">
            <h2 id="appt-upcoming">Upcoming and requested</h2>
            <AppointmentList
              appointments={upcoming}
              onChanged={list.reload}
              empty="Nothing booked yet."
            />
          </section>
          <section className="panel" aria-labelledby="appt-past">
            <h2 id="appt-past">Past, declined and cancelled</h2>
            <AppointmentList
              appointments={other}
              onChanged={list.reload}
              empty="Nothing here yet."
            />
          </section>
        </>
      )}
    </section>
  );
}
