import { useCallback, useEffect, useRef, useState } from 'react';
import { useSession } from '../session.js';
import { Dialog } from './ui.js';

/** The warning comes a minute before, or halfway for limits so short that would be at once. */
const WARNING_MS = 60_000;

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m === 1 ? '1 minute' : `${m} minutes`;
}

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'scroll'] as const;

/**
 * Signs out after the server's idle timeout without activity, with a warning a minute
 * before. While someone is active without making requests (reading, typing), it keeps
 * the session alive.
 */
export function IdleGuard() {
  const { logout, ping, idleTimeoutMs } = useSession();
  const limitMs = idleTimeoutMs;
  // With a one-minute limit a full minute's warning would reopen the moment it is answered.
  const warningMs = Math.min(WARNING_MS, limitMs / 2);
  const keepaliveMs = Math.max(30_000, Math.min(4 * 60_000, limitMs / 3));
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
      if (Date.now() - lastPing.current > keepaliveMs) {
        lastPing.current = Date.now();
        void ping();
      }
    };
    for (const e of ACTIVITY)
      window.addEventListener(e, onActivity, { passive: true, capture: true });
    const timer = setInterval(() => {
      const idle = Date.now() - lastActivity.current;
      if (idle >= limitMs) {
        void logout(
          `For your privacy you were signed out after ${minutes(limitMs)} without activity.`,
        );
      } else if (idle >= limitMs - warningMs) {
        setSecondsLeft(Math.ceil((limitMs - idle) / 1000));
      } else if (warningRef.current) {
        setSecondsLeft(null);
      }
    }, 1000);
    return () => {
      for (const e of ACTIVITY) window.removeEventListener(e, onActivity, { capture: true });
      clearInterval(timer);
    };
  }, [logout, ping, limitMs, warningMs, keepaliveMs]);

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
