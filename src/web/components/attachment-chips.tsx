import type { AttachmentDrafts, Draft } from '../lib/attachment-drafts.js';
import { formatSize } from '../lib/upload.js';

/** The files chosen for the next message, each with its progress, its problem, and a way out. */
export function AttachmentChips({ drafts }: { drafts: AttachmentDrafts }) {
  if (drafts.drafts.length === 0 && !drafts.notice) return null;
  return (
    <div className="attachment-drafts">
      {drafts.drafts.length > 0 && (
        <ul className="chips" aria-label="Files to send">
          {drafts.drafts.map((d) => (
            <Chip
              key={d.key}
              draft={d}
              onRemove={() => drafts.remove(d.key)}
              onRetry={() => drafts.retry(d.key)}
            />
          ))}
        </ul>
      )}
      {drafts.notice && (
        <p className="form-error" role="alert">
          {drafts.notice}
        </p>
      )}
    </div>
  );
}

function Chip({
  draft,
  onRemove,
  onRetry,
}: {
  draft: Draft;
  onRemove: () => void;
  onRetry: () => void;
}) {
  const name = draft.file.name || (draft.preview ? 'Photo' : 'File');
  const percent = Math.round(draft.progress * 100);
  return (
    <li className={`chip chip-${draft.state}`}>
      {draft.preview ? (
        <img className="chip-thumb" src={draft.preview} alt="" />
      ) : (
        <span className="chip-thumb chip-icon" aria-hidden="true">
          PDF
        </span>
      )}
      <span className="chip-body">
        <span className="chip-name" title={name}>
          {name}
        </span>
        <span className="chip-meta">{formatSize(draft.file.size)}</span>
        {draft.state === 'uploading' && (
          <progress
            className="chip-progress"
            max={100}
            value={percent}
            aria-label={`Uploading ${name}`}
          >
            {percent}%
          </progress>
        )}
        {draft.state === 'ready' && <span className="chip-meta">Ready to send</span>}
        {draft.state === 'failed' && (
          <span className="chip-error" role="alert">
            {draft.error ?? 'The upload failed.'}
          </span>
        )}
      </span>
      <span className="chip-actions">
        {draft.state === 'failed' && (
          <button type="button" className="link-button" onClick={onRetry}>
            Retry
          </button>
        )}
        <button
          type="button"
          className="link-button"
          onClick={onRemove}
          aria-label={`Remove ${name}`}
        >
          Remove
        </button>
      </span>
    </li>
  );
}
