import { useEffect, useRef, useState } from 'react';
import type { AttachmentWire } from '../../shared/wire.js';
import { plural } from '../lib/format.js';
import { formatSize } from '../lib/upload.js';
import { Dialog } from './ui.js';

const PREVIEW_WIDTH = 140;

/** The files a message carries: photos as thumbnails that open a viewer, PDFs as cards. */
export function MessageAttachments({ attachments }: { attachments: AttachmentWire[] }) {
  const [viewing, setViewing] = useState<AttachmentWire | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const images = attachments.filter((a) => a.kind === 'image');
  const pdfs = attachments.filter((a) => a.kind === 'pdf');

  const close = () => {
    setViewing(null);
    // Back where the reader was, not at the top of the page.
    opener.current?.focus();
  };

  return (
    <div className="attachments">
      {images.length > 0 && (
        <ul className="attachment-images">
          {images.map((a) => (
            <li key={a.id}>
              <button
                type="button"
                className="attachment-thumb"
                onClick={(e) => {
                  opener.current = e.currentTarget;
                  setViewing(a);
                }}
              >
                <img
                  src={a.thumbnailUrl ?? a.url}
                  alt=""
                  loading="lazy"
                  width={thumbSize(a).width}
                  height={thumbSize(a).height}
                />
                <span className="sr-only">Open photo </span>
                <span className="attachment-caption">{a.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {pdfs.map((a) => (
        <PdfCard key={a.id} attachment={a} />
      ))}
      <Dialog open={viewing !== null} title={viewing?.name ?? 'Photo'} onClose={close}>
        {viewing && (
          <div className="image-viewer">
            <img src={viewing.url} alt={`Photo ${viewing.name}, full size`} />
            <div className="dialog-actions">
              <a className="button" href={viewing.url} download={viewing.name}>
                Download
              </a>
              <button type="button" className="button button-primary" onClick={close}>
                Close
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </div>
  );
}

/** Thumbnails keep the photo's shape inside a 160-pixel box, so the thread does not jump. */
function thumbSize(a: AttachmentWire): { width: number; height: number } {
  const box = 160;
  if (!a.width || !a.height) return { width: box, height: box };
  const scale = box / Math.max(a.width, a.height);
  return {
    width: Math.max(1, Math.round(a.width * scale)),
    height: Math.max(1, Math.round(a.height * scale)),
  };
}

function PdfCard({ attachment: a }: { attachment: AttachmentWire }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [preview, setPreview] = useState<'loading' | 'shown' | 'failed'>('loading');

  useEffect(() => {
    const target = canvas.current;
    if (!target) return;
    const abort = new AbortController();
    setPreview('loading');
    import('../lib/pdf-first-page.js')
      .then(({ renderFirstPage }) => renderFirstPage(a.url, target, PREVIEW_WIDTH, abort.signal))
      .then(
        () => !abort.signal.aborted && setPreview('shown'),
        () => !abort.signal.aborted && setPreview('failed'),
      );
    return () => abort.abort();
  }, [a.url]);

  return (
    <article className="pdf-card" aria-label={`PDF ${a.name}`}>
      <div className="pdf-preview">
        <canvas
          ref={canvas}
          role="img"
          aria-label={`First page of ${a.name}`}
          hidden={preview !== 'shown'}
        />
        {preview === 'loading' && <span className="muted">Loading preview…</span>}
        {preview === 'failed' && <span className="muted">No preview</span>}
      </div>
      <div className="pdf-info">
        <span className="attachment-caption">{a.name}</span>
        <span className="muted">
          PDF{a.pages ? ` · ${plural(a.pages, 'page')}` : ''} · {formatSize(a.size)}
        </span>
        <a className="button" href={a.url} download={a.name} aria-label={`Download ${a.name}`}>
          Download
        </a>
      </div>
    </article>
  );
}
