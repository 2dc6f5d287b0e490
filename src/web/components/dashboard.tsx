import { Link } from 'react-router-dom';
import { api } from '../lib/api.js';
import { useDocumentTitle, useLiveRefresh, useResource } from '../lib/hooks.js';
import { useStore } from '../lib/store.js';
import type { DashboardWire } from '../lib/types.js';
import { useSignedIn } from '../session.js';

/** A dashboard's data, reloaded live when messages, unread counts, appointments or rooms change. */
export function useDashboard() {
  const { user, live } = useSignedIn();
  useDocumentTitle('Dashboard');
  const unread = useStore(live.unread);
  const dash = useResource((signal) => api<DashboardWire>('/api/dashboard', { signal }), []);
  useLiveRefresh(['message', 'unread', 'appointment', 'room'], dash.reload);
  return { user, unread, dash };
}

/** The live unread count, leading to the conversations. */
export function UnreadCard({ total }: { total: number }) {
  return (
    <Link className="card card-link" to="/chat">
      <span className="card-number" data-testid="unread-total">
        {total}
      </span>
      <span className="card-label">{total === 1 ? 'unread message' : 'unread messages'}</span>
    </Link>
  );
}
