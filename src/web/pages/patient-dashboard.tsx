import { Link } from 'react-router-dom';
import { AppointmentList, RecentMessages } from '../components/appointments.js';
import { ErrorState, Loading, PageHeader } from '../components/ui.js';
import { UnreadCard, useDashboard } from '../components/dashboard.js';
import { formatDateTime, plural } from '../lib/format.js';

export function PatientDashboard() {
  const { user, unread, dash } = useDashboard();
  const firstName = user.name.split(' ')[0] ?? user.name;
  const next = dash.data?.upcomingAppointments.find((a) => a.status === 'accepted');

  return (
    <section className="page">
      <PageHeader
        title={`Hello, ${firstName}`}
        subtitle="Your appointments and messages with your care team."
        actions={
          <Link className="button button-primary" to="/appointments/new">
            Request an appointment
          </Link>
        }
      />
      <div className="cards">
        <UnreadCard total={unread.total} />
        <div className="card">
          <span className="card-label">Next appointment</span>
          <span className="card-value">
            {next
              ? `${formatDateTime(next.startsAt)} with ${next.practitioner.name}`
              : 'None booked'}
          </span>
        </div>
      </div>
      {dash.loading && !dash.data && <Loading />}
      {dash.error && !dash.data ? <ErrorState error={dash.error} onRetry={dash.reload} /> : null}
      {dash.data && (
        <div className="columns">
          <section className="panel" aria-labelledby="upcoming-h">
            <h2 id="upcoming-h">Upcoming appointments</h2>
            <AppointmentList
              appointments={dash.data.upcomingAppointments}
              onChanged={dash.reload}
              empty="You have no upcoming appointments."
            />
          </section>
          <section className="panel" aria-labelledby="recent-h">
            <h2 id="recent-h">
              Recent messages
              {unread.total > 0 && (
                <span className="h-note"> · {plural(unread.total, 'unread')}</span>
              )}
            </h2>
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
