import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { fieldProblem } from '../../shared/text.js';
import type { AppointmentWire, PractitionerWire } from '../../shared/wire.js';
import { ErrorState, Loading, PageHeader } from '../components/ui.js';
import { api, errorMessage } from '../lib/api.js';
import { useDocumentTitle, useResource } from '../lib/hooks.js';

function tomorrowAt9(): { date: string; time: string } {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  return { date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: '09:00' };
}

export function RequestAppointment() {
  useDocumentTitle('Request an appointment');
  const navigate = useNavigate();
  const practitioners = useResource(
    (signal) => api<PractitionerWire[]>('/api/practitioners', { signal }),
    [],
  );
  const initial = tomorrowAt9();
  const [practitionerId, setPractitionerId] = useState('');
  const [date, setDate] = useState(initial.date);
  const [time, setTime] = useState(initial.time);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<AppointmentWire | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!practitionerId) return setError('Please choose who you would like to see.');
    const startsAt = new Date(`${date}T${time}`);
    if (Number.isNaN(startsAt.getTime())) return setError('Please choose a date and a time.');
    if (startsAt.getTime() <= Date.now()) return setError('Please choose a time in the future.');
    const reasonProblem = fieldProblem('reason', reason);
    if (reasonProblem) return setError(`${reasonProblem}.`);
    setBusy(true);
    try {
      const created = await api<AppointmentWire>('/api/appointments', {
        method: 'POST',
        body: { practitionerId, startsAt: startsAt.toISOString(), reason: reason.trim() },
      });
      setDone(created);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <section className="page narrow">
        <PageHeader title="Request sent" />
        <p role="status">
          Thank you. {done.practitioner.name} will accept or decline your request; you will see the
          answer on your dashboard.
        </p>
        <div className="item-actions">
          <Link className="button button-primary" to="/patient-dashboard">
            Back to dashboard
          </Link>
          <button type="button" className="button" onClick={() => void navigate('/appointments')}>
            See my appointments
          </button>
        </div>
      </section>
    );

  return (
    <section className="page narrow">
      <PageHeader
        title="Request an appointment"
        subtitle="Your practitioner will accept or decline it. Once accepted, you can message them."
      />
      {practitioners.loading && !practitioners.data && <Loading label="Loading practitioners…" />}
      {practitioners.error && !practitioners.data ? (
        <ErrorState error={practitioners.error} onRetry={practitioners.reload} />
      ) : null}
      {practitioners.data && (
        <form className="form" onSubmit={(e) => void submit(e)} noValidate>
          <div className="field">
            <label htmlFor="req-practitioner">Practitioner</label>
            <select
              id="req-practitioner"
              value={practitionerId}
              onChange={(e) => setPractitionerId(e.target.value)}
              required
            >
              <option value="">Choose a practitioner…</option>
              {practitioners.data.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                  {p.specialty ? ` — ${p.specialty}` : ''}
                </option>
              ))}
            </select>
          </div>
          <div className="field-row">
            <div className="field">
              <label htmlFor="req-date">Date</label>
              <input
                id="req-date"
                type="date"
                value={date}
                onChange={(e) => setDate(e.target.value)}
                required
              />
            </div>
            <div className="field">
              <label htmlFor="req-time">Time</label>
              <input
                id="req-time"
                type="time"
                value={time}
                step={300}
                onChange={(e) => setTime(e.target.value)}
                required
              />
            </div>
          </div>
          <div className="field">
            <label htmlFor="req-reason">Reason for the visit</label>
            <textarea
              id="req-reason"
              rows={4}
              maxLength={2000}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              aria-describedby="req-reason-hint"
            />
            <p className="hint" id="req-reason-hint">
              A few words help your practitioner prepare. Only they and you can see it.
            </p>
          </div>
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="item-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? 'Sending request…' : 'Send request'}
            </button>
            <Link className="button" to="/patient-dashboard">
              Cancel
            </Link>
          </div>
        </form>
      )}
    </section>
  );
}
