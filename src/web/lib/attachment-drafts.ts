import { useCallback, useEffect, useRef, useState } from 'react';
import { ATTACHMENTS_PER_MESSAGE, type AttachmentWire } from '../../shared/wire.js';
import { errorMessage } from './api.js';
import { refuseLocally, uploadFile, type Upload } from './upload.js';

export type DraftState = 'uploading' | 'ready' | 'failed';

/** A file chosen for the next message: uploading, uploaded, or refused with a reason. */
export interface Draft {
  key: string;
  file: File;
  /** An object URL of the chosen image for its chip; memory only, revoked when the chip goes. */
  preview: string | null;
  state: DraftState;
  /** 0 to 1 while uploading. */
  progress: number;
  error: string | null;
  attachment: AttachmentWire | null;
}

export interface AttachmentDrafts {
  drafts: Draft[];
  /** Takes files from the picker, a drop or a paste; says why when some are left out. */
  add: (files: Iterable<File>) => void;
  remove: (key: string) => void;
  retry: (key: string) => void;
  /** After a send: the chips go, the uploads now belong to the message. */
  clear: () => void;
  /** Why not every file was taken, e.g. more than five. */
  notice: string | null;
  /** The uploads to send, or null while one is still uploading or has failed. */
  ready: AttachmentWire[] | null;
}

let counter = 0;

/**
 * The files waiting to go with the next message in one room. Each is uploaded as soon as
 * it is chosen, so sending is quick; nothing about them is kept beyond this screen's memory.
 */
export function useAttachmentDrafts(roomId: string): AttachmentDrafts {
  const [drafts, setDrafts] = useState<Draft[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const uploads = useRef(new Map<string, Upload>());
  const draftsRef = useRef<Draft[]>([]);
  draftsRef.current = drafts;

  const patch = useCallback((key: string, change: Partial<Draft>) => {
    setDrafts((list) => list.map((d) => (d.key === key ? { ...d, ...change } : d)));
  }, []);

  const start = useCallback(
    (key: string, file: File) => {
      const local = refuseLocally(file);
      if (local) return patch(key, { state: 'failed', error: local, progress: 0 });
      patch(key, { state: 'uploading', error: null, progress: 0 });
      const upload = uploadFile(roomId, file, (progress) => patch(key, { progress }));
      uploads.current.set(key, upload);
      upload.done.then(
        (attachment) => {
          uploads.current.delete(key);
          patch(key, { state: 'ready', attachment, progress: 1 });
        },
        (err: unknown) => {
          uploads.current.delete(key);
          if (err instanceof DOMException && err.name === 'AbortError') return;
          patch(key, { state: 'failed', error: errorMessage(err) });
        },
      );
    },
    [roomId, patch],
  );

  const add = useCallback(
    (files: Iterable<File>) => {
      const chosen = [...files];
      const room = ATTACHMENTS_PER_MESSAGE - draftsRef.current.length;
      const taken = chosen.slice(0, Math.max(0, room));
      setNotice(
        taken.length < chosen.length
          ? `A message can carry up to ${ATTACHMENTS_PER_MESSAGE} files. Send these first, then add the rest.`
          : null,
      );
      const fresh = taken.map<Draft>((file) => ({
        key: `draft-${++counter}`,
        file,
        preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null,
        state: 'uploading',
        progress: 0,
        error: null,
        attachment: null,
      }));
      if (fresh.length === 0) return;
      setDrafts((list) => [...list, ...fresh]);
      for (const d of fresh) start(d.key, d.file);
    },
    [start],
  );

  const drop = useCallback((key: string) => {
    uploads.current.get(key)?.abort();
    uploads.current.delete(key);
    const gone = draftsRef.current.find((d) => d.key === key);
    if (gone?.preview) URL.revokeObjectURL(gone.preview);
  }, []);

  const remove = useCallback(
    (key: string) => {
      drop(key);
      setNotice(null);
      setDrafts((list) => list.filter((d) => d.key !== key));
    },
    [drop],
  );

  const retry = useCallback(
    (key: string) => {
      const d = draftsRef.current.find((x) => x.key === key);
      if (d) start(key, d.file);
    },
    [start],
  );

  const clear = useCallback(() => {
    for (const d of draftsRef.current) drop(d.key);
    setNotice(null);
    setDrafts([]);
  }, [drop]);

  // Another room, or leaving the screen: unfinished uploads stop, previews are released.
  useEffect(() => clear, [roomId, clear]);

  const ready = drafts.flatMap((d) => (d.state === 'ready' && d.attachment ? [d.attachment] : []));
  return {
    drafts,
    add,
    remove,
    retry,
    clear,
    notice,
    ready: ready.length === drafts.length ? ready : null,
  };
}
