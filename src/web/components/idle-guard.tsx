import { useCallback, useEffect, useRef, useState } from 'react';
import { useSession } from '../session.js';
import { Dialog } from './ui.js';

/** The server ends a session after 15 minutes without a request; we sign out just before. */
export const IDLE_LIMIT_MS = 15 * 60_000;
const WARNING_MS = 60_000;
/** While someone is active without making requests (reading, typing), keep the session alive. */
const KEEPALIVE_MS = 4 * 60_000;

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'scroll'] as const;

export function IdleGuard() {
  const { logout, ping } = useSession();
  const [secondsLeft, setSecondsLeft] = useState<number | null>(null);
  const lastActivity = useRef(Date.now());
  const lastPing = useRef(Date.now());
  const warning = secondsLeft !== null;
  const warningRef = useRef(false);
  warningRef.current = warning;

  useEffect(() => {
    const onActivity = () => {
      // Once the warning shows, only its button counts: a stray scroll must not hide it.
      if (warningRef.current) return;
      lastActivity.current = Date.now();
      if (Date.now() - lastPing.current > KEEPALIVE_MS) {
        lastPing.current = Date.now();
        void ping();
      }
    };
    for (const e of ACTIVITY)
      window.addEventListener(e, onActivity, { passive: true, capture: true });
    const timer = setInterval(() => {
      const idle = Date.now() - lastActivity.current;
      if (idle >= IDLE_LIMIT_MS) {
        void logout('For your privacy you were signed out after 15 minutes without activity.');
      } else if (idle >= IDLE_LIMIT_MS - WARNING_MS) {
        setSecondsLeft(Math.ceil((IDLE_LIMIT_MS - idle) / 1000));
      } else if (warningRef.current) {
        setSecondsLeft(null);
      }
    }, 1000);
    return () => {
      for (const e of ACTIVITY) window.removeEventListener(e, onActivity, { capture: true });
      clearInterval(timer);
    };
  }, [logout, ping]);

  const stay = useCallback(() => {
    lastActivity.current = Date.now();
    lastPing.current = Date.now();
    setSecondsLeft(null);
    void ping();
  }, [ping]);

  return (
    <Dialog open={warning} title="Are you still there?" onClose={stay} role="alertdialog">
      <p>
        For your privacy, you will be signed out in <strong>{secondsLeft ?? 0} seconds</strong>{' '}
        because there has been no activity.
      </p>
      <div className="dialog-actions">
        <button type="button" className="button button-primary" onClick={stay}>
          Stay signed in
        </button>
        <button type="button" className="button" onClick={() => void logout()}>
          Sign out now
        </button>
      </div>
    </Dialog>
  );
}
