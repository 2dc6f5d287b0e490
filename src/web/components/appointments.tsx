import { useState } from 'react';
import { Link } from 'react-router-dom';
import type { AppointmentWire } from '../../shared/wire.js';
import { api, errorMessage } from '../lib/api.js';
import { formatBirthDate, formatDateTime, formatRelative } from '../lib/format.js';
import { preview, roomPath, type DashboardWire } from '../lib/types.js';
import { useStore } from '../lib/store.js';
import { useSignedIn } from '../session.js';
import { Avatar, Dialog, Empty, StatusPill, UnreadBadge } from './ui.js';

type Action = 'accept' | 'decline' | 'cancel';

export function appointmentAction(
  id: string,
  action: Action,
  note?: string,
): Promise<AppointmentWire> {
  return api<AppointmentWire>(`/api/appointments/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    body: note ? { note } : {},
  });
}

/** One appointment, seen from the viewer's side: the other person, when, why, what to do. */
export function AppointmentItem({
  appointment: a,
  onChanged,
  actions = true,
}: {
  appointment: AppointmentWire;
  onChanged: () => void;
  actions?: boolean;
}) {
  const { user } = useSignedIn();
  const other = user.role === 'patient' ? a.practitioner : a.patient;
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<'decline' | 'cancel' | null>(null);
  const [note, setNote] = useState('');
  const upcoming = new Date(a.startsAt).getTime() > Date.now();

  const run = async (action: Action, withNote?: string) => {
    setBusy(action);
    setError(null);
    try {
      await appointmentAction(a.id, action, withNote);
      setDialog(null);
      setNote('');
      onChanged();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const detail =
    other.role === 'practitioner'
      ? other.specialty
      : other.dateOfBirth
        ? `Born ${formatBirthDate(other.dateOfBirth)}`
        : null;

  return (
    <li className="item appointment">
      <Avatar person={other} />
      <div className="item-body">
        <p className="item-title">
          {other.name} <StatusPill status={a.status} />
        </p>
        {detail && <p className="item-meta">{detail}</p>}
        <p className="item-meta">
          <time dateTime={a.startsAt}>{formatDateTime(a.startsAt)}</time>
        </p>
        {a.reason && <p className="item-text">{a.reason}</p>}
        {a.note && <p className="item-meta">Note: {a.note}</p>}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {actions && (
          <div className="item-actions">
            {a.permissions.decide && (
              <>
                <button
                  type="button"
                  className="button button-primary"
                  disabled={busy !== null}
                  onClick={() => void run('accept')}
                  aria-label={`Accept appointment with ${other.name}`}
                >
                  {busy === 'accept' ? 'Accepting…' : 'Accept'}
                </button>
                <button
                  type="button"
                  className="button"
                  disabled={busy !== null}
                  onClick={() => setDialog('decline')}
                  aria-label={`Decline appointment with ${other.name}`}
                >
                  Decline
                </button>
              </>
            )}
            {a.status === 'accepted' && a.roomId && (
              <Link className="button" to={roomPath(a.roomId)}>
                Message {other.name}
              </Link>
            )}
            {a.permissions.cancel && upcoming && (
              <button
                type="button"
                className="button button-quiet"
                disabled={busy !== null}
                onClick={() => setDialog('cancel')}
                aria-label={`Cancel appointment with ${other.name}`}
              >
                Cancel appointment
              </button>
            )}
          </div>
        )}
      </div>
      <Dialog
        open={dialog !== null}
        title={dialog === 'decline' ? 'Decline this request?' : 'Cancel this appointment?'}
        onClose={() => setDialog(null)}
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (dialog) void run(dialog, note.trim() || undefined);
          }}
        >
          <p>
            {other.name}, {formatDateTime(a.startsAt)}. {other.name} will be told.
          </p>
          <div className="field">
            <label htmlFor={`note-${a.id}`}>Note (optional)</label>
            <textarea
              id={`note-${a.id}`}
              rows={3}
              maxLength={2000}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="submit" className="button button-danger" disabled={busy !== null}>
              {dialog === 'decline' ? 'Decline request' : 'Cancel appointment'}
            </button>
            <button type="button" className="button" onClick={() => setDialog(null)}>
              Keep it
            </button>
          </div>
        </form>
      </Dialog>
    </li>
  );
}

export function AppointmentList({
  appointments,
  onChanged,
  empty,
}: {
  appointments: AppointmentWire[];
  onChanged: () => void;
  empty: string;
}) {
  if (appointments.length === 0) return <Empty title={empty} />;
  return (
    <ul className="list">
      {appointments.map((a) => (
        <AppointmentItem key={a.id} appointment={a} onChanged={onChanged} />
      ))}
    </ul>
  );
}

/** Newest messages from the other side, one line each, with the room's unread count. */
export function RecentMessages({ items }: { items: DashboardWire['recentMessages'] }) {
  const { live } = useSignedIn();
  const unread = useStore(live.unread);
  if (items.length === 0) return <Empty title="No messages yet." />;
  return (
    <ul className="list" aria-label="Recent messages">
      {items.map(({ message, roomId, from }) => (
        <li key={message.id} className="item">
          <Avatar person={from} size="sm" />
          <div className="item-body">
            <p className="item-title">
              <Link to={roomPath(roomId)}>{from.name}</Link>{' '}
              <UnreadBadge count={unread.rooms[roomId] ?? 0} />
            </p>
            <p className="item-text">
              {message.deletedAt ? <em>Message deleted</em> : preview(message.body)}
            </p>
            <p className="item-meta">
              <time dateTime={message.createdAt}>{formatRelative(message.createdAt)}</time>
            </p>
          </div>
        </li>
      ))}
    </ul>
  );
}
