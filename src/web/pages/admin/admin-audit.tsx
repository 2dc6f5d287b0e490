import { useState, type FormEvent } from 'react';
import type { AuditEventWire, AuditPageWire } from '../../../shared/wire.js';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api, errorMessage } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';
import { AuditIntegrity } from './audit-integrity.js';

interface Filters {
  action: string;
  actorId: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', actorId: '', from: '', to: '' };

function query(f: Filters, page = true): string {
  const p = new URLSearchParams();
  if (f.action.trim()) p.set('action', f.action.trim());
  if (f.actorId.trim()) p.set('actorId', f.actorId.trim());
  if (f.from) p.set('from', new Date(`${f.from}T00:00`).toISOString());
  if (f.to) p.set('to', new Date(`${f.to}T23:59:59.999`).toISOString());
  if (page) p.set('limit', '100');
  return p.toString();
}

export function AdminAudit() {
  useDocumentTitle('Audit log');
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = useResource(
    (signal) => api<AuditPageWire>(`/api/admin/audit?${query(filters)}`, { signal }),
    [filters],
  );
  const [olderError, setOlderError] = useState<string | null>(null);
  const loadOlder = async (beforeId: string) => {
    setOlderError(null);
    try {
      const next = await api<AuditPageWire>(
        `/api/admin/audit?${query(filters)}&beforeId=${encodeURIComponent(beforeId)}`,
      );
      list.setData((current) =>
        current
          ? { events: [...current.events, ...next.events], nextBeforeId: next.nextBeforeId }
          : next,
      );
    } catch (err) {
      setOlderError(errorMessage(err));
    }
  };
  const events: AuditEventWire[] = list.data?.events ?? [];
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const field = (key: keyof Filters, label: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input
        id={`audit-${key}`}
        type={type}
        value={draft[key]}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
      />
    </div>
  );

  return (
    <section className="page">
      <PageHeader
        title="Audit log"
        subtitle="Every sign-in, change and read of health information."
        actions={
          // The server builds the export, so that the export itself is audited.
          <a className="button" href={`/api/admin/audit.csv?${query(filters, false)}`} download>
            Export CSV
          </a>
        }
      />
      <AuditIntegrity />
      <form className="filters" onSubmit={apply} aria-label="Filter the audit log">
        {field('action', 'Action (e.g. auth.login)')}
        {field('actorId', 'User id')}
        {field('from', 'From', 'date')}
        {field('to', 'To', 'date')}
        <div className="filters-actions">
          <button type="submit" className="button button-primary">
            Apply filters
          </button>
          <button
            type="button"
            className="button"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {list.loading && !list.data && <Loading label="Loading the audit log…" />}
      {list.error && !list.data ? <ErrorState error={list.error} onRetry={list.reload} /> : null}
      {list.data &&
        (events.length === 0 ? (
          <Empty title="No events match these filters." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Audit events</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                </tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td data-label="When">{formatDateTime(e.at)}</td>
                    <td data-label="Who">
                      {e.actorName ?? e.actorId ?? 'System'}
                      {e.actorRole ? <span className="muted small"> · {e.actorRole}</span> : null}
                    </td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Target">
                      {e.targetType ? `${e.targetType} ` : ''}
                      <span className="muted small">{e.targetId ?? ''}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {olderError && (
        <p className="form-error" role="alert">
          {olderError}
        </p>
      )}
      {list.data?.nextBeforeId && (
        <button
          type="button"
          className="button older-events"
          onClick={() => void loadOlder(list.data!.nextBeforeId!)}
        >
          Load older events
        </button>
      )}
    </section>
  );
}
