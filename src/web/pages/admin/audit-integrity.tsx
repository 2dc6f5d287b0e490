import type { AuditVerdictWire } from '../../../shared/audit-wire.js';
import { api, errorMessage } from '../../lib/api.js';
import { useResource } from '../../lib/hooks.js';

const PROBLEMS: Record<NonNullable<AuditVerdictWire['problem']>, string> = {
  link: 'it does not link to the row before it: a row was removed or inserted',
  hash: 'its content no longer matches its hash: the row was changed',
  missing: 'rows a checkpoint covered are gone',
  checkpoint_mismatch: 'it differs from the row a checkpoint was signed for',
  checkpoint_signature: 'the checkpoint was not signed by this server',
};

/**
 * The verdict of the audit trail's hash chain, checked by the server when the page opens
 * (the check is itself recorded), and the signed checkpoint to keep somewhere else.
 */
export function AuditIntegrity() {
  const verdict = useResource(
    (signal) => api<AuditVerdictWire>('/api/admin/audit/verify', { signal }),
    [],
  );
  const v = verdict.data;
  return (
    <section className="audit-integrity" aria-live="polite" aria-label="Audit trail integrity">
      {verdict.loading && !v && <p className="notice">Checking the audit trail’s hash chain…</p>}
      {verdict.error && !v ? (
        <p className="form-error" role="alert">
          The audit trail could not be checked: {errorMessage(verdict.error)}
        </p>
      ) : null}
      {v &&
        (v.ok ? (
          <p className="notice audit-verdict-ok" role="status">
            <strong>Audit trail intact.</strong> All {v.checked.toLocaleString()} rows link to the
            one before and match their hashes
            {v.headId ? ` (newest row ${v.headId})` : ''}.
          </p>
        ) : (
          <p className="form-error" role="alert">
            <strong>Audit trail broken at row {v.firstBrokenId}</strong>:{' '}
            {v.problem ? PROBLEMS[v.problem] : 'it does not verify'}. {v.checked.toLocaleString()}{' '}
            rows before it verify.
          </p>
        ))}
      <p className="muted small">
        <button type="button" className="button" onClick={verdict.reload}>
          Verify again
        </button>{' '}
        <a className="button" href="/api/admin/audit/checkpoint" download>
          Download signed checkpoint
        </a>{' '}
        Keep checkpoints outside this system; <code>npm run audit:verify -- --checkpoint FILE</code>{' '}
        shows whether rows they cover were removed since.
      </p>
    </section>
  );
}
