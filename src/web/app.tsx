import { BrowserRouter, Navigate, Route, Routes, useLocation, useParams } from 'react-router-dom';
import type { Role } from '../shared/wire.js';
import { Layout } from './components/layout.js';
import { Loading, PageHeader } from './components/ui.js';
import { useDocumentTitle } from './lib/hooks.js';
import { AdminArea } from './pages/admin/admin-area.js';
import { AppointmentsPage } from './pages/appointments.js';
import { ChatList } from './pages/chat-list.js';
import { ChatRoom } from './pages/chat-room.js';
import { LoginPage } from './pages/login.js';
import { NotificationSettings } from './pages/notification-settings.js';
import { PatientDashboard } from './pages/patient-dashboard.js';
import { PractitionerDashboard } from './pages/practitioner-dashboard.js';
import { RequestAppointment } from './pages/request-appointment.js';
import { homePath, SessionProvider, useSession } from './session.js';

function RequireSession() {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'loading')
    return (
      <div className="boot">
        <Loading label="Opening carechat…" />
      </div>
    );
  if (status === 'signedOut')
    return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <Layout />;
}

/** Pages for one role; anyone else is taken to their own home page. */
function For({ roles, children }: { roles: Role[]; children: React.ReactElement }) {
  const { user } = useSession();
  if (!user) return null;
  if (!roles.includes(user.role)) return <Navigate to={homePath(user)} replace />;
  return children;
}

function Home() {
  const { user } = useSession();
  return user ? <Navigate to={homePath(user)} replace /> : null;
}

/** The old system's room address, /chat/room/{id}/, and the short one both land here. */
function RoomRoute() {
  const { roomId } = useParams();
  return roomId ? <ChatRoom key={roomId} roomId={roomId} /> : <Navigate to="/chat" replace />;
}

function NotFound() {
  useDocumentTitle('Page not found');
  return (
    <section className="page">
      <PageHeader title="Page not found" />
      <p>
        There is nothing at this address. Use the menu above to find your way, or{' '}
        <a href="/">go to your home page</a>.
      </p>
    </section>
  );
}

const people: Role[] = ['patient', 'practitioner'];

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route element={<RequireSession />}>
            <Route index element={<Home />} />
            <Route path="dashboard" element={<Home />} />
            <Route
              path="patient-dashboard"
              element={
                <For roles={['patient']}>
                  <PatientDashboard />
                </For>
              }
            />
            <Route
              path="practitioner-dashboard"
              element={
                <For roles={['practitioner']}>
                  <PractitionerDashboard />
                </For>
              }
            />
            {['patient-dashboard/chat', 'practitioner-dashboard/chat', 'chat'].map((path) => (
              <Route
                key={path}
                path={path}
                element={
                  <For roles={people}>
                    <ChatList />
                  </For>
                }
              />
            ))}
            <Route
              path="chat/room/:roomId"
              element={
                <For roles={people}>
                  <RoomRoute />
                </For>
              }
            />
            <Route
              path="appointments"
              element={
                <For roles={people}>
                  <AppointmentsPage />
                </For>
              }
            />
            <Route
              path="appointments/new"
              element={
                <For roles={['patient']}>
                  <RequestAppointment />
                </For>
              }
            />
            <Route
              path="settings/notifications"
              element={
                <For roles={people}>
                  <NotificationSettings />
                </For>
              }
            />
            <Route
              path="admin/*"
              element={
                <For roles={['admin']}>
                  <AdminArea />
                </For>
              }
            />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
