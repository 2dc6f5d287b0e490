import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import type { AttachmentWire, MessageWire, PractitionerWire, RoomWire } from '../../shared/wire.js';
import { MESSAGE_MAX } from '../../shared/vocabulary.js';
import { Composer } from '../components/composer.js';
import { closedComposerText, RoomClosedBanner } from '../components/room-closed-banner.js';
import { MessageItem, OutgoingItem, type Receipt } from '../components/message-item.js';
import { Avatar, ErrorState, Loading } from '../components/ui.js';
import { api, ApiError, errorMessage } from '../lib/api.js';
import { formatBirthDate, formatDay, isSameDay } from '../lib/format.js';
import { useDocumentTitle, useResource } from '../lib/hooks.js';
import { availabilityNotice } from '../lib/availability.js';
import { useStore } from '../lib/store.js';
import { useRoomTimeline } from '../live/use-room-timeline.js';
import { useAttachmentDrafts } from '../lib/attachment-drafts.js';
import { useFileDrop } from '../lib/use-file-drop.js';
import { useSignedIn } from '../session.js';

const BOTTOM_SLACK_PX = 48;

const PRESENCE_LABEL = { online: 'Online', away: 'Away', offline: 'Offline' } as const;

export function ChatRoom({ roomId }: { roomId: string }) {
  const { user, live, outbox } = useSignedIn();
  const [newCount, setNewCount] = useState(0);
  const [atBottom, setAtBottom] = useState(true);
  const [visible, setVisible] = useState(document.visibilityState === 'visible');
  const [archiveError, setArchiveError] = useState<string | null>(null);

  const listRef = useRef<HTMLDivElement>(null);
  const atBottomRef = useRef(true);
  const prependRef = useRef<{ height: number; top: number } | null>(null);
  const readSentRef = useRef(0);

  const timeline = useRoomTimeline(roomId, (m) => {
    if (m.senderId === user.id) atBottomRef.current = true;
    else if (!atBottomRef.current) setNewCount((c) => c + 1);
  });
  const { room, messages, hasMore, loading, loadError, setRoom } = timeline;
  const olderState = timeline.older;

  const outgoingAll = useStore(outbox.items);
  // A patient is told before writing when the practitioner is away or outside working hours.
  const practitioners = useResource(
    (signal) =>
      user.role === 'patient'
        ? api<PractitionerWire[]>('/api/practitioners', { signal })
        : Promise.resolve([]),
    [user.role],
  );
  const presence = useStore(live.presence);
  const other = room ? (user.role === 'patient' ? room.practitioner : room.patient) : null;
  useDocumentTitle(other ? `Conversation with ${other.name}` : 'Conversation');

  useEffect(() => {
    const onVis = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', onVis);
    return () => document.removeEventListener('visibilitychange', onVis);
  }, []);

  const outgoing = useMemo(() => {
    const known = new Set(messages.map((m) => m.clientId));
    return outgoingAll.filter((o) => o.roomId === roomId && !known.has(o.clientId));
  }, [outgoingAll, messages, roomId]);

  // Keep the reader where they are: follow new messages only when already at the bottom,
  // and keep the view still when older history is put above it.
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const anchor = prependRef.current;
    if (anchor) {
      el.scrollTop = anchor.top + (el.scrollHeight - anchor.height);
      prependRef.current = null;
    } else if (atBottomRef.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages, outgoing.length, loading]);

  // Messages on screen are read: tell the server, which tells the sender.
  const maxSeq = messages.at(-1)?.seq ?? 0;
  useEffect(() => {
    if (!room || !visible || !atBottom) return;
    // What the room says was read before this screen opened needs no second mark.
    if (maxSeq > Math.max(readSentRef.current, room.readSeq)) {
      readSentRef.current = maxSeq;
      live.read(roomId, maxSeq);
    }
  }, [room, visible, atBottom, maxSeq, live, roomId]);

  const loadOlderPage = timeline.loadOlder;
  const loadOlder = useCallback(async () => {
    const el = listRef.current;
    if (!el) return;
    // Keep the view still when older history is put above it.
    await loadOlderPage(() => {
      prependRef.current = { height: el.scrollHeight, top: el.scrollTop };
    });
  }, [loadOlderPage]);

  const onScroll = () => {
    const el = listRef.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK_PX;
    atBottomRef.current = bottom;
    setAtBottom(bottom);
    if (bottom) setNewCount(0);
    if (el.scrollTop < 120 && hasMore && olderState === 'idle') void loadOlder();
  };

  const scrollToBottom = () => {
    const el = listRef.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottomRef.current = true;
    setAtBottom(true);
    setNewCount(0);
  };

  const drafts = useAttachmentDrafts(roomId);
  const drop = useFileDrop(drafts.add, room !== null && closedComposerText(room) === null);
  const send = (body: string, attachments: AttachmentWire[]) => {
    atBottomRef.current = true;
    outbox.send(roomId, body, attachments);
  };

  const setArchived = async (archived: boolean) => {
    setArchiveError(null);
    try {
      setRoom(
        await api<RoomWire>(
          `/api/rooms/${encodeURIComponent(roomId)}/${archived ? 'archive' : 'unarchive'}`,
          { method: 'POST' },
        ),
      );
    } catch (err) {
      setArchiveError(errorMessage(err));
    }
  };

  if (loading && !room) return <Loading label="Opening conversation…" />;
  if (loadError || !room || !other)
    return (
      <section className="page">
        <ErrorState
          title="We could not open this conversation"
          error={
            loadError instanceof ApiError && loadError.status === 404
              ? new Error('It does not exist, or you are not part of it.')
              : loadError
          }
          onRetry={timeline.retry}
        />
        <Link to="/chat">Back to all conversations</Link>
      </section>
    );

  const receiptFor = (m: MessageWire): Receipt =>
    m.seq <= room.otherReadSeq ? 'read' : m.seq <= room.otherDeliveredSeq ? 'delivered' : 'sent';
  const otherPresence = presence[other.id];
  const detail =
    other.role === 'practitioner'
      ? other.specialty
      : other.dateOfBirth
        ? `Born ${formatBirthDate(other.dateOfBirth)}`
        : null;
  const typing = timeline.otherTyping;

  return (
    <section
      className={`room${drop.dragging ? ' room-dropping' : ''}`}
      aria-label={`Conversation with ${other.name}`}
      {...drop.handlers}
    >
      <header className="room-header">
        <Link to="/chat" className="back-link" aria-label="Back to all conversations">
          <span aria-hidden="true">←</span>
        </Link>
        <Avatar person={other} />
        <div className="room-who">
          <h1>{other.name}</h1>
          <p className="item-meta">
            {detail}
            {otherPresence && (
              <span className={`presence presence-${otherPresence}`}>
                {detail ? ' · ' : ''}
                {PRESENCE_LABEL[otherPresence]}
              </span>
            )}
          </p>
        </div>
        {room.permissions.archive && (
          <button
            type="button"
            className="button button-quiet"
            onClick={() => void setArchived(!room.archived)}
          >
            {room.archived ? 'Unarchive' : 'Archive'}
          </button>
        )}
      </header>
      {archiveError && (
        <p className="form-error" role="alert">
          {archiveError}
        </p>
      )}
      <div className="room-body">
        <div
          className="messages"
          ref={listRef}
          onScroll={onScroll}
          role="log"
          aria-label="Messages"
          aria-live="polite"
          tabIndex={0}
        >
          {hasMore && (
            <div className="older">
              {olderState === 'loading' ? (
                <Loading label="Loading earlier messages…" />
              ) : (
                <button type="button" className="link-button" onClick={() => void loadOlder()}>
                  {olderState === 'error'
                    ? 'Could not load earlier messages. Try again'
                    : 'Load earlier messages'}
                </button>
              )}
            </div>
          )}
          {messages.length === 0 && outgoing.length === 0 && (
            <p className="room-empty">
              No messages yet. Say hello to {other.name}; your messages are private to the two of
              you.
            </p>
          )}
          <ol className="msg-list">
            {messages.map((m, i) => {
              const prev = messages[i - 1];
              const newDay = !prev || !isSameDay(new Date(prev.createdAt), new Date(m.createdAt));
              const mine = m.senderId === user.id;
              return (
                <MessageRow key={m.seq} newDay={newDay} createdAt={m.createdAt}>
                  <MessageItem
                    message={m}
                    mine={mine}
                    senderName={other.name}
                    receipt={mine ? receiptFor(m) : null}
                  />
                </MessageRow>
              );
            })}
            {outgoing.map((o) => (
              <OutgoingItem
                key={o.clientId}
                item={o}
                onRetry={() => outbox.retry(o.clientId)}
                onDiscard={() => outbox.discard(o.clientId)}
              />
            ))}
          </ol>
        </div>
        {newCount > 0 && !atBottom && (
          <button type="button" className="new-marker" onClick={scrollToBottom}>
            <span aria-hidden="true">↓ </span>
            {newCount === 1 ? 'New message' : `${newCount} new messages`}
          </button>
        )}
      </div>
      {(() => {
        const p = practitioners.data?.find((x) => x.id === room.practitioner.id);
        const notice = p ? availabilityNotice(p) : null;
        return notice ? <p className="away-notice">{notice}</p> : null;
      })()}
      <p className="typing" aria-live="polite">
        {typing ? `${other.name} is typing…` : ''}
      </p>
      <RoomClosedBanner room={room} onReopened={setRoom} />
      {drop.dragging && (
        <p className="drop-hint" aria-hidden="true">
          Drop photos or PDFs to attach them
        </p>
      )}
      <Composer
        attachments={drafts}
        disabledReason={closedComposerText(room)}
        recipientName={other.name}
        maxLength={MESSAGE_MAX}
        onSend={send}
        onTyping={(t) => live.typing(roomId, t)}
        emergencyNote={user.role === 'patient'}
      />
    </section>
  );
}

function MessageRow({
  newDay,
  createdAt,
  children,
}: {
  newDay: boolean;
  createdAt: string;
  children: React.ReactNode;
}) {
  return (
    <>
      {newDay && (
        <li className="day-sep" aria-hidden="false">
          <span>{formatDay(createdAt)}</span>
        </li>
      )}
      {children}
    </>
  );
}
