import { useEffect, useState } from 'react';
import { ApiError } from '../lib/api.js';
import { currentPushSubscription, disablePush, enablePush, pushSupported } from '../lib/push.js';

type State = 'checking' | 'unsupported' | 'denied' | 'off' | 'on' | 'working';

/**
 * "This device": Web Push for this browser, on or off. The notification says only that a
 * secure message is waiting, with the practice's name; the user opens carechat to read it.
 */
export function PushDeviceControl() {
  const [state, setState] = useState<State>('checking');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    if (!pushSupported()) {
      setState('unsupported');
      return;
    }
    if (Notification.permission === 'denied') {
      setState('denied');
      return;
    }
    currentPushSubscription().then(
      (sub) => !cancelled && setState(sub ? 'on' : 'off'),
      () => !cancelled && setState('off'),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const act = async (what: () => Promise<State>) => {
    setError(null);
    setState('working');
    try {
      setState(await what());
    } catch (err) {
      setError(
        err instanceof ApiError
          ? err.message
          : 'This browser could not turn notifications on. Please try again later.',
      );
      setState((await currentPushSubscription().catch(() => null)) ? 'on' : 'off');
    }
  };

  return (
    <div className="push-device">
      {state === 'unsupported' && (
        <p>This browser cannot show notifications when carechat is closed.</p>
      )}
      {state === 'denied' && (
        <p>
          Notifications are blocked for carechat in this browser. Allow them in the browser&apos;s
          site settings to turn them on here.
        </p>
      )}
      {(state === 'off' || state === 'on' || state === 'working') && (
        <p>
          {state === 'on'
            ? 'This device shows a notification when a secure message arrives while carechat is closed.'
            : 'Get a notification on this device when a secure message arrives while carechat is closed. It never shows the message itself.'}
        </p>
      )}
      {state === 'off' && (
        <button
          type="button"
          className="button"
          onClick={() =>
            void act(async () => {
              const outcome = await enablePush();
              return outcome === 'enabled' ? 'on' : outcome;
            })
          }
        >
          Enable notifications on this device
        </button>
      )}
      {state === 'on' && (
        <button
          type="button"
          className="button button-quiet"
          onClick={() =>
            void act(async () => {
              await disablePush();
              return 'off';
            })
          }
        >
          Turn off on this device
        </button>
      )}
      {state === 'working' && <p role="status">One moment…</p>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
