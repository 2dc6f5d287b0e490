import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from 'react';
import type { UserWire } from '../shared/wire.js';
import { api, ApiError, onSignedOut, setCsrfToken } from './lib/api.js';
import { LiveClient } from './live/client.js';
import { Outbox } from './live/outbox.js';
import { setUploadLimit } from './lib/upload.js';

interface SessionPayload {
  user: UserWire;
  csrfToken: string;
  idleTimeoutSeconds: number;
  attachmentMaxBytes?: number;
}

/** Used until the server has said otherwise (its default). */
const DEFAULT_IDLE_SECONDS = 15 * 60;

type Status = 'loading' | 'signedOut' | 'signedIn';

interface SessionApi {
  status: Status;
  user: UserWire | null;
  /** How long the server keeps a session without activity. */
  idleTimeoutMs: number;
  /** Why the person is looking at the sign-in page, if it was not their choice. */
  notice: string | null;
  login: (email: string, password: string) => Promise<UserWire>;
  logout: (notice?: string) => Promise<void>;
  /** Asks the server whether the session is alive; keeps it alive when it is. */
  ping: () => Promise<boolean>;
  live: LiveClient | null;
  outbox: Outbox | null;
}

const SessionContext = createContext<SessionApi | null>(null);

export const SESSION_ENDED_NOTICE = 'Your session has ended. Please sign in again.';

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>('loading');
  const [user, setUser] = useState<UserWire | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [idleTimeoutMs, setIdleTimeoutMs] = useState(DEFAULT_IDLE_SECONDS * 1000);

  const signedOut = useCallback((why: string | null) => {
    setCsrfToken(null);
    setUser(null);
    setNotice(why);
    setStatus('signedOut');
  }, []);

  useEffect(() => {
    let cancelled = false;
    api<SessionPayload>('/api/auth/session', { expectUnauthenticated: true }).then(
      (s) => {
        if (cancelled) return;
        setCsrfToken(s.csrfToken);
        setUploadLimit(s.attachmentMaxBytes);
        setIdleTimeoutMs(s.idleTimeoutSeconds * 1000);
        setUser(s.user);
        setStatus('signedIn');
      },
      () => {
        if (!cancelled) signedOut(null);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [signedOut]);

  useEffect(() => onSignedOut(() => signedOut(SESSION_ENDED_NOTICE)), [signedOut]);

  const userId = user?.id ?? null;
  const live = useMemo(
    () => (userId ? new LiveClient(userId, () => signedOut(SESSION_ENDED_NOTICE)) : null),
    [userId, signedOut],
  );
  const outbox = useMemo(() => (live ? new Outbox(live) : null), [live]);

  useEffect(() => {
    if (!live) return;
    live.start();
    return () => live.stop();
  }, [live]);
  useEffect(() => {
    if (!outbox) return;
    outbox.attach();
    return () => outbox.dispose();
  }, [outbox]);

  // A new message while the tab is in the background: a notification without health details.
  useEffect(() => {
    if (!live) return;
    return live.on('message', (e) => {
      if (e.message.senderId === live.userId) return;
      if (document.visibilityState !== 'hidden') return;
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      const n = new Notification('carechat', {
        body: 'You have a new secure message.',
        tag: `room-${e.message.roomId}`,
      });
      n.onclick = () => {
        window.focus();
        window.history.pushState(null, '', `/chat/room/${encodeURIComponent(e.message.roomId)}/`);
        window.dispatchEvent(new PopStateEvent('popstate'));
        n.close();
      };
    });
  }, [live]);

  const login = useCallback(async (email: string, password: string) => {
    const s = await api<SessionPayload>('/api/auth/login', {
      method: 'POST',
      body: { email, password },
      expectUnauthenticated: true,
    });
    setCsrfToken(s.csrfToken);
    setUploadLimit(s.attachmentMaxBytes);
    setIdleTimeoutMs(s.idleTimeoutSeconds * 1000);
    setUser(s.user);
    setNotice(null);
    setStatus('signedIn');
    return s.user;
  }, []);

  const logout = useCallback(
    async (why?: string) => {
      try {
        await api('/api/auth/logout', { method: 'POST', expectUnauthenticated: true });
      } catch {
        // Signed out locally either way; the server session expires on its own.
      }
      signedOut(why ?? null);
    },
    [signedOut],
  );

  const ping = useCallback(async () => {
    try {
      const s = await api<SessionPayload>('/api/auth/session', { expectUnauthenticated: true });
      setCsrfToken(s.csrfToken);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        signedOut(SESSION_ENDED_NOTICE);
        return false;
      }
      return true; // offline is not signed out
    }
  }, [signedOut]);

  const value = useMemo<SessionApi>(
    () => ({ status, user, idleTimeoutMs, notice, login, logout, ping, live, outbox }),
    [status, user, idleTimeoutMs, notice, login, logout, ping, live, outbox],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** For screens behind the sign-in: the user, the live connection and the outbox exist. */
export function useSignedIn(): { user: UserWire; live: LiveClient; outbox: Outbox } {
  const s = useSession();
  if (!s.user || !s.live || !s.outbox) throw new Error('useSignedIn while signed out');
  return { user: s.user, live: s.live, outbox: s.outbox };
}

export function homePath(user: Pick<UserWire, 'role'>): string {
  switch (user.role) {
    case 'patient':
      return '/patient-dashboard';
    case 'practitioner':
      return '/practitioner-dashboard';
    case 'admin':
      return '/admin';
  }
}
