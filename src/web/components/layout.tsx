import { useEffect, useState } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router-dom';
import type { Role } from '../../shared/vocabulary.js';
import { pageTitle } from '../lib/hooks.js';
import { useStore } from '../lib/store.js';
import { homePath, useSignedIn, useSession } from '../session.js';
import { IdleGuard } from './idle-guard.js';
import { UnreadBadge } from './ui.js';

interface NavItem {
  to: string;
  label: string;
  unread?: boolean;
  end?: boolean;
}

function navFor(role: Role): NavItem[] {
  switch (role) {
    case 'patient':
      return [
        { to: '/patient-dashboard', label: 'Dashboard', end: true },
        { to: '/chat', label: 'Messages', unread: true },
        { to: '/appointments', label: 'Appointments' },
        { to: '/settings/notifications', label: 'Notifications' },
      ];
    case 'practitioner':
      return [
        { to: '/practitioner-dashboard', label: 'Dashboard', end: true },
        { to: '/chat', label: 'Messages', unread: true },
        { to: '/appointments', label: 'Appointments' },
        { to: '/settings/notifications', label: 'Notifications' },
      ];
    case 'admin':
      return [
        { to: '/admin/users', label: 'Users' },
        { to: '/admin/appointments', label: 'Appointments' },
        { to: '/admin/rooms', label: 'Rooms' },
        { to: '/admin/audit', label: 'Audit log' },
        { to: '/admin/outbox', label: 'Outbox' },
      ];
  }
}

/** The tab title carries the unread count, so a background tab still says something waits. */
function TitleSync() {
  const { live } = useSignedIn();
  const unread = useStore(live.unread);
  const title = useStore(pageTitle);
  useEffect(() => {
    document.title = `${unread.total > 0 ? `(${unread.total}) ` : ''}${title} · carechat`;
  }, [unread.total, title]);
  return null;
}

function OfflineBanner() {
  const { live } = useSignedIn();
  const status = useStore(live.status);
  const [show, setShow] = useState(false);
  // A reconnect that takes a moment is not worth a banner; a real outage is.
  useEffect(() => {
    if (status === 'online') {
      setShow(false);
      return;
    }
    const t = setTimeout(() => setShow(true), 1500);
    return () => clearTimeout(t);
  }, [status]);
  return (
    <div role="status" aria-live="polite" className="offline-slot">
      {show && (
        <p className="offline-banner">
          You are offline. We keep trying to reconnect; messages you write are sent as soon as the
          connection is back.
        </p>
      )}
    </div>
  );
}

export function NotificationsButton({ className = 'button button-quiet' }: { className?: string }) {
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(() =>
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  if (permission !== 'default') return null;
  return (
    <button
      type="button"
      className={className}
      onClick={() => {
        void Notification.requestPermission().then(setPermission);
      }}
    >
      Turn on notifications
    </button>
  );
}

export function Layout() {
  const { user, live } = useSignedIn();
  const { logout } = useSession();
  const unread = useStore(live.unread);
  const navigate = useNavigate();
  const items = navFor(user.role);
  const roleLabel =
    user.role === 'practitioner'
      ? (user.specialty ?? 'Practitioner')
      : user.role === 'admin'
        ? 'Administrator'
        : 'Patient';

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TitleSync />
      <header className="topbar">
        <div className="topbar-inner">
          <NavLink to={homePath(user)} className="brand" aria-label="carechat home">
            <img src="/favicon.svg" alt="" width="28" height="28" />
            <span>carechat</span>
          </NavLink>
          <div className="account">
            <span className="account-name">
              <strong>{user.name}</strong>
              <span className="account-role">{roleLabel}</span>
            </span>
            <NotificationsButton />
            <button
              type="button"
              className="button button-quiet"
              onClick={() => {
                void logout().then(() => navigate('/login'));
              }}
            >
              Sign out
            </button>
          </div>
        </div>
        <nav className="mainnav" aria-label="Main">
          <ul>
            {items.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end ?? false}>
                  {item.label}
                  {item.unread && <UnreadBadge count={unread.total} />}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <OfflineBanner />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <IdleGuard />
    </div>
  );
}
