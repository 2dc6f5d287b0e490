import { useState, type FormEvent } from 'react';
import { Empty, ErrorState, Loading, PageHeader } from '../../components/ui.js';
import { api, listFrom } from '../../lib/api.js';
import { formatDateTime } from '../../lib/format.js';
import { useDocumentTitle, useResource } from '../../lib/hooks.js';

interface AuditEvent {
  id: string | number;
  at: string;
  actorId: string | null;
  actorName?: string | null;
  actorRole?: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  detail?: unknown;
}

interface Filters {
  action: string;
  actorId: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { action: '', actorId: '', from: '', to: '' };

function query(f: Filters): string {
  const p = new URLSearchParams();
  if (f.action.trim()) p.set('action', f.action.trim());
  if (f.actorId.trim()) p.set('actorId', f.actorId.trim());
  if (f.from) p.set('from', new Date(`${f.from}T00:00`).toISOString());
  if (f.to) p.set('to', new Date(`${f.to}T23:59:59.999`).toISOString());
  p.set('limit', '200');
  return p.toString();
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function download(events: AuditEvent[]) {
  const header = ['at', 'actorId', 'actorRole', 'action', 'targetType', 'targetId', 'ip', 'detail'];
  const rows = events.map((e) =>
    [e.at, e.actorId, e.actorRole, e.action, e.targetType, e.targetId, e.ip, e.detail]
      .map(csvCell)
      .join(','),
  );
  const blob = new Blob([[header.join(','), ...rows].join('\n')], { type: 'text/csv' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `carechat-audit-${new Date().toISOString().slice(0, 10)}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function AdminAudit() {
  useDocumentTitle('Audit log');
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = useResource(
    async (signal) =>
      listFrom<AuditEvent>(await api(`/api/admin/audit?${query(filters)}`, { signal }), 'events'),
    [filters],
  );
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
          <button
            type="button"
            className="button"
            disabled={!list.data?.length}
            onClick={() => download(list.data ?? [])}
          >
            Export CSV
          </button>
        }
      />
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
        (list.data.length === 0 ? (
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
                {list.data.map((e) => (
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
    </section>
  );
}
