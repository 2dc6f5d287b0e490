import { Link } from 'react-router-dom';
import { AppointmentList, RecentMessages } from '../components/appointments.js';
import { ErrorState, Loading, PageHeader } from '../components/ui.js';
import { UnreadCard, useDashboard } from '../components/dashboard.js';
import { isSameDay } from '../lib/format.js';

export function PractitionerDashboard() {
  const { user, unread, dash } = useDashboard();
  const today = new Date();
  const todays =
    dash.data?.upcomingAppointments.filter(
      (a) => a.status === 'accepted' && isSameDay(new Date(a.startsAt), today),
    ) ?? [];
  const later =
    dash.data?.upcomingAppointments.filter(
      (a) => a.status === 'accepted' && !isSameDay(new Date(a.startsAt), today),
    ) ?? [];
  const requests = dash.data?.requests ?? [];

  return (
    <section className="page">
      <PageHeader title={`Welcome, ${user.name}`} subtitle="Your day at a glance." />
      <div className="cards">
        <UnreadCard total={unread.total} />
        <div className="card">
          <span className="card-number">{dash.data ? requests.length : '–'}</span>
          <span className="card-label">
            {requests.length === 1 ? 'request to answer' : 'requests to answer'}
          </span>
        </div>
        <div className="card">
          <span className="card-number">{dash.data ? todays.length : '–'}</span>
          <span className="card-label">appointments today</span>
        </div>
      </div>
      {dash.loading && !dash.data && <Loading />}
      {dash.error && !dash.data ? <ErrorState error={dash.error} onRetry={dash.reload} /> : null}
      {dash.data && (
        <div className="columns">
          <div>
            <section className="panel" aria-labelledby="requests-h">
              <h2 id="requests-h">Appointment requests</h2>
              <AppointmentList
                appointments={requests}
                onChanged={dash.reload}
                empty="No requests are waiting for you."
              />
            </section>
            <section className="panel" aria-labelledby="today-h">
              <h2 id="today-h">Today&apos;s appointments</h2>
              <AppointmentList
                appointments={todays}
                onChanged={dash.reload}
                empty="No appointments today."
              />
            </section>
            {later.length > 0 && (
              <section className="panel" aria-labelledby="later-h">
                <h2 id="later-h">Coming up</h2>
                <AppointmentList
                  appointments={later.slice(0, 5)}
                  onChanged={dash.reload}
                  empty=""
                />
                <Link to="/appointments" className="panel-link">
                  All appointments
                </Link>
              </section>
            )}
          </div>
          <section className="panel" aria-labelledby="recent-h">
            <h2 id="recent-h">Recent messages from patients</h2>
            <RecentMessages items={dash.data.recentMessages} />
            <Link to="/chat" className="panel-link">
              All conversations
            </Link>
          </section>
        </div>
      )}
    </section>
  );
}
