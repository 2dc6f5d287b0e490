import { useCallback, useEffect, useRef, useState } from 'react';
import { TYPING_EXPIRES_MS } from '../../shared/events.js';
import type { MessageWire, RoomWire } from '../../shared/wire.js';
import { api } from '../lib/api.js';
import { useSignedIn } from '../session.js';

interface Page {
  messages: MessageWire[];
  hasMore: boolean;
}

/** Messages in the first (newest) page and in each page of earlier ones. */
const PAGE = 50;
/** The most a room may be behind the live cursor and still be filled in with one page. */
const GAP_PAGE = 200;

function mergeMessages(current: MessageWire[], incoming: MessageWire[]): MessageWire[] {
  const bySeq = new Map(current.map((m) => [m.seq, m]));
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const roomUrl = (roomId: string, rest = '') => `/api/rooms/${encodeURIComponent(roomId)}${rest}`;

export interface RoomTimeline {
  room: RoomWire | null;
  /** The messages held, ascending by seq, without doubles. */
  messages: MessageWire[];
  /** Earlier messages exist than the first one held. */
  hasMore: boolean;
  loading: boolean;
  loadError: unknown;
  older: 'idle' | 'loading' | 'error';
  /** The other participant is typing now. */
  otherTyping: boolean;
  /** Fetches the page before the first message held; `beforeInsert` runs just before it is shown. */
  loadOlder: (beforeInsert?: () => void) => Promise<void>;
  /** Loads the room again after a failure. */
  retry: () => void;
  setRoom: (room: RoomWire) => void;
}

/**
 * Everything a conversation screen shows, kept current. History comes over HTTP once, when
 * the room opens (and page by page as the reader scrolls up); after that the live
 * connection is trusted: its resume replays exactly what was missed, so a reconnect costs
 * no HTTP read. Only a room the server could not replay (listed in `truncated`, or whose
 * live cursor starts past what this screen holds) is filled in over HTTP.
 */
export function useRoomTimeline(
  roomId: string,
  /** Called for each message new to the screen as it arrives live (before it is shown). */
  onIncoming?: (message: MessageWire) => void,
): RoomTimeline {
  const { user, live } = useSignedIn();
  const [room, setRoom] = useState<RoomWire | null>(null);
  const [messages, setMessagesState] = useState<MessageWire[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [older, setOlder] = useState<'idle' | 'loading' | 'error'>('idle');
  const [typingUntil, setTypingUntil] = useState(0);
  const [attempt, setAttempt] = useState(0);

  // What the screen holds, current between renders too: a replay's messages and its
  // `resumed` arrive in one burst, before React renders any of them.
  const messagesRef = useRef<MessageWire[]>([]);
  const setMessages = useCallback((next: (current: MessageWire[]) => MessageWire[]) => {
    messagesRef.current = next(messagesRef.current);
    setMessagesState(messagesRef.current);
  }, []);
  const loadedRef = useRef(false);
  const onIncomingRef = useRef(onIncoming);
  onIncomingRef.current = onIncoming;

  // A different room starts from nothing.
  useEffect(() => {
    setRoom(null);
    setMessages(() => []);
    setHasMore(false);
    setOlder('idle');
    setTypingUntil(0);
  }, [roomId, setMessages]);

  // First load: the room and its newest page. Live messages that arrive meanwhile are kept.
  useEffect(() => {
    const controller = new AbortController();
    loadedRef.current = false;
    setLoading(true);
    setLoadError(null);
    Promise.all([
      api<RoomWire>(roomUrl(roomId), { signal: controller.signal }),
      api<Page>(roomUrl(roomId, `/messages?limit=${PAGE}`), { signal: controller.signal }),
    ]).then(
      ([r, page]) => {
        if (controller.signal.aborted) return;
        setRoom(r);
        setMessages((c) => mergeMessages(c, page.messages));
        setHasMore(page.hasMore);
        // A reconnect resumes from what this screen holds, never from further on.
        live.noteSeq(r.id, page.messages.at(-1)?.seq ?? 0);
        loadedRef.current = true;
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setLoadError(err);
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [roomId, live, attempt, setMessages]);

  /** The newest page in place of a stale history, keeping what arrived live after it. */
  const reloadNewest = useCallback(async () => {
    try {
      const page = await api<Page>(roomUrl(roomId, `/messages?limit=${PAGE}`));
      const last = page.messages.at(-1)?.seq ?? 0;
      setMessages((c) =>
        mergeMessages(
          page.messages,
          c.filter((m) => m.seq > last),
        ),
      );
      setHasMore(page.hasMore);
    } catch {
      // The room stays as it was; the next reconnect's resume says again what is missing.
    }
  }, [roomId, setMessages]);

  /** What the live cursor skipped: the messages after `from` up to `to`. */
  const fillGap = useCallback(
    async (from: number, to: number) => {
      if (to - from > GAP_PAGE) return reloadNewest();
      try {
        const page = await api<Page>(roomUrl(roomId, `/messages?after=${from}&limit=${to - from}`));
        setMessages((c) => mergeMessages(c, page.messages));
      } catch {
        // As above.
      }
    },
    [roomId, reloadNewest, setMessages],
  );

  // Live: new messages, edits, receipts, typing, room changes, and the end of each resume.
  useEffect(() => {
    const incoming = (m: MessageWire) => {
      if (m.roomId !== roomId) return;
      if (messagesRef.current.some((x) => x.seq === m.seq)) return;
      if (m.senderId !== user.id) setTypingUntil(0);
      onIncomingRef.current?.(m);
      setMessages((c) => mergeMessages(c, [m]));
    };
    const offs = [
      live.on('message', (e) => incoming(e.message)),
      live.on('ack', (e) => incoming(e.message)),
      live.on('message.updated', (e) => {
        if (e.message.roomId === roomId) setMessages((c) => mergeMessages(c, [e.message]));
      }),
      live.on('receipt', (e) => {
        if (e.roomId !== roomId || e.userId === user.id) return;
        setRoom((r) =>
          r
            ? e.kind === 'read'
              ? {
                  ...r,
                  otherReadSeq: Math.max(r.otherReadSeq, e.seq),
                  otherDeliveredSeq: Math.max(r.otherDeliveredSeq, e.seq),
                }
              : { ...r, otherDeliveredSeq: Math.max(r.otherDeliveredSeq, e.seq) }
            : r,
        );
      }),
      live.on('typing', (e) => {
        if (e.roomId !== roomId || e.userId === user.id) return;
        setTypingUntil(e.typing ? Date.now() + TYPING_EXPIRES_MS : 0);
      }),
      live.on('room', (e) => {
        if (e.room.id === roomId) setRoom(e.room);
      }),
      live.on('resumed', (e) => {
        // Before the first load the HTTP page covers everything; this screen holds nothing yet.
        const cursor = e.rooms[roomId];
        if (!loadedRef.current || cursor === undefined) return;
        const held = messagesRef.current.at(-1)?.seq ?? 0;
        if (e.truncated?.includes(roomId)) void reloadNewest();
        // A resume without our cursor (an event stream opened afresh) starts where the room stood.
        else if (cursor > held) void fillGap(held, cursor);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [live, roomId, user.id, reloadNewest, fillGap, setMessages]);

  // The typing indicator fades on its own if the "stopped typing" frame never comes.
  useEffect(() => {
    if (typingUntil <= Date.now()) return;
    const t = setTimeout(() => setTypingUntil(0), typingUntil - Date.now());
    return () => clearTimeout(t);
  }, [typingUntil]);

  const loadOlder = useCallback(
    async (beforeInsert?: () => void) => {
      const first = messagesRef.current[0]?.seq;
      if (first === undefined || older === 'loading') return;
      setOlder('loading');
      try {
        const page = await api<Page>(roomUrl(roomId, `/messages?before=${first}&limit=${PAGE}`));
        beforeInsert?.();
        setMessages((c) => mergeMessages(c, page.messages));
        setHasMore(page.hasMore);
        setOlder('idle');
      } catch {
        setOlder('error');
      }
    },
    [roomId, older, setMessages],
  );

  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  const replaceRoom = useCallback((r: RoomWire) => setRoom(r), []);

  return {
    room,
    messages,
    hasMore,
    loading,
    loadError,
    older,
    otherTyping: typingUntil > Date.now(),
    loadOlder,
    retry,
    setRoom: replaceRoom,
  };
}
