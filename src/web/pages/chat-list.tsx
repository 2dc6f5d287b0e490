import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { PractitionerWire, RoomWire } from '../../shared/wire.js';
import { Avatar, Empty, ErrorState, Loading, PageHeader, UnreadBadge } from '../components/ui.js';
import { api, errorMessage } from '../lib/api.js';
import { formatBirthDate, formatRelative } from '../lib/format.js';
import { useDocumentTitle, useLiveRefresh, useResource } from '../lib/hooks.js';
import { useStore } from '../lib/store.js';
import { roomPath } from '../lib/types.js';
import { useSignedIn } from '../session.js';

function RoomRow({ room }: { room: RoomWire }) {
  const { user, live } = useSignedIn();
  const unread = useStore(live.unread);
  const presence = useStore(live.presence);
  const other = user.role === 'patient' ? room.practitioner : room.patient;
  const count = unread.rooms[room.id] ?? room.unreadCount;
  const detail =
    other.role === 'practitioner'
      ? other.specialty
      : other.dateOfBirth
        ? `Born ${formatBirthDate(other.dateOfBirth)}`
        : null;
  const last = room.lastMessage;
  const status = presence[other.id];
  return (
    <li className={`item room-row${count > 0 ? ' room-unread' : ''}`}>
      <span className="avatar-wrap">
        <Avatar person={other} />
        {status && status !== 'offline' && (
          <span className={`presence-dot presence-${status}`} aria-hidden="true" />
        )}
      </span>
      <div className="item-body">
        <p className="item-title">
          <Link to={roomPath(room.id)} className="stretched">
            {other.name}
          </Link>
          <UnreadBadge count={count} />
          {room.status === 'closed' && <span className="pill pill-closed">Closed</span>}
        </p>
        {detail && <p className="item-meta">{detail}</p>}
        <p className="item-text">
          {last ? (
            last.deleted ? (
              <em>Message deleted</em>
            ) : (
              <>
                {last.senderId === user.id && <span className="muted">You: </span>}
                {last.preview}
              </>
            )
          ) : (
            <span className="muted">No messages yet</span>
          )}
        </p>
      </div>
      <time className="item-time" dateTime={room.lastActivityAt}>
        {formatRelative(room.lastActivityAt)}
      </time>
    </li>
  );
}

/** Practitioners a patient may write to: those who accepted one of their appointments. */
function StartChat({ practitioners }: { practitioners: PractitionerWire[] }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const start = async (p: PractitionerWire) => {
    setBusy(p.id);
    setError(null);
    try {
      const room = await api<RoomWire>('/api/rooms', {
        method: 'POST',
        body: { practitionerId: p.id },
      });
      void navigate(roomPath(room.id));
    } catch (err) {
      setError(errorMessage(err));
      setBusy(null);
    }
  };
  return (
    <>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="list practitioner-cards">
        {practitioners.map((p) => (
          <li key={p.id} className="item">
            <Avatar person={p} />
            <div className="item-body">
              <p className="item-title">{p.name}</p>
              {p.specialty && <p className="item-meta">{p.specialty}</p>}
              {p.outOfOffice && <p className="item-meta">Away: {p.outOfOffice}</p>}
            </div>
            <button
              type="button"
              className="button button-primary"
              disabled={busy !== null}
              onClick={() => void start(p)}
              aria-label={`Message ${p.name}`}
            >
              {busy === p.id ? 'Opening…' : 'Message'}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}

export function ChatList() {
  const { user } = useSignedIn();
  useDocumentTitle('Messages');
  const [showArchived, setShowArchived] = useState(false);
  const rooms = useResource((signal) => api<RoomWire[]>('/api/rooms', { signal }), []);
  const practitioners = useResource(
    (signal) =>
      user.role === 'patient'
        ? api<PractitionerWire[]>('/api/practitioners', { signal })
        : Promise.resolve([]),
    [user.role],
  );
  useLiveRefresh(['message', 'room', 'unread'], rooms.reload);
  // A room closing or reopening changes whom a patient can write to.
  useLiveRefresh(['appointment', 'room'], practitioners.reload);

  const all = rooms.data ?? [];
  const active = all.filter((r) => !r.archived);
  const archived = all.filter((r) => r.archived);
  const shown = showArchived ? archived : active;
  const canChat = (practitioners.data ?? []).filter((p) => p.canChat);

  return (
    <section className="page">
      <PageHeader
        title="Messages"
        subtitle={
          user.role === 'patient'
            ? 'Secure conversations with your practitioners.'
            : 'Secure conversations with your patients.'
        }
      />
      {rooms.loading && !rooms.data && <Loading label="Loading conversations…" />}
      {rooms.error && !rooms.data ? (
        <ErrorState error={rooms.error} onRetry={rooms.reload} />
      ) : null}
      {rooms.data && (
        <>
          <div className="toolbar">
            <label className="check">
              <input
                type="checkbox"
                checked={showArchived}
                onChange={(e) => setShowArchived(e.target.checked)}
              />
              Show archived ({archived.length})
            </label>
          </div>
          {shown.length > 0 ? (
            <ul
              className="list"
              aria-label={showArchived ? 'Archived conversations' : 'Conversations'}
            >
              {shown.map((r) => (
                <RoomRow key={r.id} room={r} />
              ))}
            </ul>
          ) : showArchived ? (
            <Empty title="No archived conversations." />
          ) : (
            <Empty title="You have no conversations yet.">
              {user.role === 'patient' ? (
                canChat.length > 0 ? (
                  <p>Start one with a practitioner below.</p>
                ) : (
                  <p>
                    You can message a practitioner while an appointment they accepted is open.{' '}
                    <Link to="/appointments/new">Request an appointment</Link>
                  </p>
                )
              ) : (
                <p>Conversations open when you accept a patient&apos;s appointment.</p>
              )}
            </Empty>
          )}
        </>
      )}
      {user.role === 'patient' && (
        <section className="panel" aria-labelledby="start-h">
          <h2 id="start-h">Start a conversation</h2>
          {practitioners.loading && !practitioners.data && (
            <Loading label="Loading practitioners…" />
          )}
          {practitioners.error && !practitioners.data ? (
            <ErrorState error={practitioners.error} onRetry={practitioners.reload} />
          ) : null}
          {practitioners.data &&
            (canChat.length > 0 ? (
              <StartChat practitioners={canChat} />
            ) : (
              <p className="muted">
                No open conversations: you can write to a practitioner after they accept an
                appointment with you, until some time after it.
              </p>
            ))}
        </section>
      )}
    </section>
  );
}
