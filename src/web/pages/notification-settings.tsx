import { useEffect, useState, type FormEvent } from 'react';
import {
  QUIET_MINUTES_MAX,
  QUIET_MINUTES_MIN,
  type NotificationPreferencesWire,
} from '../../shared/notifications.js';
import { PushDeviceControl } from '../components/push-device.js';
import { ErrorState, Loading, PageHeader } from '../components/ui.js';
import { api, errorMessage } from '../lib/api.js';
import { useDocumentTitle, useResource } from '../lib/hooks.js';

/** Notifications: e-mail when offline (and after how long), push on or off, this device. */
export function NotificationSettings() {
  useDocumentTitle('Notifications');
  const prefs = useResource(
    (signal) => api<NotificationPreferencesWire>('/api/me/notifications', { signal }),
    [],
  );
  const [email, setEmail] = useState<NotificationPreferencesWire['email']>('offline');
  const [quiet, setQuiet] = useState('10');
  const [push, setPush] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!prefs.data) return;
    setEmail(prefs.data.email);
    setQuiet(String(prefs.data.quietMinutes));
    setPush(prefs.data.push);
  }, [prefs.data]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const quietMinutes = Number(quiet);
    if (
      !Number.isInteger(quietMinutes) ||
      quietMinutes < QUIET_MINUTES_MIN ||
      quietMinutes > QUIET_MINUTES_MAX
    )
      return setError(
        `The quiet period is a whole number of minutes from ${QUIET_MINUTES_MIN} to ${QUIET_MINUTES_MAX}.`,
      );
    setBusy(true);
    try {
      const next = await api<NotificationPreferencesWire>('/api/me/notifications', {
        method: 'PUT',
        body: { email, quietMinutes, push },
      });
      prefs.setData(() => next);
      setSaved(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page narrow">
      <PageHeader
        title="Notifications"
        subtitle="How carechat tells you about new secure messages. E-mails never contain the message itself."
      />
      {prefs.loading && !prefs.data && <Loading label="Loading your settings…" />}
      {prefs.error && !prefs.data ? (
        <ErrorState error={prefs.error} onRetry={prefs.reload} />
      ) : null}
      {prefs.data && (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <fieldset className="field">
            <legend>E-mail</legend>
            <label>
              <input
                type="radio"
                name="email"
                value="offline"
                checked={email === 'offline'}
                onChange={() => setEmail('offline')}
              />{' '}
              When I am offline and a message stays unread
            </label>
            <label>
              <input
                type="radio"
                name="email"
                value="off"
                checked={email === 'off'}
                onChange={() => setEmail('off')}
              />{' '}
              Off
            </label>
          </fieldset>
          <div className="field">
            <label htmlFor="notify-quiet">Quiet period (minutes)</label>
            <input
              id="notify-quiet"
              type="number"
              inputMode="numeric"
              min={QUIET_MINUTES_MIN}
              max={QUIET_MINUTES_MAX}
              value={quiet}
              onChange={(e) => setQuiet(e.target.value)}
              aria-describedby="notify-quiet-hint"
            />
            <p className="hint" id="notify-quiet-hint">
              How long a message waits unread before we e-mail you, and the least time between two
              e-mails about one conversation.
            </p>
          </div>
          <div className="field">
            <label>
              <input type="checkbox" checked={push} onChange={(e) => setPush(e.target.checked)} />{' '}
              Push notifications on the devices where I turned them on
            </label>
          </div>
          <section aria-label="This device" className="field">
            <h2>This device</h2>
            <PushDeviceControl />
          </section>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="item-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
            <span role="status" aria-live="polite">
              {saved ? 'Saved. Your notification settings are up to date.' : ''}
            </span>
          </div>
        </form>
      )}
    </section>
  );
}
