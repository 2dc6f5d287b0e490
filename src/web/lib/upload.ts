import type { AttachmentWire } from '../../shared/wire.js';
import { ApiError, currentCsrfToken, networkError, problemError } from './api.js';

/** The server's refusals, in the words a patient would use, with what to do about them. */
const UPLOAD_FRIENDLY: Record<string, string> = {
  file_too_large: 'This file is too big to send.',
  unsupported_media_type: 'This kind of file cannot be sent. Send a photo (JPEG, PNG) or a PDF.',
  image_too_large: 'This picture has too many pixels. Send a smaller photo or a screenshot.',
  file_unreadable: 'This file could not be read. It may be damaged or empty.',
  pdf_encrypted: 'This PDF is protected by a password. Send a copy without a password.',
  pdf_active_content:
    'This PDF contains scripts or embedded files, which cannot be sent. Print it to a new PDF and try again.',
  attachment_quota_exceeded: 'You have sent as many files as one day allows. Try again tomorrow.',
};

/** The server's own sentence is kept where it says more (the size limit, how to send HEIC). */
function friendly(err: ApiError): string {
  const plain = UPLOAD_FRIENDLY[err.code];
  if (!plain) return err.message;
  if (err.code === 'file_too_large' || err.code === 'unsupported_media_type') {
    return err.message && err.message !== plain ? `${plain} ${err.message}` : plain;
  }
  return plain;
}

export interface Upload {
  done: Promise<AttachmentWire>;
  abort: () => void;
}

/**
 * One file to a room, over XMLHttpRequest because fetch still reports no upload progress.
 * Rejects with an ApiError whose message is already plain words.
 */
export function uploadFile(
  roomId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<AttachmentWire>((resolve, reject) => {
    xhr.open('POST', `/api/rooms/${encodeURIComponent(roomId)}/attachments`);
    xhr.setRequestHeader('accept', 'application/json');
    const token = currentCsrfToken();
    if (token) xhr.setRequestHeader('x-csrf-token', token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(networkError());
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status === 201) {
        onProgress(1);
        resolve(data as AttachmentWire);
        return;
      }
      const err = problemError(xhr.status, data);
      reject(new ApiError(err.status, err.code, friendly(err)));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

let maxBytes: number | null = null;

/** The server's per-file limit, from the session: larger files are refused before sending. */
export function setUploadLimit(bytes: number | undefined): void {
  maxBytes = bytes ?? null;
}

/** Why this file cannot be sent, known without sending it; null when only the server can tell. */
export function refuseLocally(file: File): string | null {
  if (maxBytes !== null && file.size > maxBytes) {
    return `This file is too big to send. Files can be up to ${Math.floor(maxBytes / (1024 * 1024))} MB.`;
  }
  if (file.size === 0) return UPLOAD_FRIENDLY.file_unreadable!;
  return null;
}
