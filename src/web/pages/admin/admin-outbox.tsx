import { useState } from 'react';
import type { OutboxPageWire, OutboxState } from '../../../shared/outbox.js';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api, errorMessage } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';

const STATES: { value: OutboxState; label: string }[] = [
  { value: 'dead', label: 'Dead (out of attempts)' },
  { value: 'pending', label: 'Pending (waiting or retrying)' },
  { value: 'done', label: 'Done (recently processed)' },
];

/**
 * The outbox: what the server's processors still have to do after a change committed,
 * and what failed for good. Events carry ids only; nothing here is health information.
 */
export function AdminOutbox() {
  useDocumentTitle('Outbox');
  const [state, setState] = useState<OutboxState>('dead');
  const page = useResource(
    (signal) => api<OutboxPageWire>(`/api/admin/outbox?state=${state}&limit=100`, { signal }),
    [state],
  );
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const act = async (path: string, body?: unknown) => {
    setBusy(true);
    setProblem(null);
    try {
      await api(path, { method: 'POST', body: body ?? {} });
      page.reload();
    } catch (err) {
      setProblem(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const dead = page.data?.processors.reduce((n, p) => n + p.dead, 0) ?? 0;

  return (
    <section className="page">
      <PageHeader
        title="Outbox"
        subtitle="Work that runs after a change is saved: waiting, retrying, or failed for good."
        actions={
          dead > 0 ? (
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void act('/api/admin/outbox/retry')}
            >
              Retry all dead
            </button>
          ) : null
        }
      />
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {page.loading && !page.data && <Loading label="Loading the outbox…" />}
      {page.error && !page.data ? <ErrorState error={page.error} onRetry={page.reload} /> : null}
      {page.data && (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Processors</caption>
              <thead>
                <tr>
                  <th scope="col">Processor</th>
                  <th scope="col">Pending</th>
                  <th scope="col">Oldest waiting since</th>
                  <th scope="col">Dead</th>
                </tr>
              </thead>
              <tbody>
                {page.data.processors.map((p) => (
                  <tr key={p.processor}>
                    <td data-label="Processor">
                      <code>{p.processor}</code>
                    </td>
                    <td data-label="Pending">{p.pending}</td>
                    <td data-label="Oldest waiting since">
                      {p.oldestPendingAt ? formatDateTime(p.oldestPendingAt) : '—'}
                    </td>
                    <td data-label="Dead">{p.dead}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="filters">
            <div className="field">
              <label htmlFor="outbox-state">Show deliveries</label>
              <select
                id="outbox-state"
                value={state}
                onChange={(e) => setState(e.target.value as OutboxState)}
              >
                {STATES.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {page.data.deliveries.length === 0 ? (
            <Empty title={state === 'dead' ? 'Nothing has failed for good.' : 'None.'} />
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="sr-only">Deliveries</caption>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Processor</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">{state === 'pending' ? 'Next attempt' : 'Updated'}</th>
                    <th scope="col">Last error</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.deliveries.map((d) => (
                    <tr key={d.id}>
                      <td data-label="Event">
                        <code>{d.eventType}</code>{' '}
                        <span className="muted small">{d.subjectId ?? ''}</span>
                      </td>
                      <td data-label="Processor">{d.processor}</td>
                      <td data-label="Attempts">{d.attempts}</td>
                      <td data-label={state === 'pending' ? 'Next attempt' : 'Updated'}>
                        {formatDateTime(state === 'pending' ? d.nextAttemptAt : d.updatedAt)}
                      </td>
                      <td data-label="Last error">
                        <span className="muted small">{d.lastError ?? ''}</span>
                      </td>
                      <td>
                        {d.state === 'dead' && (
                          <button
                            type="button"
                            className="button button-small"
                            disabled={busy}
                            onClick={() => void act(`/api/admin/outbox/${d.id}/retry`)}
                          >
                            Retry
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
